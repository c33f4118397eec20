//! The scheduler with a fake clock over a real state database: slots run once, errors back
//! off and disable, one-shots are removed or disabled, a crash's receipt is settled as
//! interrupted and never replayed, missed slots follow `cron.skipMissedJobs`, concurrency is
//! bounded and `cron.enabled: false` runs nothing. The agent turn is a scripted backend (the
//! scheduler is what is under test; real turns are in `tests/gateway_cron.rs`).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use openclaw_core::protocol::ErrorShape;
use openclaw_core::protocol::cron::{CronJob, CronRunLogEntry, RunStatus};
use openclaw_state::{CronStore, RunQuery};
use serde_json::{Value, json};

use super::*;
use crate::backend::{CallContext, GatewayBackend};

const T0: u64 = 1_800_000_000_000;

#[derive(Default)]
struct Scripted {
    /// Results to hand out, in order (ok when empty).
    results: Mutex<VecDeque<bool>>,
    calls: Mutex<Vec<CronTurn>>,
    /// While set, turns wait for `release`.
    hold: std::sync::atomic::AtomicBool,
    release: tokio::sync::Notify,
}

#[async_trait]
impl GatewayBackend for Scripted {
    async fn call(&self, m: &str, _: Option<Value>, _: CallContext) -> Result<Value, ErrorShape> {
        Err(ErrorShape::unknown_method(m))
    }

    async fn cron_turn(&self, turn: CronTurn) -> CronTurnOutcome {
        openclaw_core::sync::lock(&self.calls).push(turn);
        if self.hold.load(std::sync::atomic::Ordering::SeqCst) {
            self.release.notified().await;
        }
        let ok = openclaw_core::sync::lock(&self.results)
            .pop_front()
            .unwrap_or(true);
        CronTurnOutcome {
            ok,
            text: if ok { "done".into() } else { String::new() },
            error: (!ok).then(|| "model failed".into()),
            ..CronTurnOutcome::default()
        }
    }
}

struct Rig {
    _dir: Option<tempfile::TempDir>,
    store: Arc<SqliteStore>,
    clock: Arc<FakeClock>,
    backend: Arc<Scripted>,
    cron: Arc<CronService>,
}

/// A scheduler over the state dir `path` (a restart when one ran there before).
fn rig_at(path: &std::path::Path, config: CronConfig, now: u64) -> Rig {
    let store = Arc::new(SqliteStore::open(path).unwrap());
    let clock = Arc::new(FakeClock::new(now));
    let backend = Arc::new(Scripted::default());
    let cron = CronService::new(store.clone(), clock.clone(), backend.clone(), config);
    Rig {
        _dir: None,
        store,
        clock,
        backend,
        cron,
    }
}

fn rig(config: CronConfig) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let mut r = rig_at(dir.path(), config, T0);
    r._dir = Some(dir);
    r
}

impl Rig {
    fn add(&self, schedule: Value) -> CronJob {
        let v = methods::call(
            &self.cron,
            "cron.add",
            Some(
                json!({"name": "j", "schedule": schedule, "sessionTarget": "isolated",
                "wakeMode": "now", "payload": {"kind": "agentTurn", "message": "go"}}),
            ),
        )
        .unwrap();
        serde_json::from_value(v).unwrap()
    }

    fn job(&self, id: &str) -> Option<CronJob> {
        self.store.cron_job(id).unwrap()
    }

    fn entries(&self, id: &str) -> Vec<CronRunLogEntry> {
        let q = RunQuery {
            job_id: Some(id.into()),
            limit: 1_000,
            ..RunQuery::default()
        };
        self.store.cron_runs(&q).unwrap().entries
    }

    fn calls(&self) -> usize {
        openclaw_core::sync::lock(&self.backend.calls).len()
    }

    /// Moves the clock and lets the scheduler act (no run left in progress).
    async fn advance(&self, ms: u64) {
        self.clock.advance(ms);
        self.settle().await;
    }

    async fn settle(&self) {
        for _ in 0..200 {
            tokio::time::sleep(Duration::from_millis(5)).await;
            if self.cron.inner().running.is_empty() && self.cron.inner().queued.is_empty() {
                tokio::time::sleep(Duration::from_millis(10)).await;
                if self.cron.inner().running.is_empty() {
                    return;
                }
            }
        }
        panic!("runs did not settle");
    }
}

#[tokio::test]
async fn each_slot_runs_once_and_nothing_runs_early() {
    let r = rig(CronConfig::default());
    let _loop = r.cron.start();
    let job = r.add(json!({"kind": "every", "everyMs": 60_000}));
    r.advance(59_999).await;
    assert_eq!(r.calls(), 0, "not before its time");
    r.advance(1).await;
    assert_eq!(r.calls(), 1);
    r.advance(1).await;
    r.advance(30_000).await;
    assert_eq!(r.calls(), 1, "the slot ran once");
    r.advance(30_000).await;
    assert_eq!(r.calls(), 2);
    let runs = r.entries(&job.id);
    let at: Vec<_> = runs.iter().map(|e| e.run_at_ms.unwrap()).collect();
    // The fake clock jumped to 120 001 ms: the second slot ran then.
    assert_eq!(at, [T0 + 60_000, T0 + 120_001]);
    assert!(runs.iter().all(|e| e.status == Some(RunStatus::Ok)));
    let j = r.job(&job.id).unwrap();
    assert_eq!(j.state.next_run_at_ms, Some(T0 + 180_000));
    assert_eq!(j.state.running_at_ms, None);
}

#[tokio::test]
async fn errors_back_off_then_disable_the_job() {
    let r = rig(CronConfig::default());
    *openclaw_core::sync::lock(&r.backend.results) = vec![false; 20].into();
    let _loop = r.cron.start();
    let job = r.add(json!({"kind": "every", "everyMs": 10_000}));
    let mut now = T0 + 10_000;
    r.advance(10_000).await;
    let mut waits = Vec::new();
    for _ in 0..9 {
        let next = r.job(&job.id).unwrap().state.next_run_at_ms.unwrap();
        waits.push(next - now);
        r.advance(next - now).await;
        now = next;
    }
    assert_eq!(
        waits,
        [
            30_000, 60_000, 300_000, 900_000, 3_600_000, 3_600_000, 3_600_000, 3_600_000, 3_600_000
        ]
    );
    let j = r.job(&job.id).unwrap();
    assert_eq!(j.state.consecutive_errors, run::AUTO_DISABLE_AFTER);
    assert!(!j.enabled);
    assert_eq!(
        j.state.auto_disabled.as_ref().map(|a| a.reason.as_str()),
        Some("consecutive-failures")
    );
    assert_eq!(
        r.entries(&job.id).len(),
        10,
        "every error is in the run log"
    );
    r.advance(10 * 3_600_000).await;
    assert_eq!(r.calls(), 10, "a disabled job does not run");
}

#[tokio::test]
async fn a_one_shot_is_removed_after_success_and_disabled_after_failure() {
    let r = rig(CronConfig::default());
    *openclaw_core::sync::lock(&r.backend.results) = vec![true, false].into();
    let _loop = r.cron.start();
    let ok = r.add(json!({"kind": "at", "at": "1m"}));
    // Stored as the ISO time it names.
    assert_eq!(
        ok.schedule,
        openclaw_core::protocol::cron::CronSchedule::At {
            at: "2027-01-15T08:01:00Z".into()
        }
    );
    let bad = r.add(json!({"kind": "at", "at": "2m"}));
    r.advance(60_000).await;
    assert!(r.job(&ok.id).is_none(), "removed after success");
    assert_eq!(r.entries(&ok.id).len(), 1);
    r.advance(60_000).await;
    let failed = r.job(&bad.id).unwrap();
    assert!(!failed.enabled, "kept, disabled");
    assert_eq!(failed.state.last_status, Some(RunStatus::Error));
    r.advance(3_600_000).await;
    assert_eq!(r.calls(), 2, "neither runs again");
}

#[tokio::test]
async fn a_run_cut_off_by_a_crash_is_recorded_interrupted_and_never_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let job = {
        let r = rig_at(dir.path(), CronConfig::default(), T0);
        let job = r.add(json!({"kind": "every", "everyMs": 60_000}));
        // What `start_run` commits before the turn starts; then the process dies.
        let mut started = job.clone();
        started.state.running_at_ms = Some(T0 + 60_000);
        started.state.next_run_at_ms = Some(T0 + 120_000);
        r.store
            .begin_cron_run(&started, "cron:x:1", T0 + 60_000)
            .unwrap();
        job
    };
    let r = rig_at(dir.path(), CronConfig::default(), T0 + 90_000);
    let _loop = r.cron.start();
    r.settle().await;
    let runs = r.entries(&job.id);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].completion_status.as_deref(), Some("interrupted"));
    assert_eq!(runs[0].run_id.as_deref(), Some("cron:x:1"));
    assert!(r.store.running_cron_runs().unwrap().is_empty());
    assert_eq!(r.calls(), 0, "not replayed");
    let j = r.job(&job.id).unwrap();
    assert_eq!(j.state.running_at_ms, None);
    assert_eq!(j.state.consecutive_errors, 1);
    // Its next slot runs as usual.
    r.advance(30_000).await;
    assert_eq!(r.calls(), 1);
}

#[tokio::test]
async fn missed_slots_follow_skip_missed_jobs() {
    for skip in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let config = CronConfig {
            skip_missed_jobs: skip,
            ..CronConfig::default()
        };
        let job =
            rig_at(dir.path(), config.clone(), T0).add(json!({"kind": "every", "everyMs": 60_000}));
        // Restarted ten and a half slots later.
        let r = rig_at(dir.path(), config, T0 + 630_000);
        let _loop = r.cron.start();
        r.settle().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        r.settle().await;
        let runs = r.entries(&job.id);
        assert_eq!(
            runs.len(),
            1,
            "skip={skip}: one entry for the ten missed slots"
        );
        if skip {
            assert_eq!(runs[0].status, Some(RunStatus::Skipped));
            assert_eq!(runs[0].error_reason.as_deref(), Some("missed"));
            assert_eq!(r.calls(), 0);
        } else {
            assert_eq!(runs[0].status, Some(RunStatus::Ok));
            assert_eq!(r.calls(), 1);
        }
        let next = r.job(&job.id).unwrap().state.next_run_at_ms;
        assert_eq!(
            next,
            Some(T0 + 660_000),
            "skip={skip}: the next slot after now"
        );
    }
}

#[tokio::test]
async fn runs_are_bounded_by_max_concurrent_runs() {
    let r = rig(CronConfig::default());
    r.backend
        .hold
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let _loop = r.cron.start();
    let a = r.add(json!({"kind": "at", "at": "1m"}));
    let b = r.add(json!({"kind": "at", "at": "1m"}));
    r.clock.advance(60_000);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(r.calls(), 1, "one at a time (cron.maxConcurrentRuns 1)");
    r.backend
        .hold
        .store(false, std::sync::atomic::Ordering::SeqCst);
    r.backend.release.notify_waiters();
    r.settle().await;
    assert_eq!(r.calls(), 2);
    assert!(r.job(&a.id).is_none() && r.job(&b.id).is_none());
}

#[tokio::test]
async fn a_disabled_scheduler_runs_nothing() {
    let r = rig(CronConfig {
        enabled: false,
        ..CronConfig::default()
    });
    assert!(r.cron.start().is_none());
    let job = r.add(json!({"kind": "every", "everyMs": 1_000}));
    r.clock.advance(10_000);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(r.calls(), 0);
    let ran = methods::call(&r.cron, "cron.run", Some(json!({"id": job.id}))).unwrap();
    assert_eq!(ran, json!({"ok": true, "ran": false, "reason": "stopped"}));
    let env = |k: &str| (k == "OPENCLAW_SKIP_CRON").then(|| "1".to_owned());
    assert!(!CronConfig::from_config(&json!({}), &env).enabled);
}
