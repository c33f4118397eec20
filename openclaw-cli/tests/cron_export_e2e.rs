//! `openclaw cron export` against a real `openclaw gateway run` that imported OpenClaw's
//! `cron/jobs.json` at its first start: the export is that file's shape again (`version`,
//! `jobs` with `state: {}`, no `updatedAtMs`), same definitions, disabled jobs included.

mod support_cli;

use serde_json::{Value, json};
use support_cli::{Home, stderr, stdout};

const TOKEN: &str = "export-e2e-token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn export_gives_back_the_imported_definitions() {
    let home = Home::start().expect("needs python3 and shared/fake_llm.py");
    let input = json!({"version": 1, "jobs": [
        {"id": "j1", "name": "daily", "enabled": true, "createdAtMs": 1796500000000u64,
         "schedule": {"kind": "cron", "expr": "30 6 * * 1-5", "tz": "UTC", "staggerMs": 0},
         "sessionTarget": "isolated", "wakeMode": "now",
         "payload": {"kind": "agentTurn", "message": "Plan the day."},
         "delivery": {"mode": "webhook", "to": "https://example.com/cron"}, "state": {}},
        {"id": "j2", "name": "off", "enabled": false, "createdAtMs": 1796500000001u64,
         "schedule": {"kind": "every", "everyMs": 600000, "anchorMs": 1796500000001u64},
         "sessionTarget": "main", "wakeMode": "next-heartbeat",
         "payload": {"kind": "systemEvent", "text": "Check the oven."}, "state": {}}
    ]});
    let cron = home.state_dir().join("cron");
    std::fs::create_dir_all(&cron).unwrap();
    std::fs::write(cron.join("jobs.json"), input.to_string()).unwrap();
    let port = free_port();
    let _gw = home.gateway(
        &["--port", &port.to_string()],
        &[("OPENCLAW_GATEWAY_TOKEN", TOKEN)],
        port,
    );
    let url = format!("ws://127.0.0.1:{port}");
    let out_file = home.state_dir().join("exported.json");
    let out = home.run(
        &[
            "cron",
            "export",
            "--output",
            out_file.to_str().unwrap(),
            "--url",
            &url,
            "--token",
            TOKEN,
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Exported 2 job(s)"),
        "{}",
        stdout(&out)
    );
    let exported: Value =
        serde_json::from_str(&std::fs::read_to_string(&out_file).unwrap()).unwrap();
    assert_eq!(exported["version"], 1);
    let jobs = exported["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2);
    for (got, want) in jobs.iter().zip(input["jobs"].as_array().unwrap()) {
        assert_eq!(got["state"], json!({}));
        assert!(got.get("updatedAtMs").is_none(), "{got}");
        for key in [
            "id",
            "name",
            "enabled",
            "createdAtMs",
            "schedule",
            "sessionTarget",
            "wakeMode",
            "payload",
        ] {
            assert_eq!(got[key], want[key], "{key} of {}", want["id"]);
        }
    }
    assert_eq!(jobs[0]["delivery"], input["jobs"][0]["delivery"]);
    // To standard output as well.
    let out = home.run(&["cron", "export", "--url", &url, "--token", TOKEN], "");
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed, exported);
}
