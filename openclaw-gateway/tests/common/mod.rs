//! Test support for the gateway tests: start a gateway on a free loopback port over a temp
//! state dir, and a small tokio-tungstenite client that speaks the protocol.
#![allow(dead_code)]

pub mod fake;
pub mod model;
pub mod secure;
pub mod telegram;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use openclaw_gateway::{ConfigSource, Gateway, GatewayBackend, GatewayOptions, Limits};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const TOKEN: &str = "test-token-0123456789";

pub struct TestGateway {
    pub gateway: Gateway,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
}

impl TestGateway {
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    pub fn state(&self) -> PathBuf {
        self.dir.path().to_owned()
    }
}

pub struct Setup {
    pub config: Value,
    pub limits: Limits,
    pub backend: Option<Arc<dyn GatewayBackend>>,
    /// Serve the agent engine (`AgentHost`) over the same state dir as the config file.
    pub engine: bool,
    pub loopback_is_local: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            config: json!({
                "gateway": {"auth": {"mode": "token", "token": TOKEN}},
                "agents": {"list": [{"id": "main", "default": true}, {"id": "helper", "name": "Helper",
                           "identity": {"name": "Hal", "emoji": "🤖"}}]},
                "models": {"providers": {"fake": {"baseUrl": "http://127.0.0.1:1/v1", "apiKey": "sk-secret-key", "api": "openai-completions",
                           "models": [{"id": "fake-model", "name": "Fake Model", "contextWindow": 128000}]}}},
            }),
            limits: Limits::default(),
            backend: None,
            engine: false,
            loopback_is_local: true,
        }
    }
}

pub async fn start(setup: Setup) -> TestGateway {
    start_setup_in(setup, tempfile::tempdir().expect("tempdir")).await
}

/// The operator scopes of an admin client.
#[allow(dead_code)]
pub const ADMIN: &[&str] = &["operator.read", "operator.write", "operator.admin"];

/// A gateway with the agent-backed engine over `config`.
#[allow(dead_code)]
pub async fn start_engine(config: Value) -> TestGateway {
    start(Setup {
        config,
        engine: true,
        ..Setup::default()
    })
    .await
}

/// A default gateway over an existing state dir (a restart).
pub async fn start_in(dir: tempfile::TempDir) -> TestGateway {
    start_setup_in(Setup::default(), dir).await
}

pub async fn start_setup_in(setup: Setup, dir: tempfile::TempDir) -> TestGateway {
    let path = dir.path().join("openclaw.json");
    let raw = serde_json::to_string_pretty(&setup.config).unwrap();
    std::fs::write(&path, &raw).unwrap();
    let source = ConfigSource {
        path,
        raw: Some(raw),
        value: setup.config,
    };
    let mut opts =
        GatewayOptions::from_source(source, dir.path().to_owned(), &|_| None).expect("options");
    opts.config.port = 0;
    opts.limits = setup.limits;
    opts.loopback_is_local = setup.loopback_is_local;
    if let Some(b) = setup.backend {
        opts.backend = b;
    }
    if setup.engine {
        opts = openclaw_gateway::agent_host::with_engine(opts).expect("agent host");
    }
    let gateway = Gateway::start(opts).await.expect("gateway starts");
    let addr = gateway.local_addr();
    TestGateway { gateway, addr, dir }
}

pub async fn start_default() -> TestGateway {
    start(Setup::default()).await
}

pub fn connect_params(token: Option<&str>, scopes: &[&str], min: u32, max: u32) -> Value {
    let mut p = json!({"minProtocol": min, "maxProtocol": max,
        "client": {"id": "cli", "version": "2026.9.6", "platform": "linux", "deviceFamily": "Linux",
                   "mode": "cli", "instanceId": "7c1f3e0a-0000-4000-8000-000000000001"},
        "caps": [], "role": "operator", "scopes": scopes});
    if let Some(t) = token {
        p["auth"] = json!({"token": t});
    }
    p
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    n: u64,
    /// Frames received while waiting for something else.
    pub backlog: Vec<Value>,
    pub close: Option<(u16, String)>,
    /// Bytes of every text frame received so far.
    pub bytes: u64,
}

const WAIT: Duration = Duration::from_secs(5);

impl Client {
    pub async fn open(tg: &TestGateway) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(tg.url())
            .await
            .expect("ws connect");
        Client {
            ws,
            n: 0,
            backlog: Vec::new(),
            close: None,
            bytes: 0,
        }
    }

    /// Wraps an already-open socket.
    pub fn from_ws(ws: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Client {
        Client {
            ws,
            n: 0,
            backlog: Vec::new(),
            close: None,
            bytes: 0,
        }
    }

    /// Opens, waits for the challenge and connects with the shared token and `scopes`.
    pub async fn connected(tg: &TestGateway, scopes: &[&str]) -> (Client, Value) {
        let mut c = Client::open(tg).await;
        c.challenge().await;
        let res = c
            .request("connect", Some(connect_params(Some(TOKEN), scopes, 4, 4)))
            .await;
        assert_eq!(res["ok"], true, "connect failed: {res}");
        let hello = res["payload"].clone();
        (c, hello)
    }

    pub async fn send_text(&mut self, text: String) {
        self.ws.send(Message::text(text)).await.expect("send");
    }

    /// The next text frame as JSON; `None` once the socket is closed (close code recorded).
    pub async fn next(&mut self) -> Option<Value> {
        self.next_within(WAIT).await
    }

    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(wait, self.ws.next())
                .await
                .expect("timed out waiting for a frame");
            match msg {
                Some(Ok(Message::Text(t))) => {
                    self.bytes += t.len() as u64;
                    return Some(serde_json::from_str(t.as_str()).expect("server sent JSON"));
                }
                Some(Ok(Message::Close(frame))) => {
                    self.close = Some(
                        frame
                            .map(|f| (u16::from(f.code), f.reason.to_string()))
                            .unwrap_or((1005, String::new())),
                    );
                    return None;
                }
                Some(Ok(Message::Binary(_))) => panic!("server sent a binary frame"),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => {
                    self.close.get_or_insert((1006, String::new()));
                    return None;
                }
            }
        }
    }

    pub async fn challenge(&mut self) -> Value {
        let f = self.next().await.expect("challenge");
        assert_eq!(f["event"], "connect.challenge", "first frame: {f}");
        assert!(f.get("seq").is_none());
        f["payload"].clone()
    }

    pub async fn send_request(&mut self, method: &str, params: Option<Value>) -> String {
        self.n += 1;
        let id = format!("{}:{}", self.n, method);
        let mut frame = json!({"type": "req", "id": id, "method": method});
        if let Some(p) = params {
            frame["params"] = p;
        }
        self.send_text(frame.to_string()).await;
        id
    }

    /// Waits for the `res` with `id`, keeping events in the backlog.
    pub async fn response(&mut self, id: &str) -> Value {
        loop {
            let f = self
                .next()
                .await
                .unwrap_or_else(|| panic!("closed {:?} while waiting for {id}", self.close));
            if f["type"] == "res" && f["id"] == id {
                return f;
            }
            self.backlog.push(f);
        }
    }

    /// The next `res` frame, whatever its id (events go to the backlog).
    pub async fn next_response(&mut self) -> Value {
        loop {
            let f = self
                .next()
                .await
                .unwrap_or_else(|| panic!("closed {:?} while waiting for a res", self.close));
            if f["type"] == "res" {
                return f;
            }
            self.backlog.push(f);
        }
    }

    pub async fn request(&mut self, method: &str, params: Option<Value>) -> Value {
        let id = self.send_request(method, params).await;
        self.response(&id).await
    }

    /// Requests and asserts success, returning the payload.
    pub async fn ok(&mut self, method: &str, params: Value) -> Value {
        let res = self.request(method, Some(params)).await;
        assert_eq!(res["ok"], true, "{method} failed: {res}");
        res["payload"].clone()
    }

    /// Requests and asserts failure, returning the error.
    pub async fn err(&mut self, method: &str, params: Value) -> Value {
        let res = self.request(method, Some(params)).await;
        assert_eq!(res["ok"], false, "{method} unexpectedly succeeded: {res}");
        res["error"].clone()
    }

    /// Waits for an event by name (looking at the backlog first).
    pub async fn event(&mut self, name: &str) -> Value {
        if let Some(i) = self
            .backlog
            .iter()
            .position(|f| f["type"] == "event" && f["event"] == name)
        {
            return self.backlog.remove(i);
        }
        loop {
            let f = self
                .next()
                .await
                .unwrap_or_else(|| panic!("closed while waiting for event {name}"));
            if f["type"] == "event" && f["event"] == name {
                return f;
            }
            self.backlog.push(f);
        }
    }

    /// Reads until the server closes; returns the close code and reason.
    pub async fn closed(&mut self) -> (u16, String) {
        while self.close.is_none() {
            if self.next().await.is_none() {
                break;
            }
        }
        self.close.clone().unwrap_or((1006, String::new()))
    }
}

/// An approval client: declares the `exec-approvals` cap, holds `scopes`, and is named
/// `approver-test` (its `resolvedBy`).
pub async fn approval_client(tg: &TestGateway, scopes: &[&str]) -> Client {
    let mut c = Client::open(tg).await;
    c.challenge().await;
    let mut p = connect_params(Some(TOKEN), scopes, 4, 4);
    p["caps"] = json!(["exec-approvals"]);
    p["client"]["displayName"] = json!("approver-test");
    let res = c.request("connect", Some(p)).await;
    assert_eq!(res["ok"], true, "{res}");
    c
}
