//! The Discord account against the fake Discord gateway and REST API on loopback: Identify
//! with the intents, messages committed with the session as the cursor (DMs, guild channels,
//! threads, mentions), a zombied connection (no heartbeat ACK) detected and resumed without a
//! leaked socket, op 7 / op 9, a restart resuming from the stored cursor, fatal close codes
//! and a refused token stopping the account with `lastError`, and sends: one reply reference,
//! `allowed_mentions`, mass mentions neutralised, DM channels opened once, rate limits
//! honoured, a retried create never duplicated.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use openclaw_channels::discord::DiscordAccount;
use openclaw_channels::testing_discord::{BOT_ID, FakeDiscord, GENERAL_ID, GUILD_ID, THREAD_ID};
use openclaw_core::CancellationToken;
use openclaw_core::channel::{
    ChannelAccount, ChatType, InboundMessage, InboundSink, OutboundText, Target,
};
use serde_json::{Value, json};

const TOKEN: &str = "fake-discord-token";

#[derive(Default)]
struct MemorySink {
    messages: Mutex<Vec<InboundMessage>>,
    cursor: Mutex<Option<String>>,
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
        let mut have = self.messages.lock().unwrap();
        for m in messages {
            if !have.iter().any(|h| h.dedupe_key == m.dedupe_key) {
                have.push(m);
            }
        }
        *self.cursor.lock().unwrap() = cursor;
        Ok(())
    }
}

impl MemorySink {
    fn messages(&self) -> Vec<InboundMessage> {
        self.messages.lock().unwrap().clone()
    }
}

fn account(fake: &FakeDiscord, token: &str) -> Arc<DiscordAccount> {
    let section = json!({"token": token, "apiRoot": fake.api_root(),
                         "gatewayUrl": fake.gateway_url()});
    Arc::new(DiscordAccount::from_section(&section, "default", &|_| None).unwrap())
}

async fn until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn start(
    acct: &Arc<DiscordAccount>,
    sink: &Arc<MemorySink>,
) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let cancel = CancellationToken::new();
    let (a, s, c) = (acct.clone(), sink.clone(), cancel.clone());
    let task = tokio::spawn(async move { a.run(s, c).await });
    (cancel, task)
}

async fn connected(acct: &Arc<DiscordAccount>) {
    until("connected", Duration::from_secs(10), || {
        acct.status().connected
    })
    .await;
}

#[tokio::test]
async fn identifies_with_the_intents_and_commits_dms_guild_messages_and_threads() {
    let fake = FakeDiscord::start(TOKEN, 5_000).await.unwrap();
    let acct = account(&fake, TOKEN);
    let sink = Arc::new(MemorySink::default());
    let (cancel, task) = start(&acct, &sink);
    connected(&acct).await;
    let id = &fake.identifies()[0];
    assert_eq!(id["token"], TOKEN);
    // GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT
    assert_eq!(id["intents"], 1 + (1 << 9) + (1 << 12) + (1 << 15));
    assert_eq!(acct.status().bot.unwrap()["id"], BOT_ID);

    let dm = fake.push_dm("42", "alice", "hello bot");
    let plain = fake.push_guild(GENERAL_ID, "43", "bob", "just chatting", false);
    let pinged = fake.push_guild(THREAD_ID, "43", "bob", "what's up?", true);
    until("three messages", Duration::from_secs(10), || {
        sink.messages().len() == 3
    })
    .await;
    let m = sink.messages();
    assert_eq!(m[0].message_id, dm);
    assert_eq!(m[0].chat_type, ChatType::Direct);
    assert_eq!(m[0].chat_id, fake.dm_channel("42"));
    assert_eq!(m[0].sender.id, "42");
    assert!(m[0].guild.is_none());
    assert_eq!(m[1].message_id, plain);
    assert_eq!(m[1].chat_type, ChatType::Channel);
    assert_eq!(m[1].chat_id, GENERAL_ID);
    assert!(!m[1].mentioned);
    let g = m[1].guild.as_ref().unwrap();
    assert_eq!(g.id, GUILD_ID);
    assert_eq!(g.channel_name.as_deref(), Some("general"));
    // In a thread: the parent is the chat, the thread the thread; the bot's mention is
    // taken out of the text.
    assert_eq!(m[2].message_id, pinged);
    assert_eq!(m[2].chat_id, GENERAL_ID);
    assert_eq!(m[2].thread_id.as_deref(), Some(THREAD_ID));
    assert!(m[2].mentioned);
    assert_eq!(m[2].text, "what's up?");
    let cursor: Value =
        serde_json::from_str(sink.cursor.lock().unwrap().as_deref().unwrap()).unwrap();
    assert_eq!(cursor["sessionId"], "fake-session-1");
    assert!(cursor["seq"].as_u64().unwrap() >= 5, "{cursor}");
    cancel.cancel();
    task.await.unwrap();
    assert!(!acct.status().running);
}

#[tokio::test]
async fn a_zombied_connection_is_detected_and_resumed_without_losing_a_message() {
    let fake = FakeDiscord::start(TOKEN, 300).await.unwrap();
    let acct = account(&fake, TOKEN);
    let sink = Arc::new(MemorySink::default());
    let (cancel, task) = start(&acct, &sink);
    connected(&acct).await;
    until("a heartbeat", Duration::from_secs(5), || {
        fake.heartbeats() >= 1
    })
    .await;
    fake.zombify();
    // Sent while the connection is half-open: replayed on resume.
    fake.push_dm("42", "alice", "are you deaf?");
    until("a resume", Duration::from_secs(10), || {
        !fake.resumes().is_empty()
    })
    .await;
    let r = &fake.resumes()[0];
    assert_eq!(r["session_id"], "fake-session-1");
    assert_eq!(r["token"], TOKEN);
    until("the message", Duration::from_secs(10), || {
        sink.messages().len() == 1
    })
    .await;
    connected(&acct).await;
    let st = acct.status();
    assert_eq!(st.stalls, 1);
    assert_eq!(st.reconnect_attempts, 1);
    assert_eq!(fake.identifies().len(), 1, "resumed, not identified again");
    until("the zombie socket closed", Duration::from_secs(5), || {
        fake.connections() == (2, 1)
    })
    .await;
    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn op7_resumes_op9_identifies_again_and_a_restart_resumes_from_the_cursor() {
    let fake = FakeDiscord::start(TOKEN, 5_000).await.unwrap();
    let acct = account(&fake, TOKEN);
    let sink = Arc::new(MemorySink::default());
    let (cancel, task) = start(&acct, &sink);
    connected(&acct).await;
    fake.request_reconnect();
    until("a resume after op 7", Duration::from_secs(10), || {
        fake.resumes().len() == 1
    })
    .await;
    connected(&acct).await;
    fake.invalidate_session(false);
    until("a new identify after op 9", Duration::from_secs(15), || {
        fake.identifies().len() == 2
    })
    .await;
    connected(&acct).await;
    cancel.cancel();
    task.await.unwrap();

    // Down for a while: what was sent meanwhile arrives after the restart, by resuming.
    fake.push_dm("42", "alice", "while you were away");
    let again = account(&fake, TOKEN);
    let (cancel, task) = start(&again, &sink);
    until("the missed message", Duration::from_secs(10), || {
        sink.messages().len() == 1
    })
    .await;
    assert_eq!(fake.resumes().len(), 2);
    assert_eq!(fake.resumes()[1]["session_id"], "fake-session-2");
    assert_eq!(fake.identifies().len(), 2);
    cancel.cancel();
    task.await.unwrap();
}

#[tokio::test]
async fn fatal_close_codes_and_a_refused_token_stop_the_account_with_the_reason() {
    let fake = FakeDiscord::start(TOKEN, 5_000).await.unwrap();
    fake.close_next_identify(4014);
    let acct = account(&fake, TOKEN);
    let sink = Arc::new(MemorySink::default());
    let (_cancel, task) = start(&acct, &sink);
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the account stops by itself")
        .unwrap();
    let st = acct.status();
    assert!(!st.running);
    let err = st.last_error.unwrap();
    assert!(
        err.contains("4014") && err.contains("Message Content"),
        "{err}"
    );
    assert_eq!(fake.identifies().len(), 1, "no reconnect loop");

    let bad = account(&fake, "wrong-token");
    let (_cancel, task) = start(&bad, &sink);
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("the account stops by itself")
        .unwrap();
    let err = bad.status().last_error.unwrap();
    assert!(err.contains("401"), "{err}");
    assert!(!err.contains("wrong-token"), "no secret in status");
    assert_eq!(
        fake.connections().0,
        1,
        "never connected with a refused token"
    );
}

fn text(to: &str, body: &str, reply: Option<&str>) -> OutboundText {
    OutboundText {
        to: Target {
            chat_id: to.into(),
            thread_id: None,
        },
        text: body.into(),
        reply_to_id: reply.map(str::to_owned),
        ..OutboundText::default()
    }
}

#[tokio::test]
async fn sends_carry_one_reference_no_mass_mention_and_dm_channels_open_once() {
    let fake = FakeDiscord::start(TOKEN, 5_000).await.unwrap();
    let acct = account(&fake, TOKEN);
    let sent = acct
        .send_text(&text(GENERAL_ID, "hi @everyone, see **this**", Some("777")))
        .await
        .unwrap();
    let m = &fake.messages()[0];
    assert_eq!(sent.message_id, m["id"].as_str().unwrap());
    assert_eq!(sent.chat_id, GENERAL_ID);
    assert_eq!(m["message_reference"]["message_id"], "777");
    assert_eq!(m["allowed_mentions"]["parse"], json!(["users"]));
    let content = m["content"].as_str().unwrap();
    assert!(
        !content.contains("@everyone") && content.contains("**this**"),
        "{content}"
    );

    for _ in 0..2 {
        acct.send_text(&text("user:42", "psst", None))
            .await
            .unwrap();
    }
    let dm = fake.dm_channel("42");
    let opens = fake
        .requests()
        .iter()
        .filter(|r| r.path == "/users/@me/channels")
        .count();
    assert_eq!(opens, 1, "the DM channel is opened once");
    assert_eq!(fake.messages()[2]["channel_id"], dm.as_str());
    assert!(fake.messages()[2]["message_reference"].is_null());

    let in_thread = Target {
        chat_id: GENERAL_ID.into(),
        thread_id: Some(THREAD_ID.into()),
    };
    acct.send_typing(&in_thread).await.unwrap();
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.path == format!("/channels/{THREAD_ID}/typing"))
    );
    assert!(
        acct.send_text(&text("not a target", "x", None))
            .await
            .is_err()
    );
    assert!(
        acct.send_text(&text(GENERAL_ID, &"x".repeat(2001), None))
            .await
            .is_err(),
        "an unchunked message is refused, not truncated"
    );
}

#[tokio::test]
async fn rate_limits_are_honoured_and_a_retried_create_is_not_duplicated() {
    let fake = FakeDiscord::start(TOKEN, 5_000).await.unwrap();
    let acct = account(&fake, TOKEN);
    fake.rate_limit_next(&[0.1, 0.1]);
    acct.send_text(&text(GENERAL_ID, "after two 429s", None))
        .await
        .unwrap();
    assert_eq!(fake.messages().len(), 1);

    fake.set_bucket(2, Duration::from_millis(300));
    for i in 0..5 {
        acct.send_text(&text(GENERAL_ID, &format!("burst {i}"), None))
            .await
            .unwrap();
    }
    assert_eq!(fake.violations(), 0, "the bucket headers were honoured");
    assert_eq!(fake.messages().len(), 6);

    // Created, but the answer was a 500: the retry carries the same nonce and gets the same
    // message back.
    fake.fail_after_create(1);
    let sent = acct
        .send_text(&text("channel:555", "exactly once", None))
        .await
        .unwrap();
    let msgs = fake.messages();
    assert_eq!(msgs.len(), 7);
    assert_eq!(msgs[6]["id"].as_str().unwrap(), sent.message_id);
    let posts: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/channels/555/messages")
        .collect();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].body["nonce"], posts[1].body["nonce"]);
    assert_eq!(posts[0].body["enforce_nonce"], true);
}

#[tokio::test]
async fn a_long_answer_is_chunked_at_2000_characters_and_17_lines() {
    let fake = FakeDiscord::start(TOKEN, 5_000).await.unwrap();
    let acct = account(&fake, TOKEN);
    let answer: String = (0..250)
        .map(|i| format!("line {i:03} of a long answer, with some words in it"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(answer.len() > 10_000);
    let chunks = acct.chunk(&answer);
    assert!(chunks.iter().all(|c| c.chars().count() <= 2000));
    assert!(chunks.iter().all(|c| c.lines().count() <= 17));
    assert_eq!(chunks.join("\n"), answer, "nothing lost or reordered");
    let narrow = Arc::new(
        DiscordAccount::from_section(
            &json!({"token": TOKEN, "maxLinesPerMessage": 5, "textChunkLimit": 5000}),
            "default",
            &|_| None,
        )
        .unwrap(),
    );
    assert_eq!(narrow.text_chunk_limit(), 2000, "capped at Discord's limit");
    assert!(narrow.chunk(&answer).iter().all(|c| c.lines().count() <= 5));
}
