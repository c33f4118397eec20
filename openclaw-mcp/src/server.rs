//! One configured MCP server, supervised: connected on first use (bounded by
//! `connectionTimeoutMs`), its tool list cached; a stdio child that exits is noticed at once, its
//! tools answer "unavailable" while it waits out an exponential backoff (1 s doubling to 60 s,
//! reset once a connection has lived 30 s), and then it is restarted. Every call is bounded by
//! `requestTimeoutMs` and can be cancelled; both send MCP's `notifications/cancelled`.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use openclaw_core::cancel::CancellationToken;
use rmcp::ServiceExt;
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientInfo, ClientRequest, Implementation, Request,
    ServerResult,
};
use rmcp::service::{PeerRequestOptions, RoleClient, RunningService};
use serde::Serialize;
use serde_json::Value;

pub use crate::client::ProgressSink;
use crate::client::{Handler, ProgressRoute, list_tools};
use crate::config::{ServerConfig, TransportKind};
use crate::content::CallResult;
use crate::stdio::ProcessGuard;

const BACKOFF_START: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);
/// A connection that lived this long resets the backoff.
const STABLE_AFTER: Duration = Duration::from_secs(30);

/// One tool as the server lists it (the parts this client uses).
#[derive(Debug, Clone, PartialEq)]
pub struct ListedTool {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub input_schema: Value,
}

/// What the server advertised at initialize.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompts: Option<bool>,
    pub list_changed: ListChanged,
}

/// `listChanged` flags of a probe.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ListChanged {
    pub tools: bool,
    pub resources: bool,
    pub prompts: bool,
}

struct Connection {
    service: RunningService<RoleClient, Handler>,
    /// Kills the stdio child's group on drop (`None` for HTTP).
    _guard: Option<ProcessGuard>,
    started: Instant,
    generation: u64,
}

#[derive(Default)]
struct Slot {
    conn: Option<Arc<Connection>>,
    generation: u64,
    failures: u32,
    retry_at: Option<Instant>,
    last_error: Option<String>,
    /// The last tool list a connection gave (kept while the server is down).
    tools: Option<Vec<ListedTool>>,
    capabilities: Capabilities,
    restarts: u32,
}

/// A server's state for `status`, `tools.catalog` and the CLI.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerStatus {
    pub name: String,
    /// `idle` (never started), `ready`, `restarting` (down, waiting out its backoff), `failed`
    /// (could not start; retried on next use after the backoff), `disabled`, `unsupported`.
    pub state: &'static str,
    pub transport: &'static str,
    pub launch: String,
    pub tools: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_in_ms: Option<u64>,
    pub restarts: u32,
}

/// A supervised server.
pub struct Server {
    pub name: String,
    /// The sanitized name its tools are prefixed with.
    pub safe_name: String,
    pub config: ServerConfig,
    slot: tokio::sync::Mutex<Slot>,
    me: Weak<Server>,
    log: crate::LogSink,
    retired: std::sync::atomic::AtomicBool,
}

impl Drop for Server {
    fn drop(&mut self) {
        tracing::debug!("MCP server {} retired", self.name);
    }
}

/// Reconnects the server after `wait` (boxed: connecting can lead here again).
fn restart_after(
    me: Weak<Server>,
    wait: Duration,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(async move {
        tokio::time::sleep(wait).await;
        if let Some(server) = me.upgrade() {
            if !server.is_retired() {
                let _ = server.connection().await;
            }
        }
    })
}

fn backoff(failures: u32) -> Duration {
    let exp = failures.saturating_sub(1).min(6);
    (BACKOFF_START * 2u32.pow(exp)).min(BACKOFF_MAX)
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

impl Server {
    pub fn new(
        name: String,
        safe_name: String,
        config: ServerConfig,
        log: crate::LogSink,
    ) -> Arc<Server> {
        Arc::new_cyclic(|me| Server {
            name,
            safe_name,
            config,
            slot: tokio::sync::Mutex::new(Slot::default()),
            me: me.clone(),
            log,
            retired: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Stops the server for good (config changed or removed): the connection is dropped, so a
    /// stdio child's group is killed.
    pub async fn retire(&self) {
        self.retired
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let mut slot = self.slot.lock().await;
        slot.conn = None;
    }

    fn is_retired(&self) -> bool {
        self.retired.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The live connection, connecting when there is none and the backoff allows it.
    async fn connection(&self) -> Result<Arc<Connection>, String> {
        if self.is_retired() {
            return Err(format!("MCP server \"{}\" was removed", self.name));
        }
        if let Some(why) = self.config.unsupported() {
            return Err(format!("MCP server \"{}\": {why}", self.name));
        }
        let mut slot = self.slot.lock().await;
        if let Some(c) = &slot.conn {
            if !c.service.is_closed() {
                return Ok(c.clone());
            }
            let c = slot.conn.take();
            self.note_down(&mut slot, c, "connection closed".to_owned());
        }
        if let Some(at) = slot.retry_at {
            let now = Instant::now();
            if at > now {
                return Err(format!(
                    "MCP server \"{}\" is unavailable ({}); restarting in {}",
                    self.name,
                    slot.last_error.as_deref().unwrap_or("down"),
                    secs(at - now)
                ));
            }
        }
        let timeout = self.config.connect_timeout();
        let generation = slot.generation + 1;
        let attempt = tokio::time::timeout(timeout, self.connect(generation)).await;
        let result = match attempt {
            Ok(r) => r,
            Err(_) => Err(format!("did not start within {}", secs(timeout))),
        };
        match result {
            Ok((conn, tools, caps)) => {
                slot.generation = generation;
                slot.retry_at = None;
                slot.tools = Some(tools);
                slot.capabilities = caps;
                let conn = Arc::new(conn);
                slot.conn = Some(conn.clone());
                (self.log)(&format!("MCP server {} connected", self.name));
                Ok(conn)
            }
            Err(e) => {
                slot.generation = generation;
                slot.failures += 1;
                let wait = backoff(slot.failures);
                slot.retry_at = Some(Instant::now() + wait);
                slot.last_error = Some(e.clone());
                (self.log)(&format!(
                    "MCP server {} failed to start: {e} (next try in {})",
                    self.name,
                    secs(wait)
                ));
                Err(format!("MCP server \"{}\" is unavailable: {e}", self.name))
            }
        }
    }

    async fn connect(
        &self,
        generation: u64,
    ) -> Result<(Connection, Vec<ListedTool>, Capabilities), String> {
        let info = Handler {
            info: ClientInfo::new(
                ClientCapabilities::default(),
                Implementation::new("openclaw-rs", env!("CARGO_PKG_VERSION")),
            ),
            progress: Arc::default(),
            tools_changed: Arc::default(),
        };
        let (service, guard) = match self.config.transport_kind()? {
            TransportKind::Stdio => {
                let spawned = crate::stdio::spawn(&self.name, &self.config, &self.log)
                    .map_err(|e| e.to_string())?;
                let exited = spawned.exited;
                let me = self.me.clone();
                tokio::spawn(async move {
                    if let Ok(text) = exited.await {
                        if let Some(server) = me.upgrade() {
                            server.on_exit(generation, text).await;
                        }
                    }
                });
                let service = info
                    .serve((spawned.stdout, spawned.stdin))
                    .await
                    .map_err(|e| format!("initialize failed: {e}"))?;
                (service, Some(spawned.guard))
            }
            TransportKind::StreamableHttp => {
                let transport = rmcp::transport::StreamableHttpClientTransport::with_client(
                    crate::http::client(&self.config)?,
                    crate::http::config(&self.config)?,
                );
                let service = info
                    .serve(transport)
                    .await
                    .map_err(|e| format!("initialize failed: {}", tidy_transport_error(&e)))?;
                (service, None)
            }
            TransportKind::Sse => return Err("the SSE transport is not supported".into()),
        };
        let caps = service
            .peer()
            .peer_info()
            .map(|i| {
                let c = &i.capabilities;
                Capabilities {
                    resources: c.resources.as_ref().map(|_| true),
                    prompts: c.prompts.as_ref().map(|_| true),
                    list_changed: ListChanged {
                        tools: c.tools.as_ref().and_then(|t| t.list_changed) == Some(true),
                        resources: c.resources.as_ref().and_then(|t| t.list_changed) == Some(true),
                        prompts: c.prompts.as_ref().and_then(|t| t.list_changed) == Some(true),
                    },
                }
            })
            .unwrap_or_default();
        let tools = list_tools(&service).await?;
        Ok((
            Connection {
                service,
                _guard: guard,
                started: Instant::now(),
                generation,
            },
            tools,
            caps,
        ))
    }

    /// Records that the connection went down (backoff; reset after a stable connection).
    fn note_down(&self, slot: &mut Slot, conn: Option<Arc<Connection>>, why: String) {
        if conn
            .as_ref()
            .is_some_and(|c| c.started.elapsed() >= STABLE_AFTER)
        {
            slot.failures = 0;
        }
        slot.failures += 1;
        slot.restarts += 1;
        let wait = backoff(slot.failures);
        slot.retry_at = Some(Instant::now() + wait);
        slot.last_error = Some(why.clone());
        (self.log)(&format!(
            "MCP server {} went down: {why}; restarting in {}",
            self.name,
            secs(wait)
        ));
    }

    /// The stdio child of connection `generation` exited: mark the server down and restart it
    /// after the backoff.
    async fn on_exit(&self, generation: u64, text: String) {
        let wait = {
            let mut slot = self.slot.lock().await;
            let current = slot.conn.as_ref().map(|c| c.generation);
            if current != Some(generation) {
                // Already noted down by the failed call or the closed transport that the exit
                // caused: say why it went down, also when the restart reached the slot first.
                if let Some(last) = slot.last_error.as_mut() {
                    if !last.contains(&text) {
                        *last = format!("{last}: the server {text}");
                    }
                }
                return;
            }
            let conn = slot.conn.take();
            self.note_down(&mut slot, conn, text);
            slot.retry_at
                .map(|at| at.saturating_duration_since(Instant::now()))
                .unwrap_or_default()
        };
        if self.is_retired() {
            return;
        }
        tokio::spawn(restart_after(self.me.clone(), wait));
    }

    /// Connects if needed and returns the tool list (the cached one while the server is down,
    /// if it ever listed; `Err` when it never could).
    pub async fn tools(&self) -> Result<Vec<ListedTool>, String> {
        let conn = match self.connection().await {
            Ok(c) => c,
            Err(e) => {
                let slot = self.slot.lock().await;
                return slot.tools.clone().ok_or(e);
            }
        };
        // The server said its tools changed: list them again (new engines get the new list).
        if conn
            .service
            .service()
            .tools_changed
            .swap(false, Ordering::SeqCst)
        {
            match list_tools(&conn.service).await {
                Ok(tools) => self.slot.lock().await.tools = Some(tools),
                Err(e) => (self.log)(&format!("MCP server {}: {e}", self.name)),
            }
        }
        let slot = self.slot.lock().await;
        Ok(slot.tools.clone().unwrap_or_default())
    }

    /// Capabilities seen at the last initialize.
    pub async fn capabilities(&self) -> Capabilities {
        self.slot.lock().await.capabilities.clone()
    }

    /// Calls `tool` with `args`, bounded by `requestTimeoutMs`; `cancel` aborts it (the server
    /// is told); the server's progress notifications for it go to `progress`. `Err` is the text
    /// the model gets.
    pub async fn call(
        &self,
        tool: &str,
        args: Value,
        cancel: &CancellationToken,
        progress: Option<ProgressSink>,
    ) -> Result<CallResult, String> {
        let conn = self.connection().await?;
        let arguments = match args {
            Value::Object(m) => Some(m),
            Value::Null => None,
            other => return Err(format!("arguments must be an object, got {other}")),
        };
        let mut params = CallToolRequestParams::new(tool.to_owned());
        params.arguments = arguments;
        let req = ClientRequest::CallToolRequest(Request::new(params));
        let mut handle = conn
            .service
            .peer()
            .send_cancellable_request(req, PeerRequestOptions::no_options())
            .await
            .map_err(|e| self.transport_failed(&conn, e.to_string()))?;
        let routes = &conn.service.service().progress;
        let _route = progress.map(|sink| {
            openclaw_core::sync::lock(routes).insert(handle.progress_token.clone(), sink);
            ProgressRoute {
                map: routes,
                token: handle.progress_token.clone(),
            }
        });
        let timeout = self.config.request_timeout();
        let outcome = tokio::select! {
            r = &mut handle.rx => r,
            _ = cancel.cancelled() => {
                let _ = handle.cancel(Some("aborted".into())).await;
                return Err(format!("MCP tool {}/{tool} was aborted", self.name));
            }
            _ = tokio::time::sleep(timeout) => {
                let _ = handle.cancel(Some("request timeout".into())).await;
                return Err(format!(
                    "MCP tool {}/{tool} timed out after {} (requestTimeoutMs)",
                    self.name,
                    secs(timeout)
                ));
            }
        };
        match outcome {
            Ok(Ok(ServerResult::CallToolResult(r))) => serde_json::to_value(r)
                .and_then(serde_json::from_value)
                .map_err(|e| format!("MCP tool {}/{tool}: unreadable result: {e}", self.name)),
            Ok(Ok(_)) => Err(format!(
                "MCP tool {}/{tool}: the server answered with another kind of result",
                self.name
            )),
            Ok(Err(rmcp::service::ServiceError::McpError(e))) => Err(format!(
                "MCP tool {}/{tool} failed: {}",
                self.name, e.message
            )),
            Ok(Err(e)) => Err(self.transport_failed(&conn, e.to_string())),
            Err(_) => Err(self.transport_failed(&conn, "connection closed".into())),
        }
    }

    /// A transport failure mid-call: the connection is treated as down (not replayed: the tool
    /// may have acted).
    fn transport_failed(&self, conn: &Arc<Connection>, e: String) -> String {
        let text = format!(
            "MCP server \"{}\" failed during the call: {e} (not retried)",
            self.name
        );
        if let Some(me) = self.me.upgrade() {
            let generation = conn.generation;
            let e2 = e.clone();
            tokio::spawn(async move {
                let mut slot = me.slot.lock().await;
                if slot.conn.as_ref().map(|c| c.generation) == Some(generation) {
                    let c = slot.conn.take();
                    me.note_down(&mut slot, c, e2);
                }
            });
        }
        text
    }

    /// The server's state now (never connects).
    pub async fn status(&self) -> ServerStatus {
        let slot = self.slot.lock().await;
        let now = Instant::now();
        let retry_in = slot
            .retry_at
            .filter(|at| *at > now)
            .map(|at| (at - now).as_millis() as u64);
        let state = if !self.config.enabled() {
            "disabled"
        } else if self.config.unsupported().is_some() {
            "unsupported"
        } else if slot.conn.as_ref().is_some_and(|c| !c.service.is_closed()) {
            "ready"
        } else if slot.tools.is_some() && slot.last_error.is_some() {
            "restarting"
        } else if slot.last_error.is_some() {
            "failed"
        } else {
            "idle"
        };
        ServerStatus {
            name: self.name.clone(),
            state,
            transport: self
                .config
                .transport_kind()
                .map_or("invalid", TransportKind::as_str),
            launch: self.config.launch(),
            tools: slot.tools.as_ref().map_or(0, Vec::len),
            last_error: slot
                .last_error
                .clone()
                .or_else(|| self.config.unsupported()),
            retry_in_ms: retry_in,
            restarts: slot.restarts,
        }
    }

    /// The stdio child's pid while connected (tests check it is gone after a drop).
    pub async fn pid(&self) -> Option<u32> {
        let slot = self.slot.lock().await;
        slot.conn.as_ref()?._guard.as_ref().map(|g| g.pid)
    }
}

/// rmcp's transport errors carry the worker's type name ("Send message error Transport
/// [rmcp::transport::worker::WorkerTransport<…>] error: Client error: …"); the user needs the
/// client's own error, which follows "Client error: ".
fn tidy_transport_error(e: &dyn std::fmt::Display) -> String {
    let text = e.to_string();
    match text.find("Client error: ") {
        Some(i) => text[i + "Client error: ".len()..]
            .trim_end_matches(", when send initialize request")
            .to_owned(),
        None => text,
    }
}
