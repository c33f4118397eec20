//! Telegram media, `message.action` and the channel part of `health`, through a real loopback
//! gateway with the agent host, the fake Bot API and the in-process fake model: an inbound
//! photo reaches the model as an image (downloaded with `getFile`); `send` and
//! `message.action` send photos (`sendPhoto` by URL, or a local file uploaded) and refuse what
//! they cannot do by name; `health.channels` carries the running account; an exec approval
//! reaches the configured approver on Telegram with inline buttons and only their press
//! resolves it.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::model::text_reply;
use common::{ADMIN, Client, TestGateway};
use openclaw_channels::testing::FakeBotApi;
use openclaw_core::testing::sse_server::SseServer;
use serde_json::{Value, json};

const BOT_TOKEN: &str = "123456:ABC-media";
/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

fn config(model: &SseServer, fake: &FakeBotApi) -> Value {
    let open = json!({"dmPolicy": "open", "allowFrom": ["*"]});
    let mut config = common::telegram::config(model, &fake.url(), BOT_TOKEN, open);
    // The model sees images.
    config["models"]["providers"]["fake"]["models"][0]["input"] = json!(["text", "image"]);
    config
}

async fn gateway(config: Value) -> TestGateway {
    common::start_engine(config).await
}

async fn until(what: &str, f: impl FnMut() -> bool) {
    common::telegram::until(what, Duration::from_secs(20), f).await;
}

#[tokio::test]
async fn an_inbound_photo_reaches_the_model_as_an_image() {
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let log = seen.clone();
    let model = SseServer::start_fn(move |r| {
        log.lock().unwrap().push(r.json());
        text_reply("a cat")
    })
    .await
    .unwrap();
    let _tg = gateway(config(&model, &fake)).await;
    fake.push_photo_dm(4242, "Alice", "what is this?", "photo-big", PNG.to_vec());
    until("the reply", || !fake.bodies("sendMessage").is_empty()).await;
    assert_eq!(fake.bodies("sendMessage")[0]["text"], "a cat");
    let got = fake.bodies("getFile");
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        got[0]["file_id"], "photo-big",
        "the largest size is fetched"
    );
    let req = seen.lock().unwrap()[0].to_string();
    let b64 = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(PNG)
    };
    assert!(
        req.contains(&format!("data:image/png;base64,{b64}")),
        "the model got the photo: {req}"
    );
    assert!(req.contains("what is this?"), "and the caption: {req}");
}

#[tokio::test]
async fn send_and_message_action_send_photos_and_health_lists_the_account() {
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let model = SseServer::start_fn(|_| text_reply("ok")).await.unwrap();
    let tg = gateway(config(&model, &fake)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;

    // `send` with a URL: sendPhoto with the text as caption.
    let r = c
        .ok(
            "send",
            json!({"to": "4242", "message": "**look**", "mediaUrl": "https://example.com/cat.png",
                           "idempotencyKey": "photo-1"}),
        )
        .await;
    let photos = fake.bodies("sendPhoto");
    assert_eq!(photos.len(), 1);
    assert_eq!(photos[0]["photo"], "https://example.com/cat.png");
    assert_eq!(photos[0]["caption"], "<b>look</b>");
    assert!(
        r["messageId"].as_str().unwrap().parse::<u64>().is_ok(),
        "{r}"
    );
    assert!(
        fake.bodies("sendMessage").is_empty(),
        "no separate text message"
    );

    // A local file in the state directory is uploaded; one outside the media roots is refused.
    let file = tg.state().join("cat.png");
    std::fs::write(&file, PNG).unwrap();
    c.ok(
        "send",
        json!({"to": "4242", "mediaUrl": file.display().to_string(), "idempotencyKey": "photo-2"}),
    )
    .await;
    let photos = fake.bodies("sendPhoto");
    assert_eq!(photos.len(), 2);
    assert_eq!(photos[1]["multipart"], true);
    assert!(photos[1]["bytes"].as_u64().unwrap() > PNG.len() as u64);
    let e = c
        .err(
            "send",
            json!({"to": "4242", "mediaUrl": "/etc/hostname", "idempotencyKey": "photo-3"}),
        )
        .await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("outside the allowed media"),
        "{e}"
    );
    assert_eq!(fake.bodies("sendPhoto").len(), 2, "nothing was sent");

    // message.action: the real CLI's `openclaw message send`.
    let params = json!({"channel": "telegram", "action": "send", "idempotencyKey": "act-1",
        "params": {"target": "4242", "message": "hi there", "media": "https://example.com/dog.png"}});
    let r = c.ok("message.action", params.clone()).await;
    assert_eq!(r["ok"], true);
    assert_eq!(r["chatId"], "4242");
    assert_eq!(
        c.ok("message.action", params).await,
        r,
        "a retry answers the first result"
    );
    let photos = fake.bodies("sendPhoto");
    assert_eq!(photos.len(), 3, "and sends nothing more");
    assert_eq!(photos[2]["caption"], "hi there");
    let r = c
        .ok(
            "message.action",
            json!({"channel": "telegram", "action": "send", "idempotencyKey": "act-2",
            "params": {"to": "4242", "message": "text only", "threadId": 7, "replyTo": "12"}}),
        )
        .await;
    let sent = fake.bodies("sendMessage");
    assert_eq!(sent.last().unwrap()["text"], "text only");
    assert_eq!(sent.last().unwrap()["message_thread_id"], 7);
    assert_eq!(sent.last().unwrap()["reply_parameters"]["message_id"], 12);
    assert!(r["messageId"].is_string(), "{r}");
    let e = c
        .err(
            "message.action",
            json!({"channel": "telegram", "action": "react", "idempotencyKey": "act-3",
            "params": {"target": "4242", "emoji": "👍"}}),
        )
        .await;
    assert_eq!(
        e["message"],
        "Message action react not supported for channel telegram."
    );
    let e = c
        .err("message.action", json!({"channel": "telegram", "action": "send", "idempotencyKey": "act-4",
            "params": {"target": "4242", "message": "m", "buttons": [[{"text": "a", "callback_data": "b"}]]}}))
        .await;
    assert!(e["message"].as_str().unwrap().contains("buttons"), "{e}");
    let e = c
        .err(
            "message.action",
            json!({"channel": "slack", "action": "send", "idempotencyKey": "act-5",
            "params": {"target": "x", "message": "m"}}),
        )
        .await;
    assert_eq!(e["message"], "unsupported channel: slack");

    // health: the channel summary as OpenClaw's health collector builds it.
    let h = c.ok("health", json!({})).await;
    assert_eq!(h["channelOrder"], json!(["telegram"]));
    assert_eq!(h["channelLabels"], json!({"telegram": "Telegram"}));
    let t = &h["channels"]["telegram"];
    assert_eq!(t["accountId"], "default");
    assert_eq!(t["configured"], true);
    assert_eq!(t["running"], true);
    assert_eq!(t["tokenSource"], "config");
    assert_eq!(t["mode"], "polling");
    assert_eq!(t["accounts"]["default"]["dmPolicy"], "open");
    assert!(t.get("bot").is_none() && t.get("probe").is_none(), "{t}");
}

/// Exec approvals on Telegram: the request goes to the approver's DM with Allow once / Always /
/// Deny buttons; a press by someone else (the sender who asked) is refused and changes nothing;
/// the approver's press resolves it through the same path as `/approve`, the command runs, the
/// press is answered and the buttons removed.
#[tokio::test]
async fn an_approver_answers_an_exec_approval_with_inline_buttons() {
    let Some(llm) = common::fake::fake_llm() else {
        return;
    };
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let mut config = common::fake::config_with(&llm, json!({}));
    config["tools"] = json!({"exec": {"mode": "ask"}});
    config["channels"] = json!({"telegram": {"botToken": BOT_TOKEN, "apiRoot": fake.url(),
        "pollTimeoutSeconds": 1, "dmPolicy": "open", "allowFrom": ["*"],
        "execApprovals": {"approvers": ["777"]}}});
    let tg = gateway(config).await;
    let marker = tg.state().join("approved-marker");
    let cmd = format!("touch {}", marker.display());
    fake.push_dm(
        4242,
        "Alice",
        &format!("call bash {}", json!({"command": cmd})),
    );
    let prompt = loop {
        let sent = fake.bodies("sendMessage");
        if let Some(p) = sent.iter().find(|b| b["chat_id"] == "777") {
            break p.clone();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert!(
        prompt["text"].as_str().unwrap().contains("approved-marker"),
        "{prompt}"
    );
    let row = &prompt["reply_markup"]["inline_keyboard"][0];
    let labels: Vec<&str> = row
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["Allow once", "Always", "Deny"]);
    let allow = row[0]["callback_data"].as_str().unwrap().to_owned();
    assert!(
        allow.starts_with("/approve ") && allow.ends_with(" allow-once"),
        "{allow}"
    );
    assert!(allow.len() <= 64, "Telegram's callback_data limit");

    // The sender who asked cannot press it.
    fake.push_callback(4242, 777, 1, &allow);
    until("the refusal", || {
        !fake.bodies("answerCallbackQuery").is_empty()
    })
    .await;
    let answer = &fake.bodies("answerCallbackQuery")[0];
    assert_eq!(answer["text"], "You are not an exec approver for this bot.");
    assert!(!marker.exists());

    fake.push_callback(777, 777, 2, &allow);
    until("the command ran", || marker.exists()).await;
    // The press is answered (then its keyboard removed) after the approval resolved, so
    // possibly after the run started.
    until("the approver answered and the keyboard went", || {
        fake.bodies("answerCallbackQuery").len() >= 2
            && fake
                .bodies("editMessageReplyMarkup")
                .iter()
                .any(|e| e["message_id"] == 2)
    })
    .await;
    let answers = fake.bodies("answerCallbackQuery");
    assert_eq!(answers.len(), 2);
    assert!(
        answers[1]["text"].as_str().unwrap().ends_with("allow-once"),
        "{answers:?}"
    );
    let edits = fake.bodies("editMessageReplyMarkup");
    assert!(
        edits
            .iter()
            .any(|e| e["message_id"] == 2 && e["reply_markup"]["inline_keyboard"] == json!([])),
        "{edits:?}"
    );
}
