//! The heartbeat runner with the cron scheduler's fake clock over a real state database and
//! workspace: a beat per interval and never early, only due `tasks:` run, a busy session
//! defers the beat to the next second, quiet hours skip. The turn is a scripted backend (the
//! runner is what is under test; real turns are in `tests/gateway_heartbeat.rs`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use openclaw_core::protocol::ErrorShape;
use serde_json::{Value, json};

use super::*;
use crate::backend::CallContext;
use crate::cron::FakeClock;

const T0: u64 = 1_800_000_000_000;

#[derive(Default)]
struct Scripted {
    busy: AtomicBool,
    calls: Mutex<Vec<HeartbeatTurn>>,
}

#[async_trait]
impl GatewayBackend for Scripted {
    async fn call(&self, m: &str, _: Option<Value>, _: CallContext) -> Result<Value, ErrorShape> {
        Err(ErrorShape::unknown_method(m))
    }

    async fn heartbeat_turn(&self, turn: HeartbeatTurn) -> HeartbeatTurnOutcome {
        if self.busy.load(Ordering::SeqCst) {
            return HeartbeatTurnOutcome::Busy;
        }
        openclaw_core::sync::lock(&self.calls).push(turn);
        HeartbeatTurnOutcome::Ran(CronTurnOutcome {
            ok: true,
            text: "HEARTBEAT_OK".into(),
            usage: Some((10, 5, 15)),
            ..CronTurnOutcome::default()
        })
    }
}

struct Rig {
    dir: tempfile::TempDir,
    clock: Arc<FakeClock>,
    backend: Arc<Scripted>,
    hb: Arc<HeartbeatService>,
}

fn rig(heartbeat: Value, checklist: &str) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("workspace")).unwrap();
    std::fs::write(dir.path().join("workspace").join("HEARTBEAT.md"), checklist).unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let clock = Arc::new(FakeClock::new(T0));
    let backend = Arc::new(Scripted::default());
    let config = json!({"agents": {"defaults": {"heartbeat": heartbeat},
        "list": [{"id": "main", "default": true}]}});
    let hb = HeartbeatService::new(
        store,
        clock.clone(),
        backend.clone(),
        dir.path().to_owned(),
        &config,
    );
    Rig {
        dir,
        clock,
        backend,
        hb,
    }
}

impl Rig {
    fn calls(&self) -> Vec<HeartbeatTurn> {
        openclaw_core::sync::lock(&self.backend.calls).clone()
    }

    /// Moves the clock and lets the runner act (no beat left in progress).
    async fn advance(&self, ms: u64) {
        self.clock.advance(ms);
        for _ in 0..200 {
            tokio::time::sleep(Duration::from_millis(5)).await;
            if self.hb.inner().running.is_empty() {
                tokio::time::sleep(Duration::from_millis(10)).await;
                if self.hb.inner().running.is_empty() {
                    return;
                }
            }
        }
        panic!("beats did not settle");
    }
}

const TASKS: &str = "Be brief.\n\ntasks:\n  - name: inbox\n    interval: 1m\n    prompt: Check the inbox.\n  - name: weekly\n    interval: 7d\n    prompt: Write the weekly report.\n";

#[tokio::test]
async fn one_beat_per_interval_and_only_due_tasks() {
    let r = rig(json!({"every": "1m"}), TASKS);
    let _loop = r.hb.start();
    r.advance(59_999).await;
    assert!(r.calls().is_empty(), "not before its time");
    r.advance(1).await;
    let calls = r.calls();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].message.contains("- inbox: Check the inbox."));
    assert!(
        calls[0]
            .message
            .contains("- weekly: Write the weekly report.")
    );
    assert!(
        calls[0]
            .message
            .contains("Additional context from HEARTBEAT.md:\nBe brief.")
    );
    r.advance(30_000).await;
    assert_eq!(r.calls().len(), 1, "one beat per interval");
    r.advance(30_000).await;
    let calls = r.calls();
    assert_eq!(calls.len(), 2);
    assert!(calls[1].message.contains("inbox"));
    assert!(
        !calls[1].message.contains("weekly"),
        "not due: {}",
        calls[1].message
    );
    let state = r.hb.states().unwrap();
    assert_eq!(state[0].1.runs, 2);
    assert_eq!(state[0].1.total_tokens, 30);
    assert_eq!(state[0].1.task_runs["weekly"], T0 + 60_000);
    assert_eq!(r.hb.last().unwrap().status, "ok-token");
}

#[tokio::test]
async fn a_busy_session_defers_the_beat_by_a_second() {
    let r = rig(json!({"every": "1m"}), "- check the build\n");
    let _loop = r.hb.start();
    r.backend.busy.store(true, Ordering::SeqCst);
    r.advance(60_000).await;
    assert!(r.calls().is_empty());
    r.backend.busy.store(false, Ordering::SeqCst);
    r.advance(999).await;
    assert!(r.calls().is_empty(), "retried after a second, not before");
    r.advance(1).await;
    assert_eq!(r.calls().len(), 1, "ran once the session was idle");
    // The cadence is unchanged: the next beat is a minute after the first was due.
    r.advance(58_000).await;
    assert_eq!(r.calls().len(), 1);
    assert_eq!(r.hb.last().unwrap().reason.as_deref(), Some("interval"));
}

#[tokio::test]
async fn quiet_hours_and_a_switched_off_runner_skip_without_a_turn() {
    // T0 is 2027-01-15T08:00:00Z.
    let r = rig(
        json!({"every": "1m", "activeHours": {"start": "09:00", "end": "17:00", "timezone": "UTC"}}),
        "- check the build\n",
    );
    let _loop = r.hb.start();
    r.advance(60_000).await;
    assert!(r.calls().is_empty());
    assert_eq!(r.hb.last().unwrap().reason.as_deref(), Some("quiet-hours"));
    r.hb.set_enabled(false);
    r.hb.enqueue("main", "wake up", true).unwrap();
    r.advance(0).await;
    assert_eq!(r.hb.last().unwrap().reason.as_deref(), Some("disabled"));
    assert!(r.calls().is_empty());
    drop(r.dir);
}
