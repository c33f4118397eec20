//! The run table: the idempotency cache (`chat:<key>`, `agent:<key>`, `send:<key>`; 1,000
//! entries, 5 minutes, as OpenClaw's `DEDUPE_MAX` / `DEDUPE_TTL_MS`) and the record of each
//! run (its session key, a cancel token for runs still queued, and its outcome for
//! `agent.wait`).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use openclaw_core::CancellationToken;
use openclaw_core::protocol::ErrorShape;
use serde_json::{Value, json};
use tokio::sync::watch;

const DEDUPE_MAX: usize = 1000;
const DEDUPE_TTL: Duration = Duration::from_secs(300);
const RUNS_MAX: usize = 1000;

/// A cached answer for an idempotency key.
#[derive(Clone)]
pub(crate) enum Cached {
    InFlight,
    Done(Result<Value, ErrorShape>),
}

/// How a run ended.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// `ok`, `error`, `aborted` or `timeout`.
    pub status: &'static str,
    pub text: String,
    pub stop_reason: String,
    pub error: Option<String>,
    pub session_id: String,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub started_at: u64,
    pub ended_at: u64,
}

impl Outcome {
    /// The copy the run table keeps: everything but the reply text.
    pub fn for_table(&self) -> Outcome {
        Outcome {
            status: self.status,
            text: String::new(),
            stop_reason: self.stop_reason.clone(),
            error: self.error.clone(),
            session_id: self.session_id.clone(),
            provider: self.provider.clone(),
            model: self.model.clone(),
            started_at: self.started_at,
            ended_at: self.ended_at,
        }
    }

    /// The `agent.wait` answer.
    pub fn wait_payload(&self, run_id: &str) -> Value {
        let status = match self.status {
            "aborted" => "ok",
            s => s,
        };
        let mut v = json!({"runId": run_id, "status": status, "startedAt": self.started_at,
            "endedAt": self.ended_at, "stopReason": self.stop_reason});
        if let Some(e) = &self.error {
            v["error"] = json!(e);
        }
        v
    }
}

pub(crate) struct RunRecord {
    pub session_key: Box<str>,
    /// Cancels the run while it is queued or running; dropped once it has ended.
    pub cancel: Option<CancellationToken>,
    done: RunDone,
}

/// Where a run stands. A finished run keeps only its text-free outcome (the table holds up to
/// [`RUNS_MAX`] of them); the channel that wakes `agent.wait` callers exists only while
/// somebody waits for a run that has not ended.
enum RunDone {
    Pending(Option<watch::Sender<Option<Outcome>>>),
    Finished(Box<Outcome>),
}

#[derive(Default)]
pub(crate) struct RunTable {
    cache: HashMap<String, (Instant, Cached)>,
    order: VecDeque<String>,
    runs: HashMap<String, RunRecord>,
    run_order: VecDeque<String>,
}

impl RunTable {
    fn prune(&mut self) {
        while let Some(front) = self.order.front() {
            let expired = self
                .cache
                .get(front)
                .is_none_or(|(at, c)| at.elapsed() > DEDUPE_TTL && !matches!(c, Cached::InFlight));
            if expired || self.order.len() > DEDUPE_MAX {
                if let Some(k) = self.order.pop_front() {
                    self.cache.remove(&k);
                }
            } else {
                break;
            }
        }
        while self.run_order.len() > RUNS_MAX {
            if let Some(k) = self.run_order.pop_front() {
                self.runs.remove(&k);
            }
        }
    }

    /// The cached answer for `key`, or `None` after marking it in flight.
    pub fn claim(&mut self, key: &str) -> Option<Cached> {
        self.prune();
        if let Some((_, c)) = self.cache.get(key) {
            return Some(c.clone());
        }
        self.cache
            .insert(key.to_owned(), (Instant::now(), Cached::InFlight));
        self.order.push_back(key.to_owned());
        None
    }

    pub fn finish(&mut self, key: &str, answer: Result<Value, ErrorShape>) {
        if let Some(slot) = self.cache.get_mut(key) {
            *slot = (Instant::now(), Cached::Done(answer));
        }
    }

    pub fn register(&mut self, run_id: &str, session_key: &str) -> CancellationToken {
        let cancel = CancellationToken::new();
        self.runs.insert(
            run_id.to_owned(),
            RunRecord {
                session_key: session_key.into(),
                cancel: Some(cancel.clone()),
                done: RunDone::Pending(None),
            },
        );
        self.run_order.push_back(run_id.to_owned());
        self.prune();
        cancel
    }

    pub fn complete(&mut self, run_id: &str, outcome: Outcome) {
        if let Some(r) = self.runs.get_mut(run_id) {
            if let RunDone::Pending(Some(waiters)) = &r.done {
                waiters.send_replace(Some(outcome.clone()));
            }
            r.done = RunDone::Finished(Box::new(outcome));
            r.cancel = None;
        }
    }

    pub fn get(&self, run_id: &str) -> Option<&RunRecord> {
        self.runs.get(run_id)
    }

    /// A receiver that holds the run's outcome once it has ended (at once if it already has);
    /// `None` for a run the table does not know.
    pub fn watch(&mut self, run_id: &str) -> Option<watch::Receiver<Option<Outcome>>> {
        let r = self.runs.get_mut(run_id)?;
        Some(match &mut r.done {
            RunDone::Finished(o) => watch::channel(Some(Outcome::clone(o))).1,
            RunDone::Pending(Some(waiters)) => waiters.subscribe(),
            RunDone::Pending(slot) => {
                let (tx, rx) = watch::channel(None);
                *slot = Some(tx);
                rx
            }
        })
    }

    /// Runs on `key` that have not finished.
    pub fn unfinished_on(&self, key: &str) -> Vec<String> {
        self.run_order
            .iter()
            .filter(|id| {
                self.runs.get(*id).is_some_and(|r| {
                    &*r.session_key == key && matches!(r.done, RunDone::Pending(_))
                })
            })
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_are_cached_and_bounded() {
        let mut t = RunTable::default();
        assert!(t.claim("chat:a").is_none());
        assert!(matches!(t.claim("chat:a"), Some(Cached::InFlight)));
        t.finish("chat:a", Ok(json!({"status": "ok"})));
        assert!(matches!(t.claim("chat:a"), Some(Cached::Done(Ok(_)))));
        for i in 0..1500 {
            t.claim(&format!("chat:{i}"));
            t.finish(&format!("chat:{i}"), Ok(json!(i)));
        }
        assert!(t.cache.len() <= DEDUPE_MAX + 1);
        for i in 0..1500 {
            t.register(&format!("r{i}"), "k");
        }
        assert!(t.runs.len() <= RUNS_MAX);
    }

    fn outcome(status: &'static str) -> Outcome {
        Outcome {
            status,
            text: String::new(),
            stop_reason: "stop".into(),
            error: None,
            session_id: "s".into(),
            provider: None,
            model: None,
            started_at: 1,
            ended_at: 2,
        }
    }

    #[tokio::test]
    async fn waiters_get_the_outcome_before_and_after_the_run_ends() {
        let mut t = RunTable::default();
        assert!(t.watch("nope").is_none());
        t.register("r1", "k");
        assert_eq!(t.unfinished_on("k"), vec!["r1".to_owned()]);
        let mut early = t.watch("r1").unwrap();
        let mut early2 = t.watch("r1").unwrap();
        assert!(early.borrow().is_none());
        t.complete("r1", outcome("ok"));
        assert!(t.unfinished_on("k").is_empty());
        assert!(t.get("r1").unwrap().cancel.is_none());
        for rx in [&mut early, &mut early2] {
            let got = rx.wait_for(Option::is_some).await.unwrap().clone();
            assert_eq!(got.unwrap().status, "ok");
        }
        let late = t.watch("r1").unwrap();
        assert_eq!(late.borrow().as_ref().unwrap().ended_at, 2);
    }
}
