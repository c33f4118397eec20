//! `openclaw system event` and `openclaw system heartbeat` against a real `openclaw gateway
//! run` process and the fake LLM: an event with `--mode now` runs a heartbeat turn at once,
//! `system heartbeat last` shows it, `disable` turns heartbeats off.

mod support_cli;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support_cli::{Home, stderr, stdout};

const TOKEN: &str = "system-e2e-token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_system_event_with_mode_now_runs_a_heartbeat() {
    let home = Home::start().expect("needs python3 and shared/fake_llm.py");
    let path = home.state_dir().join("openclaw.json");
    let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    cfg["agents"] = json!({"defaults": {"model": {"primary": "fake/fake-model"},
        "heartbeat": {"every": "0m"}}});
    std::fs::write(&path, cfg.to_string()).unwrap();
    let port = free_port();
    let _gw = home.gateway(
        &["--port", &port.to_string()],
        &[("OPENCLAW_GATEWAY_TOKEN", TOKEN)],
        port,
    );
    let url = format!("ws://127.0.0.1:{port}");
    let cli = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--url", &url, "--token", TOKEN]);
        let out = home.run(&all, "");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        out
    };
    let last = || -> Value {
        serde_json::from_slice(&cli(&["system", "heartbeat", "last", "--json"]).stdout).unwrap()
    };
    assert_eq!(last(), Value::Null, "no heartbeat yet");

    let said = stdout(&cli(&[
        "system",
        "event",
        "--text",
        "The build finished",
        "--mode",
        "now",
    ]));
    assert!(said.contains("heartbeat requested now"), "{said}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let beat = loop {
        let b = last();
        if !b.is_null() {
            break b;
        }
        assert!(Instant::now() < deadline, "no heartbeat within 30 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    // The fake model's reply is not an acknowledgement: an alert nobody can receive yet.
    assert_eq!(beat["status"], "skipped", "{beat}");
    assert_eq!(beat["reason"], "no-target", "{beat}");
    assert!(
        beat["preview"].as_str().is_some_and(|p| !p.is_empty()),
        "{beat}"
    );

    let off: Value =
        serde_json::from_slice(&cli(&["system", "heartbeat", "disable", "--json"]).stdout).unwrap();
    assert_eq!(off, json!({"ok": true, "enabled": false}));
    let queued = stdout(&cli(&["system", "event", "--text", "later"]));
    assert!(queued.contains("next heartbeat"), "{queued}");
}
