//! Scheduled work (OpenClaw's cron / automations): the jobs in the state database, a
//! scheduler that runs each due slot exactly once, and the `cron.*` methods.
//!
//! - `schedule`: when a job runs (pure functions: `at`, `every`, `cron` with zones and stagger);
//! - `clock`: [`Clock`], the time the scheduler reads and sleeps on (a fake one in tests);
//! - `run`: starting a run (its receipt persisted first) and settling it;
//! - `delivery`: where a finished run's result goes (`webhook`, `announce`);
//! - `jobs`: building and patching job records, their revision, list filters;
//! - `openclaw_files`: OpenClaw 2026.5's `cron/jobs.json` (+ state, run logs): export, and
//!   the import at first start;
//! - `methods`: `cron.status|list|get|add|update|remove|run|runs` and the `cron` event;
//! - `heartbeat`: the heartbeat runner and the system-event queue `wake` and main-session
//!   system events feed.
//!
//! Guarantees (see ARCHITECTURE.md): a run's "started" receipt and the job's advanced next run
//! are one transaction written before the run starts; its result and the job's new state are
//! another. A receipt found `running` at start is settled `interrupted` and never replayed.
//! Every run, skip and error writes a run-log entry. The loop sleeps until the next due time
//! (at most a minute, so a wall-clock jump is noticed) or until a job changes.

pub mod clock;
pub mod delivery;
pub mod heartbeat;
mod jobs;
pub(crate) mod methods;
pub mod openclaw_files;
mod run;
pub mod schedule;
pub mod tool;

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use openclaw_core::CancellationToken;
use openclaw_core::protocol::cron::{CronJob, SessionTarget};
use openclaw_state::{CronStore, RunLogLimits, SqliteStore};
use serde::Deserialize;
use tokio::sync::Notify;

pub use clock::{Clock, FakeClock, SystemClock};

use crate::backend::{EventSink, GatewayBackend};

/// What the scheduler asks the agent host to run.
#[derive(Debug, Clone, PartialEq)]
pub struct CronTurn {
    pub job_id: String,
    pub run_id: String,
    pub agent_id: Option<String>,
    pub target: SessionTarget,
    /// The job's creating session (`sessionTarget: "current"`).
    pub creating_session_key: Option<String>,
    /// The whole user message (preamble included).
    pub message: String,
    pub model: Option<String>,
    pub thinking: Option<String>,
    pub timeout_seconds: Option<u64>,
    /// `payload.lightContext`: no workspace files in the run's system prompt.
    pub light_context: bool,
}

/// How a cron turn ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CronTurnOutcome {
    pub ok: bool,
    /// The final reply.
    pub text: String,
    pub error: Option<String>,
    pub session_id: Option<String>,
    pub session_key: Option<String>,
    pub model: Option<String>,
    pub provider: Option<String>,
    /// (input, output, total) tokens of the last model call.
    pub usage: Option<(u64, u64, u64)>,
}

impl CronTurnOutcome {
    pub fn failed(error: String) -> Self {
        Self {
            error: Some(error),
            ..Self::default()
        }
    }
}

/// The `cron` block of `openclaw.json` this scheduler reads (at start).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronConfig {
    /// `cron.enabled` (default true); `OPENCLAW_SKIP_CRON=1` also turns the scheduler off.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `cron.maxConcurrentRuns` (default 1, as OpenClaw).
    #[serde(default = "one")]
    pub max_concurrent_runs: usize,
    /// `cron.skipMissedJobs` (default false, as OpenClaw): a recurring slot missed while the
    /// gateway was down runs once at start (however many slots were missed); with true it is
    /// recorded as `skipped` and the job waits for its next slot. A one-shot always runs.
    #[serde(default)]
    pub skip_missed_jobs: bool,
    #[serde(default)]
    pub run_log: RunLogConfig,
    /// `cron.webhookToken`: sent as `Authorization: Bearer …` with webhook deliveries.
    #[serde(default)]
    pub webhook_token: Option<delivery::Secret>,
    /// `cron.webhookSsrfPolicy`.
    #[serde(default)]
    pub webhook_ssrf_policy: delivery::SsrfPolicy,
    /// `cron.failureAlert`: the alert of jobs without their own `failureAlert`.
    #[serde(default)]
    pub failure_alert: Option<openclaw_core::protocol::cron::FailureAlertConfig>,
    /// `cron.sessionRetention`: how long isolated run sessions are kept (`"24h"` by default;
    /// `false` or a zero duration keeps them).
    #[serde(default)]
    pub session_retention: Option<Retention>,
}

/// `cron.sessionRetention` as written: a duration (default unit hours) or `false`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Retention {
    Off(bool),
    Duration(String),
}

/// OpenClaw's default retention of isolated run sessions (24 h).
pub const DEFAULT_SESSION_RETENTION_MS: u64 = 86_400_000;
/// Sessions removed per sweep at most (the rest wait for the next one).
pub const RETENTION_SWEEP_LIMIT: usize = 200;
/// How often the retention sweep runs at most (OpenClaw's `MIN_SWEEP_INTERVAL_MS`).
pub const RETENTION_SWEEP_EVERY_MS: u64 = 300_000;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunLogConfig {
    pub max_bytes: Option<u64>,
    pub keep_lines: Option<u64>,
}

fn yes() -> bool {
    true
}

fn one() -> usize {
    1
}

impl Default for CronConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_concurrent_runs: 1,
            skip_missed_jobs: false,
            run_log: RunLogConfig::default(),
            webhook_token: None,
            webhook_ssrf_policy: delivery::SsrfPolicy::default(),
            failure_alert: None,
            session_retention: None,
        }
    }
}

impl CronConfig {
    /// The `cron` block of `config` and the environment (an unreadable block is the default,
    /// with a warning: the config loader has already validated the file).
    pub fn from_config(config: &serde_json::Value, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let mut cfg = match config.get("cron") {
            Some(v) => serde_json::from_value(v.clone()).unwrap_or_else(|e| {
                tracing::warn!("cron config ignored: {e}");
                CronConfig::default()
            }),
            None => CronConfig::default(),
        };
        if env("OPENCLAW_SKIP_CRON").is_some_and(|v| v == "1" || v == "true") {
            cfg.enabled = false;
        }
        cfg.max_concurrent_runs = cfg.max_concurrent_runs.clamp(1, 64);
        cfg
    }

    /// How long isolated run sessions are kept; `None`: forever. An unreadable duration is
    /// the default, as OpenClaw falls back.
    pub fn retention_ms(&self) -> Option<u64> {
        match &self.session_retention {
            None | Some(Retention::Off(true)) => Some(DEFAULT_SESSION_RETENTION_MS),
            Some(Retention::Off(false)) => None,
            Some(Retention::Duration(d)) => {
                let d = d.trim();
                let hours = d.chars().all(|c| c.is_ascii_digit()) && !d.is_empty();
                let ms = if hours {
                    d.parse::<u64>().ok().map(|h| h.saturating_mul(3_600_000))
                } else {
                    schedule::parse_duration_ms(d)
                };
                match ms {
                    Some(0) => None,
                    Some(ms) => Some(ms),
                    None => {
                        tracing::warn!("cron.sessionRetention {d:?} is not a duration; 24h");
                        Some(DEFAULT_SESSION_RETENTION_MS)
                    }
                }
            }
        }
    }

    fn limits(&self) -> RunLogLimits {
        let d = RunLogLimits::default();
        RunLogLimits {
            max_entries: self.run_log.keep_lines.unwrap_or(d.max_entries).max(1),
            max_bytes: self.run_log.max_bytes.unwrap_or(d.max_bytes).max(1),
        }
    }
}

/// What the scheduler tracks in memory (everything else is in the store).
#[derive(Default)]
struct Inner {
    /// Jobs with a run in progress.
    running: HashSet<String>,
    /// Manual runs waiting for a free slot (at most one per job).
    queued: VecDeque<(String, String)>,
    manual_seq: u64,
}

/// The cron service of one gateway.
pub struct CronService {
    store: Arc<SqliteStore>,
    clock: Arc<dyn Clock>,
    backend: Arc<dyn GatewayBackend>,
    events: Mutex<Option<EventSink>>,
    pub(crate) config: CronConfig,
    inner: Mutex<Inner>,
    wake: Notify,
    stop: CancellationToken,
    pub(crate) process_instance_id: String,
    /// Where `main` system events with `wakeMode: "next-heartbeat"` wait.
    heartbeat: std::sync::OnceLock<Arc<heartbeat::HeartbeatService>>,
    /// Where `announce` deliveries go.
    channels: std::sync::OnceLock<Arc<crate::channels::ChannelService>>,
}

impl CronService {
    pub fn new(
        store: Arc<SqliteStore>,
        clock: Arc<dyn Clock>,
        backend: Arc<dyn GatewayBackend>,
        config: CronConfig,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            clock,
            backend,
            events: Mutex::new(None),
            config,
            inner: Mutex::new(Inner::default()),
            wake: Notify::new(),
            stop: CancellationToken::new(),
            process_instance_id: uuid::Uuid::new_v4().to_string(),
            heartbeat: std::sync::OnceLock::new(),
            channels: std::sync::OnceLock::new(),
        })
    }

    /// The channel manager `announce` deliveries go through.
    pub fn set_channels(&self, channels: Arc<crate::channels::ChannelService>) {
        let _ = self.channels.set(channels);
    }

    /// The heartbeat runner `next-heartbeat` system events are queued on.
    pub fn set_heartbeat(&self, heartbeat: Arc<heartbeat::HeartbeatService>) {
        let _ = self.heartbeat.set(heartbeat);
    }

    /// Where `cron` events go.
    pub fn attach(&self, events: EventSink) {
        *openclaw_core::sync::lock(&self.events) = Some(events);
    }

    /// Settles what the last process left (interrupted runs, missed slots), then, when the
    /// scheduler is enabled, starts its loop.
    pub fn start(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        if let Err(e) = self.recover() {
            tracing::error!("cron: recovery at start failed: {e}");
        }
        if !self.config.enabled {
            tracing::info!("cron: scheduler disabled (cron.enabled false or OPENCLAW_SKIP_CRON)");
            return None;
        }
        if let Some(retention) = self.config.retention_ms() {
            let me = self.clone();
            tokio::spawn(async move { me.retention_loop(retention).await });
        }
        let me = self.clone();
        Some(tokio::spawn(async move { me.run_loop().await }))
    }

    /// `cron.sessionRetention`: at start and then every five minutes (or every half retention
    /// when that is shorter), up to [`RETENTION_SWEEP_LIMIT`] expired run sessions go.
    async fn retention_loop(self: Arc<Self>, retention_ms: u64) {
        let every = RETENTION_SWEEP_EVERY_MS.min(retention_ms / 2).max(1_000);
        loop {
            let cutoff = self.now().saturating_sub(retention_ms);
            let pruned = self
                .backend
                .prune_cron_sessions(cutoff, RETENTION_SWEEP_LIMIT)
                .await;
            if pruned > 0 {
                tracing::info!("cron: pruned {pruned} run session(s) older than the retention");
            }
            let next = self.now() + every;
            tokio::select! {
                _ = self.stop.cancelled() => break,
                _ = self.clock.sleep_until(next) => {}
            }
        }
    }

    /// Stops the loop (runs in progress finish on their own or with the backend's shutdown).
    pub fn stop(&self) {
        self.stop.cancel();
    }

    /// Wakes the loop: a job changed.
    pub(crate) fn poke(&self) {
        self.wake.notify_one();
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        openclaw_core::sync::lock(&self.inner)
    }

    pub(crate) fn store(&self) -> &SqliteStore {
        &self.store
    }

    pub(crate) fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    pub(crate) fn is_running(&self, job_id: &str) -> bool {
        self.inner().running.contains(job_id)
    }

    fn emit(&self, payload: serde_json::Value) {
        if let Some(sink) = openclaw_core::sync::lock(&self.events).as_ref() {
            sink.broadcast("cron", payload);
        }
    }

    async fn run_loop(self: Arc<Self>) {
        let mut look = true;
        let mut next = None;
        loop {
            // The store is read only when something may be due or changed: a wake at the
            // clock's one-minute cap before the next due time costs a clock read, not a scan
            // of every job.
            if look {
                next = match self.tick() {
                    Ok(next) => next,
                    Err(e) => {
                        tracing::error!("cron: {e}");
                        Some(self.now() + 30_000)
                    }
                };
            }
            let sleep = async {
                match next {
                    Some(at) => self.clock.sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = self.stop.cancelled() => break,
                _ = self.wake.notified() => look = true,
                _ = sleep => look = next.is_some_and(|at| self.now() >= at),
            }
        }
    }

    /// Starts what is due (up to the concurrency limit); returns when to look again.
    fn tick(self: &Arc<Self>) -> Result<Option<u64>, openclaw_state::StateError> {
        let now = self.now();
        let max = self.config.max_concurrent_runs;
        loop {
            let queued = {
                let mut inner = self.inner();
                // A manual run of a job that is running waits for that run to end.
                let ready = inner
                    .queued
                    .iter()
                    .position(|(job, _)| !inner.running.contains(job));
                match ready {
                    Some(i) if inner.running.len() < max => inner.queued.remove(i),
                    _ => None,
                }
            };
            let Some((job_id, run_id)) = queued else {
                break;
            };
            if let Some(job) = self.store.cron_job(&job_id)? {
                self.start_run(job, Some(run_id));
            }
        }
        let mut jobs: Vec<CronJob> = self
            .store
            .cron_jobs()?
            .into_iter()
            .filter(|j| j.enabled && !self.is_running(&j.id))
            .collect();
        jobs.sort_by_key(|j| j.state.next_run_at_ms.unwrap_or(u64::MAX));
        let mut next = None;
        for job in jobs {
            let Some(at) = job.state.next_run_at_ms else {
                continue;
            };
            if at > now {
                next = Some(at);
                break;
            }
            if self.inner().running.len() >= max {
                // A finishing run wakes the loop.
                return Ok(None);
            }
            if !self.start_run(job, None) {
                return Ok(Some(now + 30_000));
            }
        }
        Ok(next)
    }
}

#[cfg(test)]
#[path = "scheduler_tests.rs"]
mod tests;
