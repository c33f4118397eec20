//! Streaming cost benchmark: starts `openclaw gateway run` with the fake model
//! (`shared/fake_llm.py`, whose `stream N` answers N tokens, one SSE chunk each, and `slow MS`
//! waits between chunks) and measures over a raw WebSocket (every text frame's bytes):
//!   1. wire bytes a client receives for one long reply (3,000 tokens), against the reply's
//!      own size — fast (the model streams as fast as it can) and slow (2 ms per token);
//!   2. the `chat.send` ack latency on a connection that is already receiving six such
//!      replies at once (the ack is the call's first `res`).
//!
//!   cargo build --release -p openclaw-cli && cargo bench --bench gateway_stream
//!
//! Env: OPENCLAW_BIN (default target/release/openclaw), FAKE_LLM, BENCH_QUICK=1 (fewer rounds).

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

mod support;
use support::{
    Proc, TOKEN, fake_llm_state, gateway_bin, pct, spawn_gateway, start_fake_llm, wait_tcp,
};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A raw protocol client that counts the bytes of every text frame it receives.
struct Raw {
    ws: Ws,
    n: u64,
    bytes: u64,
}

impl Raw {
    async fn connect(port: u16) -> Raw {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}"))
            .await
            .expect("ws connect");
        let mut raw = Raw { ws, n: 0, bytes: 0 };
        raw.next().await.expect("connect.challenge");
        let params = json!({"minProtocol": 3, "maxProtocol": 4,
            "client": {"id": "cli", "version": "2026.9.6", "platform": "linux", "mode": "cli"},
            "role": "operator", "scopes": ["operator.read", "operator.write"], "caps": [],
            "auth": {"token": TOKEN}});
        let id = raw.send("connect", params).await;
        raw.until(|f| f["type"] == "res" && f["id"] == id)
            .await
            .expect("hello");
        raw
    }

    async fn send(&mut self, method: &str, params: Value) -> String {
        self.n += 1;
        let id = format!("b{}", self.n);
        let frame = json!({"type": "req", "id": id, "method": method, "params": params});
        self.ws
            .send(Message::text(frame.to_string()))
            .await
            .expect("send");
        id
    }

    /// The next text frame; `None` once the socket ended.
    async fn next(&mut self) -> Option<Value> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    self.bytes += t.len() as u64;
                    if std::env::var("BENCH_TRACE").is_ok() {
                        println!("  {:>7} B {}", t.len(), &t.as_str()[..t.len().min(150)]);
                    }
                    return serde_json::from_str(t.as_str()).ok();
                }
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    }

    async fn until(&mut self, mut done: impl FnMut(&Value) -> bool) -> Option<Value> {
        loop {
            let f = self.next().await?;
            if done(&f) {
                return Some(f);
            }
        }
    }
}

fn is_terminal(f: &Value, run_id: &str) -> bool {
    f["event"] == "chat"
        && f["payload"]["runId"] == run_id
        && ["final", "aborted", "error"].contains(&f["payload"]["state"].as_str().unwrap_or(""))
}

/// Bytes received for one reply to `message`, the reply's length and the frame count.
async fn reply_cost(c: &mut Raw, key: &str, message: &str, run_id: &str) -> (u64, usize, usize) {
    let before = c.bytes;
    c.send(
        "chat.send",
        json!({"sessionKey": key, "message": message, "idempotencyKey": run_id}),
    )
    .await;
    let mut frames = 0;
    let fin = c
        .until(|f| {
            frames += 1;
            is_terminal(f, run_id)
        })
        .await
        .expect("the reply's final event");
    let text = fin["payload"]["message"]["content"][0]["text"]
        .as_str()
        .unwrap_or("")
        .len();
    (c.bytes - before, text, frames)
}

/// The ack latency of a `chat.send` while six long replies stream to the same connection;
/// `None` when the gateway dropped the connection instead.
async fn ack_under_flood(port: u16, round: usize) -> Option<Duration> {
    let mut c = Raw::connect(port).await;
    for i in 0..6 {
        c.send(
            "chat.send",
            json!({"sessionKey": format!("flood-{round}-{i}"), "message": "stream 3000",
                   "idempotencyKey": format!("flood-{round}-{i}")}),
        )
        .await;
    }
    // Let the six get going: wait for streamed text of the first.
    c.until(|f| f["event"] == "agent" && f["payload"]["stream"] == "assistant")
        .await?;
    let t = Instant::now();
    let id = c
        .send(
            "chat.send",
            json!({"sessionKey": format!("probe-{round}"), "message": "hello",
                   "idempotencyKey": format!("probe-{round}")}),
        )
        .await;
    c.until(|f| f["type"] == "res" && f["id"] == id).await?;
    let ack = t.elapsed();
    // Drain the floods so the next round starts quiet.
    let mut open: std::collections::HashSet<String> =
        (0..6).map(|i| format!("flood-{round}-{i}")).collect();
    open.insert(format!("probe-{round}"));
    while !open.is_empty() {
        let f = c.next().await?;
        if let Some(r) = f["payload"]["runId"].as_str()
            && is_terminal(&f, r)
        {
            open.remove(r);
        }
    }
    Some(ack)
}

#[tokio::main]
async fn main() {
    let Some(bin) = gateway_bin() else { return };
    let quick = std::env::var("BENCH_QUICK").is_ok();
    let (_fake, fake_port): (Proc, u16) = start_fake_llm().await;
    let (state, port) = fake_llm_state(fake_port);
    let _gw = Proc(spawn_gateway(&bin, state.path(), &[]));
    assert!(wait_tcp(port).await, "the gateway did not start");

    let mut c = Raw::connect(port).await;
    // Warm up the engine of each key.
    reply_cost(&mut c, "fast", "hello", "warm-fast").await;
    reply_cost(&mut c, "slow", "hello", "warm-slow").await;
    for (key, message) in [("fast", "stream 3000"), ("slow", "stream 3000 slow 2")] {
        let (bytes, text, frames) = reply_cost(&mut c, key, message, &format!("{key}-1")).await;
        println!(
            "reply of 3000 tokens ({key}): {text} B of text, {bytes} B on the wire in {frames} frames = {:.2}x",
            bytes as f64 / text.max(1) as f64
        );
    }
    let rounds = if quick { 3 } else { 10 };
    let mut acks = Vec::new();
    let mut dropped = 0;
    for round in 0..rounds {
        match ack_under_flood(port, round).await {
            Some(ack) => acks.push(ack.as_secs_f64() * 1000.0),
            None => dropped += 1,
        }
    }
    println!(
        "chat.send ack while 6 replies of 3000 tokens stream to the same connection: p50 {:.1} ms, max {:.1} ms ({} rounds; {dropped} more where the gateway dropped the connection)",
        pct(&mut acks, 0.5),
        pct(&mut acks, 1.0),
        acks.len()
    );
}
