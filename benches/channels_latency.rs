//! Telegram channel benchmark: `openclaw gateway run` (release build by default) with the fake
//! Telegram Bot API (openclaw-channels' test support, in this process) and the fast in-process
//! fake model. Measures inbound message → first reply chunk sent (`sendMessage` received by the
//! fake), p50/p99 over 1,000 messages from 100 senders (`dmPolicy: "open"`, one session per
//! sender), and the memory an idle polling account costs (RSS with 20 accounts minus RSS with
//! none, divided by 20).
//!
//!   cargo build --release -p openclaw-cli && cargo bench --bench channels_latency
//!
//! Env: OPENCLAW_BIN (default target/release/openclaw), BENCH_QUICK=1 (200 messages, 20 senders).

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use openclaw_channels::testing::FakeBotApi;
use serde_json::{Value, json};

mod support;
use support::{
    Proc, TOKEN, fake_provider, free_port, gateway_bin, pct, rss_kib, spawn_gateway,
    start_rust_fake, wait_tcp,
};

const BOT_TOKEN: &str = "123456:ABC-bench";

fn write(state: &Path, port: u16, model_url: &str, telegram: Value) {
    let config = json!({
        "gateway": {"port": port, "bind": "loopback", "auth": {"mode": "token", "token": TOKEN}},
        "agents": {"defaults": {"model": {"primary": "fake/fake-model"}, "skipBootstrap": true},
            "list": [{"id": "main", "default": true}]},
        "models": {"providers": {"fake": fake_provider(&format!("{model_url}/v1"))}},
        "session": {"dmScope": "per-channel-peer"},
        "channels": {"telegram": telegram},
    });
    std::fs::write(state.join("openclaw.json"), config.to_string()).expect("config");
}

async fn start(bin: &Path, state: &Path, port: u16) -> Proc {
    let p = Proc(spawn_gateway(bin, state, &[]));
    assert!(wait_tcp(port).await, "the gateway did not start");
    p
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(bin) = gateway_bin() else { return };
    let quick = std::env::var("BENCH_QUICK").is_ok();
    let (messages, senders) = if quick { (200, 20) } else { (1000, 100) };
    let model = start_rust_fake();

    // Memory per idle account.
    let fake = FakeBotApi::start(BOT_TOKEN).await.expect("fake bot");
    let state = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    write(state.path(), port, &model, json!({"enabled": false}));
    let gw = start(&bin, state.path(), port).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let none = rss_kib(gw.0.id());
    drop(gw);
    let accounts: serde_json::Map<String, Value> = (0..20)
        .map(|i| (format!("a{i}"), json!({"botToken": BOT_TOKEN})))
        .collect();
    write(
        state.path(),
        port,
        &model,
        json!({"apiRoot": fake.url(), "pollTimeoutSeconds": 30,
        "accounts": accounts}),
    );
    let gw = start(&bin, state.path(), port).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let twenty = rss_kib(gw.0.id());
    drop(gw);
    println!(
        "idle RSS: {none} KiB without accounts, {twenty} KiB with 20 polling accounts: {:.1} KiB per account",
        (twenty as f64 - none as f64) / 20.0
    );

    // Latency, inbound → first reply chunk.
    let fake = FakeBotApi::start(BOT_TOKEN).await.expect("fake bot");
    let state = tempfile::tempdir().expect("tempdir");
    write(
        state.path(),
        port,
        &model,
        json!({"botToken": BOT_TOKEN, "apiRoot": fake.url(),
        "pollTimeoutSeconds": 30, "dmPolicy": "open", "allowFrom": ["*"]}),
    );
    let _gw = start(&bin, state.path(), port).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut pushed: HashMap<i64, Vec<Instant>> = HashMap::new();
    let t0 = Instant::now();
    for i in 0..messages {
        let sender = 10_000 + (i % senders) as i64;
        pushed.entry(sender).or_default().push(Instant::now());
        fake.push_dm(sender, "Sender", &format!("message {i}"));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let sent = fake
        .wait_for("sendMessage", messages, Duration::from_secs(300))
        .await;
    let elapsed = t0.elapsed();
    assert_eq!(sent.len(), messages, "every message answered");
    let mut replies: HashMap<i64, Vec<Instant>> = HashMap::new();
    for r in fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "sendMessage")
    {
        let chat = r.body["chat_id"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        replies.entry(chat).or_default().push(r.at);
    }
    // One message per conversation at a time, in order: the k-th reply answers the k-th message.
    let mut ms: Vec<f64> = pushed
        .iter()
        .flat_map(|(chat, times)| {
            let got = replies.get(chat).cloned().unwrap_or_default();
            times
                .iter()
                .zip(got)
                .map(|(p, r)| r.duration_since(*p).as_secs_f64() * 1000.0)
                .collect::<Vec<_>>()
        })
        .collect();
    println!(
        "inbound → first reply chunk over {messages} messages from {senders} senders: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {:.0} messages/s",
        pct(&mut ms, 0.5),
        pct(&mut ms, 0.99),
        pct(&mut ms, 1.0),
        messages as f64 / elapsed.as_secs_f64()
    );
}
