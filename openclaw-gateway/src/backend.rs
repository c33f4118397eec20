//! The seam between the gateway and the agent engine. The gateway owns transport, auth,
//! scopes and the engine-free methods; every method in
//! [`ENGINE_METHODS`](openclaw_core::protocol::names::ENGINE_METHODS) (chat, agent, sessions,
//! send, agents.files) is handed to a [`GatewayBackend`]: the agent host
//! (`agent_host::AgentHost`) in `openclaw gateway run`, or, in a gateway started without agents,
//! [`NoEngine`], which answers them with a clear `UNAVAILABLE` error.
//!
//! What an engine backend does (OpenClaw behaviour, see the protocol reference §8–§10):
//! - `chat.send`: ack `{runId: idempotencyKey, status:"started"}` at once (`in_flight` / cached
//!   `ok` on repeats), then stream `agent` and `chat` events through [`CallContext::events`];
//!   canonicalise bare `main` to `agent:<default>:main`.
//! - `agent`: return `{runId, status:"accepted", acceptedAt, sessionKey, agentId}`, then
//!   [`CallContext::respond_again`] with `{runId, status:"ok", summary, result:{payloads, meta}}`.
//! - `sessions.*`, `chat.history`, `chat.abort`, `chat.inject`, `agent.wait`, `send`,
//!   `agents.files.*`: answer with the shapes in the reference; `sessions.changed` goes through
//!   [`EventSink::broadcast_to_session_subscribers`].
//! - HTTP (`/v1/chat/completions`, `/v1/responses`, `/tools/invoke`): return them from
//!   [`GatewayBackend::http_routes`]; the gateway puts bearer auth in front.

use std::sync::Arc;

use async_trait::async_trait;
use openclaw_core::protocol::{ErrorShape, ResponseFrame, Role, Scope, StateVersion};
use serde_json::Value;

use super::hub::{Connection, Hub};

/// Who is calling, and how to talk back to them and to everyone else.
#[derive(Clone)]
pub struct CallContext {
    /// The caller's connection (id, role, scopes, client id/mode, negotiated protocol).
    pub conn: Arc<Connection>,
    /// The request id (needed for a second `res` on the same id).
    pub request_id: String,
    pub(crate) hub: Arc<Hub>,
    pub(crate) approvals: Option<Arc<crate::approvals::Approvals>>,
    /// Notified once the first `res` for this request has been written.
    pub(crate) first_sent: Arc<tokio::sync::Notify>,
}

impl CallContext {
    pub fn conn_id(&self) -> &str {
        &self.conn.conn_id
    }

    pub fn role(&self) -> Role {
        self.conn.role
    }

    pub fn scopes(&self) -> &[Scope] {
        &self.conn.scopes
    }

    /// Whether the caller holds `scope` (admin implies all, write implies read).
    pub fn has_scope(&self, scope: Scope) -> bool {
        scope.satisfied_by(&self.conn.scopes)
    }

    /// Sends another `res` on the same request id: the final answer of the "accepted, then
    /// final" pattern used by `agent`.
    pub fn respond_again(&self, result: Result<Value, ErrorShape>) -> bool {
        let frame = match result {
            Ok(payload) => ResponseFrame::ok(self.request_id.clone(), payload),
            Err(e) => ResponseFrame::err(self.request_id.clone(), e),
        };
        // After the run's events, which the caller has seen queued.
        self.conn.out.send_response_in_order(&frame)
    }

    /// Waits until the first `res` (the value `call` returned) has been queued, so a second
    /// one sent with [`CallContext::respond_again`] cannot overtake it.
    pub async fn first_response_sent(&self) {
        self.first_sent.notified().await;
        // Leave the permit for any other waiter.
        self.first_sent.notify_one();
    }

    /// The event fan-out, for `chat` / `agent` / `sessions.changed` events.
    pub fn events(&self) -> EventSink {
        EventSink {
            hub: self.hub.clone(),
            approvals: self.approvals.clone(),
        }
    }
}

/// Broadcasts events to connections, honouring each one's scopes and `seq`.
#[derive(Clone)]
pub struct EventSink {
    pub(crate) hub: Arc<Hub>,
    pub(crate) approvals: Option<Arc<crate::approvals::Approvals>>,
}

impl EventSink {
    /// The gateway's exec approvals (what the agent host's gates ask), when it has them.
    pub fn approvals(&self) -> Option<Arc<crate::approvals::Approvals>> {
        self.approvals.clone()
    }

    /// To every connection whose scopes allow `event`. Returns how many received it.
    pub fn broadcast(&self, event: &str, payload: Value) -> usize {
        self.hub.broadcast(event, Some(payload), None)
    }

    /// To one connection (if its scopes allow `event`).
    pub fn send_to(&self, conn_id: &str, event: &str, payload: Value) -> bool {
        self.hub.send_to(conn_id, event, Some(payload))
    }

    /// Whether any connection called `sessions.subscribe` (so building a payload for them is
    /// worth it).
    pub fn has_session_subscribers(&self) -> bool {
        self.hub.has_subscribers()
    }

    /// `sessions.changed` and the like: only to connections that called `sessions.subscribe`.
    pub fn broadcast_to_session_subscribers(&self, event: &str, payload: Value) -> usize {
        let json = serde_json::to_string(&payload).unwrap_or_default();
        self.hub.send_to_subscribers(event, &json)
    }

    /// A run's `agent` / `chat` events: to the connection that started it (when it is still
    /// connected and its scopes allow) and to every `sessions.subscribe`d connection.
    pub fn broadcast_run_event(&self, event: &str, payload: Value, origin: Option<&str>) -> usize {
        let json = serde_json::to_string(&payload).unwrap_or_default();
        self.broadcast_run_event_json(event, &json, origin)
    }

    /// [`EventSink::broadcast_run_event`] with the payload already serialised (JSON text).
    pub fn broadcast_run_event_json(
        &self,
        event: &str,
        payload_json: &str,
        origin: Option<&str>,
    ) -> usize {
        self.hub
            .send_to_origin_and_subscribers(event, payload_json, origin)
    }

    /// The current `{presence, health}` versions.
    pub fn state_version(&self) -> StateVersion {
        self.hub.state_version()
    }
}

/// Token and cost totals over assistant messages.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageTotals {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub total_tokens: u64,
    /// In US dollars, at the model's configured prices.
    pub cost: f64,
    /// Assistant messages counted.
    pub messages: u64,
}

/// The usage of one model, summed over every transcript.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelUsage {
    pub provider: String,
    pub model: String,
    #[serde(flatten)]
    pub totals: UsageTotals,
}

/// One MCP tool of `tools.catalog`.
#[derive(Debug, Clone, PartialEq)]
pub struct McpCatalogTool {
    /// The namespaced name (`<server>__<tool>`).
    pub name: String,
    pub description: String,
    /// The server's name in `mcp.servers`.
    pub server: String,
}

/// The agent engine as the gateway sees it.
#[async_trait]
pub trait GatewayBackend: Send + Sync + 'static {
    /// Answers one engine method (`chat.send`, `agent`, `sessions.list`, …). The scope check
    /// has already passed; params are the raw `params` (`None` when the key was absent).
    /// Validate them with OpenClaw's messages (`invalid <method> params: …`). For `agent`,
    /// return the `{status:"accepted"}` payload and later call
    /// [`CallContext::respond_again`] with the final one.
    async fn call(
        &self,
        method: &str,
        params: Option<Value>,
        ctx: CallContext,
    ) -> Result<Value, ErrorShape>;

    /// Extra HTTP routes served behind bearer auth on the gateway port (for example
    /// `/v1/chat/completions`). `None` serves none.
    fn http_routes(&self) -> Option<axum::Router> {
        None
    }

    /// Runs one cron job's turn to its end (the scheduler's runs; no client behind them).
    async fn cron_turn(&self, _turn: crate::cron::CronTurn) -> crate::cron::CronTurnOutcome {
        crate::cron::CronTurnOutcome::failed(
            "this gateway was started without the agent engine".into(),
        )
    }

    /// Runs one allowed channel message's turn to its end (the channel dispatcher's runs).
    async fn channel_turn(
        &self,
        _turn: crate::channels::ChannelTurn,
    ) -> crate::channels::ChannelTurnOutcome {
        crate::channels::ChannelTurnOutcome::failed(
            "this gateway was started without the agent engine".into(),
        )
    }

    /// Runs one heartbeat turn on the agent's main session, unless that session is busy; a
    /// silent acknowledgement is pruned from the transcript.
    async fn heartbeat_turn(
        &self,
        _turn: crate::cron::heartbeat::HeartbeatTurn,
    ) -> crate::cron::heartbeat::HeartbeatTurnOutcome {
        crate::cron::heartbeat::HeartbeatTurnOutcome::Ran(crate::cron::CronTurnOutcome::failed(
            "this gateway was started without the agent engine".into(),
        ))
    }

    /// Removes up to `limit` isolated cron run sessions last updated before `cutoff_ms`
    /// (`cron.sessionRetention`), archiving their transcripts; how many went. A session with a
    /// run in progress is kept.
    async fn prune_cron_sessions(&self, _cutoff_ms: u64, _limit: usize) -> usize {
        0
    }

    /// Called once when the gateway stops, before connections close (abort runs, kill tools).
    async fn shutdown(&self) {}

    /// Called once when the gateway starts, with the event fan-out (for runs started outside
    /// a WebSocket call, e.g. over HTTP).
    fn attach(&self, _events: EventSink) {}

    /// The config file changed (a `config.*` write, `openclaw config set` or an editor) and
    /// passed validation: new runs must use `config` (agents, models, providers, tool policy).
    fn reload(&self, _config: &Value) {}

    /// Skill files changed on disk (the skills watcher): sessions must pick up the new set on
    /// their next turn.
    fn skills_changed(&self) {}

    /// The gateway's cron service, for the agents' `automations` tool (held weakly: the
    /// service holds the backend).
    fn attach_cron(&self, _cron: std::sync::Weak<crate::cron::CronService>) {}

    /// Whether this backend answers the engine methods (they are advertised in `hello-ok` only
    /// then).
    fn has_engine(&self) -> bool {
        true
    }

    /// Usage per model from the transcripts (`usage.status`); empty without sessions.
    fn usage(&self) -> Vec<ModelUsage> {
        Vec::new()
    }

    /// The MCP servers' tools an agent gets (`tools.catalog`); connecting servers as needed.
    async fn mcp_catalog(&self, _agent_id: &str) -> Vec<McpCatalogTool> {
        Vec::new()
    }

    /// `{count, recent:[{key, updatedAt, age}]}` for one agent's sessions (health/status);
    /// `None` when the backend keeps no sessions.
    fn sessions_summary(&self, _agent_id: &str) -> Option<Value> {
        None
    }
}

/// The backend of a gateway started without agents (`GatewayOptions::from_env` alone; tests of
/// the transport): every engine method is `UNAVAILABLE`. `agent_host::options_from_env` and
/// `agent_host::with_engine` put the agent host in its place.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEngine;

#[async_trait]
impl GatewayBackend for NoEngine {
    async fn call(
        &self,
        method: &str,
        _params: Option<Value>,
        _ctx: CallContext,
    ) -> Result<Value, ErrorShape> {
        Err(ErrorShape::unavailable(format!(
            "{method} unavailable: this gateway was started without the agent engine"
        )))
    }

    fn has_engine(&self) -> bool {
        false
    }
}
