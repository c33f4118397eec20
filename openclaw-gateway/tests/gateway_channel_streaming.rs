//! Streaming a reply by editing it in place (`channels.telegram.streaming: {mode: "partial"}`)
//! through a real loopback gateway, the fake Bot API and an in-process fake model that writes
//! its answer in many small deltas: the reply appears in a message edited as it grows, edits
//! at least `throttleMs` apart, text past 4000 characters continues in new messages, and at
//! the end the chat reads exactly the reply's chunks in HTML — nothing missing, nothing twice —
//! even when the preview message was deleted under the bot.

mod common;

use std::time::Duration;

use common::model::text_reply;
use common::{Setup, TOKEN, TestGateway};
use openclaw_channels::telegram::html::markdown_to_html;
use openclaw_channels::testing::FakeBotApi;
use openclaw_core::channel::chunk::chunk_text;
use openclaw_core::testing::sse_server::{Reply, SseServer};
use serde_json::{Value, json};

const BOT_TOKEN: &str = "123456:ABC-fake";

/// The long answer: 1,800 words with some Markdown, in paragraphs (about 11,000 characters).
fn essay() -> String {
    (0..18)
        .map(|p| {
            let words: Vec<String> = (0..100).map(|w| format!("w{p:02}x{w:02}")).collect();
            format!("**Part {p}** & more: {}", words.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// An SSE answer of `text` in deltas of `size` characters, `delay` apart.
fn streamed(text: &str, size: usize, delay: Duration) -> Reply {
    let chars: Vec<char> = text.chars().collect();
    let mut chunks: Vec<String> = chars
        .chunks(size)
        .map(|c| {
            let delta = json!({"id": "c", "choices": [{"index": 0,
                "delta": {"role": "assistant", "content": c.iter().collect::<String>()},
                "finish_reason": null}]});
            format!("data: {delta}\n\n")
        })
        .collect();
    chunks.push(format!(
        "data: {}\n\ndata: [DONE]\n\n",
        json!({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    ));
    Reply::Sse {
        chunks: chunks.into_iter().map(String::into_bytes).collect(),
        delay,
        hold_open: false,
    }
}

async fn model() -> SseServer {
    SseServer::start_fn(move |r| {
        let last = r.json()["messages"]
            .as_array()
            .and_then(|m| m.last().cloned())
            .unwrap_or_default()
            .to_string();
        if last.contains("essay") {
            streamed(&essay(), 120, Duration::from_millis(25))
        } else {
            text_reply("pong")
        }
    })
    .await
    .unwrap()
}

async fn gateway(model: &SseServer, fake: &FakeBotApi) -> TestGateway {
    let config = json!({
        "gateway": {"auth": {"mode": "token", "token": TOKEN}},
        "agents": {"defaults": {"model": {"primary": "fake/m1"}, "skipBootstrap": true},
                   "list": [{"id": "main", "default": true}]},
        "models": {"providers": {"fake": {"baseUrl": format!("{}/v1", model.url()),
            "apiKey": "sk-fake", "api": "openai-completions",
            "models": [{"id": "m1", "name": "Model One", "contextWindow": 128000, "maxTokens": 4096}]}}},
        "channels": {"telegram": {"botToken": BOT_TOKEN, "apiRoot": fake.url(),
            "pollTimeoutSeconds": 1, "dmPolicy": "allowlist", "allowFrom": ["4242"],
            "streaming": {"mode": "partial", "preview": {"throttleMs": 300}}}},
    });
    common::start(Setup {
        config,
        engine: true,
        ..Setup::default()
    })
    .await
}

/// What the chat must read at the end: the reply's 4000-character chunks, in HTML.
fn expected() -> Vec<String> {
    chunk_text(&essay(), 4000)
        .iter()
        .map(|c| markdown_to_html(c))
        .collect()
}

async fn until_visible(fake: &FakeBotApi, want: &[String]) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while fake.visible(4242) != want {
        assert!(
            std::time::Instant::now() < deadline,
            "the chat reads {:?}",
            fake.visible(4242)
                .iter()
                .map(|t| t.chars().count())
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn edits_of(fake: &FakeBotApi, id: i64) -> Vec<std::time::Instant> {
    fake.requests()
        .into_iter()
        .filter(|r| r.method == "editMessageText" && r.body["message_id"] == id)
        .map(|r| r.at)
        .collect()
}

#[tokio::test]
async fn a_long_reply_is_edited_in_place_and_ends_exactly_as_the_reply() {
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let model = model().await;
    let _tg = gateway(&model, &fake).await;

    // A short answer is simply sent: no preview for 4 characters.
    fake.push_dm(4242, "Alice", "ping");
    until_visible(&fake, &["pong".to_owned()]).await;
    assert!(fake.bodies("editMessageText").is_empty());

    fake.push_dm(4242, "Alice", "please write an essay");
    let want: Vec<String> = std::iter::once("pong".to_owned())
        .chain(expected())
        .collect();
    assert!(want.len() >= 4, "three pages of reply or more");
    until_visible(&fake, &want).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.visible(4242), want, "nothing changed after the end");

    // One message per page, no duplicate: "pong" plus the pages.
    let sent: Vec<Value> = fake.bodies("sendMessage");
    assert_eq!(sent.len(), want.len(), "{} sendMessage", sent.len());
    assert!(sent.iter().all(|b| b["parse_mode"] == "HTML"));
    // The first page grew by edits, at least the throttle apart.
    let first = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "sendMessage")
        .nth(1)
        .unwrap();
    let first_id = fake
        .requests()
        .iter()
        .filter(|r| r.method == "editMessageText")
        .map(|r| r.body["message_id"].as_i64().unwrap())
        .min()
        .unwrap();
    let edits = edits_of(&fake, first_id);
    assert!(edits.len() >= 3, "{} edits of the first page", edits.len());
    assert!(
        first.body["text"].as_str().unwrap().chars().count() < 4000,
        "the first page started small"
    );
    for pair in edits.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(290),
            "edits {:?} apart",
            pair[1] - pair[0]
        );
    }
}

#[tokio::test]
async fn a_preview_deleted_under_the_bot_is_sent_again_once() {
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let model = model().await;
    let _tg = gateway(&model, &fake).await;
    fake.push_dm(4242, "Alice", "please write an essay");
    let first = fake
        .wait_for("sendMessage", 1, Duration::from_secs(20))
        .await;
    assert_eq!(first.len(), 1);
    // The user deletes the preview: the next edits fail with "message to edit not found".
    let shown = fake.visible_with_ids(4242);
    assert_eq!(shown.len(), 1);
    assert!(shown[0].1.chars().count() >= 30, "{shown:?}");
    assert!(fake.remove_message(4242, shown[0].0));
    let want = expected();
    until_visible(&fake, &want).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.visible(4242), want, "the reply, once, complete");
}

/// Discord the same way: the preview is a message edited with `PATCH`, continued in new ones
/// at 2000 characters / 17 lines, and the channel ends reading the reply's chunks exactly.
#[tokio::test]
async fn discord_streams_by_patching_the_message() {
    use openclaw_channels::testing_discord::FakeDiscord;
    let fake = FakeDiscord::start("discord-token", 45_000).await.unwrap();
    let model = model().await;
    let config = json!({
        "gateway": {"auth": {"mode": "token", "token": TOKEN}},
        "agents": {"defaults": {"model": {"primary": "fake/m1"}, "skipBootstrap": true},
                   "list": [{"id": "main", "default": true}]},
        "models": {"providers": {"fake": {"baseUrl": format!("{}/v1", model.url()),
            "apiKey": "sk-fake", "api": "openai-completions",
            "models": [{"id": "m1", "name": "Model One", "contextWindow": 128000, "maxTokens": 4096}]}}},
        "channels": {"discord": {"token": "discord-token", "apiRoot": fake.api_root(),
            "gatewayUrl": fake.gateway_url(), "dmPolicy": "allowlist", "allowFrom": ["7001"],
            "streaming": {"mode": "partial", "preview": {"throttleMs": 300}}}},
    });
    let _tg = common::start(Setup {
        config,
        engine: true,
        ..Setup::default()
    })
    .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while fake.identifies().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no Identify");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    fake.push_dm("7001", "Dana", "please write an essay");
    let dm = fake.dm_channel("7001");
    let want = openclaw_channels::discord::text::chunk(&essay(), 2000, 17);
    assert!(want.len() >= 6, "{}", want.len());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while fake.visible(&dm) != want {
        assert!(
            std::time::Instant::now() < deadline,
            "the channel reads {} messages; requests {:?}",
            fake.visible(&dm).len(),
            fake.requests()
                .iter()
                .map(|r| format!("{} {} {}", r.method, r.path, r.body))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.visible(&dm), want);
    let requests = fake.requests();
    let created = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == format!("/channels/{dm}/messages"))
        .count();
    assert_eq!(created, want.len(), "one message per chunk, none twice");
    assert!(
        requests.iter().any(|r| r.method == "PATCH"),
        "the reply grew by edits"
    );
}

/// A gateway stopped while a reply streams replays the run once on restart, and the replay
/// continues in the messages already sent: the chat ends reading the reply once.
#[tokio::test]
async fn a_restart_mid_stream_continues_in_the_same_messages() {
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let model = model().await;
    let tg = gateway(&model, &fake).await;
    fake.push_dm(4242, "Alice", "please write an essay");
    fake.wait_for("editMessageText", 1, Duration::from_secs(20))
        .await;
    let TestGateway { gateway, dir, .. } = tg;
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("openclaw.json")).unwrap())
            .unwrap();
    gateway.shutdown("test restart").await;
    let before = fake.visible_with_ids(4242);
    assert!(
        !before.is_empty() && before.len() < expected().len(),
        "mid-stream"
    );
    let _tg = common::start_setup_in(
        Setup {
            config,
            engine: true,
            ..Setup::default()
        },
        dir,
    )
    .await;
    let want = expected();
    until_visible(&fake, &want).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.visible(4242), want);
    let after = fake.visible_with_ids(4242);
    assert_eq!(
        after[0].0, before[0].0,
        "the first message was edited, not resent"
    );
    assert_eq!(
        fake.bodies("sendMessage").len(),
        want.len(),
        "no message sent twice"
    );
}
