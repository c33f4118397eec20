//! `openclaw config set` against a running `openclaw gateway run`: the gateway picks the
//! change up without a restart (an agent added on the command line takes `chat.send` at once),
//! and a change to its port is logged as needing a restart while it keeps serving. Under
//! `gateway.reload.mode: "restart"` an edit of the file restarts the gateway in the same
//! process on the new port; under `"off"` an edit changes nothing until the next start.

mod support_cli;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support_cli::{Home, stderr, stdout};

struct Gateway(std::process::Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn until(what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn openclaw_config_set_reaches_a_running_gateway() {
    let home = Home::start().expect("needs python3 and shared/fake_llm.py");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _gateway = Gateway(
        Command::new(env!("CARGO_BIN_EXE_openclaw"))
            .args(["gateway", "run", "--port", &port.to_string()])
            .env("HOME", home.path())
            .env("OPENCLAW_STATE_DIR", home.state_dir())
            .env("PI_CODING_AGENT_DIR", home.path().join(".pi/agent"))
            .env("OPENCLAW_GATEWAY_TOKEN", "reload-test-token")
            .env_remove("OPENCLAW_CONFIG_PATH")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    until("the gateway", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let url = format!("ws://127.0.0.1:{port}");
    let call = |method: &str, params: &str| {
        let out = home.run(
            &[
                "gateway",
                "call",
                method,
                "--params",
                params,
                "--url",
                &url,
                "--token",
                "reload-test-token",
            ],
            "",
        );
        (out.status.success(), stdout(&out), stderr(&out))
    };
    let send = r#"{"sessionKey": "agent:writer:main", "message": "hi", "idempotencyKey": "r1"}"#;
    let (ok, _, err) = call("chat.send", send);
    assert!(!ok && err.contains("unknown agent id"), "{err}");

    let set = home.run(
        &[
            "config",
            "set",
            "agents.list",
            r#"[{"id": "main", "default": true}, {"id": "writer"}]"#,
        ],
        "",
    );
    assert!(set.status.success(), "{}", stderr(&set));
    until("the new agent", || {
        let (ok, out, _) = call("agents.list", "{}");
        ok && out.contains("\"writer\"")
    });
    let (ok, out, err) = call("chat.send", send);
    assert!(ok, "{err}");
    let ack: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(ack["status"], "started", "{ack}");

    let set = home.run(&["config", "set", "gateway.port", "1"], "");
    assert!(set.status.success(), "{}", stderr(&set));
    let log = home.state_dir().join("logs/gateway.log");
    until("the restart notice", || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("restart required for gateway.port")
    });
    let (ok, _, err) = call("health", "{}");
    assert!(ok, "the gateway stopped serving: {err}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Writes `gateway` into the home's openclaw.json (keeping its providers), as an editor would.
fn write_gateway_config(home: &Home, gateway: Value) {
    let path = home.state_dir().join("openclaw.json");
    let mut config: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config["gateway"] = gateway;
    std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
}

fn start_gateway(home: &Home, args: &[&str]) -> Gateway {
    Gateway(
        Command::new(env!("CARGO_BIN_EXE_openclaw"))
            .args(["gateway", "run"])
            .args(args)
            .env("HOME", home.path())
            .env("OPENCLAW_STATE_DIR", home.state_dir())
            .env("PI_CODING_AGENT_DIR", home.path().join(".pi/agent"))
            .env_remove("OPENCLAW_GATEWAY_TOKEN")
            .env_remove("OPENCLAW_GATEWAY_PORT")
            .env_remove("OPENCLAW_CONFIG_PATH")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

fn call_on(home: &Home, port: u16, method: &str) -> (bool, String) {
    let url = format!("ws://127.0.0.1:{port}");
    let out = home.run(
        &[
            "gateway",
            "call",
            method,
            "--params",
            "{}",
            "--url",
            &url,
            "--token",
            "reload-test-token",
        ],
        "",
    );
    (out.status.success(), stdout(&out) + &stderr(&out))
}

#[test]
fn reload_mode_restart_restarts_the_gateway_in_place_on_a_file_edit() {
    let home = Home::start().expect("needs python3 and shared/fake_llm.py");
    let (first, second) = (free_port(), free_port());
    let gateway = |port: u16| {
        serde_json::json!({"port": port, "auth": {"mode": "token", "token": "reload-test-token"},
            "reload": {"mode": "restart", "debounceMs": 100}})
    };
    write_gateway_config(&home, gateway(first));
    let mut child = start_gateway(&home, &[]);
    until("the gateway on its first port", || {
        call_on(&home, first, "health").0
    });
    let pid = child.0.id();

    write_gateway_config(&home, gateway(second));
    until("the gateway on the edited port", || {
        call_on(&home, second, "health").0
    });
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", first)).is_err(),
        "the old port still accepts connections"
    );
    assert!(child.0.try_wait().unwrap().is_none(), "the process exited");
    assert_eq!(child.0.id(), pid);
    let lock = std::fs::read_to_string(home.state_dir().join("gateway.lock")).unwrap();
    assert!(
        lock.contains(&pid.to_string()) && lock.contains(&second.to_string()),
        "{lock}"
    );
    let log = std::fs::read_to_string(home.state_dir().join("logs/gateway.log")).unwrap();
    assert!(
        log.contains("gateway.reload.mode is \"restart\": restarting"),
        "{log}"
    );
}

#[test]
fn reload_mode_off_leaves_the_running_config_alone() {
    let home = Home::start().expect("needs python3 and shared/fake_llm.py");
    let port = free_port();
    write_gateway_config(
        &home,
        serde_json::json!({"port": port, "auth": {"mode": "token", "token": "reload-test-token"},
            "reload": {"mode": "off", "debounceMs": 50}}),
    );
    let _gateway = start_gateway(&home, &[]);
    until("the gateway", || call_on(&home, port, "health").0);
    let url = format!("ws://127.0.0.1:{port}");
    let call = |method: &str, params: &str| {
        let out = home.run(
            &[
                "gateway",
                "call",
                method,
                "--params",
                params,
                "--url",
                &url,
                "--token",
                "reload-test-token",
            ],
            "",
        );
        assert!(out.status.success(), "{method}: {}", stderr(&out));
        serde_json::from_str::<Value>(&stdout(&out)).unwrap()
    };
    // Through the gateway: the file is written, the running config is not replaced.
    let hash = call("config.get", "{}")["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let patch = serde_json::json!({
        "raw": r#"{"agents": {"list": [{"id": "main", "default": true}, {"id": "writer"}]}}"#,
        "baseHash": hash,
    });
    let answer = call("config.patch", &patch.to_string());
    assert_eq!(answer["reload"]["applied"], false, "{answer}");
    let on_disk = std::fs::read_to_string(home.state_dir().join("openclaw.json")).unwrap();
    assert!(on_disk.contains("writer"), "{on_disk}");
    // By an editor: many debounce periods and polls later, still the old roster.
    let path = home.state_dir().join("openclaw.json");
    let mut config: Value = serde_json::from_str(&on_disk).unwrap();
    config["agents"]["list"][1]["id"] = Value::from("editor");
    std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let agents = call("agents.list", "{}").to_string();
    assert!(
        !agents.contains("\"writer\"") && !agents.contains("\"editor\""),
        "a change was applied under mode off: {agents}"
    );
}

#[test]
fn a_running_gateway_reports_its_warnings_on_stderr() {
    // A daemon's stderr is its service manager's log: a refused part of the config must show
    // there, not only in the state dir's gateway.log.
    let home = Home::start().expect("needs python3 and shared/fake_llm.py");
    let port = free_port();
    write_gateway_config(
        &home,
        serde_json::json!({"port": port, "auth": {"mode": "token", "token": "reload-test-token"}}),
    );
    let path = home.state_dir().join("openclaw.json");
    let mut config: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config["hooks"] = serde_json::json!({"enabled": true});
    std::fs::write(&path, config.to_string()).unwrap();
    let err_path = home.path().join("gateway.stderr");
    let err_file = std::fs::File::create(&err_path).unwrap();
    let _gateway = Gateway(
        Command::new(env!("CARGO_BIN_EXE_openclaw"))
            .args(["gateway", "run"])
            .env("HOME", home.path())
            .env("OPENCLAW_STATE_DIR", home.state_dir())
            .env_remove("OPENCLAW_LOG")
            .env_remove("RUST_LOG")
            .env_remove("OPENCLAW_GATEWAY_TOKEN")
            .env_remove("OPENCLAW_GATEWAY_PORT")
            .env_remove("OPENCLAW_CONFIG_PATH")
            .stdout(Stdio::null())
            .stderr(err_file)
            .spawn()
            .unwrap(),
    );
    until("the gateway", || call_on(&home, port, "health").0);
    let text = std::fs::read_to_string(&err_path).unwrap();
    assert!(
        text.contains("hooks disabled: hooks.enabled needs hooks.token"),
        "stderr: {text}"
    );
    assert!(
        !text.contains("reload-test-token"),
        "a secret on stderr: {text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "terminal colours in a file: {text:?}"
    );
}
