//! Discord channel benchmark: `openclaw gateway run` (release build by default; `OPENCLAW_BIN`
//! picks another) with the fake Discord gateway and REST API (openclaw-channels' test support,
//! in this process) and the fast in-process fake model. Measures inbound `MESSAGE_CREATE` →
//! first reply chunk received by the fake REST API (the chunk carrying the reply reference),
//! p50/p99 over 1,000 DMs from 100 senders (`dmPolicy: "open"`, one session per sender), and
//! the memory an idle gateway-connected account costs (RSS with 20 accounts minus RSS with
//! none, divided by 20).
//!
//!   cargo build --release -p openclaw-cli && cargo bench --bench discord_latency
//!
//! Env: OPENCLAW_BIN (default target/release/openclaw), BENCH_QUICK=1 (200 messages, 20 senders).

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use openclaw_channels::testing_discord::FakeDiscord;
use serde_json::{Value, json};

mod support;
use support::{
    Proc, TOKEN, fake_provider, free_port, gateway_bin, pct, rss_kib, spawn_gateway,
    start_rust_fake, wait_tcp,
};

const BOT_TOKEN: &str = "discord-bench-token";

fn write(state: &Path, port: u16, model_url: &str, discord: Value) {
    let config = json!({
        "gateway": {"port": port, "bind": "loopback", "auth": {"mode": "token", "token": TOKEN}},
        "agents": {"defaults": {"model": {"primary": "fake/fake-model"}, "skipBootstrap": true},
            "list": [{"id": "main", "default": true}]},
        "models": {"providers": {"fake": fake_provider(&format!("{model_url}/v1"))}},
        "session": {"dmScope": "per-channel-peer"},
        "channels": {"discord": discord},
    });
    std::fs::write(state.join("openclaw.json"), config.to_string()).expect("config");
}

async fn start(bin: &Path, state: &Path, port: u16) -> Proc {
    let p = Proc(spawn_gateway(bin, state, &[]));
    assert!(wait_tcp(port).await, "the gateway did not start");
    p
}

async fn identified(fake: &FakeDiscord, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while fake.identifies().len() < n {
        assert!(Instant::now() < deadline, "accounts did not identify");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(bin) = gateway_bin() else { return };
    let quick = std::env::var("BENCH_QUICK").is_ok();
    let (messages, senders) = if quick { (200, 20) } else { (1000, 100) };
    let model = start_rust_fake();

    // Memory per idle account (each holds a gateway WebSocket and heartbeats).
    let fake = FakeDiscord::start(BOT_TOKEN, 41_250)
        .await
        .expect("fake discord");
    let state = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    write(state.path(), port, &model, json!({"enabled": false}));
    let gw = start(&bin, state.path(), port).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let none = rss_kib(gw.0.id());
    drop(gw);
    let accounts: serde_json::Map<String, Value> = (0..20)
        .map(|i| (format!("a{i}"), json!({"token": BOT_TOKEN})))
        .collect();
    write(
        state.path(),
        port,
        &model,
        json!({"apiRoot": fake.api_root(), "gatewayUrl": fake.gateway_url(),
               "accounts": accounts}),
    );
    let gw = start(&bin, state.path(), port).await;
    identified(&fake, 20).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let twenty = rss_kib(gw.0.id());
    drop(gw);
    println!(
        "idle RSS: {none} KiB without accounts, {twenty} KiB with 20 connected Discord accounts: {:.1} KiB per account",
        (twenty as f64 - none as f64) / 20.0
    );

    // Latency, inbound → first reply chunk.
    let fake = FakeDiscord::start(BOT_TOKEN, 41_250)
        .await
        .expect("fake discord");
    let state = tempfile::tempdir().expect("tempdir");
    write(
        state.path(),
        port,
        &model,
        json!({"token": BOT_TOKEN, "apiRoot": fake.api_root(), "gatewayUrl": fake.gateway_url(),
               "dmPolicy": "open", "allowFrom": ["*"], "replyToMode": "first"}),
    );
    let _gw = start(&bin, state.path(), port).await;
    identified(&fake, 1).await;
    let mut pushed: HashMap<String, Instant> = HashMap::new();
    let t0 = Instant::now();
    for i in 0..messages {
        let sender = (10_000 + i % senders).to_string();
        let at = Instant::now();
        let id = fake.push_dm(&sender, "Sender", &format!("message {i}"));
        pushed.insert(id, at);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let firsts = |fake: &FakeDiscord| -> HashMap<String, Instant> {
        fake.requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/messages"))
            .filter_map(|r| {
                let id = r.body["message_reference"]["message_id"]
                    .as_str()?
                    .to_owned();
                Some((id, r.at))
            })
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    while firsts(&fake).len() < messages {
        assert!(Instant::now() < deadline, "not every message was answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = t0.elapsed();
    let replies = firsts(&fake);
    let mut ms: Vec<f64> = pushed
        .iter()
        .filter_map(|(id, at)| Some(replies.get(id)?.duration_since(*at).as_secs_f64() * 1000.0))
        .collect();
    assert_eq!(ms.len(), messages, "every message answered once");
    println!(
        "inbound → first reply chunk over {messages} messages from {senders} senders: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {:.0} messages/s",
        pct(&mut ms, 0.5),
        pct(&mut ms, 0.99),
        pct(&mut ms, 1.0),
        messages as f64 / elapsed.as_secs_f64()
    );
}
