//! Attach mode: the chat screen driven by a running OpenClaw gateway over WebSocket.
//!
//! The protocol client is `openclaw_rpc::client::gateway`; [`GatewayBackend`] adapts it to [`crate::ChatBackend`]
//! by sending `chat.send`/`chat.abort`/`sessions.*` requests and translating the gateway's
//! `chat` and `agent` events into the agent events the screen already understands.

mod translate;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use openclaw_core::exec_policy::Decision;
use openclaw_core::message::Message;
use openclaw_core::{AgentEvent, ThinkingLevel};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

pub use openclaw_rpc::client::gateway::{ConnectOptions, GatewayClient, GatewayClientError};
pub use translate::GatewayEvent;

use crate::backend::{
    BackendError, BackendEvent, BackendResult, BackendState, ChatBackend, ExtraCommand,
    ModelChoice, SessionChoice,
};
use translate::Translator;

impl From<GatewayClientError> for BackendError {
    fn from(e: GatewayClientError) -> Self {
        match e {
            GatewayClientError::Closed | GatewayClientError::Connect { .. } => {
                BackendError::Disconnected(e.to_string())
            }
            other => BackendError::Failed(other.to_string()),
        }
    }
}

/// The canonical session key: `main` → `agent:main:main`.
pub fn canonical_key(key: &str, agent: &str) -> String {
    if key.contains(':') {
        key.to_string()
    } else {
        format!("agent:{agent}:{key}")
    }
}

/// A [`ChatBackend`] over a gateway connection.
pub struct GatewayBackend {
    client: GatewayClient,
    events: Mutex<Option<broadcast::Receiver<Value>>>,
    session_key: Arc<Mutex<String>>,
    state: Arc<Mutex<BackendState>>,
    run_id: Arc<Mutex<Option<String>>>,
    local: Mutex<Option<mpsc::UnboundedSender<BackendEvent>>>,
}

impl std::fmt::Debug for GatewayBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayBackend")
            .field("url", &self.client.url())
            .finish()
    }
}

impl GatewayBackend {
    /// Connects to `url` as an interactive client chatting in session `session` (`main` or a
    /// full key).
    pub async fn connect(
        url: &str,
        token: Option<String>,
        session: &str,
    ) -> Result<Self, GatewayClientError> {
        let mut opts = ConnectOptions::new(url)
            .client("openclaw-tui", "ui")
            .scopes([
                "operator.read",
                "operator.write",
                "operator.admin",
                "operator.approvals",
            ])
            // `exec-approvals`: the gateway sends us exec approval requests to show as cards.
            .caps(["tool-events", "exec-approvals"])
            // Compaction summarises with the model: allow it time.
            .timeout(std::time::Duration::from_secs(60));
        opts.token = token;
        let client = GatewayClient::connect(opts).await?;
        let events = client.subscribe();
        let agent = client
            .hello()
            .pointer("/snapshot/sessionDefaults/defaultAgentId")
            .and_then(Value::as_str)
            .unwrap_or("main")
            .to_string();
        let _ = client.call("sessions.subscribe", Some(json!({}))).await;
        Ok(GatewayBackend {
            client,
            events: Mutex::new(Some(events)),
            session_key: Arc::new(Mutex::new(canonical_key(session, &agent))),
            state: Arc::new(Mutex::new(BackendState::default())),
            run_id: Arc::new(Mutex::new(None)),
            local: Mutex::new(None),
        })
    }

    /// One request with its params.
    async fn request(&self, method: &str, params: Value) -> Result<Value, GatewayClientError> {
        self.client.call(method, Some(params)).await
    }

    fn key(&self) -> String {
        self.session_key
            .lock()
            .map(|k| k.clone())
            .unwrap_or_default()
    }

    fn emit(&self, ev: BackendEvent) {
        if let Ok(l) = self.local.lock() {
            if let Some(tx) = l.as_ref() {
                let _ = tx.send(ev);
            }
        }
    }

    async fn send(&self, text: String, queue_mode: Option<&str>) -> BackendResult<()> {
        let id = uuid::Uuid::new_v4().to_string();
        let mut params = json!({"sessionKey": self.key(), "message": text, "deliver": false, "idempotencyKey": id});
        if let Some(q) = queue_mode {
            params["queueMode"] = json!(q);
        }
        if queue_mode.is_none() {
            let user = openclaw_core::message::UserMessage::new(text, Vec::new());
            self.emit(BackendEvent::Agent(AgentEvent::MessageStart {
                message: Message::User(user).into(),
            }));
        }
        let res = self.request("chat.send", params).await?;
        if let Some(r) = res.get("runId").and_then(Value::as_str) {
            if let Ok(mut g) = self.run_id.lock() {
                *g = Some(r.to_string());
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ChatBackend for GatewayBackend {
    async fn resolve_approval(&self, id: &str, decision: Decision) -> BackendResult<()> {
        self.request(
            "exec.approval.resolve",
            json!({"id": id, "decision": decision.as_str()}),
        )
        .await
        .map(|_| ())
        .map_err(|e| BackendError::Failed(e.to_string()))
    }

    fn location(&self) -> String {
        self.client.url().to_string()
    }

    fn subscribe(&self) -> mpsc::UnboundedReceiver<BackendEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut l) = self.local.lock() {
            *l = Some(tx.clone());
        }
        let events = self.events.lock().ok().and_then(|mut e| e.take());
        if let Some(mut events) = events {
            let key = self.session_key.clone();
            let state = self.state.clone();
            tokio::spawn(async move {
                let mut tr = Translator::default();
                loop {
                    let ev = match events.recv().await {
                        Ok(frame) => GatewayEvent::from_frame(frame),
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!(
                                "fell {n} gateway events behind; some deltas were skipped"
                            );
                            continue;
                        }
                        Err(broadcast::error::RecvError::Closed) => break,
                    };
                    if let Some(card) = translate::approval_event(&ev) {
                        if tx.send(card).is_err() {
                            break;
                        }
                        continue;
                    }
                    let current = key.lock().map(|k| k.clone()).unwrap_or_default();
                    for out in tr.translate(&ev, &current) {
                        if let BackendEvent::State(s) = &out {
                            if let Ok(mut g) = state.lock() {
                                *g = s.clone();
                            }
                        }
                        if tx.send(out).is_err() {
                            return;
                        }
                    }
                }
                let _ = tx.send(BackendEvent::Error("the gateway connection closed".into()));
            });
        }
        rx
    }

    async fn state(&self) -> BackendResult<BackendState> {
        let key = self.key();
        let mut st = self.state.lock().map(|s| s.clone()).unwrap_or_default();
        st.session_id = Some(key.clone());
        if let Ok(d) = self.request("sessions.describe", json!({"key": key})).await {
            if let Some(row) = d.get("session").filter(|s| !s.is_null()) {
                st.session_name = row
                    .get("label")
                    .or_else(|| row.get("displayName"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                if let Some(l) = row
                    .get("thinkingLevel")
                    .and_then(Value::as_str)
                    .and_then(|l| l.parse().ok())
                {
                    st.thinking = l;
                }
                if let (Some(p), Some(m)) = (
                    row.get("modelProvider").and_then(Value::as_str),
                    row.get("model").and_then(Value::as_str),
                ) {
                    let window = row
                        .get("contextTokens")
                        .and_then(Value::as_u64)
                        .unwrap_or(0);
                    st.model = Some(ModelChoice {
                        provider: p.into(),
                        id: m.into(),
                        name: m.into(),
                        context_window: window,
                        reasoning: false,
                        available: true,
                    });
                }
            }
        }
        if st.session_name.is_none() {
            st.session_name = Some(key);
        }
        Ok(st)
    }

    async fn messages(&self) -> BackendResult<Vec<Message>> {
        let res = self
            .request(
                "chat.history",
                json!({"sessionKey": self.key(), "limit": 200}),
            )
            .await?;
        let msgs = res
            .get("messages")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(msgs
            .into_iter()
            .filter_map(translate::history_message)
            .collect())
    }

    async fn prompt(&self, text: String) -> BackendResult<()> {
        self.send(text, None).await
    }

    async fn steer(&self, text: String) -> BackendResult<()> {
        self.send(text, Some("steer")).await
    }

    async fn follow_up(&self, text: String) -> BackendResult<()> {
        self.send(text, Some("followup")).await
    }

    async fn abort(&self) -> BackendResult<()> {
        let mut params = json!({"sessionKey": self.key()});
        if let Some(r) = self.run_id.lock().ok().and_then(|g| g.clone()) {
            params["runId"] = json!(r);
        }
        self.request("chat.abort", params).await?;
        Ok(())
    }

    /// The agent's skill commands from `commands.list` (`source: "skill"`): typed as
    /// `/<name> args`, the gateway turns them into skill instructions.
    async fn extra_commands(&self) -> BackendResult<Vec<ExtraCommand>> {
        /// `commands.list`'s answer (the fields used here).
        #[derive(serde::Deserialize)]
        struct Listed {
            #[serde(default)]
            commands: Vec<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            name: String,
            #[serde(default)]
            description: String,
            #[serde(default)]
            source: String,
        }
        let res = self
            .request("commands.list", json!({"sessionKey": self.key()}))
            .await?;
        let listed: Listed = serde_json::from_value(res)
            .map_err(|e| BackendError::Failed(format!("commands.list: {e}")))?;
        Ok(listed
            .commands
            .into_iter()
            .filter(|c| c.source == "skill")
            .map(|c| ExtraCommand {
                name: c.name,
                description: c.description,
                source: c.source,
            })
            .collect())
    }

    async fn models(&self) -> BackendResult<Vec<ModelChoice>> {
        let res = self.request("models.list", json!({})).await?;
        let list = res
            .get("models")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(list
            .iter()
            .map(|m| ModelChoice {
                provider: m
                    .get("provider")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .into(),
                id: m
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .into(),
                name: m
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .into(),
                context_window: m.get("contextWindow").and_then(Value::as_u64).unwrap_or(0),
                reasoning: m.get("reasoning").and_then(Value::as_bool).unwrap_or(false),
                available: m.get("available").and_then(Value::as_bool).unwrap_or(true),
            })
            .collect())
    }

    async fn set_model(&self, provider: &str, id: &str) -> BackendResult<()> {
        self.request(
            "sessions.patch",
            json!({"key": self.key(), "model": format!("{provider}/{id}")}),
        )
        .await?;
        Ok(())
    }

    async fn set_thinking(&self, level: ThinkingLevel) -> BackendResult<()> {
        self.request(
            "sessions.patch",
            json!({"key": self.key(), "thinkingLevel": level.as_str()}),
        )
        .await?;
        if let Ok(mut s) = self.state.lock() {
            s.thinking = level;
        }
        Ok(())
    }

    async fn new_session(&self) -> BackendResult<()> {
        self.request(
            "sessions.reset",
            json!({"key": self.key(), "reason": "new"}),
        )
        .await?;
        Ok(())
    }

    async fn sessions(&self) -> BackendResult<Vec<SessionChoice>> {
        let res = self
            .request(
                "sessions.list",
                json!({"includeDerivedTitles": true, "includeLastMessage": true, "limit": 100}),
            )
            .await?;
        let rows = res
            .get("sessions")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(rows
            .iter()
            .map(|r| {
                let s = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_string);
                SessionChoice {
                    id: s("key").unwrap_or_default(),
                    name: s("label")
                        .or_else(|| s("derivedTitle"))
                        .or_else(|| s("displayName")),
                    modified: r
                        .get("updatedAt")
                        .and_then(Value::as_i64)
                        .map(translate::ms_to_human)
                        .unwrap_or_default(),
                    message_count: 0,
                    preview: s("lastMessagePreview").unwrap_or_default(),
                }
            })
            .collect())
    }

    async fn switch_session(&self, id: &str) -> BackendResult<()> {
        if let Ok(mut k) = self.session_key.lock() {
            *k = id.to_string();
        }
        Ok(())
    }

    async fn compact(&self) -> BackendResult<()> {
        self.request("sessions.compact", json!({"key": self.key()}))
            .await?;
        Ok(())
    }

    async fn set_session_name(&self, name: &str) -> BackendResult<()> {
        self.request("sessions.patch", json!({"key": self.key(), "label": name}))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
