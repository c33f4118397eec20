//! The run table: the idempotency cache (`chat:<key>`, `agent:<key>`, `send:<key>`; 1,000
//! entries, 5 minutes, as OpenClaw's `DEDUPE_MAX` / `DEDUPE_TTL_MS`) and the record of each
//! run (its session key, a cancel token for runs still queued, and its result for
//! `agent.wait`).
//!
//! Both fill up to their bounds on a busy gateway, so their entries are kept small: each key
//! is one shared string (in the map and in the eviction order), a cached answer is kept as its
//! JSON text, and a finished run keeps only what `agent.wait` reports.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
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

/// What the cache keeps of an answer: the JSON text of a result (parsed again on the rare
/// retry), or the error.
enum Stored {
    InFlight,
    Done(Result<Box<str>, Box<ErrorShape>>),
}

impl Stored {
    fn of(answer: Result<Value, ErrorShape>) -> Stored {
        Stored::Done(match answer {
            Ok(v) => Ok(v.to_string().into_boxed_str()),
            Err(e) => Err(Box::new(e)),
        })
    }

    fn cached(&self) -> Cached {
        match self {
            Stored::InFlight => Cached::InFlight,
            Stored::Done(Ok(text)) => {
                Cached::Done(serde_json::from_str(text).map_err(|e| {
                    ErrorShape::unavailable(format!("cached answer is unreadable: {e}"))
                }))
            }
            Stored::Done(Err(e)) => Cached::Done(Err(ErrorShape::clone(e))),
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// `ok`, `error`, `aborted` or `timeout`.
    pub status: &'static str,
    pub text: String,
    /// `stop`, `length`, `aborted`, `error` or `timeout`.
    pub stop_reason: &'static str,
    pub error: Option<String>,
    pub session_id: String,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub started_at: u64,
    pub ended_at: u64,
    /// The token usage of the run's last model call (its final assistant message).
    pub usage: Option<openclaw_core::message::Usage>,
}

impl Outcome {
    /// What the run table keeps.
    pub fn result(&self) -> RunResult {
        RunResult {
            status: self.status,
            stop_reason: self.stop_reason,
            error: self.error.as_deref().map(Into::into),
            started_at: self.started_at,
            ended_at: self.ended_at,
        }
    }
}

/// The record of a finished run: what `agent.wait` reports.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunResult {
    /// `ok`, `error`, `aborted` or `timeout`.
    pub status: &'static str,
    pub stop_reason: &'static str,
    pub error: Option<Box<str>>,
    pub started_at: u64,
    pub ended_at: u64,
}

impl RunResult {
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

/// Where a run stands. A finished run keeps only its result (the table holds up to
/// [`RUNS_MAX`] of them); the channel that wakes `agent.wait` callers exists only while
/// somebody waits for a run that has not ended.
enum RunDone {
    Pending(Option<watch::Sender<Option<RunResult>>>),
    Finished(RunResult),
}

#[derive(Default)]
pub(crate) struct RunTable {
    cache: HashMap<Arc<str>, (Instant, Stored)>,
    order: VecDeque<Arc<str>>,
    /// Boxed records: the table is sized for [`RUNS_MAX`] runs, and small buckets keep it small.
    runs: HashMap<Arc<str>, Box<RunRecord>>,
    run_order: VecDeque<Arc<str>>,
}

impl RunTable {
    fn prune(&mut self) {
        while let Some(front) = self.order.front() {
            let expired = self
                .cache
                .get(front)
                .is_none_or(|(at, c)| at.elapsed() > DEDUPE_TTL && !matches!(c, Stored::InFlight));
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
            return Some(c.cached());
        }
        let key: Arc<str> = key.into();
        self.cache
            .insert(key.clone(), (Instant::now(), Stored::InFlight));
        self.order.push_back(key);
        None
    }

    pub fn finish(&mut self, key: &str, answer: Result<Value, ErrorShape>) {
        if let Some(slot) = self.cache.get_mut(key) {
            *slot = (Instant::now(), Stored::of(answer));
        }
    }

    pub fn register(&mut self, run_id: &str, session_key: &str) -> CancellationToken {
        let cancel = CancellationToken::new();
        let run_id: Arc<str> = run_id.into();
        self.runs.insert(
            run_id.clone(),
            Box::new(RunRecord {
                session_key: session_key.into(),
                cancel: Some(cancel.clone()),
                done: RunDone::Pending(None),
            }),
        );
        self.run_order.push_back(run_id);
        self.prune();
        cancel
    }

    pub fn complete(&mut self, run_id: &str, result: RunResult) {
        if let Some(r) = self.runs.get_mut(run_id) {
            if let RunDone::Pending(Some(waiters)) = &r.done {
                waiters.send_replace(Some(result.clone()));
            }
            r.done = RunDone::Finished(result);
            r.cancel = None;
        }
    }

    pub fn get(&self, run_id: &str) -> Option<&RunRecord> {
        self.runs.get(run_id).map(|r| &**r)
    }

    /// A receiver that holds the run's result once it has ended (at once if it already has);
    /// `None` for a run the table does not know.
    pub fn watch(&mut self, run_id: &str) -> Option<watch::Receiver<Option<RunResult>>> {
        let r = self.runs.get_mut(run_id)?;
        Some(match &mut r.done {
            RunDone::Finished(o) => watch::channel(Some(o.clone())).1,
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
            .map(|id| id.to_string())
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
        t.finish("chat:a", Ok(json!({"runId": "a", "status": "ok"})));
        // The answer comes back as it was given (key order too).
        match t.claim("chat:a") {
            Some(Cached::Done(Ok(v))) => {
                assert_eq!(v.to_string(), r#"{"runId":"a","status":"ok"}"#)
            }
            _ => panic!("no cached answer"),
        }
        t.claim("chat:e");
        t.finish("chat:e", Err(ErrorShape::invalid_request("bad")));
        match t.claim("chat:e") {
            Some(Cached::Done(Err(e))) => assert_eq!(e.message, "bad"),
            _ => panic!("no cached error"),
        }
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
            stop_reason: "stop",
            error: None,
            session_id: "s".into(),
            provider: None,
            model: None,
            started_at: 1,
            ended_at: 2,
            usage: None,
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
        t.complete("r1", outcome("ok").result());
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
