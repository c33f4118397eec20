//! `openclaw config set` against a running `openclaw gateway run`: the gateway picks the
//! change up without a restart (an agent added on the command line takes `chat.send` at once),
//! and a change to its port is logged as needing a restart while it keeps serving.

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
