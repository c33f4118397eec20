//! Telegram end to end through a real loopback gateway with the agent host, the fake Bot API
//! (openclaw-channels' test support) and the in-process fake model: a stranger gets one
//! pairing code and reaches no agent; after `channels.pairing.approve` their message runs the
//! agent and a 10,000-character reply arrives in chunks; allowlists and group mentions gate
//! who is heard; a stalled long poll is detected and the bot hears again; `send` returns the
//! platform's message id once per idempotency key; channels follow config changes.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::model::text_reply;
use common::{ADMIN, Client, TestGateway};
use openclaw_channels::testing::FakeBotApi;
use openclaw_core::testing::sse_server::SseServer;
use serde_json::{Value, json};

const BOT_TOKEN: &str = "123456:ABC-fake";
const ALL: &[&str] = &[
    "operator.read",
    "operator.write",
    "operator.admin",
    "operator.pairing",
];

/// The long answer: 1,400 words in paragraphs of 100 (9,826 characters).
fn essay() -> String {
    (0..14)
        .map(|p| {
            (0..100)
                .map(|w| format!("w{p:02}x{w:02}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A model answering the essay when asked for one, "pong" otherwise; counts requests.
async fn model(count: Arc<AtomicUsize>) -> SseServer {
    SseServer::start_fn(move |r| {
        count.fetch_add(1, Ordering::SeqCst);
        let last = r.json()["messages"]
            .as_array()
            .and_then(|m| m.last().cloned())
            .unwrap_or_default()
            .to_string();
        if last.contains("essay") {
            text_reply(&essay())
        } else {
            text_reply("pong")
        }
    })
    .await
    .unwrap()
}

fn config(model: &SseServer, fake: &FakeBotApi, telegram: Value) -> Value {
    common::telegram::config(model, &fake.url(), BOT_TOKEN, telegram)
}

async fn gateway(config: Value) -> TestGateway {
    common::start_engine(config).await
}

use common::telegram::until;

/// Waits until the gateway has polled past update `id` and settled it (the dispatcher had a
/// moment after the commit).
async fn settled(fake: &FakeBotApi, id: i64) {
    until("the update acknowledged", Duration::from_secs(10), || {
        fake.acknowledged_offset() > id
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
}

fn words(texts: &[String]) -> Vec<String> {
    texts
        .iter()
        .flat_map(|t| t.split_whitespace().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_stranger_pairs_once_then_chats_and_a_long_reply_arrives_chunked() {
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let model = model(calls.clone()).await;
    let tg = gateway(config(&model, &fake, json!({}))).await;
    let (mut c, _) = Client::connected(&tg, ALL).await;

    // A stranger: one pairing reply, nothing reaches the model.
    fake.push_dm(4242, "Alice", "hi there");
    let sent = fake
        .wait_for("sendMessage", 1, Duration::from_secs(10))
        .await;
    assert_eq!(sent.len(), 1);
    let text = sent[0]["text"].as_str().unwrap();
    assert_eq!(sent[0]["parse_mode"], "HTML");
    assert_eq!(sent[0]["chat_id"], "4242");
    assert!(text.starts_with("OpenClaw: access not configured.\n\nYour Telegram user id: 4242\nPairing code:\n\n<pre><code>"), "{text}");
    let code = text.split("<pre><code>").nth(1).unwrap()[..8].to_owned();
    assert!(text.ends_with(&format!(
        "<pre><code>openclaw pairing approve telegram {code}\n</code></pre>"
    )));
    // Writing again while the request is pending: no second reply.
    let again = fake.push_dm(4242, "Alice", "hello??");
    settled(&fake, again).await;
    assert_eq!(fake.bodies("sendMessage").len(), 1, "answered once");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "a stranger reaches no agent"
    );

    let list = c
        .ok("channels.pairing.list", json!({"channel": "telegram"}))
        .await;
    assert_eq!(
        list["limits"],
        json!({"pendingPerAccount": 3, "ttlMs": 3_600_000})
    );
    let req = &list["requests"][0];
    assert_eq!(req["senderId"], "4242");
    assert_eq!(req["requestId"], code.as_str());
    assert_eq!(req["metadata"]["firstName"], "Alice");
    assert_eq!(
        req["expiresAt"].as_u64().unwrap() - req["createdAt"].as_u64().unwrap(),
        3_600_000
    );

    let ok = c
        .ok(
            "channels.pairing.approve",
            json!({"channel": "telegram", "accountId": "default",
              "requestId": code, "notify": true}),
        )
        .await;
    assert_eq!(ok["senderId"], "4242");
    assert_eq!(ok["notification"], "sent");
    let sent = fake.bodies("sendMessage");
    assert_eq!(
        sent[1]["text"],
        "✅ OpenClaw access approved. Send a message to start chatting."
    );

    // Now the same sender runs the agent; the reply is chunked on whitespace at 4000.
    fake.push_dm(4242, "Alice", "please write an essay");
    let sent = fake
        .wait_for("sendMessage", 5, Duration::from_secs(20))
        .await;
    let chunks: Vec<String> = sent[2..]
        .iter()
        .map(|b| b["text"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        chunks.len(),
        3,
        "{:?}",
        chunks.iter().map(String::len).collect::<Vec<_>>()
    );
    assert!(chunks.iter().all(|c| c.chars().count() <= 4000));
    assert_eq!(
        words(&chunks),
        words(&[essay()]),
        "nothing lost, repeated or reordered"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(!fake.bodies("sendChatAction").is_empty(), "typing shown");
    assert_eq!(fake.bodies("sendChatAction")[0]["action"], "typing");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.bodies("sendMessage").len(), 5, "no duplicate chunk");

    // The run landed in OpenClaw's per-channel-peer session, with its origin recorded.
    let key = "agent:main:telegram:direct:4242";
    let history = c.ok("chat.history", json!({"sessionKey": key})).await;
    assert!(
        history["messages"]
            .to_string()
            .contains("please write an essay"),
        "{history}"
    );
    let store = openclaw_state::SqliteStore::open(&tg.state()).unwrap();
    let row = openclaw_state::StateStore::session(&store, key)
        .unwrap()
        .unwrap();
    assert_eq!(row.meta.extra["origin"]["from"], "telegram:4242");
    assert_eq!(row.meta.extra["origin"]["label"], "Alice (@alice) id:4242");
    assert_eq!(row.meta.chat_type.as_deref(), Some("direct"));

    let status = c.ok("channels.status", json!({})).await;
    let acct = &status["channelAccounts"]["telegram"][0];
    assert_eq!(acct["accountId"], "default");
    assert_eq!(acct["running"], true, "{status}");
    assert_eq!(acct["connected"], true, "{status}");
    assert_eq!(acct["dmPolicy"], "pairing");
    assert!(acct["lastInboundAt"].as_u64().is_some(), "{status}");
    assert_eq!(status["channels"]["telegram"]["tokenSource"], "config");
    assert!(
        !status.to_string().contains(BOT_TOKEN),
        "no secret in status"
    );
    let probed = c.ok("channels.status", json!({"probe": true})).await;
    assert_eq!(
        probed["channelAccounts"]["telegram"][0]["probe"]["ok"],
        true
    );
}

#[tokio::test]
async fn allowlist_refuses_others_and_groups_need_a_mention() {
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let model = model(calls.clone()).await;
    let tg = gateway(config(
        &model,
        &fake,
        json!({"dmPolicy": "allowlist", "allowFrom": ["tg:4242"],
        "groups": {"-1001": {"requireMention": true}}, "replyToMode": "first"}),
    ))
    .await;
    let stranger = fake.push_dm(555, "Mallory", "let me in");
    settled(&fake, stranger).await;
    assert!(
        fake.bodies("sendMessage").is_empty(),
        "an allowlist answers nobody else"
    );
    let unmentioned = fake.push_group(-1001, 4242, "chatting among ourselves", false);
    let unlisted = fake.push_group(-2002, 4242, "hey bot", true);
    settled(&fake, unlisted.max(unmentioned)).await;
    assert!(fake.bodies("sendMessage").is_empty());
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    fake.push_dm(4242, "Alice", "ping");
    let sent = fake
        .wait_for("sendMessage", 1, Duration::from_secs(10))
        .await;
    // replyToMode "first": the reply quotes the message it answers.
    assert!(
        sent[0]["reply_parameters"]["message_id"].as_i64().is_some(),
        "{:?}",
        sent[0]
    );
    assert_eq!(
        (sent[0]["chat_id"].as_str(), sent[0]["text"].as_str()),
        (Some("4242"), Some("pong"))
    );
    fake.push_group(-1001, 4242, "ping", true);
    let sent = fake
        .wait_for("sendMessage", 2, Duration::from_secs(10))
        .await;
    assert_eq!(sent[1]["chat_id"], "-1001");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let groups = c.ok("sessions.list", json!({})).await.to_string();
    assert!(
        groups.contains("agent:main:telegram:group:-1001"),
        "{groups}"
    );
}

#[tokio::test]
async fn a_stalled_poll_is_detected_through_the_gateway_and_the_bot_hears_again() {
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let model = model(calls.clone()).await;
    let tg = gateway(config(
        &model,
        &fake,
        json!({"dmPolicy": "open", "allowFrom": ["*"],
        "stallTimeoutMs": 1500}),
    ))
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    until("polling", Duration::from_secs(5), || {
        !fake.bodies("getUpdates").is_empty()
    })
    .await;
    fake.stall_next_polls(1);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let s = c
            .ok("channels.status", json!({"channel": "telegram"}))
            .await;
        let a = &s["channelAccounts"]["telegram"][0];
        if a["stalls"] == 1 {
            assert!(a["reconnectAttempts"].as_u64().unwrap() >= 1, "{a}");
            break;
        }
        assert!(Instant::now() < deadline, "no stall detected: {a}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    fake.push_dm(77, "Bob", "are you there");
    let sent = fake
        .wait_for("sendMessage", 1, Duration::from_secs(15))
        .await;
    assert_eq!(sent[0]["text"], "pong");
    assert_eq!(
        fake.max_concurrent_polls(),
        1,
        "one poller after the reconnect"
    );
}

#[tokio::test]
async fn send_returns_the_message_id_once_per_idempotency_key_and_channels_follow_the_config() {
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let model = model(calls.clone()).await;
    let tg = gateway(config(&model, &fake, json!({}))).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let p =
        json!({"to": "telegram:4242", "message": "**hi** & bye", "idempotencyKey": "send-test-1"});
    let first = c.ok("send", p.clone()).await;
    assert_eq!(first["runId"], "send-test-1");
    assert_eq!(first["channel"], "telegram");
    let id = first["messageId"].as_str().unwrap().to_owned();
    assert!(id.parse::<u64>().is_ok(), "{first}");
    assert_eq!(
        c.ok("send", p).await,
        first,
        "a retry returns the first result"
    );
    let sent = fake.bodies("sendMessage");
    assert_eq!(sent.len(), 1, "and sends nothing");
    assert_eq!(sent[0]["text"], "<b>hi</b> &amp; bye");
    let e = c
        .err(
            "send",
            json!({"to": "x", "message": "m", "idempotencyKey": "k", "channel": "webchat"}),
        )
        .await;
    assert!(e["message"].as_str().unwrap().contains("webchat"), "{e}");
    let e = c
        .err(
            "send",
            json!({"to": "4242", "message": "m", "idempotencyKey": "k2",
                                 "buffer": "aGk="}),
        )
        .await;
    assert!(e["message"].as_str().unwrap().contains("buffer"), "{e}");
    let e = c
        .err("channels.logout", json!({"channel": "telegram"}))
        .await;
    assert_eq!(e["message"], "channel telegram does not support logout");

    // Disabled in the config: the account stops; enabled again: it polls again.
    let path = tg.state().join("openclaw.json");
    let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    cfg["channels"]["telegram"]["enabled"] = json!(false);
    std::fs::write(&path, serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    let running = |s: &Value| s["channelAccounts"]["telegram"][0]["running"].clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = c.ok("channels.status", json!({})).await;
        if running(&s) == json!(false) {
            break;
        }
        assert!(Instant::now() < deadline, "still running: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let polls = fake.bodies("getUpdates").len();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        fake.bodies("getUpdates").len() <= polls + 1,
        "a stopped account stops polling"
    );
    cfg["channels"]["telegram"]["enabled"] = json!(true);
    std::fs::write(&path, serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = c.ok("channels.status", json!({})).await;
        if s["channelAccounts"]["telegram"][0]["connected"] == json!(true) {
            break;
        }
        assert!(Instant::now() < deadline, "not back: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A channel never widens what a sender may do: an open DM's `bash` call asks the operator's
/// approval clients (the turn names `telegram` as its source), and a deny keeps it from
/// running; the sender's own `/approve` is refused (they are not an approver).
#[tokio::test]
async fn a_channel_run_asks_for_exec_approval_and_a_deny_holds() {
    let Some(llm) = common::fake::fake_llm() else {
        return;
    };
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let mut config = common::fake::config_with(&llm, json!({}));
    config["tools"] = json!({"exec": {"mode": "ask"}});
    config["channels"] = json!({"telegram": {"botToken": BOT_TOKEN, "apiRoot": fake.url(),
        "pollTimeoutSeconds": 1, "dmPolicy": "open", "allowFrom": ["*"]}});
    let tg = gateway(config).await;
    let mut ap = common::approval_client(&tg, &["operator.approvals"]).await;
    let marker = tg.state().join("ran-marker");
    let cmd = format!("touch {}", marker.display());
    fake.push_dm(
        4242,
        "Alice",
        &format!("call bash {}", json!({"command": cmd})),
    );
    let ev = ap.event("exec.approval.requested").await;
    let req = &ev["payload"]["request"];
    assert_eq!(req["turnSourceChannel"], "telegram", "{req}");
    assert_eq!(req["sessionKey"], "agent:main:main");
    assert!(
        req["runId"]
            .as_str()
            .unwrap()
            .starts_with("telegram:default:"),
        "{req}"
    );
    let id = ev["payload"]["id"].as_str().unwrap().to_owned();
    // The sender cannot approve it from the chat: they are no approver.
    fake.push_dm(4242, "Alice", &format!("/approve {id} allow-always"));
    ap.ok(
        "exec.approval.resolve",
        json!({"id": id, "decision": "deny"}),
    )
    .await;
    let sent = fake
        .wait_for("sendMessage", 2, Duration::from_secs(20))
        .await;
    let texts: Vec<&str> = sent.iter().map(|b| b["text"].as_str().unwrap()).collect();
    assert!(
        texts.contains(&"You are not an exec approver for this bot."),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains("Exec denied")), "{texts:?}");
    assert!(!marker.exists(), "a denied command never runs");
}

/// A cron job's `announce` delivery goes out through the channel manager: the run's answer
/// reaches the Telegram chat named by `delivery.to` and the run log says `delivered`; the last
/// conversation (`channel: "last"`) is not tracked yet and is recorded `not-delivered` with the
/// reason, never silently dropped.
#[tokio::test]
async fn a_cron_announce_is_delivered_to_the_telegram_chat() {
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let model = model(calls.clone()).await;
    let tg = gateway(config(&model, &fake, json!({}))).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let job = |name: &str, delivery: Value| {
        json!({"name": name, "schedule": {"kind": "every", "everyMs": 3_600_000},
            "sessionTarget": "isolated", "wakeMode": "now",
            "payload": {"kind": "agentTurn", "message": "ping"}, "delivery": delivery})
    };
    let to_chat = c
        .ok(
            "cron.add",
            job(
                "to-chat",
                json!({"mode": "announce", "channel": "telegram", "to": "4242"}),
            ),
        )
        .await;
    let to_last = c
        .ok(
            "cron.add",
            job("to-last", json!({"mode": "announce", "channel": "last"})),
        )
        .await;
    let finished = |id: &Value| json!({"id": id, "limit": 5});
    for j in [&to_chat, &to_last] {
        c.ok("cron.run", json!({"id": j["id"], "mode": "force"}))
            .await;
    }
    let sent = fake
        .wait_for("sendMessage", 1, Duration::from_secs(30))
        .await;
    assert_eq!(sent[0]["chat_id"].to_string().trim_matches('"'), "4242");
    assert_eq!(sent[0]["text"], "pong");
    let mut entries = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    for j in [&to_chat, &to_last] {
        loop {
            let runs = c.ok("cron.runs", finished(&j["id"])).await;
            if let Some(e) = runs["entries"]
                .as_array()
                .and_then(|e| e.iter().find(|e| e["action"] == "finished").cloned())
            {
                entries.push(e);
                break;
            }
            assert!(Instant::now() < deadline, "no finished run: {runs}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    assert_eq!(entries[0]["deliveryStatus"], "delivered", "{}", entries[0]);
    assert_eq!(
        entries[1]["deliveryStatus"], "not-delivered",
        "{}",
        entries[1]
    );
    assert!(
        entries[1].to_string().contains("channel \\\"last\\\""),
        "{}",
        entries[1]
    );
    assert_eq!(fake.bodies("sendMessage").len(), 1);
}
