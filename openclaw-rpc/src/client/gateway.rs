//! A small typed client for the OpenClaw gateway WebSocket protocol: connect (wait for
//! `connect.challenge`, send `connect` with a token or password, read `hello-ok`), call
//! methods (including the "accepted, then final" double response), and receive events.
//! Used by `openclaw gateway status|call`, `openclaw health --url`, the TUI attached to a gateway,
//! the benches and the tests.
//!
//! ```no_run
//! # async fn demo() -> Result<(), openclaw_rpc::client::gateway::GatewayClientError> {
//! use openclaw_rpc::client::gateway::{ConnectOptions, GatewayClient};
//! let client = GatewayClient::connect(ConnectOptions::new("ws://127.0.0.1:18789").token("t")).await?;
//! let health = client.call("health", None).await?;
//! println!("{health}");
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio_tungstenite::tungstenite::Message;

/// Why connecting to the gateway or a call failed.
#[derive(Debug, thiserror::Error)]
pub enum GatewayClientError {
    /// No WebSocket could be opened (nothing listens, DNS, TLS, handshake timeout).
    #[error("cannot reach the gateway at {url}: {reason}")]
    Connect { url: String, reason: String },
    /// The gateway answered `connect` with an error (bad token, protocol mismatch, …).
    /// `code` is the detail code when there is one (`AUTH_TOKEN_MISMATCH`), else the error code.
    #[error("the gateway refused the connection: {code}: {message}")]
    Refused {
        code: String,
        message: String,
        error: Value,
    },
    /// A `res` with `ok:false`; `error` is the gateway's ErrorShape.
    #[error("{method} failed: {code}: {message}")]
    Request {
        method: String,
        code: String,
        message: String,
        error: Value,
    },
    #[error("the gateway connection closed")]
    Closed,
    #[error("the gateway did not answer {what} within {after:?}")]
    Timeout { what: String, after: Duration },
}

impl GatewayClientError {
    /// The error code and message of an ErrorShape, preferring the detail code clients branch on.
    fn code_and_message(error: &Value) -> (String, String) {
        let code = error
            .pointer("/details/code")
            .or_else(|| error.get("code"))
            .and_then(Value::as_str)
            .unwrap_or("UNKNOWN")
            .to_owned();
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("request failed")
            .to_owned();
        (code, message)
    }

    fn refused(error: Value) -> Self {
        let (code, message) = Self::code_and_message(&error);
        GatewayClientError::Refused {
            code,
            message,
            error,
        }
    }

    fn request(method: &str, error: Value) -> Self {
        let (code, message) = Self::code_and_message(&error);
        GatewayClientError::Request {
            method: method.to_owned(),
            code,
            message,
            error,
        }
    }
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub url: String,
    pub token: Option<String>,
    pub password: Option<String>,
    pub scopes: Vec<String>,
    /// `client.id`: `cli`, `openclaw-tui`, `gateway-client`.
    pub client_id: String,
    /// `client.mode`: `cli`, `ui`, `backend`, `probe`.
    pub client_mode: String,
    /// Capabilities offered in `connect` (`tool-events`, …).
    pub caps: Vec<String>,
    pub min_protocol: u32,
    pub max_protocol: u32,
    /// How long to wait for the connection and for each answer.
    pub timeout: Duration,
}

impl ConnectOptions {
    /// Defaults: operator with every operator scope, client `cli`, protocol 3..4, 10 s.
    pub fn new(url: impl Into<String>) -> Self {
        ConnectOptions {
            url: url.into(),
            token: None,
            password: None,
            scopes: [
                "operator.admin",
                "operator.read",
                "operator.write",
                "operator.approvals",
                "operator.pairing",
            ]
            .map(String::from)
            .to_vec(),
            client_id: "cli".into(),
            client_mode: "cli".into(),
            caps: Vec::new(),
            min_protocol: 3,
            max_protocol: 4,
            timeout: Duration::from_secs(10),
        }
    }

    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(password.into());
        self
    }

    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// How the client introduces itself: `client.id` and `client.mode`.
    pub fn client(mut self, id: impl Into<String>, mode: impl Into<String>) -> Self {
        self.client_id = id.into();
        self.client_mode = mode.into();
        self
    }

    pub fn caps<S: Into<String>>(mut self, caps: impl IntoIterator<Item = S>) -> Self {
        self.caps = caps.into_iter().map(Into::into).collect();
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

type Pending = Arc<Mutex<HashMap<String, mpsc::UnboundedSender<Result<Value, Value>>>>>;
type EventSlot = Arc<Mutex<Option<broadcast::Sender<Value>>>>;

/// How many event frames a slow subscriber may fall behind before it sees `Lagged`.
const EVENT_BACKLOG: usize = 4096;

/// A connected, authenticated client. Requests may be issued concurrently from any task.
pub struct GatewayClient {
    url: String,
    out: mpsc::UnboundedSender<Message>,
    pending: Pending,
    /// Taken (closing the channel) when the connection ends, so subscribers see `Closed`.
    events: EventSlot,
    hello: Value,
    next: AtomicU64,
    timeout: Duration,
    io: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for GatewayClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayClient")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Drop for GatewayClient {
    fn drop(&mut self) {
        self.io.abort();
    }
}

/// The first text frame on `stream` that `pick` accepts, within `timeout`.
async fn next_frame<S>(
    stream: &mut S,
    timeout: Duration,
    mut pick: impl FnMut(&Value) -> bool,
) -> Result<Option<Value>, tokio::time::error::Elapsed>
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    tokio::time::timeout(timeout, async {
        while let Some(Ok(msg)) = stream.next().await {
            if let Message::Text(t) = msg {
                if let Ok(v) = serde_json::from_str::<Value>(&t) {
                    if pick(&v) {
                        return Some(v);
                    }
                }
            }
        }
        None
    })
    .await
}

impl GatewayClient {
    /// Connects and authenticates.
    pub async fn connect(opts: ConnectOptions) -> Result<Self, GatewayClientError> {
        let fail = |reason: String| GatewayClientError::Connect {
            url: opts.url.clone(),
            reason,
        };
        let (ws, _) = tokio::time::timeout(
            opts.timeout,
            tokio_tungstenite::connect_async(opts.url.as_str()),
        )
        .await
        .map_err(|_| fail(format!("timed out after {:?}", opts.timeout)))?
        .map_err(|e| fail(e.to_string()))?;
        let (mut sink, mut stream) = ws.split();
        // The challenge comes first.
        next_frame(&mut stream, opts.timeout, |v| {
            v.get("event").and_then(Value::as_str) == Some("connect.challenge")
        })
        .await
        .map_err(|_| fail("no connect.challenge".into()))?
        .ok_or_else(|| fail("closed before connect.challenge".into()))?;
        let mut auth = serde_json::Map::new();
        if let Some(t) = &opts.token {
            auth.insert("token".into(), json!(t));
        }
        if let Some(p) = &opts.password {
            auth.insert("password".into(), json!(p));
        }
        let connect = json!({"type": "req", "id": "connect", "method": "connect", "params": {
            "minProtocol": opts.min_protocol, "maxProtocol": opts.max_protocol,
            "client": {"id": opts.client_id, "version": env!("CARGO_PKG_VERSION"),
                "platform": std::env::consts::OS, "mode": opts.client_mode,
                "instanceId": uuid::Uuid::new_v4().to_string()},
            "caps": opts.caps, "auth": auth, "role": "operator", "scopes": opts.scopes}});
        sink.send(Message::text(connect.to_string()))
            .await
            .map_err(|e| fail(e.to_string()))?;
        let hello = next_frame(&mut stream, opts.timeout, |v| {
            v.get("type").and_then(Value::as_str) == Some("res")
        })
        .await
        .map_err(|_| GatewayClientError::Timeout {
            what: "connect".into(),
            after: opts.timeout,
        })?
        .ok_or(GatewayClientError::Closed)?;
        if hello.get("ok") != Some(&Value::Bool(true)) {
            return Err(GatewayClientError::refused(
                hello.get("error").cloned().unwrap_or(Value::Null),
            ));
        }
        let (out, out_rx) = mpsc::unbounded_channel::<Message>();
        let pending: Pending = Arc::default();
        let (sender, _) = broadcast::channel(EVENT_BACKLOG);
        let events: EventSlot = Arc::new(Mutex::new(Some(sender)));
        let io = tokio::spawn(pump(sink, stream, out_rx, pending.clone(), events.clone()));
        Ok(GatewayClient {
            url: opts.url,
            out,
            pending,
            events,
            hello: hello.get("payload").cloned().unwrap_or(Value::Null),
            next: AtomicU64::new(1),
            timeout: opts.timeout,
            io,
        })
    }

    /// The URL this client connected to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `hello-ok` payload.
    pub fn hello(&self) -> &Value {
        &self.hello
    }

    /// Every event frame (`{type:"event", event, payload, seq}`) from now on. A subscriber
    /// more than 4,096 frames behind gets `RecvError::Lagged` and continues with newer ones;
    /// once the connection has ended, `recv` returns `RecvError::Closed`.
    pub fn subscribe(&self) -> broadcast::Receiver<Value> {
        match &*openclaw_core::sync::lock(&self.events) {
            Some(sender) => sender.subscribe(),
            None => broadcast::channel(1).1,
        }
    }

    fn send(
        &self,
        method: &str,
        params: Option<Value>,
    ) -> (String, mpsc::UnboundedReceiver<Result<Value, Value>>) {
        let id = format!("{}", self.next.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = mpsc::unbounded_channel();
        openclaw_core::sync::lock(&self.pending).insert(id.clone(), tx);
        let mut frame = json!({"type": "req", "id": id, "method": method});
        if let Some(p) = params {
            frame["params"] = p;
        }
        let _ = self.out.send(Message::text(frame.to_string()));
        (id, rx)
    }

    async fn next_answer(
        &self,
        method: &str,
        rx: &mut mpsc::UnboundedReceiver<Result<Value, Value>>,
        timeout: Option<Duration>,
    ) -> Result<Value, GatewayClientError> {
        let got = match timeout {
            Some(after) => tokio::time::timeout(after, rx.recv()).await.map_err(|_| {
                GatewayClientError::Timeout {
                    what: method.to_owned(),
                    after,
                }
            })?,
            None => rx.recv().await,
        };
        match got {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(GatewayClientError::request(method, e)),
            None => Err(GatewayClientError::Closed),
        }
    }

    fn forget(&self, id: &str) {
        openclaw_core::sync::lock(&self.pending).remove(id);
    }

    /// Calls `method` and returns the first answer's payload.
    pub async fn call(
        &self,
        method: &str,
        params: Option<Value>,
    ) -> Result<Value, GatewayClientError> {
        let (id, mut rx) = self.send(method, params);
        let r = self.next_answer(method, &mut rx, Some(self.timeout)).await;
        self.forget(&id);
        r
    }

    /// Calls `method` and waits past an `{status:"accepted"}` answer for the final one.
    pub async fn call_expect_final(
        &self,
        method: &str,
        params: Option<Value>,
        timeout: Option<Duration>,
    ) -> Result<Value, GatewayClientError> {
        let (id, mut rx) = self.send(method, params);
        let r = async {
            loop {
                let v = self.next_answer(method, &mut rx, timeout).await?;
                if v.get("status").and_then(Value::as_str) != Some("accepted") {
                    return Ok(v);
                }
            }
        }
        .await;
        self.forget(&id);
        r
    }

    /// Closes the connection (a close frame, then the socket).
    pub async fn close(self) {
        let _ = self.out.send(Message::Close(None));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The connection's one I/O task: writes queued frames, routes `res` frames to their callers
/// and broadcasts `event` frames. Pings are answered by tungstenite itself.
async fn pump<K, S>(
    mut sink: K,
    mut stream: S,
    mut out_rx: mpsc::UnboundedReceiver<Message>,
    pending: Pending,
    events: EventSlot,
) where
    K: futures::Sink<Message> + Unpin,
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let Some(sender) = openclaw_core::sync::lock(&events).clone() else {
        return;
    };
    loop {
        tokio::select! {
            msg = out_rx.recv() => match msg {
                Some(m) => if sink.send(m).await.is_err() { break },
                None => { let _ = sink.close().await; break }
            },
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let Ok(v) = serde_json::from_str::<Value>(&t) else { continue };
                    match v.get("type").and_then(Value::as_str) {
                        Some("res") => {
                            let id = v.get("id").and_then(Value::as_str).unwrap_or_default();
                            let tx = openclaw_core::sync::lock(&pending).get(id).cloned();
                            if let Some(tx) = tx {
                                let r = if v.get("ok") == Some(&Value::Bool(true)) {
                                    Ok(v.get("payload").cloned().unwrap_or(Value::Null))
                                } else {
                                    Err(v.get("error").cloned().unwrap_or(Value::Null))
                                };
                                let _ = tx.send(r);
                            }
                        }
                        Some("event") => { let _ = sender.send(v); }
                        _ => {}
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
    // Dropping the senders wakes every waiting caller and subscriber with `Closed`.
    openclaw_core::sync::lock(&pending).clear();
    openclaw_core::sync::lock(&events).take();
}
