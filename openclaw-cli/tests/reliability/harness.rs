//! What the reliability tests share: a state dir with a config, the fake model, the gateway
//! process (killed on drop), a connected client, one chat turn, and the `openclaw` CLI.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use openclaw_core::testing::sse_server::{Reply, SseServer};
use openclaw_rpc::client::gateway::{ConnectOptions, GatewayClient};
use serde_json::{Value, json};

pub const TOKEN: &str = "reliability-token-0123456789";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_openclaw")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The fake model: answers `echo: <last user text>`, streamed as `pieces` chunks `delay` apart.
pub async fn fake_model(pieces: usize, delay: Duration) -> SseServer {
    SseServer::start_fn(move |req| {
        let body = req.json();
        let text = body["messages"]
            .as_array()
            .and_then(|m| m.last())
            .map(|m| match &m["content"] {
                Value::String(s) => s.clone(),
                Value::Array(parts) => parts
                    .iter()
                    .filter_map(|p| p["text"].as_str())
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => String::new(),
            })
            .unwrap_or_default();
        let chunk = |d: Value, finish: Option<&str>| {
            let e = json!({"id": "c1", "object": "chat.completion.chunk", "created": 1,
                "model": "fake-model", "choices": [{"index": 0, "delta": d, "finish_reason": finish}]});
            format!("data: {e}\n\n").into_bytes()
        };
        let mut chunks = vec![chunk(json!({"role": "assistant", "content": "echo: "}), None)];
        let chars: Vec<char> = text.chars().collect();
        let per = chars.len().div_ceil(pieces.max(1)).max(1);
        for part in chars.chunks(per) {
            chunks.push(chunk(json!({"content": part.iter().collect::<String>()}), None));
        }
        chunks.push(chunk(json!({}), Some("stop")));
        chunks.push(b"data: [DONE]\n\n".to_vec());
        Reply::Sse {
            chunks,
            delay,
            hold_open: false,
        }
    })
    .await
    .expect("the fake model")
}

/// A state dir whose `openclaw.json` serves agent `main` from `model_url` on `port`.
pub fn state_dir(model_url: &str, port: u16) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = json!({
        "gateway": {"port": port, "bind": "loopback", "auth": {"mode": "token", "token": TOKEN}},
        "agents": {"defaults": {"model": {"primary": "fake/fake-model"}, "skipBootstrap": true},
            "list": [{"id": "main", "default": true, "workspace": dir.path().join("ws")}]},
        "models": {"providers": {"fake": {"baseUrl": model_url, "apiKey": "fake",
            "api": "openai-completions",
            "models": [{"id": "fake-model", "name": "Fake", "contextWindow": 128000}]}}},
    });
    std::fs::write(dir.path().join("openclaw.json"), config.to_string()).expect("config");
    dir
}

fn cmd(state: &Path) -> Command {
    let mut c = Command::new(bin());
    c.env("OPENCLAW_STATE_DIR", state)
        .env("HOME", state)
        .env_remove("OPENCLAW_CONFIG_PATH")
        .env_remove("OPENCLAW_GATEWAY_TOKEN");
    c
}

/// A running `openclaw gateway run`, killed (SIGKILL) and reaped on drop.
pub struct Gateway {
    pub child: Child,
    pub port: u16,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Gateway {
    /// Starts the gateway over `state` on `port` and waits until it accepts.
    pub async fn start(state: &Path, port: u16) -> Gateway {
        let child = cmd(state)
            .args(["gateway", "run", "--port", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the gateway");
        let mut g = Gateway { child, port };
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(20) {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return g;
            }
            if let Ok(Some(status)) = g.child.try_wait() {
                panic!("the gateway exited at start: {status}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the gateway did not listen on {port}");
    }

    pub async fn client(&self) -> GatewayClient {
        let url = format!("ws://127.0.0.1:{}", self.port);
        GatewayClient::connect(ConnectOptions::new(url).token(TOKEN))
            .await
            .expect("connect")
    }

    /// `kill -9`.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `openclaw <args>` over `state` to its end.
pub fn cli(state: &Path, args: &[&str]) -> Output {
    cmd(state).args(args).output().expect("run openclaw")
}

/// Runs `openclaw gateway run` expecting it to exit (within 20 s); its output.
pub fn gateway_exits(state: &Path, port: u16) -> Output {
    let mut child = cmd(state)
        .args(["gateway", "run", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the gateway");
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        if let Ok(Some(_)) = child.try_wait() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the gateway did not exit");
}

/// One `chat.send` on `key`; the final `chat` event's state (`final`, `error`, …).
pub async fn turn(c: &GatewayClient, key: &str, message: &str, run_id: &str) -> String {
    let mut events = c.subscribe();
    c.call(
        "chat.send",
        Some(json!({"sessionKey": key, "message": message, "idempotencyKey": run_id})),
    )
    .await
    .expect("chat.send");
    let wait = async {
        loop {
            match events.recv().await {
                Ok(f) if f["event"] == "chat" && f["payload"]["runId"] == run_id => {
                    let s = f["payload"]["state"].as_str().unwrap_or("").to_owned();
                    if ["final", "aborted", "error"].contains(&s.as_str()) {
                        return s;
                    }
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return "closed".to_owned(),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .unwrap_or_else(|_| "timeout".into())
}

/// The transcript file the index names for `key` (read with the CLI's own store).
pub fn transcript_of(state: &Path, key: &str) -> Option<PathBuf> {
    use openclaw_state::StateStore;
    let store = openclaw_state::SqliteStore::open(state).expect("the state database");
    let row = store.session(key).expect("read")?;
    store.transcript_path(&row)
}
