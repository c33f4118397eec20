//! `openclaw cron` end to end against a real `openclaw gateway run` process and the fake LLM:
//! add, list, run --wait, runs, edit --disable/--enable, rm; and `kill -9` of the gateway
//! during a run: after a restart the run is recorded as interrupted and not run again.

mod support_cli;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support_cli::{Home, stderr, stdout};

const TOKEN: &str = "cron-e2e-token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn configure(home: &Home) {
    let path = home.state_dir().join("openclaw.json");
    let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    cfg["agents"] = json!({"defaults": {"model": {"primary": "fake/fake-model"}}});
    std::fs::write(&path, cfg.to_string()).unwrap();
}

#[test]
fn cron_commands_and_a_kill_during_a_run() {
    let home = Home::start().expect("needs python3 and shared/fake_llm.py");
    configure(&home);
    let port = free_port();
    let env = [("OPENCLAW_GATEWAY_TOKEN", TOKEN)];
    let mut gw = Some(home.gateway(&["--port", &port.to_string()], &env, port));
    let url = format!("ws://127.0.0.1:{port}");
    let cli = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--url", &url, "--token", TOKEN]);
        let out = home.run(&all, "");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        out
    };
    let json_of = |args: &[&str]| -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_slice(&cli(&all).stdout).unwrap()
    };

    let job = json_of(&[
        "cron",
        "add",
        "--name",
        "e2e",
        "--every",
        "1h",
        "--message",
        "hello",
    ]);
    let id = job["id"].as_str().unwrap().to_owned();
    assert_eq!(job["schedule"]["everyMs"], 3_600_000);
    assert_eq!(job["sessionTarget"], "isolated");
    let listed = json_of(&["cron", "list"]);
    assert_eq!(listed["total"], 1);
    let table = stdout(&cli(&["cron", "list"]));
    assert!(
        table.contains(&id) && table.contains("every 3600000ms"),
        "{table}"
    );

    let entry = json_of(&["cron", "run", &id, "--wait", "--poll-interval", "200ms"]);
    assert_eq!(entry["status"], "ok", "{entry}");
    assert!(
        entry["runId"]
            .as_str()
            .unwrap()
            .starts_with(&format!("manual:{id}:"))
    );
    let runs = json_of(&["cron", "runs", &id]);
    assert_eq!(runs["total"], 1);

    cli(&["cron", "edit", &id, "--disable"]);
    assert_eq!(json_of(&["cron", "list"])["total"], 0);
    assert_eq!(json_of(&["cron", "list", "--all"])["total"], 1);
    let not_run = json_of(&["cron", "run", &id, "--due"]);
    assert_eq!(not_run["reason"], "disabled");

    // A slow run, killed with SIGKILL while the model streams.
    cli(&[
        "cron",
        "edit",
        &id,
        "--enable",
        "--message",
        "slow 2000 take your time",
    ]);
    cli(&["cron", "run", &id]);
    let start = Instant::now();
    loop {
        let got = json_of(&["cron", "get", &id]);
        if got["state"]["runningAtMs"].as_u64().is_some() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the run never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    drop(gw.take()); // Child::kill is SIGKILL
    gw = Some(home.gateway(&["--port", &port.to_string()], &env, port));
    let runs = json_of(&["cron", "runs", &id]);
    assert_eq!(runs["total"], 2, "{runs}");
    let newest = &runs["entries"][0];
    assert_eq!(newest["completionStatus"], "interrupted", "{newest}");
    assert_eq!(newest["status"], "error");
    std::thread::sleep(Duration::from_millis(1_500));
    assert_eq!(json_of(&["cron", "runs", &id])["total"], 2, "not replayed");
    let job = json_of(&["cron", "get", &id]);
    assert!(job["state"]["runningAtMs"].is_null(), "{job}");

    cli(&["cron", "rm", &id]);
    let gone = home.run(&["cron", "get", &id, "--url", &url, "--token", TOKEN], "");
    assert!(!gone.status.success());
    assert!(
        stderr(&gone).contains("cron job not found"),
        "{}",
        stderr(&gone)
    );
    let status = json_of(&["cron", "status"]);
    assert_eq!(status["jobs"], 0);
    drop(gw);
}
