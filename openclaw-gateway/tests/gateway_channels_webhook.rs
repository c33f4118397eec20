//! Telegram webhook mode through a real loopback gateway with the agent host, the fake Bot API
//! and the in-process fake model: the account registers its URL and secret with `setWebhook`,
//! refuses a request without the secret, commits an update before answering 200 (with
//! `x-openclaw-delivery-accepted: durable`), answers it once even when Telegram delivers it
//! twice, and never long-polls.

mod common;

use std::time::{Duration, Instant};

use common::model::text_reply;
use common::{Setup, TOKEN};
use openclaw_channels::testing::FakeBotApi;
use openclaw_core::testing::sse_server::SseServer;
use serde_json::json;

const BOT_TOKEN: &str = "123456:ABC-hook";
const SECRET: &str = "s3cret_hook-token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn a_webhook_update_is_checked_committed_and_answered_once() {
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let model = SseServer::start_fn(|_| text_reply("hooked")).await.unwrap();
    let port = free_port();
    let config = json!({
        "gateway": {"auth": {"mode": "token", "token": TOKEN}},
        "agents": {"defaults": {"model": {"primary": "fake/m1"}, "skipBootstrap": true},
                   "list": [{"id": "main", "default": true}]},
        "models": {"providers": {"fake": {"baseUrl": format!("{}/v1", model.url()),
            "apiKey": "sk-fake", "api": "openai-completions",
            "models": [{"id": "m1", "name": "Model One", "contextWindow": 128000, "maxTokens": 4096}]}}},
        "channels": {"telegram": {"botToken": BOT_TOKEN, "apiRoot": fake.url(),
            "dmPolicy": "open", "allowFrom": ["*"],
            "webhookUrl": "https://bot.example.com/tg", "webhookSecret": SECRET,
            "webhookPath": "/tg", "webhookPort": port}},
    });
    let _tg = common::start(Setup {
        config,
        engine: true,
        ..Setup::default()
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.bodies("setWebhook").is_empty() {
        assert!(Instant::now() < deadline, "no setWebhook");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let set = &fake.bodies("setWebhook")[0];
    assert_eq!(set["url"], "https://bot.example.com/tg");
    assert_eq!(set["secret_token"], SECRET);
    assert!(
        set["allowed_updates"]
            .as_array()
            .unwrap()
            .contains(&json!("message"))
    );

    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/tg");
    let update = json!({"update_id": 7001, "message": {"message_id": 31, "date": 1_765_000_000,
        "from": {"id": 4242, "is_bot": false, "first_name": "Alice"},
        "chat": {"id": 4242, "type": "private"}, "text": "hello hook"}});
    // Without the secret, or with a wrong one: refused, nothing stored.
    let r = http.post(&url).json(&update).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .post(&url)
        .header("X-Telegram-Bot-Api-Secret-Token", "wrong")
        .json(&update)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http
        .post(&url)
        .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Delivered twice (a Telegram retry): both accepted durably, answered once.
    for _ in 0..2 {
        let r = http
            .post(&url)
            .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
            .json(&update)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-openclaw-delivery-accepted"], "durable");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.bodies("sendMessage").is_empty() {
        assert!(Instant::now() < deadline, "no reply");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let sent = fake.bodies("sendMessage");
    assert_eq!(sent.len(), 1, "answered once: {sent:?}");
    assert_eq!(sent[0]["text"], "hooked");
    assert_eq!(sent[0]["chat_id"], "4242");
    assert!(
        fake.bodies("getUpdates").is_empty(),
        "a webhook account never polls"
    );
    let health = http
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}
