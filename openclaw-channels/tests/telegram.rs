//! The Telegram account against the fake Bot API on loopback: the wire sequence, offsets
//! acknowledged only after the sink committed, a stalled long poll abandoned and the
//! connection rebuilt without a second poller, 401/409 surfaced as `lastError`, and sends
//! returning Telegram's message id with Markdown converted to HTML.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use openclaw_channels::telegram::TelegramAccount;
use openclaw_channels::testing::FakeBotApi;
use openclaw_core::CancellationToken;
use openclaw_core::channel::{
    AccountStatus, ChannelAccount, ChatType, InboundMessage, InboundSink, MenuCommand,
    OutboundText, Target,
};
use serde_json::{Value, json};

const TOKEN: &str = "123456:ABC-fake";

/// A sink keeping what was committed in memory; it refuses the first `refuse` commits.
#[derive(Default)]
struct MemorySink {
    messages: Mutex<Vec<InboundMessage>>,
    cursor: Mutex<Option<String>>,
    refuse: Mutex<usize>,
    committed_at: Mutex<Option<Instant>>,
}

#[async_trait]
impl InboundSink for MemorySink {
    async fn cursor(&self, _: &str, _: &str) -> Result<Option<String>, String> {
        Ok(self.cursor.lock().unwrap().clone())
    }

    async fn commit(
        &self,
        _: &str,
        _: &str,
        messages: Vec<InboundMessage>,
        cursor: Option<String>,
    ) -> Result<(), String> {
        let mut refuse = self.refuse.lock().unwrap();
        if *refuse > 0 {
            *refuse -= 1;
            return Err("disk full".into());
        }
        if !messages.is_empty() {
            self.committed_at
                .lock()
                .unwrap()
                .get_or_insert_with(Instant::now);
        }
        self.messages.lock().unwrap().extend(messages);
        *self.cursor.lock().unwrap() = cursor;
        Ok(())
    }
}

fn account(fake: &FakeBotApi, extra: Value) -> Arc<TelegramAccount> {
    let mut section = json!({"botToken": TOKEN, "apiRoot": fake.url(), "pollTimeoutSeconds": 1});
    for (k, v) in extra.as_object().unwrap() {
        section[k] = v.clone();
    }
    Arc::new(TelegramAccount::from_section(&section, "default", &|_| None).unwrap())
}

async fn until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn start(
    acct: &Arc<TelegramAccount>,
    sink: &Arc<MemorySink>,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let cancel = CancellationToken::new();
    let (a, s, c) = (
        acct.clone(),
        sink.clone() as Arc<dyn InboundSink>,
        cancel.clone(),
    );
    (cancel, tokio::spawn(async move { a.run(s, c).await }))
}

#[tokio::test]
async fn updates_are_committed_before_the_offset_is_acknowledged() {
    let fake = FakeBotApi::start(TOKEN).await.unwrap();
    let acct = account(&fake, json!({}));
    let sink = Arc::new(MemorySink::default());
    *sink.refuse.lock().unwrap() = 2;
    let id = fake.push_dm(4242, "Alice", "hello");
    let (cancel, task) = start(&acct, &sink);
    // The first two commits fail: Telegram must not have been told the offset.
    until("a committed message", Duration::from_secs(10), || {
        !sink.messages.lock().unwrap().is_empty()
    })
    .await;
    let calls: Vec<String> = fake.requests().iter().map(|r| r.method.clone()).collect();
    // No commands given: the menu is cleared and nothing set.
    assert_eq!(
        &calls[..5],
        [
            "getMe",
            "deleteWebhook",
            "deleteMyCommands",
            "deleteMyCommands",
            "getUpdates"
        ],
        "{calls:?}"
    );
    assert_eq!(
        fake.bodies("deleteWebhook")[0],
        json!({"drop_pending_updates": false})
    );
    assert_eq!(fake.bodies("getUpdates")[0]["timeout"], 0);
    until("the offset acknowledged", Duration::from_secs(5), || {
        fake.acknowledged_offset() == id + 1
    })
    .await;
    // Telegram heard the offset only after the (third) commit succeeded.
    let committed = sink.committed_at.lock().unwrap().unwrap();
    let acked = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "getUpdates" && r.body["offset"] == id + 1)
        .unwrap();
    assert!(acked.at > committed, "acknowledged before the commit");
    assert_eq!(
        *sink.refuse.lock().unwrap(),
        0,
        "the refused commits were retried"
    );
    let m = sink.messages.lock().unwrap()[0].clone();
    assert_eq!(m.chat_type, ChatType::Direct);
    assert_eq!(m.sender.id, "4242");
    assert_eq!(m.text, "hello");
    assert_eq!(m.dedupe_key, format!("4242:{}", m.message_id));
    assert_eq!(
        sink.cursor.lock().unwrap().as_deref(),
        Some(&*(id + 1).to_string())
    );
    let s = acct.status();
    assert!(s.running && s.connected, "{s:?}");
    assert!(s.last_inbound_at.is_some());
    cancel.cancel();
    task.await.unwrap();
    let s = acct.status();
    assert!(!s.running && !s.connected);
    assert_eq!(s.lifecycle, "stopped");
}

fn menu(names: &[(&str, &str)]) -> Vec<MenuCommand> {
    names
        .iter()
        .map(|(c, d)| MenuCommand {
            command: (*c).into(),
            description: (*d).into(),
        })
        .collect()
}

/// OpenClaw's start-up sequence: the menu cleared for both scopes, then set for both, before
/// the first poll; custom entries first, invalid ones skipped with a warning.
#[tokio::test]
async fn the_command_menu_is_registered_in_openclaws_sequence() {
    let fake = FakeBotApi::start(TOKEN).await.unwrap();
    let acct = account(
        &fake,
        json!({"customCommands": [{"command": "/Backup", "description": "Git backup"},
                                  {"command": "help", "description": "mine"}]}),
    );
    acct.set_command_menu(menu(&[
        ("help", "Show available commands."),
        ("new", "Start a new session."),
    ]));
    let sink = Arc::new(MemorySink::default());
    let (cancel, task) = start(&acct, &sink);
    until("connected", Duration::from_secs(5), || {
        acct.status().connected
    })
    .await;
    let calls: Vec<(String, Value)> = fake
        .requests()
        .into_iter()
        .map(|r| (r.method, r.body))
        .take(7)
        .collect();
    let methods: Vec<&str> = calls.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(
        methods,
        [
            "getMe",
            "deleteWebhook",
            "deleteMyCommands",
            "deleteMyCommands",
            "setMyCommands",
            "setMyCommands",
            "getUpdates"
        ]
    );
    assert_eq!(calls[2].1, json!({}));
    let groups = json!({"type": "all_group_chats"});
    assert_eq!(calls[3].1, json!({"scope": groups}));
    let commands = json!([{"command": "backup", "description": "Git backup"},
                          {"command": "help", "description": "Show available commands."},
                          {"command": "new", "description": "Start a new session."}]);
    assert_eq!(calls[4].1, json!({"commands": commands}));
    assert_eq!(calls[5].1, json!({"commands": commands, "scope": groups}));
    let warnings = acct.status().warnings;
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("\"/help\" conflicts"), "{warnings:?}");
    cancel.cancel();
    task.await.unwrap();
}

/// Telegram refusing the menu is a warning, not a failure: the bot polls and hears.
#[tokio::test]
async fn a_refused_menu_does_not_stop_the_account() {
    let fake = FakeBotApi::start(TOKEN).await.unwrap();
    let acct = account(&fake, json!({}));
    acct.set_command_menu(menu(&[("status", "Show session and model status.")]));
    fake.fail_next_set_commands(&[(400, "Bad Request: BOT_COMMAND_INVALID")]);
    let sink = Arc::new(MemorySink::default());
    let (cancel, task) = start(&acct, &sink);
    fake.push_dm(7, "Bob", "hello");
    until("the message heard", Duration::from_secs(10), || {
        !sink.messages.lock().unwrap().is_empty()
    })
    .await;
    let s = acct.status();
    assert!(s.connected, "{s:?}");
    assert_eq!(s.last_error, None);
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("setMyCommands failed: 400: Bad Request: BOT_COMMAND_INVALID")),
        "{s:?}"
    );
    let status = serde_json::to_value(&s).unwrap();
    assert!(status["warnings"][0].as_str().is_some(), "{status}");
    assert_eq!(fake.bodies("setMyCommands").len(), 1, "not retried");
    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn a_stalled_poll_is_abandoned_and_the_bot_hears_again() {
    let fake = FakeBotApi::start(TOKEN).await.unwrap();
    let acct = account(&fake, json!({"stallTimeoutMs": 1500}));
    let sink = Arc::new(MemorySink::default());
    let (cancel, task) = start(&acct, &sink);
    until("connected", Duration::from_secs(5), || {
        acct.status().connected
    })
    .await;
    fake.stall_next_polls(1);
    // Deaf: the current poll returns, the next one hangs.
    until("a stall detected", Duration::from_secs(10), || {
        acct.status().stalls == 1
    })
    .await;
    let s: AccountStatus = acct.status();
    assert!(
        s.last_error.as_deref().unwrap_or("").contains("stalled"),
        "{s:?}"
    );
    assert!(s.reconnect_attempts >= 1);
    fake.push_dm(7, "Bob", "still there?");
    until(
        "the message after the stall",
        Duration::from_secs(10),
        || !sink.messages.lock().unwrap().is_empty(),
    )
    .await;
    assert!(acct.status().connected);
    assert_eq!(acct.status().last_error, None, "cleared once polling works");
    // Reconnects never left a second poller behind.
    assert_eq!(fake.max_concurrent_polls(), 1);
    assert!(
        fake.bodies("getMe").len() >= 2,
        "a new connection was set up"
    );
    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn unauthorized_and_conflict_are_reported_as_last_error() {
    let fake = FakeBotApi::start(TOKEN).await.unwrap();
    let bad = Arc::new(
        TelegramAccount::from_section(
            &json!({"botToken": "1:wrong", "apiRoot": fake.url()}),
            "default",
            &|_| None,
        )
        .unwrap(),
    );
    let sink = Arc::new(MemorySink::default());
    let (cancel, task) = start(&bad, &sink);
    until("401 in lastError", Duration::from_secs(5), || {
        bad.status().last_error.is_some()
    })
    .await;
    let e = bad.status().last_error.unwrap();
    assert!(e.contains("401") && e.contains("Unauthorized"), "{e}");
    assert!(!e.contains("wrong"), "the token never appears: {e}");
    assert!(!bad.status().connected);
    cancel.cancel();
    task.await.unwrap();

    let acct = account(&fake, json!({}));
    fake.fail_next_polls(&[(409, "Conflict: terminated by other getUpdates request")]);
    let (cancel, task) = start(&acct, &sink);
    until("409 in lastError", Duration::from_secs(5), || {
        acct.status()
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("409"))
    })
    .await;
    until("recovered", Duration::from_secs(10), || {
        acct.status().connected
    })
    .await;
    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn sends_return_the_message_id_in_html() {
    let fake = FakeBotApi::start(TOKEN).await.unwrap();
    let acct = account(&fake, json!({}));
    let sent = acct
        .send_text(&OutboundText {
            to: Target {
                chat_id: "4242".into(),
                thread_id: None,
            },
            text: "**bold** & <x>".into(),
            reply_to_id: Some("17".into()),
            ..OutboundText::default()
        })
        .await
        .unwrap();
    let body = &fake.bodies("sendMessage")[0];
    assert_eq!(body["text"], "<b>bold</b> &amp; &lt;x&gt;");
    assert_eq!(body["parse_mode"], "HTML");
    assert_eq!(body["reply_parameters"]["message_id"], 17);
    assert_eq!(sent.message_id, "501");
    // Telegram refusing the markup: sent again as plain text, once.
    fake.fail_next_sends(&[(400, "Bad Request: can't parse entities", None)]);
    let again = acct
        .send_text(&OutboundText {
            to: Target {
                chat_id: "4242".into(),
                thread_id: None,
            },
            text: "x".into(),
            ..OutboundText::default()
        })
        .await
        .unwrap();
    assert_eq!(again.message_id, "502");
    assert_eq!(fake.bodies("sendMessage").len(), 3);
    assert_eq!(fake.bodies("sendMessage")[2].get("parse_mode"), None);
    let p = acct.probe().await;
    assert!(p.ok);
    assert_eq!(
        p.bot.unwrap()["username"],
        openclaw_channels::testing::BOT_USERNAME
    );
    assert!(
        acct.pairing_text("4242", "3VTCBATC")
            .contains("<pre><code>openclaw pairing approve telegram 3VTCBATC\n</code></pre>")
    );
}

#[tokio::test]
async fn the_token_comes_from_token_file_or_the_environment_and_is_never_shown() {
    let fake = FakeBotApi::start(TOKEN).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    let from_file = TelegramAccount::from_section(
        &json!({"tokenFile": file, "apiRoot": fake.url()}),
        "default",
        &|_| None,
    )
    .unwrap();
    assert_eq!(
        from_file.status().token_source.as_deref(),
        Some("tokenFile")
    );
    assert!(from_file.probe().await.ok, "the file's token works");
    let from_env =
        TelegramAccount::from_section(&json!({"apiRoot": fake.url()}), "default", &|k| {
            (k == "TELEGRAM_BOT_TOKEN").then(|| TOKEN.to_owned())
        })
        .unwrap();
    assert_eq!(from_env.status().token_source.as_deref(), Some("env"));
    assert!(from_env.status().configured);
    // The environment is the default account's only.
    let other = TelegramAccount::from_section(&json!({"accounts": {"work": {}}}), "work", &|_| {
        Some(TOKEN.to_owned())
    })
    .unwrap();
    assert!(!other.status().configured);
    let missing = TelegramAccount::from_section(
        &json!({"tokenFile": dir.path().join("nope")}),
        "default",
        &|_| None,
    );
    assert!(missing.err().unwrap().contains("cannot be read"));
    assert!(
        !serde_json::to_string(&from_file.status())
            .unwrap()
            .contains("ABC-fake")
    );
}
