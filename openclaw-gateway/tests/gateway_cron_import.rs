//! First start on a state dir holding OpenClaw 2026.5's cron files: the jobs (with their
//! sidecar state) and run logs are imported once, the files are left byte for byte, and a job
//! removed afterwards is not brought back by the next start.

mod common;

use common::{ADMIN, Client, Setup};
use serde_json::json;

const JOBS: &str = r#"// OpenClaw cron store (JSON5)
{
  "version": 1,
  "jobs": [
    {
      "id": "job-a", "name": "morning", "enabled": true, "createdAtMs": 1796500000000,
      "schedule": { "kind": "cron", "expr": "0 7 * * *", "tz": "Europe/Vienna" },
      "sessionTarget": "isolated", "wakeMode": "now",
      "payload": { "kind": "agentTurn", "message": "Summarize overnight updates." },
      "delivery": { "mode": "none" },
      "state": {},
    },
    {
      "id": "job-b", "name": "remind", "enabled": false, "createdAtMs": 1796500000001,
      "schedule": { "kind": "every", "everyMs": 3600000, "anchorMs": 1796500000001 },
      "sessionTarget": "main", "wakeMode": "next-heartbeat",
      "payload": { "kind": "systemEvent", "text": "Stretch." },
      "state": {}
    }
  ]
}
"#;

const STATE: &str = r#"{"version":1,"jobs":{"job-a":{"updatedAtMs":1796500005000,
 "scheduleIdentity":"{}","state":{"nextRunAtMs":4102444800000,"lastRunAtMs":1796590000000,
 "lastRunStatus":"ok","lastStatus":"ok","consecutiveErrors":0,"runningAtMs":1796590000000}}}}"#;

#[tokio::test]
async fn openclaw_cron_files_are_imported_once_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let cron = dir.path().join("cron");
    std::fs::create_dir_all(cron.join("runs")).unwrap();
    std::fs::write(cron.join("jobs.json"), JOBS).unwrap();
    std::fs::write(cron.join("jobs-state.json"), STATE).unwrap();
    let runs = format!(
        "{}\n{}\n{{\"ts\": 17965",
        json!({"ts": 1796590002954u64, "jobId": "job-a", "action": "finished", "status": "ok",
               "summary": "All quiet.", "runId": "cron:job-a:1796590000000",
               "runAtMs": 1796590000000u64, "durationMs": 2954}),
        json!({"ts": 1796676402000u64, "jobId": "job-a", "action": "finished", "status": "error",
               "error": "model timeout", "runId": "cron:job-a:1796676400000",
               "runAtMs": 1796676400000u64})
    );
    std::fs::write(cron.join("runs").join("job-a.jsonl"), &runs).unwrap();
    let before = |name: &str| std::fs::read(cron.join(name)).unwrap();
    let (jobs_bytes, state_bytes) = (before("jobs.json"), before("jobs-state.json"));

    let tg = common::start_setup_in(Setup::default(), dir).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let a = c.ok("cron.get", json!({"id": "job-a"})).await;
    assert_eq!(a["schedule"]["expr"], "0 7 * * *");
    assert_eq!(
        a["state"]["lastRunAtMs"], 1796590000000u64,
        "state from the sidecar"
    );
    assert_eq!(a["state"]["nextRunAtMs"], 4102444800000u64);
    assert!(a["state"]["runningAtMs"].is_null(), "not resumed: {a}");
    assert_eq!(a["updatedAtMs"], 1796500005000u64);
    let b = c.ok("cron.get", json!({"id": "job-b"})).await;
    assert_eq!(b["enabled"], false);
    assert_eq!(b["wakeMode"], "next-heartbeat");
    let log = c
        .ok("cron.runs", json!({"id": "job-a", "sortDir": "asc"}))
        .await;
    assert_eq!(log["total"], 2, "the cut last line is skipped: {log}");
    assert_eq!(log["entries"][0]["summary"], "All quiet.");
    assert_eq!(log["entries"][1]["error"], "model timeout");

    let state_dir = tg.state();
    let cron = state_dir.join("cron");
    assert_eq!(std::fs::read(cron.join("jobs.json")).unwrap(), jobs_bytes);
    assert_eq!(
        std::fs::read(cron.join("jobs-state.json")).unwrap(),
        state_bytes
    );
    assert_eq!(
        std::fs::read_to_string(cron.join("runs").join("job-a.jsonl")).unwrap(),
        runs
    );

    // Removed here, it stays removed: the import happened once.
    c.ok("cron.remove", json!({"id": "job-b"})).await;
    drop(c);
    let common::TestGateway { gateway, dir, .. } = tg;
    gateway.shutdown("test").await;
    let tg = common::start_setup_in(Setup::default(), dir).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let gone = c.err("cron.get", json!({"id": "job-b"})).await;
    assert_eq!(gone["details"]["code"], "CRON_JOB_NOT_FOUND");
    let log = c.ok("cron.runs", json!({"id": "job-a"})).await;
    assert_eq!(log["total"], 2, "history not imported twice");
}
