//! A small OpenClaw gateway WebSocket client: the `connect.challenge` → `connect` handshake
//! with a shared token, requests matched to responses by id, and events on a channel.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Protocol versions this client speaks.
const MIN_PROTOCOL: u64 = 3;
const MAX_PROTOCOL: u64 = 4;

/// Why talking to the gateway failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    #[error("cannot reach the gateway at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("the gateway refused the connection: {0}")]
    Rejected(String),
    #[error("{method} failed: {code}: {message}")]
    Request {
        method: String,
        code: String,
        message: String,
    },
    #[error("the gateway did not answer {0} in time")]
    Timeout(String),
    #[error("the gateway connection closed")]
    Closed,
}

/// How this client introduces itself.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub token: Option<String>,
    /// `client.id`: `cli`, `openclaw-tui`, `gateway-client`.
    pub client_id: String,
    /// `client.mode`: `cli`, `ui`, `backend`, `probe`.
    pub mode: String,
    pub scopes: Vec<String>,
    pub caps: Vec<String>,
}

impl ConnectOptions {
    /// A read-only CLI connection.
    pub fn cli(token: Option<String>) -> Self {
        ConnectOptions {
            token,
            client_id: "cli".into(),
            mode: "cli".into(),
            scopes: vec!["operator.read".into()],
            caps: Vec::new(),
        }
    }
}

/// An event frame: `{type:"event", event, payload}`.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayEvent {
    pub event: String,
    pub payload: Value,
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Result<Value, GatewayError>>>>>;

/// A connected gateway.
#[derive(Debug, Clone)]
pub struct GatewayClient {
    url: String,
    out: mpsc::UnboundedSender<WsMessage>,
    pending: Pending,
    next: Arc<AtomicU64>,
    /// The `hello-ok` payload.
    pub hello: Value,
}

fn frame_error(v: &Value) -> (String, String) {
    let err = v.get("error").cloned().unwrap_or(Value::Null);
    let code = err
        .pointer("/details/code")
        .or_else(|| err.get("code"))
        .and_then(Value::as_str)
        .unwrap_or("ERROR")
        .to_string();
    let message = err
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("request failed")
        .to_string();
    (code, message)
}

impl GatewayClient {
    /// Connects, authenticates and returns the client plus its event stream.
    pub async fn connect(
        url: &str,
        opts: ConnectOptions,
    ) -> Result<(GatewayClient, mpsc::UnboundedReceiver<GatewayEvent>), GatewayError> {
        let unreachable = |reason: String| GatewayError::Unreachable {
            url: url.to_string(),
            reason,
        };
        let (ws, _) = tokio::time::timeout(
            Duration::from_secs(5),
            tokio_tungstenite::connect_async(url),
        )
        .await
        .map_err(|_| unreachable("timed out after 5s".into()))?
        .map_err(|e| unreachable(e.to_string()))?;
        let (mut sink, mut stream) = ws.split();

        // The server opens with a challenge; wait briefly for it.
        let mut nonce = None;
        if let Ok(Some(Ok(WsMessage::Text(t)))) =
            tokio::time::timeout(Duration::from_secs(3), stream.next()).await
        {
            if let Ok(v) = serde_json::from_str::<Value>(&t) {
                nonce = v
                    .pointer("/payload/nonce")
                    .and_then(Value::as_str)
                    .map(str::to_string);
            }
        }
        let _ = nonce;
        let mut params = json!({
            "minProtocol": MIN_PROTOCOL,
            "maxProtocol": MAX_PROTOCOL,
            "client": {
                "id": opts.client_id,
                "version": env!("CARGO_PKG_VERSION"),
                "platform": std::env::consts::OS,
                "mode": opts.mode,
                "instanceId": uuid::Uuid::new_v4().to_string(),
            },
            "caps": opts.caps,
            "role": "operator",
            "scopes": opts.scopes,
        });
        if let Some(t) = &opts.token {
            params["auth"] = json!({ "token": t });
        }
        let id = format!("1:{}", uuid::Uuid::new_v4());
        let req = json!({"type": "req", "id": id, "method": "connect", "params": params});
        sink.send(WsMessage::Text(req.to_string().into()))
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let hello = loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .map_err(|_| GatewayError::Timeout("connect".into()))?;
            match msg {
                Some(Ok(WsMessage::Text(t))) => {
                    let Ok(v) = serde_json::from_str::<Value>(&t) else {
                        continue;
                    };
                    if v.get("type").and_then(Value::as_str) == Some("res")
                        && v.get("id").and_then(Value::as_str) == Some(id.as_str())
                    {
                        if v.get("ok").and_then(Value::as_bool) == Some(true) {
                            break v.get("payload").cloned().unwrap_or(Value::Null);
                        }
                        let (code, message) = frame_error(&v);
                        return Err(GatewayError::Rejected(format!("{code}: {message}")));
                    }
                }
                Some(Ok(WsMessage::Close(c))) => {
                    let reason = c.map(|c| c.reason.to_string()).unwrap_or_default();
                    return Err(GatewayError::Rejected(if reason.is_empty() {
                        "closed during handshake".into()
                    } else {
                        reason
                    }));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(unreachable(e.to_string())),
                None => return Err(GatewayError::Closed),
            }
        };

        let (out_tx, mut out_rx) = mpsc::unbounded_channel::<WsMessage>();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
        tokio::spawn(async move {
            while let Some(m) = out_rx.recv().await {
                if sink.send(m).await.is_err() {
                    break;
                }
            }
        });
        let p2 = pending.clone();
        let pong_tx = out_tx.clone();
        tokio::spawn(async move {
            while let Some(msg) = stream.next().await {
                let text = match msg {
                    Ok(WsMessage::Text(t)) => t,
                    Ok(WsMessage::Ping(d)) => {
                        let _ = pong_tx.send(WsMessage::Pong(d));
                        continue;
                    }
                    Ok(WsMessage::Close(_)) | Err(_) => break,
                    Ok(_) => continue,
                };
                let Ok(v) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                match v.get("type").and_then(Value::as_str) {
                    Some("res") => {
                        let id = v
                            .get("id")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string();
                        let waiter = p2.lock().ok().and_then(|mut m| m.remove(&id));
                        if let Some(w) = waiter {
                            let r = if v.get("ok").and_then(Value::as_bool) == Some(true) {
                                Ok(v.get("payload").cloned().unwrap_or(Value::Null))
                            } else {
                                let (code, message) = frame_error(&v);
                                Err(GatewayError::Request {
                                    method: String::new(),
                                    code,
                                    message,
                                })
                            };
                            let _ = w.send(r);
                        }
                    }
                    Some("event") => {
                        let event = v
                            .get("event")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string();
                        let payload = v.get("payload").cloned().unwrap_or(Value::Null);
                        if ev_tx.send(GatewayEvent { event, payload }).is_err() {
                            // Nobody listens; keep serving responses.
                        }
                    }
                    _ => {}
                }
            }
            if let Ok(mut m) = p2.lock() {
                for (_, w) in m.drain() {
                    let _ = w.send(Err(GatewayError::Closed));
                }
            }
        });
        Ok((
            GatewayClient {
                url: url.to_string(),
                out: out_tx,
                pending,
                next: Arc::new(AtomicU64::new(2)),
                hello,
            },
            ev_rx,
        ))
    }

    /// The URL this client is connected to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends a request and waits (up to 60 s) for its response payload.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, GatewayError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = format!("{n}:{}", uuid::Uuid::new_v4());
        let (tx, rx) = oneshot::channel();
        if let Ok(mut m) = self.pending.lock() {
            m.insert(id.clone(), tx);
        }
        let frame = json!({"type": "req", "id": id, "method": method, "params": params});
        self.out
            .send(WsMessage::Text(frame.to_string().into()))
            .map_err(|_| GatewayError::Closed)?;
        match tokio::time::timeout(Duration::from_secs(60), rx).await {
            Err(_) => Err(GatewayError::Timeout(method.to_string())),
            Ok(Err(_)) => Err(GatewayError::Closed),
            Ok(Ok(Err(GatewayError::Request { code, message, .. }))) => {
                Err(GatewayError::Request {
                    method: method.to_string(),
                    code,
                    message,
                })
            }
            Ok(Ok(r)) => r,
        }
    }

    /// Closes the connection.
    pub fn close(&self) {
        let _ = self.out.send(WsMessage::Close(None));
    }
}
