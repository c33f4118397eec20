//! The sandbox through the real `openclaw` binary: `-p` with `sandbox.mode: "all"` runs the
//! model's `bash` inside bubblewrap with the binary itself as the in-sandbox helper, and
//! `openclaw sandbox explain` / `openclaw health` report what the config asks and what works.

mod support_cli;

use openclaw_core::testing::prereq;
use serde_json::Value;
use support_cli::{Home, stderr, stdout};

/// Adds `sandbox` to `agents.defaults` of the home's openclaw.json.
fn set_sandbox(home: &Home, sandbox: Value) {
    let path = home.state_dir().join("openclaw.json");
    let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    cfg["agents"] = serde_json::json!({"defaults": {"sandbox": sandbox}});
    std::fs::write(&path, cfg.to_string()).unwrap();
}

/// `tools.exec.mode: full`: these tests are about where a command runs, not whether the exec
/// policy lets it (a new install asks, and nobody here answers).
fn run_without_asking(home: &Home) {
    let path = home.state_dir().join("openclaw.json");
    let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    cfg["tools"]["exec"] = serde_json::json!({"mode": "full"});
    std::fs::write(&path, cfg.to_string()).unwrap();
}

fn bwrap() -> bool {
    let found = std::path::Path::new("/usr/bin/bwrap").is_file();
    if !found {
        prereq::missing(
            "bwrap",
            "apt-get install -y bubblewrap (.ci/run installs it)",
        );
    }
    found
}

#[test]
fn print_mode_runs_bash_in_the_sandbox_when_mode_is_all() {
    let Some(home) = Home::start() else { return };
    if !bwrap() {
        return;
    }
    run_without_asking(&home);
    let secret = home.state_dir().join("openclaw.json");
    let call = format!(
        "call bash {{\"command\": \"echo inside > in.txt; cat {} 2>&1 | head -1\"}}",
        secret.display()
    );
    let args = ["-p", &call, "--provider", "fake", "--model", "fake-model"];
    // Control: on the host the model's command reads the state dir.
    let out = home.run(&args, "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("done: {"), "{}", stdout(&out));
    std::fs::remove_file(home.path().join("in.txt")).unwrap();

    set_sandbox(
        &home,
        serde_json::json!({"mode": "all", "workspaceAccess": "rw"}),
    );
    let out = home.run(&args, "");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("No such file or directory"), "{text}");
    assert_eq!(
        std::fs::read_to_string(home.path().join("in.txt")).unwrap(),
        "inside\n",
        "the workspace is bound read-write"
    );
}

#[test]
fn explain_and_health_report_the_sandbox() {
    let Some(home) = Home::start() else { return };
    if !bwrap() {
        return;
    }
    set_sandbox(
        &home,
        serde_json::json!({"mode": "non-main", "network": "none"}),
    );
    let explain = |session: &str| -> Value {
        let out = home.run(&["sandbox", "explain", "--session", session, "--json"], "");
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    let main = explain("main");
    assert_eq!(main["sandboxed"], false);
    assert_eq!(main["execTarget"], "host");
    let group = explain("telegram:group:7");
    assert_eq!(group["sessionKey"], "agent:main:telegram:group:7");
    assert_eq!(group["sandboxed"], true);
    assert_eq!(group["execTarget"], "sandbox (native)", "{group}");
    let layers = group["availability"]["layers"].as_array().unwrap();
    assert!(layers.iter().any(|l| l["name"] == "landlock"), "{group}");
    let out = home.run(&["health"], "");
    let text = stdout(&out);
    assert!(
        text.contains("sandbox") && text.contains("main=non-main"),
        "{text}"
    );
    assert!(text.contains("bubblewrap ok"), "{text}");

    set_sandbox(&home, serde_json::json!({"mode": "sometimes"}));
    let out = home.run(&["health"], "");
    assert!(!out.status.success());
    assert!(
        stdout(&out).contains("agents.defaults.sandbox"),
        "{}",
        stdout(&out)
    );
}

/// Waits up to 20 s for `path` to exist.
fn appears(path: &std::path::Path) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(20) {
        if path.exists() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn the_gateway_sandboxes_every_session_but_the_main_one_under_non_main() {
    let Some(home) = Home::start() else { return };
    if !bwrap() {
        return;
    }
    run_without_asking(&home);
    set_sandbox(
        &home,
        serde_json::json!({"mode": "non-main", "workspaceAccess": "rw"}),
    );
    let port = prereq::free_port();
    let token = "sandbox-test-token";
    let _gw = home.gateway(
        &["--port", &port.to_string()],
        &[("OPENCLAW_GATEWAY_TOKEN", token)],
        port,
    );
    let url = format!("ws://127.0.0.1:{port}");
    let ws = home.state_dir().join("workspace");
    for (key, sandboxed) in [
        ("agent:main:telegram:group:9", true),
        ("agent:main:main", false),
    ] {
        let tag = key.replace(':', "-");
        let escaped = home.state_dir().join(format!("escaped-{tag}.txt"));
        let command = format!(
            "echo x > {}; echo in > {}/in-{tag}.txt",
            escaped.display(),
            ws.display()
        );
        let call = serde_json::json!({"command": command}).to_string();
        let params = serde_json::json!({
            "sessionKey": key,
            "message": format!("call bash {call}"),
            "idempotencyKey": format!("k-{tag}"),
        })
        .to_string();
        let args = [
            "gateway",
            "call",
            "chat.send",
            "--params",
            &params,
            "--url",
            &url,
            "--token",
            token,
        ];
        let out = home.run(&args, "");
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            appears(&ws.join(format!("in-{tag}.txt"))),
            "{key}: the command never ran"
        );
        assert_eq!(escaped.exists(), !sandboxed, "{key}");
    }
}
