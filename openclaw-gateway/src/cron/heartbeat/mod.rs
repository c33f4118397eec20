//! Heartbeats (OpenClaw 5.6 semantics): a periodic turn on each beating agent's main session
//! with the heartbeat prompt, gated by HEARTBEAT.md, and the `wake` / system-event queue.
//!
//! - `config`: who beats, how often, when (`activeHours`), with which prompt and target;
//! - `checklist`: HEARTBEAT.md (effectively empty, `tasks:`), the reply contract;
//! - `beat`: one beat (the gates, the turn, what it records and reports);
//! - this module: [`HeartbeatService`], the loop (on the cron scheduler's [`Clock`]), the
//!   `heartbeat` event and what `last-heartbeat`, `set-heartbeats`, `wake`, `status` and
//!   `usage.status` read.
//!
//! A beat is skipped, with a `heartbeat` event saying why, when heartbeats are off, outside
//! active hours, when HEARTBEAT.md is effectively empty, when its `tasks:` block has nothing
//! due, and — the cost guard — when the checklist is byte-for-byte the one the last successful
//! beat answered (acknowledged or alerted) and no system event waits: no model call then. Wakes and queued
//! system events bypass the file gates. A beat whose session is busy is deferred (retried
//! each second until the session is idle) or, with `skipWhenBusy`, skipped until the next one.
//! The agent host prunes a silent acknowledgement from the transcript (see
//! `agent_host/heartbeat_turn.rs`).

mod beat;
pub mod checklist;
pub mod config;

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use openclaw_core::CancellationToken;
use openclaw_state::{HeartbeatState, HeartbeatStore, SqliteStore};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Notify;

use super::{Clock, CronTurnOutcome};
use crate::backend::{EventSink, GatewayBackend};
use crate::roster::Roster;
use beat::Beat;
use config::AgentHeartbeat;

/// System events kept per agent while they wait for a beat (OpenClaw keeps 20).
pub const MAX_QUEUED_EVENTS: usize = 20;
/// Longest system event text accepted.
pub const MAX_EVENT_CHARS: usize = 8_000;
/// How soon a beat deferred by a busy session is tried again.
pub const BUSY_RETRY_MS: u64 = 1_000;
/// Longest `preview` in a `heartbeat` event.
const PREVIEW_CHARS: usize = 200;

/// What the heartbeat runner asks the agent host to run.
#[derive(Debug, Clone, PartialEq)]
pub struct HeartbeatTurn {
    pub agent_id: String,
    pub run_id: String,
    /// The whole user message.
    pub message: String,
    pub model: Option<String>,
    pub ack_max_chars: usize,
    pub timeout_seconds: Option<u64>,
    /// `lightContext`: no workspace files in the system prompt but HEARTBEAT.md.
    pub light_context: bool,
    /// `isolatedSession`: a fresh session (`agent:<id>:main:heartbeat`) for each beat.
    pub isolated_session: bool,
}

/// How a heartbeat turn ended.
#[derive(Debug, Clone, PartialEq)]
pub enum HeartbeatTurnOutcome {
    /// The main session was running something: nothing ran.
    Busy,
    /// The turn ran (or failed to); a silent acknowledgement is already pruned.
    Ran(CronTurnOutcome),
}

/// The `heartbeat` event (and the `last-heartbeat` result), OpenClaw's shape.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatEvent {
    pub ts: u64,
    /// `sent | ok-empty | ok-token | skipped | failed`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indicator_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silent: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl HeartbeatEvent {
    fn skipped(ts: u64, reason: &str) -> Self {
        Self {
            ts,
            status: "skipped",
            reason: Some(reason.to_owned()),
            ..Self::default()
        }
    }
}

/// Why a beat runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The cadence.
    Interval,
    /// `wake {mode:"now"}`, a hook or a cron system event: file gates bypassed.
    Wake,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Interval => "interval",
            Reason::Wake => "wake",
        }
    }
}

/// A system event waiting for a beat.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SystemEvent {
    text: String,
    ts: u64,
}

#[derive(Default)]
struct Inner {
    agents: Vec<AgentHeartbeat>,
    /// Agent → when its cadence is next due.
    due: HashMap<String, u64>,
    running: HashSet<String>,
    /// Agents asked to beat at once.
    wakes: HashSet<String>,
    /// Agent → (when to try again, why) after a busy session.
    retry: HashMap<String, (u64, Reason)>,
    queued: HashMap<String, VecDeque<SystemEvent>>,
    last: Option<HeartbeatEvent>,
}

/// The heartbeat runner of one gateway.
pub struct HeartbeatService {
    store: Arc<SqliteStore>,
    clock: Arc<dyn Clock>,
    backend: Arc<dyn GatewayBackend>,
    state_dir: PathBuf,
    config: Mutex<Value>,
    events: Mutex<Option<EventSink>>,
    enabled: AtomicBool,
    inner: Mutex<Inner>,
    wake: Notify,
    stop: CancellationToken,
    /// Where alerts are sent (`target: "last"` or a channel).
    channels: std::sync::OnceLock<Arc<crate::channels::ChannelService>>,
}

/// Per agent, what `status` / `health` report.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSummary {
    pub settings: AgentHeartbeat,
    pub enabled: bool,
}

impl HeartbeatService {
    pub fn new(
        store: Arc<SqliteStore>,
        clock: Arc<dyn Clock>,
        backend: Arc<dyn GatewayBackend>,
        state_dir: PathBuf,
        config: &Value,
    ) -> Arc<Self> {
        let me = Arc::new(Self {
            store,
            clock,
            backend,
            state_dir,
            config: Mutex::new(Value::Null),
            events: Mutex::new(None),
            enabled: AtomicBool::new(true),
            inner: Mutex::new(Inner::default()),
            wake: Notify::new(),
            stop: CancellationToken::new(),
            channels: std::sync::OnceLock::new(),
        });
        me.reload(config);
        me
    }

    /// The channel manager alerts go through.
    pub fn set_channels(&self, channels: Arc<crate::channels::ChannelService>) {
        let _ = self.channels.set(channels);
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        openclaw_core::sync::lock(&self.inner)
    }

    fn roster(&self) -> Roster {
        Roster::from_config(&openclaw_core::sync::lock(&self.config), &self.state_dir)
    }

    /// Where `heartbeat` events go.
    pub fn attach(&self, events: EventSink) {
        *openclaw_core::sync::lock(&self.events) = Some(events);
    }

    /// Takes a new config: who beats and how; a changed cadence counts from now.
    pub fn reload(&self, config: &Value) {
        *openclaw_core::sync::lock(&self.config) = config.clone();
        let agents = config::resolve(config, &self.roster());
        let now = self.clock.now_ms();
        let mut inner = self.inner();
        let old: HashMap<String, Option<u64>> = inner
            .agents
            .iter()
            .map(|a| (a.agent_id.clone(), a.every_ms))
            .collect();
        let mut due = HashMap::new();
        for a in &agents {
            let Some(every) = a.every_ms else { continue };
            let kept = (old.get(&a.agent_id) == Some(&Some(every)))
                .then(|| inner.due.get(&a.agent_id).copied())
                .flatten();
            due.insert(a.agent_id.clone(), kept.unwrap_or(now + every));
        }
        inner.agents = agents;
        inner.due = due;
        drop(inner);
        self.wake.notify_one();
    }

    /// Starts the loop.
    pub fn start(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move { me.run_loop().await })
    }

    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// `set-heartbeats`.
    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Release);
        self.wake.notify_one();
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// `last-heartbeat`.
    pub fn last(&self) -> Option<HeartbeatEvent> {
        self.inner().last.clone()
    }

    /// What `status` and `health` report, per beating agent.
    pub fn summary(&self) -> Vec<AgentSummary> {
        let on = self.enabled();
        self.inner()
            .agents
            .iter()
            .map(|a| AgentSummary {
                enabled: on && a.every_ms.is_some(),
                settings: a.clone(),
            })
            .collect()
    }

    /// Heartbeat state per agent (tokens spent, for `usage.status`).
    pub fn states(&self) -> Result<Vec<(String, HeartbeatState)>, openclaw_state::StateError> {
        self.store.heartbeat_states()
    }

    /// The agent a `wake` (or hook) names: `agent_id`, else the agent of `session_key`, else
    /// the default one; unknown agents are refused.
    pub fn agent_for(
        &self,
        agent_id: Option<&str>,
        session_key: Option<&str>,
    ) -> Result<String, String> {
        let roster = self.roster();
        let from_key = session_key
            .and_then(|k| k.strip_prefix("agent:"))
            .and_then(|r| r.split_once(':'))
            .map(|(a, _)| a);
        let id = agent_id
            .or(from_key)
            .unwrap_or(roster.default_id())
            .to_owned();
        if roster.get(&id).is_none() {
            return Err(format!("unknown agent id \"{id}\""));
        }
        Ok(id)
    }

    /// Queues `text` as a system event for `agent_id`'s next beat; `now` asks for that beat at
    /// once. The oldest queued event goes when the queue is full.
    pub fn enqueue(&self, agent_id: &str, text: &str, now: bool) -> Result<(), String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("text must not be empty".into());
        }
        if text.chars().count() > MAX_EVENT_CHARS {
            return Err(format!("text is longer than {MAX_EVENT_CHARS} characters"));
        }
        let ts = self.clock.now_ms();
        let mut inner = self.inner();
        let q = inner.queued.entry(agent_id.to_owned()).or_default();
        if q.len() >= MAX_QUEUED_EVENTS {
            q.pop_front();
            tracing::warn!("heartbeat: system event queue of {agent_id} full; oldest dropped");
        }
        q.push_back(SystemEvent {
            text: text.to_owned(),
            ts,
        });
        if now {
            inner.wakes.insert(agent_id.to_owned());
        }
        drop(inner);
        self.wake.notify_one();
        Ok(())
    }

    /// How many system events wait, over all agents (`status`'s `queuedSystemEvents`).
    pub fn queued_texts(&self) -> Vec<String> {
        self.inner()
            .queued
            .values()
            .flat_map(|q| q.iter().map(|e| e.text.clone()))
            .collect()
    }

    fn emit(&self, event: &HeartbeatEvent) {
        self.inner().last = Some(event.clone());
        if let Some(sink) = openclaw_core::sync::lock(&self.events).as_ref() {
            if let Ok(v) = serde_json::to_value(event) {
                sink.broadcast("heartbeat", v);
            }
        }
    }

    async fn run_loop(self: Arc<Self>) {
        loop {
            let next = self.tick();
            let sleep = async {
                match next {
                    Some(at) => self.clock.sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = self.stop.cancelled() => break,
                _ = self.wake.notified() => {}
                _ = sleep => {}
            }
        }
    }

    /// The effective settings of `agent_id` (those of a beating agent, else its own block
    /// over the defaults).
    fn settings_for(&self, inner: &Inner, agent_id: &str) -> AgentHeartbeat {
        match inner.agents.iter().find(|a| a.agent_id == agent_id) {
            Some(a) => a.clone(),
            None => config::for_agent(&openclaw_core::sync::lock(&self.config), agent_id),
        }
    }

    /// Starts what is due; returns when to look again.
    fn tick(self: &Arc<Self>) -> Option<u64> {
        let now = self.clock.now_ms();
        let mut starts: Vec<(AgentHeartbeat, Reason)> = Vec::new();
        {
            let mut inner = self.inner();
            let wakes: Vec<String> = inner.wakes.iter().cloned().collect();
            for agent in wakes {
                if inner.running.contains(&agent) {
                    continue;
                }
                inner.wakes.remove(&agent);
                inner.retry.remove(&agent);
                starts.push((self.settings_for(&inner, &agent), Reason::Wake));
            }
            let retries: Vec<(String, Reason)> = inner
                .retry
                .iter()
                .filter(|(a, (at, _))| *at <= now && !inner.running.contains(*a))
                .map(|(a, (_, r))| (a.clone(), *r))
                .collect();
            for (agent, reason) in retries {
                inner.retry.remove(&agent);
                if !starts.iter().any(|(s, _)| s.agent_id == agent) {
                    starts.push((self.settings_for(&inner, &agent), reason));
                }
            }
            let agents = inner.agents.clone();
            for a in agents {
                let (Some(every), Some(&due)) = (a.every_ms, inner.due.get(&a.agent_id)) else {
                    continue;
                };
                if due > now || inner.running.contains(&a.agent_id) {
                    continue;
                }
                inner.due.insert(a.agent_id.clone(), now + every);
                let waiting = inner.retry.contains_key(&a.agent_id);
                if !waiting && !starts.iter().any(|(s, _)| s.agent_id == a.agent_id) {
                    starts.push((a, Reason::Interval));
                }
            }
            for (a, _) in &starts {
                inner.running.insert(a.agent_id.clone());
            }
        }
        for (a, reason) in starts {
            let me = self.clone();
            tokio::spawn(async move { me.run_beat(a, reason).await });
        }
        let inner = self.inner();
        let due = inner
            .due
            .iter()
            .filter(|(a, _)| !inner.running.contains(*a))
            .map(|(_, d)| *d);
        let retry = inner.retry.values().map(|(at, _)| *at);
        due.chain(retry).min()
    }

    async fn run_beat(self: Arc<Self>, hb: AgentHeartbeat, reason: Reason) {
        let outcome = self.beat(&hb, reason).await;
        {
            let mut inner = self.inner();
            inner.running.remove(&hb.agent_id);
            if let Beat::Busy = outcome {
                if hb.skip_when_busy {
                    drop(inner);
                    let now = self.clock.now_ms();
                    self.emit(&HeartbeatEvent::skipped(now, "requests-in-flight"));
                } else {
                    let at = self.clock.now_ms() + BUSY_RETRY_MS;
                    inner.retry.insert(hb.agent_id.clone(), (at, reason));
                }
            }
        }
        self.wake.notify_one();
    }
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;
