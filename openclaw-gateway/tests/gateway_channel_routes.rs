//! The last conversation route, end to end over Telegram: a real loopback gateway with the
//! agent host, the fake Bot API (openclaw-channels' test support) and the independent fake
//! model (`shared/fake_llm.py`). A Telegram user asks the agent (through its `automations`
//! tool) for a reminder: the job announces back to that chat when it fires. A heartbeat with
//! `target: "last"` sends its alert to the same chat, a cron job with `channel: "last"` too,
//! and the route survives a gateway restart (it is in the state database).

mod common;

use std::time::{Duration, Instant};

use common::fake::Fake;
use common::{ADMIN, Client, Setup, TestGateway};
use openclaw_channels::testing::FakeBotApi;
use serde_json::{Value, json};

const BOT_TOKEN: &str = "123456:ABC-fake";

fn config(fake: &Fake, bot: &FakeBotApi) -> Value {
    let mut c = common::fake::config_with(
        fake,
        json!({"skipBootstrap": true,
               "heartbeat": {"every": "24h", "target": "last"}}),
    );
    c["channels"] = json!({"telegram": {"botToken": BOT_TOKEN, "apiRoot": bot.url(),
        "pollTimeoutSeconds": 1, "dmPolicy": "open", "allowFrom": ["*"]}});
    c
}

async fn start_in(config: Value, dir: tempfile::TempDir) -> TestGateway {
    common::start_setup_in(
        Setup {
            config,
            engine: true,
            ..Setup::default()
        },
        dir,
    )
    .await
}

/// The Telegram messages sent to chat 4242 whose text contains `needle`, waiting for one.
async fn sent_containing(bot: &FakeBotApi, needle: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found: Vec<Value> = bot
            .bodies("sendMessage")
            .into_iter()
            .filter(|b| b["text"].as_str().is_some_and(|t| t.contains(needle)))
            .collect();
        if !found.is_empty() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "nothing containing {needle:?} was sent: {:?}",
            bot.bodies("sendMessage")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn finished(c: &mut Client, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let runs = c.ok("cron.runs", json!({"id": id, "limit": 5})).await;
        if let Some(e) = runs["entries"].as_array().and_then(|e| e.first()).cloned() {
            return e;
        }
        assert!(Instant::now() < deadline, "no finished run of {id}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_telegram_conversation_gets_its_reminder_its_heartbeat_alert_and_last_deliveries() {
    let Some(fake) = common::fake::fake_llm() else {
        return;
    };
    let bot = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tg = start_in(config(&fake, &bot), dir).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;

    // Before anyone wrote: a heartbeat alert has no route.
    c.ok("wake", json!({"mode": "now", "text": "early check"}))
        .await;
    let early = loop {
        let e = c.event("heartbeat").await;
        if e["payload"]["status"] != "ok-token" {
            break e["payload"].clone();
        }
    };
    assert_eq!(early["status"], "skipped", "{early}");
    assert_eq!(early["reason"], "no-route");

    // A Telegram user asks for a reminder two seconds ahead.
    let at = (jiff::Timestamp::now() + Duration::from_secs(2)).to_string();
    let args = json!({"action": "add", "job": {"name": "tea",
        "schedule": {"kind": "at", "at": at},
        "payload": {"kind": "agentTurn", "message": "the tea is ready"}}});
    bot.push_dm(4242, "Alice", &format!("call automations {args}"));
    let reminder = sent_containing(&bot, "the tea is ready").await;
    assert_eq!(reminder.len(), 1, "{reminder:?}");
    assert_eq!(reminder[0]["chat_id"].to_string().trim_matches('"'), "4242");
    let jobs = c.ok("cron.runs", json!({"scope": "all", "limit": 5})).await;
    let entry = &jobs["entries"][0];
    assert_eq!(entry["deliveryStatus"], "delivered", "{entry}");
    assert_eq!(entry["status"], "ok");

    // A heartbeat alert goes to the last conversation.
    c.ok(
        "wake",
        json!({"mode": "now", "text": "the disk is almost full"}),
    )
    .await;
    let alert = sent_containing(&bot, "the disk is almost full").await;
    assert_eq!(alert[0]["chat_id"].to_string().trim_matches('"'), "4242");
    let beat = loop {
        let e = c.event("heartbeat").await;
        if e["payload"]["status"] == "sent" {
            break e["payload"].clone();
        }
    };
    assert_eq!(beat["to"], "telegram:4242", "{beat}");
    assert_eq!(beat["channel"], "telegram");

    // After a restart, a job announcing to channel "last" reaches the same chat.
    drop(c);
    let TestGateway { gateway, dir, .. } = tg;
    gateway.shutdown("test restart").await;
    let tg = start_in(config(&fake, &bot), dir).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let job = c
        .ok(
            "cron.add",
            json!({"name": "digest", "schedule": {"kind": "every", "everyMs": 3_600_000},
               "sessionTarget": "isolated", "wakeMode": "now",
               "payload": {"kind": "agentTurn", "message": "the daily digest"},
               "delivery": {"mode": "announce", "channel": "last"}}),
        )
        .await;
    let id = job["id"].as_str().unwrap();
    c.ok("cron.run", json!({"id": id, "mode": "force"})).await;
    let digest = sent_containing(&bot, "the daily digest").await;
    assert_eq!(digest[0]["chat_id"].to_string().trim_matches('"'), "4242");
    let run = finished(&mut c, id).await;
    assert_eq!(run["deliveryStatus"], "delivered", "{run}");
}

/// `POST /hooks/agent` with OpenClaw 9.6's direct destination: `channel` + `to` deliver the
/// run's reply to that chat; a partial destination, `"last"` or a channel this gateway does not
/// run is refused with 400 (before the run is admitted).
#[tokio::test]
async fn a_direct_agent_hook_delivers_to_its_channel_and_refuses_partial_destinations() {
    let Some(fake) = common::fake::fake_llm() else {
        return;
    };
    let bot = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let mut cfg = config(&fake, &bot);
    let hook_token = "hook-secret-0123456789";
    cfg["hooks"] = json!({"enabled": true, "token": hook_token, "path": "/hooks"});
    let tg = start_in(cfg, tempfile::tempdir().unwrap()).await;
    let post = |body: Value| {
        let head = format!(
            "POST /hooks/agent HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {hook_token}\r\nContent-Type: application/json"
        );
        let addr = tg.addr;
        async move { common::secure::http(addr, &head, &body.to_string()).await }
    };

    for (body, why) in [
        (json!({"message": "m", "channel": "telegram"}), "together"),
        (json!({"message": "m", "to": "4242"}), "together"),
        (
            json!({"message": "m", "channel": "last", "to": "4242"}),
            "last",
        ),
        (
            json!({"message": "m", "channel": "discord", "to": "user:1"}),
            "no discord account",
        ),
    ] {
        let (status, text) = post(body.clone()).await;
        assert_eq!(status, 400, "{body}: {text}");
        assert!(text.contains(why), "{body}: {text}");
    }

    let (status, text) = post(json!({"message": "the oven is hot", "name": "Kitchen",
        "channel": "telegram", "to": "4242"}))
    .await;
    assert_eq!(status, 202, "{text}");
    let sent = sent_containing(&bot, "the oven is hot").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["chat_id"].to_string().trim_matches('"'), "4242");
}
