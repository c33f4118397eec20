//! A small typed client for the OpenClaw gateway WebSocket protocol: connect (wait for
//! `connect.challenge`, send `connect` with a token or password, read `hello-ok`), call
//! methods (including the "accepted, then final" double response), and receive events.
//! Used by `openclaw gateway status|call`, the benches and the tests.
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

/// Why a gateway call failed.
#[derive(Debug, thiserror::Error)]
pub enum GatewayClientError {
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("the gateway refused the connection: {code}: {message}")]
    Refused {
        code: String,
        message: String,
        error: Value,
    },
    /// A `res` with `ok:false`; `error` is the gateway's ErrorShape.
    #[error("{code}: {message}")]
    Request {
        code: String,
        message: String,
        error: Value,
    },
    #[error("the connection closed before the answer arrived")]
    Closed,
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl GatewayClientError {
    fn from_shape(error: Value, refused: bool) -> Self {
        let code = error
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or("UNKNOWN")
            .to_owned();
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if refused {
            GatewayClientError::Refused {
                code,
                message,
                error,
            }
        } else {
            GatewayClientError::Request {
                code,
                message,
                error,
            }
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
    pub client_id: String,
    pub client_mode: String,
    pub min_protocol: u32,
    pub max_protocol: u32,
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
}

type Pending = Arc<Mutex<HashMap<String, mpsc::UnboundedSender<Result<Value, Value>>>>>;

/// A connected, authenticated client.
pub struct GatewayClient {
    out: mpsc::UnboundedSender<Message>,
    pending: Pending,
    events: broadcast::Sender<Value>,
    hello: Value,
    next: AtomicU64,
    timeout: Duration,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for GatewayClient {
    fn drop(&mut self) {
        self.reader.abort();
    }
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
        .map_err(|_| fail("timed out".into()))?
        .map_err(|e| fail(e.to_string()))?;
        let (mut sink, mut stream) = ws.split();
        // The challenge comes first.
        let challenge = tokio::time::timeout(opts.timeout, async {
            while let Some(Ok(msg)) = stream.next().await {
                if let Message::Text(t) = msg {
                    if let Ok(v) = serde_json::from_str::<Value>(&t) {
                        if v.get("event").and_then(Value::as_str) == Some("connect.challenge") {
                            return Some(v);
                        }
                    }
                }
            }
            None
        })
        .await
        .map_err(|_| fail("no connect.challenge".into()))?;
        if challenge.is_none() {
            return Err(fail("closed before connect.challenge".into()));
        }
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
            "caps": [], "auth": auth, "role": "operator", "scopes": opts.scopes}});
        sink.send(Message::text(connect.to_string()))
            .await
            .map_err(|e| fail(e.to_string()))?;
        let hello = tokio::time::timeout(opts.timeout, async {
            while let Some(Ok(msg)) = stream.next().await {
                if let Message::Text(t) = msg {
                    if let Ok(v) = serde_json::from_str::<Value>(&t) {
                        if v.get("type").and_then(Value::as_str) == Some("res") {
                            return Some(v);
                        }
                    }
                }
            }
            None
        })
        .await
        .map_err(|_| fail("no answer to connect".into()))?
        .ok_or_else(|| fail("closed during connect".into()))?;
        if hello.get("ok") != Some(&Value::Bool(true)) {
            return Err(GatewayClientError::from_shape(
                hello.get("error").cloned().unwrap_or(Value::Null),
                true,
            ));
        }
        let (out, mut out_rx) = mpsc::unbounded_channel::<Message>();
        let pending: Pending = Arc::default();
        let (events, _) = broadcast::channel(1024);
        let (p2, e2) = (pending.clone(), events.clone());
        let reader = tokio::spawn(async move {
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
                                    let tx = p2.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned();
                                    if let Some(tx) = tx {
                                        let r = if v.get("ok") == Some(&Value::Bool(true)) {
                                            Ok(v.get("payload").cloned().unwrap_or(Value::Null))
                                        } else {
                                            Err(v.get("error").cloned().unwrap_or(Value::Null))
                                        };
                                        let _ = tx.send(r);
                                    }
                                }
                                Some("event") => { let _ = e2.send(v); }
                                _ => {}
                            }
                        }
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                        Some(Ok(_)) => {}
                    },
                }
            }
            p2.lock().unwrap_or_else(|p| p.into_inner()).clear();
        });
        Ok(GatewayClient {
            out,
            pending,
            events,
            hello: hello.get("payload").cloned().unwrap_or(Value::Null),
            next: AtomicU64::new(1),
            timeout: opts.timeout,
            reader,
        })
    }

    /// The `hello-ok` payload.
    pub fn hello(&self) -> &Value {
        &self.hello
    }

    /// Every event frame (`{type:"event", event, payload, seq}`) from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Value> {
        self.events.subscribe()
    }

    fn send(
        &self,
        method: &str,
        params: Option<Value>,
    ) -> (String, mpsc::UnboundedReceiver<Result<Value, Value>>) {
        let id = format!("{}", self.next.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = mpsc::unbounded_channel();
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.clone(), tx);
        let mut frame = json!({"type": "req", "id": id, "method": method});
        if let Some(p) = params {
            frame["params"] = p;
        }
        let _ = self.out.send(Message::text(frame.to_string()));
        (id, rx)
    }

    async fn next_answer(
        &self,
        rx: &mut mpsc::UnboundedReceiver<Result<Value, Value>>,
        timeout: Option<Duration>,
    ) -> Result<Value, GatewayClientError> {
        let got = match timeout {
            Some(t) => tokio::time::timeout(t, rx.recv())
                .await
                .map_err(|_| GatewayClientError::Timeout(t))?,
            None => rx.recv().await,
        };
        match got {
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(GatewayClientError::from_shape(e, false)),
            None => Err(GatewayClientError::Closed),
        }
    }

    /// Calls `method` and returns the first answer's payload.
    pub async fn call(
        &self,
        method: &str,
        params: Option<Value>,
    ) -> Result<Value, GatewayClientError> {
        let (id, mut rx) = self.send(method, params);
        let r = self.next_answer(&mut rx, Some(self.timeout)).await;
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
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
                let v = self.next_answer(&mut rx, timeout).await?;
                if v.get("status").and_then(Value::as_str) != Some("accepted") {
                    return Ok(v);
                }
            }
        }
        .await;
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        r
    }

    /// Closes the connection.
    pub async fn close(self) {
        let _ = self.out.send(Message::Close(None));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
