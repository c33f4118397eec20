//! The agent host behind the gateway: [`AgentHost`] implements
//! [`GatewayBackend`](super::GatewayBackend) over openclaw-core's
//! [`Engine`](openclaw_core::engine::Engine).
//!
//! - agents come from the config roster, each with a seeded workspace (`workspace`);
//! - sessions: the index in the state store (`store`, over `openclaw_state`, written through
//!   per change) and one live engine per active session key
//!   (`live`), created lazily and dropped when idle (at most [`MAX_LIVE`] kept once
//!   sessions go quiet, [`MAX_LIVE_BUSY`] while many are in use);
//! - runs (`run`): serialised per key, limited process-wide by the run lanes (`lanes`), streamed as `agent` / `chat` events, recorded for
//!   `agent.wait` and idempotency (`runs`);
//! - methods: `chat` (chat.*, agent, agent.wait, send), `sessions` (sessions.*), `files`
//!   (agents.files.*); HTTP: `http_api` (`/v1/chat/completions`, `/v1/responses`,
//!   `/tools/invoke`); agent-to-agent: `a2a`.
//!
//! [`options_from_env`] builds the full [`GatewayOptions`](super::GatewayOptions) with this
//! backend for `openclaw gateway run`.

mod a2a;
mod automations;
mod channel_turn;
mod chat;
pub mod commands;
mod cron_turn;
mod files;
mod heartbeat_turn;
mod history;
mod http_api;
mod http_body;
mod lanes;
mod list_filter;
mod live;
mod overrides;
mod refusals;
mod run;
mod runs;
mod session_life;
mod session_ops;
mod sessions;
mod settings;
mod startup;
pub mod store;
mod tap;
mod tool_wait;
mod tools_invoke;
mod usage;
pub mod workspace;

use openclaw_core::sync::lock;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use openclaw_core::CancellationToken;
use openclaw_core::protocol::ErrorShape;
use openclaw_state::{SqliteStore, StateError, StateStore};
use serde_json::Value;

use super::backend::{CallContext, EventSink, GatewayBackend};
use super::roster::AgentEntry;
use super::state::now_ms;
use super::{GatewayError, GatewayOptions};
use live::Live;
use runs::RunTable;
use settings::HostSettings;

pub use a2a::MAX_A2A_DEPTH;
pub(crate) use a2a::SESSIONS_SEND;

/// Live engines kept at most; idle ones beyond this are dropped, oldest first — except those
/// used within [`IN_USE_GRACE`] (a conversation between two turns), up to [`MAX_LIVE_BUSY`].
/// Without the grace, more than `MAX_LIVE` active conversations would restart their engine
/// (transcript, tools, system prompt) on every turn.
pub const MAX_LIVE: usize = 64;
/// The hard limit on live engines, grace or not.
pub const MAX_LIVE_BUSY: usize = 512;
/// An idle engine used this recently is kept beyond [`MAX_LIVE`] (up to [`MAX_LIVE_BUSY`]).
pub const IN_USE_GRACE: Duration = Duration::from_secs(5);
/// An idle engine is dropped after this long.
pub const IDLE_DROP: Duration = Duration::from_secs(600);

/// The agent host: agents, their sessions, live engines and runs.
#[derive(Clone)]
pub struct AgentHost {
    core: Arc<Core>,
}

pub(crate) struct Core {
    pub state_dir: PathBuf,
    /// The configuration runs start from; swapped whole by [`GatewayBackend::reload`].
    settings: RwLock<Arc<HostSettings>>,
    /// Bumped by every reload: engines started under an older one restart before their next run.
    pub generation: AtomicU64,
    pub sink: OnceLock<EventSink>,
    /// The session index (and, later, the other durable stores).
    pub state: Arc<dyn StateStore>,
    live: Mutex<HashMap<String, Arc<Live>>>,
    pub runs: Mutex<RunTable>,
    /// How many runs execute at once.
    pub lanes: lanes::Lanes,
    pub stop: CancellationToken,
    /// The MCP servers of `mcp.servers` (started on first use, kept across reloads when their
    /// entry is unchanged).
    pub mcp: openclaw_mcp::McpManager,
    /// The memory index of the state database (`memory_search`, `memory_get`).
    pub memory: Arc<openclaw_memory::MemoryIndex>,
    /// The cron service the `automations` tool manages (set once the gateway made it).
    pub cron: OnceLock<std::sync::Weak<crate::cron::CronService>>,
}

impl AgentHost {
    /// A backend for the agents of `config`, keeping state under `state_dir` (its SQLite
    /// database opened, migrated and OpenClaw's `sessions.json` imported).
    pub fn new(config: Value, state_dir: PathBuf) -> Result<Self, StateError> {
        let state = Arc::new(SqliteStore::open(&state_dir)?);
        Ok(Self::with_store(config, state_dir, state))
    }

    /// A backend over an already-open state store.
    pub fn with_store(config: Value, state_dir: PathBuf, state: Arc<dyn StateStore>) -> Self {
        let lanes = lanes::Lanes::new(lane_sizes(&config));
        let settings = Arc::new(HostSettings::from_config(config, &state_dir));
        seed_workspaces(&settings);
        // MCP servers' lifecycle and stderr go to the gateway's log file (`logs.tail`).
        let log = Arc::new(crate::state::GatewayLog::open(
            state_dir.join("logs").join("gateway.log"),
        ));
        let sink: openclaw_mcp::LogSink = Arc::new(move |line: &str| log.line(line));
        let mcp = openclaw_mcp::McpManager::with_log(&mcp_config(&settings.config), sink);
        let memory = openclaw_memory::MemoryIndex::new(&state_dir);
        let core = Arc::new(Core {
            state_dir,
            settings: RwLock::new(settings),
            generation: AtomicU64::new(0),
            sink: OnceLock::new(),
            state,
            live: Mutex::default(),
            runs: Mutex::default(),
            lanes,
            stop: CancellationToken::new(),
            mcp,
            memory,
            cron: OnceLock::new(),
        });
        AgentHost { core }
    }

    /// How many sessions have a live engine.
    pub fn live_engines(&self) -> usize {
        lock(&self.core.live)
            .values()
            .filter(|l| l.engine().is_some())
            .count()
    }
}

/// `mcp.servers` of `config`; an invalid section is logged and runs with no servers.
fn mcp_config(config: &Value) -> openclaw_mcp::McpConfig {
    openclaw_mcp::McpConfig::from_openclaw_json(config).unwrap_or_else(|e| {
        tracing::warn!("MCP servers not started: {e}");
        openclaw_mcp::McpConfig::default()
    })
}

/// Seeds the workspace of every agent of the roster (existing files are kept).
fn seed_workspaces(settings: &HostSettings) {
    for a in &settings.roster.agents {
        if let Err(e) =
            workspace::seed(&PathBuf::from(&a.workspace), &a.id, settings.skip_bootstrap)
        {
            tracing::warn!("cannot seed the workspace of agent {}: {e}", a.id);
        }
    }
}

impl Core {
    /// The current configuration snapshot.
    pub fn settings(&self) -> Arc<HostSettings> {
        self.settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Makes `config` the one new runs start from: the roster is rebuilt, new agents' workspaces
    /// seeded, and every live engine restarts (from its transcript) before its next run, so
    /// models, providers, tool policy and the system prompt follow the new file.
    pub fn reload(&self, config: Value) {
        let settings = Arc::new(HostSettings::from_config(config, &self.state_dir));
        seed_workspaces(&settings);
        let mcp = mcp_config(&settings.config);
        *self.settings.write().unwrap_or_else(|p| p.into_inner()) = settings;
        self.generation.fetch_add(1, Ordering::AcqRel);
        if tokio::runtime::Handle::try_current().is_ok() {
            self.mcp.reload(&mcp);
        }
    }

    /// The MCP tools `agent_id` gets: the enabled servers its tool policy does not exclude
    /// (`bundle-mcp`, `<server>__*`), their tools minus the ones a deny names, with names unique
    /// against the built-ins.
    pub async fn mcp_tools(&self, agent_id: &str) -> Vec<Arc<dyn openclaw_core::tool::Tool>> {
        let settings = self.settings();
        let mut reserved: Vec<&str> = openclaw_core::tool::ALL_TOOL_NAMES.to_vec();
        reserved.push(SESSIONS_SEND.0);
        let allowed = |safe: &str| settings.mcp_server_allowed(agent_id, safe);
        self.mcp
            .tools(&allowed, &reserved)
            .await
            .into_iter()
            .filter(|t| settings.mcp_tool_allowed(agent_id, t.name()))
            .collect()
    }

    /// The memory tools `agent_id` gets (`memory_search`, `memory_get` over its workspace),
    /// unless `memory.search.enabled` is false for it or its tool policy excludes them.
    pub fn memory_tools(&self, agent_id: &str) -> Vec<Arc<dyn openclaw_core::tool::Tool>> {
        let settings = self.settings();
        let Some(agent) = settings.agent(agent_id) else {
            return Vec::new();
        };
        let env = |k: &str| std::env::var(k).ok();
        let memory =
            match openclaw_memory::MemorySettings::resolve(&settings.config, agent_id, &env) {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!("agent {agent_id}: memory tools off: {e}");
                    return Vec::new();
                }
            };
        openclaw_memory::memory_tools(openclaw_memory::MemoryContext {
            index: self.memory.clone(),
            agent_id: agent_id.to_owned(),
            workspace: PathBuf::from(&agent.workspace),
            settings: memory,
        })
        .into_iter()
        .filter(|t| settings.allows(agent_id, t.name()))
        .collect()
    }

    pub fn agent(&self, id: &str) -> Option<AgentEntry> {
        self.settings().agent(id).cloned()
    }

    pub fn default_agent(&self) -> String {
        self.settings().roster.default_id().to_owned()
    }

    /// `main` → `agent:<default>:main`; `agent:<id>:<rest>` kept; any other bare key goes
    /// under the default agent. Returns `(canonical key, agent id)`.
    pub fn canonical_key(&self, key: &str, agent_hint: Option<&str>) -> (String, String) {
        if let Some(rest) = key.strip_prefix("agent:") {
            if let Some((agent, tail)) = rest.split_once(':') {
                if !agent.is_empty() && !tail.is_empty() {
                    return (key.to_owned(), agent.to_owned());
                }
            }
        }
        let agent = agent_hint.map_or_else(|| self.default_agent(), str::to_owned);
        (format!("agent:{agent}:{key}"), agent)
    }

    pub fn live_for(&self, key: &str, agent_id: &str) -> Arc<Live> {
        let mut map = lock(&self.live);
        let l = map
            .entry(key.to_owned())
            .or_insert_with(|| Arc::new(Live::new(key, agent_id)))
            .clone();
        l.touch();
        l
    }

    pub fn live_if_any(&self, key: &str) -> Option<Arc<Live>> {
        lock(&self.live).get(key).cloned()
    }

    /// The keys of the sessions with a run in progress.
    pub fn running_keys(&self) -> Vec<String> {
        lock(&self.live)
            .iter()
            .filter(|(_, l)| l.current_run_id().is_some())
            .map(|(k, _)| k.clone())
            .collect()
    }

    pub fn all_live(&self) -> Vec<Arc<Live>> {
        lock(&self.live).values().cloned().collect()
    }

    pub fn forget_live(&self, key: &str) -> Option<Arc<Live>> {
        lock(&self.live).remove(key)
    }

    /// Drops idle engines beyond [`MAX_LIVE`] (oldest first; see [`IN_USE_GRACE`]) and those
    /// idle for [`IDLE_DROP`]; forgets idle keys without an engine.
    pub fn evict(&self) {
        let mut map = lock(&self.live);
        let now = now_ms();
        map.retain(|_, l| {
            let idle_for = now.saturating_sub(l.last_used.load(Ordering::Acquire));
            let stale = idle_for > IDLE_DROP.as_millis() as u64;
            !(l.is_idle() && (l.engine().is_none() || stale))
        });
        if map.len() <= MAX_LIVE {
            return;
        }
        let grace = IN_USE_GRACE.as_millis() as u64;
        let over_hard = map.len() > MAX_LIVE_BUSY;
        let mut idle: Vec<(u64, String)> = map
            .iter()
            .filter(|(_, l)| l.is_idle())
            .map(|(k, l)| (l.last_used.load(Ordering::Acquire), k.clone()))
            .filter(|(at, _)| over_hard || now.saturating_sub(*at) > grace)
            .collect();
        idle.sort();
        let excess = map.len() - MAX_LIVE;
        for (_, k) in idle.into_iter().take(excess) {
            map.remove(&k);
        }
    }

    pub fn sink(&self) -> Option<EventSink> {
        self.sink.get().cloned()
    }

    /// `sessions.changed` (reason `send`) when a run has ended, carrying the session's row as
    /// `session` (as OpenClaw v4 does) with `hasActiveRun:false`, so a UI that patches its
    /// session list from the event stops showing the run as active.
    pub fn session_ended(&self, key: &str, agent_id: &str, run_id: &str) {
        let Some(sink) = self.sink().filter(EventSink::has_session_subscribers) else {
            return;
        };
        let row = match self.row(key) {
            Ok(row) => row,
            Err(e) => {
                tracing::warn!("sessions.changed without its row: {}", e.message);
                None
            }
        };
        let payload = SessionEnded {
            session_key: key,
            agent_id,
            reason: "send",
            ts: now_ms(),
            run_id,
            session: row
                .as_ref()
                .map(|r| sessions::SessionView::of(self, r).ended()),
        };
        match serde_json::to_value(payload) {
            Ok(p) => {
                sink.broadcast_to_session_subscribers("sessions.changed", p);
            }
            Err(e) => tracing::warn!("sessions.changed not sent: {e}"),
        }
    }

    /// `sessions.changed` to subscribers.
    pub fn session_changed(&self, key: &str, agent_id: &str, reason: &str, run_id: Option<&str>) {
        if let Some(sink) = self.sink().filter(EventSink::has_session_subscribers) {
            let mut p = serde_json::json!({"sessionKey": key, "agentId": agent_id,
                "reason": reason, "ts": now_ms()});
            if let Some(r) = run_id {
                p["runId"] = serde_json::json!(r);
            }
            sink.broadcast_to_session_subscribers("sessions.changed", p);
        }
    }
}

#[async_trait]
impl GatewayBackend for AgentHost {
    async fn call(
        &self,
        method: &str,
        params: Option<Value>,
        ctx: CallContext,
    ) -> Result<Value, ErrorShape> {
        let core = &self.core;
        if core.sink.get().is_none() {
            let _ = core.sink.set(ctx.events());
        }
        match method {
            "chat.send" => chat::chat_send(core, params, &ctx).await,
            "chat.history" => history::chat_history(core, params).await,
            "chat.startup" => startup::chat_startup(core, params),
            "chat.abort" => chat::chat_abort(core, params).await,
            "chat.inject" => chat::chat_inject(core, params).await,
            "agent" => chat::agent(core, params, ctx).await,
            "agent.wait" => chat::agent_wait(core, params).await,
            m if m.starts_with("sessions.") => sessions::call(core, m, params, &ctx).await,
            m if m.starts_with("agents.files.") => files::agent_files(core, m, params),
            m => Err(ErrorShape::unknown_method(m)),
        }
    }

    fn http_routes(&self) -> Option<axum::Router> {
        Some(http_api::router(self.core.clone()))
    }

    async fn cron_turn(&self, turn: crate::cron::CronTurn) -> crate::cron::CronTurnOutcome {
        cron_turn::run(&self.core, turn).await
    }

    async fn channel_turn(
        &self,
        turn: crate::channels::ChannelTurn,
    ) -> crate::channels::ChannelTurnOutcome {
        channel_turn::run(&self.core, turn).await
    }

    async fn heartbeat_turn(
        &self,
        turn: crate::cron::heartbeat::HeartbeatTurn,
    ) -> crate::cron::heartbeat::HeartbeatTurnOutcome {
        heartbeat_turn::run(&self.core, turn).await
    }

    async fn prune_cron_sessions(&self, cutoff_ms: u64, limit: usize) -> usize {
        session_life::prune_cron_runs(&self.core, cutoff_ms, limit).await
    }

    async fn shutdown(&self) {
        let core = &self.core;
        core.stop.cancel();
        let mut aborts = Vec::new();
        for live in core.all_live() {
            if let Some(engine) = live.engine() {
                // Cancels the run and its retry wait at once and kills shell tool processes.
                engine.shutdown();
                if live.current_run_id().is_some() {
                    aborts.push(async move {
                        let _ =
                            tokio::time::timeout(Duration::from_millis(200), engine.abort()).await;
                    });
                }
            }
        }
        // All at once: the gateway allows the backend 300 ms in total.
        futures::future::join_all(aborts).await;
        // Let the aborted runs record their outcome in the index.
        tokio::time::sleep(Duration::from_millis(20)).await;
        // MCP servers' children are killed (their process groups), not left behind.
        core.mcp.shutdown().await;
    }

    async fn mcp_catalog(&self, agent_id: &str) -> Vec<crate::backend::McpCatalogTool> {
        self.core
            .mcp_tools(agent_id)
            .await
            .iter()
            .filter_map(|t| {
                let origin = t.mcp_origin()?;
                Some(crate::backend::McpCatalogTool {
                    name: t.name().to_owned(),
                    description: t.description().to_owned(),
                    server: origin.server,
                })
            })
            .collect()
    }

    fn attach(&self, events: EventSink) {
        let _ = self.core.sink.set(events);
        let core = Arc::downgrade(&self.core);
        // Idle-engine eviction.
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_millis(250));
                loop {
                    tick.tick().await;
                    let Some(core) = core.upgrade() else { break };
                    if core.stop.is_cancelled() {
                        break;
                    }
                    core.evict();
                }
            });
        }
    }

    fn reload(&self, config: &Value) {
        self.core.reload(config.clone());
    }

    fn skills_changed(&self) {
        // Engines snapshot their skills when they start: each restarts (from its transcript)
        // before its next run, as after a config reload.
        self.core.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn attach_cron(&self, cron: std::sync::Weak<crate::cron::CronService>) {
        let _ = self.core.cron.set(cron);
    }

    fn usage(&self) -> Vec<crate::backend::ModelUsage> {
        usage::collect(&self.core)
    }

    fn sessions_summary(&self, agent_id: &str) -> Option<Value> {
        match self.core.summary(agent_id) {
            Ok(v) => Some(v),
            Err(e) => {
                tracing::warn!("{e}");
                Some(serde_json::json!({"count": 0, "recent": [], "error": e.to_string()}))
            }
        }
    }
}

/// The full options for `openclaw gateway run`: the config named by the environment
/// (`OPENCLAW_CONFIG_PATH`, `OPENCLAW_STATE_DIR`, `~/.openclaw/openclaw.json`), the gateway
/// settings and the engine backend.
pub fn options_from_env() -> Result<GatewayOptions, GatewayError> {
    let opts = GatewayOptions::from_env()?;
    with_engine(opts)
}

/// The run lanes' sizes from `config`; an invalid value (already refused with its position by
/// `GatewayConfig` when the gateway starts) falls back to the defaults.
fn lane_sizes(config: &Value) -> super::RunLanes {
    super::RunLanes::from_value(config, None).unwrap_or_else(|e| {
        tracing::warn!("{e}; using the default run lanes");
        super::RunLanes::default()
    })
}

/// Uses the engine backend in already-built options (tests, embedders).
pub fn with_engine(mut opts: GatewayOptions) -> Result<GatewayOptions, GatewayError> {
    opts.backend = Arc::new(AgentHost::new(
        opts.source.value.clone(),
        opts.state_dir.clone(),
    )?);
    Ok(opts)
}

/// `sessions.changed` at the end of a run (see [`Core::session_ended`]).
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionEnded<'a> {
    session_key: &'a str,
    agent_id: &'a str,
    reason: &'static str,
    ts: u64,
    run_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    session: Option<sessions::SessionView<'a>>,
}
