//! Helpers the gateway benches share: a free loopback port, a process's RSS, percentiles,
//! a child process killed on drop, waiting for a port to accept, starting fake_llm.py, the
//! gateway's config, spawning the gateway, one timed `chat.send`, and the fast in-process fake
//! model.

#![allow(dead_code)]

pub mod peer;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use openclaw_rpc::client::gateway::GatewayClient;
use serde_json::{Value, json};

/// The token the benches' gateways are configured with.
pub const TOKEN: &str = "bench-token-0123456789";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// `VmRSS` of `pid` in KiB (0 when it cannot be read).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// The `p` quantile (0..=1) of `v` (sorted in place); NaN when empty.
pub fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(((v.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

/// A child process killed and reaped when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (up to about 4 s) until something accepts on 127.0.0.1:`port`.
pub async fn wait_tcp(port: u16) -> bool {
    wait_tcp_for(port, Duration::from_secs(4)).await
}

/// Waits up to `limit` until something accepts on 127.0.0.1:`port`, polling every 200 µs.
pub async fn wait_tcp_for(port: u16, limit: Duration) -> bool {
    let t = Instant::now();
    while t.elapsed() < limit {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    false
}

/// The direct children of `pid` (over all its threads).
pub fn child_pids(pid: u32) -> Vec<u32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten();
    tasks
        .flat_map(|task| {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            children
                .split_whitespace()
                .filter_map(|c| c.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// `BENCH_CHATS`, else `default`.
pub fn bench_chats(default: usize) -> usize {
    std::env::var("BENCH_CHATS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A throwaway state dir whose config serves agent `main` from fake_llm.py at `fake_port`, and
/// a free port for the gateway (written into the config).
pub fn fake_llm_state(fake_port: u16) -> (tempfile::TempDir, u16) {
    let state = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    write_config(
        state.path(),
        port,
        json!({"fake": fake_provider(&format!("http://127.0.0.1:{fake_port}/v1"))}),
    );
    (state, port)
}

/// `shared/fake_llm.py`, found as the tests find it (`openclaw_core::testing::prereq`).
pub fn fake_llm_script() -> String {
    openclaw_core::testing::prereq::shared_dir()
        .expect("shared/ beside the repository (or OPENCLAW_SHARED_DIR)")
        .join("fake_llm.py")
        .to_string_lossy()
        .into_owned()
}

/// Starts fake_llm.py on a free port; returns it (killed on drop) and its port once it accepts.
pub async fn start_fake_llm() -> (Proc, u16) {
    let port = free_port();
    let child = Command::new("python3")
        .arg(fake_llm_script())
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("fake_llm.py");
    let proc = Proc(child);
    wait_tcp(port).await;
    (proc, port)
}

/// Spawns `bin gateway run` over the state dir `state` (its `openclaw.json`), output discarded;
/// `wrap` is a command line to run it under (e.g. heaptrack), empty for none. The benches open
/// up to 200 connections at once, within the default bounds on sockets waiting for auth (1,024
/// in all, 256 from one address), so they run the gateway as configured by default.
pub fn spawn_gateway(bin: &Path, state: &Path, wrap: &[String]) -> Child {
    let mut argv: Vec<String> = wrap.to_vec();
    argv.push(bin.to_string_lossy().into_owned());
    Command::new(&argv[0])
        .args(&argv[1..])
        .args(["gateway", "run"])
        .env("OPENCLAW_STATE_DIR", state)
        .env_remove("OPENCLAW_CONFIG_PATH")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the gateway")
}

/// The `openclaw` binary under test: `OPENCLAW_BIN`, else the release build. `None` (after
/// saying SKIP and how to build it) when it is missing.
pub fn gateway_bin() -> Option<std::path::PathBuf> {
    let bin = std::env::var("OPENCLAW_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/openclaw"));
    if bin.exists() {
        return Some(bin);
    }
    eprintln!(
        "SKIP: {} missing (cargo build --release -p openclaw-cli)",
        bin.display()
    );
    None
}

/// A provider entry for a fake model server at `base_url` (an OpenAI-compatible `/v1`).
pub fn fake_provider(base_url: &str) -> Value {
    json!({"baseUrl": base_url, "apiKey": "fake", "api": "openai-completions",
        "models": [{"id": "fake-model", "name": "Fake", "contextWindow": 128000}]})
}

/// Writes `state/openclaw.json`: loopback on `port`, token auth, agent `main` on
/// `fake/fake-model`, and `providers` (which must include `fake`).
pub fn write_config(state: &Path, port: u16, providers: Value) {
    let config = json!({
        "gateway": {"port": port, "bind": "loopback", "auth": {"mode": "token", "token": TOKEN}},
        "agents": {"defaults": {"model": {"primary": "fake/fake-model"}},
            "list": [{"id": "main", "default": true}]},
        "models": {"providers": providers},
        // The benches measure the gateway, not the approval flow: their bash commands run as
        // they did before exec approvals existed (the default for a new install is `ask`).
        "tools": {"exec": {"mode": "full"}},
    });
    std::fs::write(state.join("openclaw.json"), config.to_string()).expect("config");
}

/// One `chat.send` of `message` on `key` with idempotency key `run_id`; returns the time to the
/// run's final (or aborted / error) `chat` event.
pub async fn chat(c: &GatewayClient, key: &str, message: &str, run_id: &str) -> Duration {
    let mut events = c.subscribe();
    let t = Instant::now();
    c.call(
        "chat.send",
        Some(json!({"sessionKey": key, "message": message, "idempotencyKey": run_id})),
    )
    .await
    .expect("chat.send");
    loop {
        match events.recv().await {
            Ok(f) if f["event"] == "chat" && f["payload"]["runId"] == run_id => {
                let s = f["payload"]["state"].as_str().unwrap_or("");
                if ["final", "aborted", "error"].contains(&s) {
                    return t.elapsed();
                }
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(_) => return t.elapsed(),
        }
    }
}

/// The fast fake model: openclaw-core's `testing` SSE server on its own thread (one-thread
/// runtime, as a separate server process would be), answering every OpenAI chat-completions
/// request with fake_llm.py's answer to a plain text prompt: `echo: <last user text>` in the
/// same chunks (role, `echo: `, the text, `stop`, usage when asked, `[DONE]`). Returns its URL.
pub fn start_rust_fake() -> String {
    use openclaw_core::testing::sse_server::{Reply, SseServer};
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("rust-fake".into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let server = SseServer::start_fn(|req| {
                let body = req.json();
                let text = body["messages"]
                    .as_array()
                    .and_then(|m| m.last())
                    .map(|m| match &m["content"] {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Array(parts) => parts
                            .iter()
                            .filter_map(|p| p["text"].as_str())
                            .collect::<Vec<_>>()
                            .join("\n"),
                        _ => String::new(),
                    })
                    .unwrap_or_default();
                let model = body["model"].as_str().unwrap_or("fake-model");
                let base = |choices: serde_json::Value| {
                    json!({"id": "chatcmpl-rustfake0001", "object": "chat.completion.chunk",
                        "created": 1_700_000_000u64, "model": model, "choices": choices})
                };
                let delta = |d: serde_json::Value, finish: Option<&str>| {
                    base(json!([{"index": 0, "delta": d, "finish_reason": finish}]))
                };
                let mut events = vec![
                    delta(json!({"role": "assistant", "content": ""}), None),
                    delta(json!({"content": "echo: "}), None),
                    delta(json!({"content": text}), None),
                    delta(json!({}), Some("stop")),
                ];
                if body["stream_options"]["include_usage"] == true {
                    let mut u = base(json!([]));
                    u["usage"] =
                        json!({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15});
                    events.push(u);
                }
                let mut out: Vec<Vec<u8>> = events
                    .iter()
                    .map(|e| format!("data: {e}\n\n").into_bytes())
                    .collect();
                out.push(b"data: [DONE]\n\n".to_vec());
                Reply::sse(out)
            })
            .await
            .expect("start the Rust fake model");
                let _ = tx.send(server.url());
                futures::future::pending::<()>().await;
            });
        });
    spawned.expect("spawn the Rust fake model's thread");
    rx.recv().expect("the Rust fake model's URL")
}
