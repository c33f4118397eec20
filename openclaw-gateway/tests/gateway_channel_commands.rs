//! Slash commands from Telegram through a real loopback gateway with the agent host, the fake
//! Bot API and an in-process fake model: the bot's menu is the gateway's command table; an
//! admitted sender's `/status`, `/help`, `/new` and `/stop` act on the conversation's session
//! (the path `chat.send` takes) and never reach the model; a stranger's command gets only the
//! pairing code; in groups mention gating applies first and `/cmd@otherbot` is not ours;
//! `/approve` needs an approver.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::model::text_reply;
use common::{ADMIN, Client, TestGateway};
use openclaw_channels::testing::{BOT_USERNAME, FakeBotApi};
use openclaw_core::testing::sse_server::{Reply, SseServer};
use serde_json::{Value, json};

const BOT_TOKEN: &str = "123456:ABC-fake";

/// A model answering "pong" — or, asked to "dawdle", streaming slowly and holding the answer
/// open (a run that only `/stop` ends); records the user messages of each request.
async fn model(seen: Arc<Mutex<Vec<Vec<String>>>>) -> SseServer {
    SseServer::start_fn(move |r| {
        let users: Vec<String> = r.json()["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "user")
            .map(|m| m["content"].to_string())
            .collect();
        let slow = users.last().is_some_and(|u| u.contains("dawdle"));
        seen.lock().unwrap().push(users);
        if slow {
            let chunk = json!({"id": "c", "choices": [{"index": 0,
                "delta": {"role": "assistant", "content": "thinking… "}, "finish_reason": null}]});
            Reply::Sse {
                chunks: vec![format!("data: {chunk}\n\n").into_bytes()],
                delay: Duration::from_millis(10),
                hold_open: true,
            }
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

/// Waits for the `n`th `sendMessage` and returns its text.
async fn nth_reply(fake: &FakeBotApi, n: usize) -> String {
    let sent = fake
        .wait_for("sendMessage", n, Duration::from_secs(20))
        .await;
    assert!(sent.len() >= n, "no reply {n}: {sent:?}");
    sent[n - 1]["text"].as_str().unwrap().to_owned()
}

/// Waits until update `id` was acknowledged and the dispatcher had a moment.
async fn settled(fake: &FakeBotApi, id: i64) {
    until("the update acknowledged", Duration::from_secs(10), || {
        fake.acknowledged_offset() > id
    })
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
}

#[tokio::test]
async fn an_admitted_sender_runs_the_command_table_and_a_stranger_only_pairs() {
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let model = model(seen.clone()).await;
    let tg = gateway(config(
        &model,
        &fake,
        json!({"dmPolicy": "pairing", "allowFrom": ["4242"]}),
    ))
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;

    // The menu is the command table `commands.list` shows, in both scopes.
    let menus = fake
        .wait_for("setMyCommands", 2, Duration::from_secs(10))
        .await;
    let listed: Vec<Value> = c.ok("commands.list", json!({})).await["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| json!({"command": c["name"], "description": c["description"]}))
        .collect();
    assert_eq!(menus[0]["commands"], json!(listed));
    assert_eq!(menus[1]["scope"], json!({"type": "all_group_chats"}));
    let calls: Vec<String> = fake.requests().iter().map(|r| r.method.clone()).collect();
    let first_poll = calls.iter().position(|m| m == "getUpdates").unwrap();
    assert_eq!(
        &calls[..first_poll],
        [
            "getMe",
            "deleteWebhook",
            "deleteMyCommands",
            "deleteMyCommands",
            "setMyCommands",
            "setMyCommands"
        ]
    );

    // A stranger's command is a stranger's message: the pairing code, nothing else.
    let stranger = fake.push_dm(555, "Mallory", "/status");
    let text = nth_reply(&fake, 1).await;
    assert!(
        text.starts_with("OpenClaw: access not configured."),
        "{text}"
    );
    settled(&fake, stranger).await;
    assert_eq!(fake.bodies("sendMessage").len(), 1);
    assert!(seen.lock().unwrap().is_empty(), "nothing reached the model");

    // The allowed sender: a turn, then commands that never reach the model.
    fake.push_dm(4242, "Alice", "remember the number 7");
    assert_eq!(nth_reply(&fake, 2).await, "pong");
    fake.push_dm(4242, "Alice", "/status");
    let status = nth_reply(&fake, 3).await;
    assert!(status.contains("Model: fake/m1"), "{status}");
    assert!(
        status.contains("Session: agent:main:telegram:direct:4242"),
        "{status}"
    );
    assert!(status.contains("Tokens: 10 in / 5 out"), "{status}");
    fake.push_dm(4242, "Alice", "/help");
    let help = nth_reply(&fake, 4).await;
    for name in ["/new", "/reset", "/status", "/stop", "/help"] {
        assert!(help.contains(name), "{name} missing: {help}");
    }
    assert_eq!(seen.lock().unwrap().len(), 1, "commands reached the model");

    // `/new`: a fresh session; the next turn carries no earlier history.
    let key = "agent:main:telegram:direct:4242";
    let before = c.ok("chat.history", json!({"sessionKey": key})).await["sessionId"].clone();
    fake.push_dm(4242, "Alice", "/new");
    assert_eq!(nth_reply(&fake, 5).await, "✅ New session started.");
    let after = c.ok("chat.history", json!({"sessionKey": key})).await;
    assert_ne!(after["sessionId"], before);
    fake.push_dm(4242, "Alice", "what was the number?");
    assert_eq!(nth_reply(&fake, 6).await, "pong");
    let last = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.len(), 1, "history after /new: {last:?}");
    assert!(last[0].contains("what was the number?"));
    // `/reset <text>` runs the text on the new session.
    fake.push_dm(4242, "Alice", "/reset hello again");
    assert_eq!(nth_reply(&fake, 7).await, "pong");
    let last = seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.len(), 1, "{last:?}");
    assert!(last[0].contains("hello again") && !last[0].contains("/reset"));

    // Not in the table: text for the model, as in `chat.send`.
    fake.push_dm(4242, "Alice", "/unknown thing");
    assert_eq!(nth_reply(&fake, 8).await, "pong");
    assert_eq!(seen.lock().unwrap().len(), 4);

    // A skill's command reaches the model as `chat.send` gives it.
    let dir = tg.state().join("workspace/skills/weather");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("SKILL.md"),
        "---\nname: weather\ndescription: Forecasts.\n---\nUse the weather tool.\n",
    )
    .unwrap();
    fake.push_dm(4242, "Alice", "/weather today");
    assert_eq!(nth_reply(&fake, 9).await, "pong");
    let last = seen.lock().unwrap().last().cloned().unwrap();
    let user = last.last().unwrap();
    assert!(
        user.contains("Read each skill's SKILL.md before acting:\\n- weather\\n\\nUser request:\\n/weather today"),
        "{user}"
    );
}

/// Also: `commands.native: false` keeps only `customCommands` in the menu.
#[tokio::test]
async fn in_groups_gating_comes_first_and_other_bots_commands_are_not_ours() {
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let model = model(seen.clone()).await;
    let mut cfg = config(
        &model,
        &fake,
        json!({"groups": {"-1001": {"requireMention": true}, "-1002": {"requireMention": false}},
               "customCommands": [{"command": "backup", "description": "Git backup"}]}),
    );
    // Without native commands the menu holds only the custom entries (typed ones still work).
    cfg["commands"] = json!({"native": false});
    let _tg = gateway(cfg).await;
    let menus = fake
        .wait_for("setMyCommands", 2, Duration::from_secs(10))
        .await;
    assert_eq!(
        menus[0]["commands"],
        json!([{"command": "backup", "description": "Git backup"}])
    );
    // Not mentioned in a mention-gated group: dropped, command or not.
    let quiet = fake.push_group(-1001, 4242, "/status", false);
    // Addressed to another bot in an open group: not ours.
    let other = fake.push_group(-1002, 4242, "/status@some_other_bot", false);
    settled(&fake, quiet.max(other)).await;
    assert!(fake.bodies("sendMessage").is_empty());
    // `/status@<this bot>` is a mention and the command.
    fake.push_group(-1001, 4242, &format!("/status@{BOT_USERNAME}"), false);
    let text = nth_reply(&fake, 1).await;
    assert!(
        text.contains("Session: agent:main:telegram:group:-1001"),
        "{text}"
    );
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn stop_aborts_the_running_turn_of_that_conversation() {
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let model = model(seen.clone()).await;
    let _tg = gateway(config(
        &model,
        &fake,
        json!({"dmPolicy": "allowlist", "allowFrom": ["4242"]}),
    ))
    .await;
    fake.push_dm(4242, "Alice", "please dawdle");
    until("the run started", Duration::from_secs(10), || {
        !seen.lock().unwrap().is_empty()
    })
    .await;
    fake.push_dm(4242, "Alice", "/stop");
    assert_eq!(nth_reply(&fake, 1).await, "⚙️ Agent was aborted.");
    // The conversation is free again: the next message runs.
    fake.push_dm(4242, "Alice", "ping");
    assert_eq!(nth_reply(&fake, 2).await, "pong");
    fake.push_dm(4242, "Alice", "/stop");
    assert_eq!(nth_reply(&fake, 3).await, "⚙️ Nothing is running.");
}

#[tokio::test]
async fn approve_from_the_chat_needs_an_approver() {
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let model = model(seen.clone()).await;
    let mut cfg = config(
        &model,
        &fake,
        json!({"dmPolicy": "allowlist", "allowFrom": ["4242", "77"]}),
    );
    cfg["commands"] = json!({"ownerAllowFrom": ["telegram:77"]});
    let _tg = gateway(cfg).await;
    fake.push_dm(4242, "Alice", "/approve abc allow-once");
    assert_eq!(
        nth_reply(&fake, 1).await,
        "You are not an exec approver for this bot."
    );
    fake.push_dm(77, "Owner", "/approve abc allow-once");
    // The owner reaches the approvals (which know no such id).
    assert_eq!(nth_reply(&fake, 2).await, "unknown or expired approval id");
    assert!(seen.lock().unwrap().is_empty());
}
