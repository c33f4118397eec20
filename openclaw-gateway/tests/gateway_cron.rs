//! Cron over a real loopback gateway with the agent host and the in-process fake model: a
//! one-shot fires once and its reply lands in its run's session; a recurring job runs each
//! slot at most once across a gateway restart; the methods answer with OpenClaw's shapes.

mod common;

use std::time::{Duration, Instant};

use common::model::{bodies, config_for, start_model};
use common::{ADMIN, Client, Setup};
use serde_json::{Value, json};

async fn finished_event(c: &mut Client, job_id: &str) -> Value {
    loop {
        let e = c.event("cron").await;
        if e["payload"]["jobId"] == job_id && e["payload"]["action"] == "finished" {
            return e["payload"].clone();
        }
    }
}

#[tokio::test]
async fn an_at_job_two_seconds_ahead_fires_once_into_its_own_session() {
    let model = start_model().await;
    let tg = common::start(Setup {
        config: config_for(&model),
        engine: true,
        ..Setup::default()
    })
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let at = (jiff::Timestamp::now() + Duration::from_secs(2)).to_string();
    let job = c
        .ok(
            "cron.add",
            json!({"name": "ping", "schedule": {"kind": "at", "at": at},
                   "sessionTarget": "isolated", "wakeMode": "now",
                   "payload": {"kind": "agentTurn", "message": "say pong"}}),
        )
        .await;
    let id = job["id"].as_str().unwrap().to_owned();
    assert_eq!(job["payload"]["toolsAllow"], json!(["*"]));
    assert_eq!(job["enabled"], true);
    assert!(
        job["configRevision"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(job["state"]["nextRunAtMs"].as_u64().is_some());
    assert!(bodies(&model).is_empty(), "nothing ran before its time");

    let done = finished_event(&mut c, &id).await;
    assert_eq!(done["status"], "ok", "{done}");
    assert_eq!(done["summary"], "pong");
    let key = done["sessionKey"].as_str().unwrap().to_owned();
    assert!(
        key.starts_with(&format!("agent:main:cron:{id}:run:")),
        "{key}"
    );
    // The model saw the unattended-run message with the job's tag.
    let sent = bodies(&model);
    assert_eq!(sent.len(), 1);
    let user = sent[0]["messages"].to_string();
    assert!(
        user.contains(&format!("[cron:{id} ping] say pong")),
        "{user}"
    );
    assert!(user.contains("NO_REPLY"), "{user}");
    // The reply is in that session's history.
    let history = c.ok("chat.history", json!({"sessionKey": key})).await;
    assert!(
        history["messages"].to_string().contains("pong"),
        "{history}"
    );
    // A successful one-shot is removed; its run stays in the history.
    let gone = c.err("cron.get", json!({"id": id})).await;
    assert_eq!(gone["details"]["code"], "CRON_JOB_NOT_FOUND", "{gone}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let runs = c.ok("cron.runs", json!({"id": id})).await;
    assert_eq!(runs["total"], 1, "fired once: {runs}");
    assert_eq!(runs["entries"][0]["completionStatus"], "succeeded");
    assert_eq!(bodies(&model).len(), 1);
}

/// Run-log entries of `id`, oldest first.
async fn entries(c: &mut Client, id: &str) -> Vec<Value> {
    let runs = c
        .ok(
            "cron.runs",
            json!({"id": id, "limit": 200, "sortDir": "asc"}),
        )
        .await;
    runs["entries"].as_array().unwrap().clone()
}

async fn wait_for_runs(c: &mut Client, id: &str, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let e = entries(c, id).await;
        if e.len() >= n || Instant::now() > deadline {
            return e;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_every_job_runs_each_slot_at_most_once_across_a_restart() {
    let model = start_model().await;
    let config = config_for(&model);
    let tg = common::start(Setup {
        config: config.clone(),
        engine: true,
        ..Setup::default()
    })
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let every = 1_000u64;
    let job = c
        .ok(
            "cron.add",
            json!({"name": "tick", "schedule": {"kind": "every", "everyMs": every},
                   "sessionTarget": "isolated", "wakeMode": "now",
                   "payload": {"kind": "agentTurn", "message": "tick"}}),
        )
        .await;
    let id = job["id"].as_str().unwrap().to_owned();
    let anchor = job["schedule"]["anchorMs"].as_u64().unwrap();
    assert_eq!(anchor, job["createdAtMs"].as_u64().unwrap());
    let before = wait_for_runs(&mut c, &id, 2).await;
    assert!(before.len() >= 2, "{before:?}");
    drop(c);
    let common::TestGateway { gateway, dir, .. } = tg;
    gateway.shutdown("test restart").await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let tg = common::start_setup_in(
        Setup {
            config,
            engine: true,
            ..Setup::default()
        },
        dir,
    )
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let n = before.len();
    let after = wait_for_runs(&mut c, &id, n + 3).await;
    assert!(
        after.len() >= n + 3,
        "runs go on after the restart: {after:?}"
    );
    // Every run is its own slot: no slot ran twice, no run id repeats.
    let mut slots: Vec<u64> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    for e in &after {
        let at = e["runAtMs"].as_u64().unwrap();
        slots.push((at - anchor) / every);
        ids.push(e["runId"].as_str().unwrap().to_owned());
        // A run stopped by the restart is recorded as interrupted, never replayed.
        assert!(
            e["status"] == "ok" || e["completionStatus"] == "interrupted",
            "{e}"
        );
    }
    let mut unique = slots.clone();
    unique.dedup();
    assert_eq!(unique, slots, "one run per slot, in order: {after:?}");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), after.len());
    let status = c.ok("cron.status", json!({})).await;
    assert_eq!(status["enabled"], true);
    assert_eq!(status["storage"], "sqlite");
    assert_eq!(status["jobs"], 1);
    // Stop it, and nothing more runs.
    let updated = c
        .ok(
            "cron.update",
            json!({"id": id, "patch": {"enabled": false}}),
        )
        .await;
    assert_eq!(updated["enabled"], false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let settled = entries(&mut c, &id).await.len();
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    assert_eq!(entries(&mut c, &id).await.len(), settled);
}

/// `cron.list`'s `snapshotRevision` changes with the inventory (a job added, one changed), so
/// a client paging through it (OpenClaw's CLI) starts over instead of mixing two inventories.
#[tokio::test]
async fn the_list_revision_follows_the_inventory() {
    let model = start_model().await;
    let tg = common::start(Setup {
        config: config_for(&model),
        engine: true,
        ..Setup::default()
    })
    .await;
    let (mut admin, _) = Client::connected(&tg, ADMIN).await;
    let add = |name: &str| {
        json!({"name": name, "schedule": {"kind": "every", "everyMs": 3_600_000},
            "sessionTarget": "isolated", "wakeMode": "now",
            "payload": {"kind": "agentTurn", "message": "m"}})
    };
    let job = admin.ok("cron.add", add("one")).await;
    let rev = |v: &Value| v["snapshotRevision"].as_str().unwrap().to_owned();
    let first = rev(&admin.ok("cron.list", json!({})).await);
    admin.ok("cron.add", add("two")).await;
    let second = rev(&admin.ok("cron.list", json!({})).await);
    assert_ne!(first, second);
    admin
        .ok(
            "cron.update",
            json!({"id": job["id"], "patch": {"description": "changed"}}),
        )
        .await;
    let third = rev(&admin.ok("cron.list", json!({"limit": 1})).await);
    assert_ne!(second, third);
    assert_eq!(
        rev(&admin.ok("cron.list", json!({"offset": 1})).await),
        third
    );
}

#[tokio::test]
async fn methods_answer_with_openclaws_shapes_scopes_and_errors() {
    let model = start_model().await;
    let tg = common::start(Setup {
        config: config_for(&model),
        engine: true,
        ..Setup::default()
    })
    .await;
    let (mut admin, _) = Client::connected(&tg, ADMIN).await;
    let (mut reader, _) = Client::connected(&tg, &["operator.read"]).await;
    let add = json!({"name": "daily", "schedule": {"kind": "cron", "expr": "0 7 * * *", "tz": "Europe/Vienna"},
        "sessionTarget": "isolated", "wakeMode": "now",
        "payload": {"kind": "agentTurn", "message": "summarize"}});
    let denied = reader.err("cron.add", add.clone()).await;
    assert!(denied.to_string().contains("operator.admin"), "{denied}");
    let job = admin.ok("cron.add", add).await;
    let id = job["id"].as_str().unwrap().to_owned();
    let added = admin.event("cron").await;
    assert_eq!(added["payload"]["action"], "added");
    let read = reader.ok("cron.get", json!({"id": id})).await;
    assert_eq!(read["id"], id.as_str(), "cron.get needs operator.read only");
    let listed = reader.ok("cron.list", json!({})).await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["jobs"][0]["effectiveAgentId"], "main");
    assert_eq!(listed["hasMore"], false);
    // The page metadata OpenClaw's CLI requires: all of it, with a revision of the inventory
    // that changes when a job does.
    let revision = listed["snapshotRevision"].as_str().unwrap().to_owned();
    assert!(!revision.is_empty());
    assert!(listed.get("nextOffset").is_some(), "{listed}");
    assert_eq!(
        reader.ok("cron.list", json!({})).await["snapshotRevision"],
        revision.as_str()
    );
    let bad = admin
        .err(
            "cron.add",
            json!({"name": "x", "schedule": {"kind": "cron", "expr": "* * *"},
            "sessionTarget": "isolated", "wakeMode": "now",
            "payload": {"kind": "agentTurn", "message": "m"}}),
        )
        .await;
    let msg = bad["message"].as_str().unwrap();
    assert!(
        msg.starts_with("invalid cron.add params: CronPattern: "),
        "{msg}"
    );
    // A stale revision is refused; the current one applies, and moves the next run.
    let stale = admin
        .err(
            "cron.update",
            json!({"id": id, "expectedConfigRevision": "sha256:old",
            "patch": {"name": "renamed"}}),
        )
        .await;
    assert_eq!(stale["details"]["code"], "CRON_CONFIG_REVISION_MISMATCH");
    let rev = job["configRevision"].clone();
    let moved = admin
        .ok("cron.update", json!({"id": id, "expectedConfigRevision": rev,
            "patch": {"schedule": {"kind": "cron", "expr": "30 7 * * *", "tz": "Europe/Vienna", "staggerMs": 0}}}))
        .await;
    let (old, new) = (
        job["state"]["nextRunAtMs"].as_u64().unwrap(),
        moved["state"]["nextRunAtMs"].as_u64().unwrap(),
    );
    // Vienna is a whole-hour offset from UTC: the minute within the hour is the expression's.
    assert_eq!(
        ((old / 60_000) % 60, (new / 60_000) % 60),
        (0, 30),
        "{job} {moved}"
    );
    assert!(
        new.abs_diff(old) < 86_400_000,
        "the next 07:30, not a stale time"
    );
    let not_due = admin.ok("cron.run", json!({"id": id, "mode": "due"})).await;
    assert_eq!(
        not_due,
        json!({"ok": true, "ran": false, "reason": "not-due"})
    );
    let forced = admin.ok("cron.run", json!({"id": id})).await;
    assert_eq!(forced["enqueued"], true);
    assert!(
        forced["runId"]
            .as_str()
            .unwrap()
            .starts_with(&format!("manual:{id}:"))
    );
    let done = finished_event(&mut admin, &id).await;
    assert_eq!(done["runId"], forced["runId"]);
    // A manual run leaves the schedule alone.
    let after = admin.ok("cron.get", json!({"jobId": id})).await;
    assert_eq!(after["state"]["nextRunAtMs"].as_u64(), Some(new));
    assert_eq!(after["state"]["lastRunStatus"], "ok");
    let removed = admin.ok("cron.remove", json!({"id": id})).await;
    assert_eq!(removed, json!({"ok": true, "removed": true}));
    let again = admin.err("cron.remove", json!({"id": id})).await;
    assert_eq!(again["code"], "INVALID_REQUEST");
    assert_eq!(again["details"]["jobId"], id.as_str());
    let unknown = admin.err("cron.list", json!({"bogus": 1})).await;
    assert!(
        unknown["message"]
            .as_str()
            .unwrap()
            .contains("unexpected property 'bogus'")
    );
}

#[tokio::test]
async fn isolated_run_sessions_are_pruned_after_the_session_retention() {
    let model = start_model().await;
    let mut config = config_for(&model);
    config["cron"] = json!({"sessionRetention": "2s"});
    let tg = common::start(Setup {
        config,
        engine: true,
        ..Setup::default()
    })
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let job = c
        .ok(
            "cron.add",
            json!({"name": "brief", "schedule": {"kind": "every", "everyMs": 3_600_000},
                   "sessionTarget": "isolated", "wakeMode": "now",
                   "payload": {"kind": "agentTurn", "message": "brief me"}}),
        )
        .await;
    let id = job["id"].as_str().unwrap().to_owned();
    c.ok("cron.run", json!({"id": id, "mode": "force"})).await;
    let done = finished_event(&mut c, &id).await;
    let key = done["sessionKey"].as_str().unwrap().to_owned();
    let listed = c.ok("sessions.list", json!({"limit": 100})).await;
    assert!(listed.to_string().contains(&key), "{listed}");
    // A main-session conversation is never pruned.
    common::model::chat(&mut c, "main", "hello", json!({})).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let listed = c.ok("sessions.list", json!({"limit": 100})).await;
        if !listed.to_string().contains(&key) {
            assert!(listed.to_string().contains("agent:main:main"), "{listed}");
            break;
        }
        assert!(Instant::now() < deadline, "{key} was never pruned");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Its transcript is archived, not lost.
    let sessions = tg.state().join("agents").join("main").join("sessions");
    let archived = std::fs::read_dir(&sessions)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().contains(".deleted."));
    assert!(archived, "no archived transcript in {}", sessions.display());
    // The job itself stays.
    c.ok("cron.get", json!({"id": id})).await;
}
