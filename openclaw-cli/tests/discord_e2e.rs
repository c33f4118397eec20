//! Discord end to end against a real `openclaw gateway run` process, the fake Discord gateway
//! and REST API (openclaw-channels' test support) and the fake LLM from `shared/`:
//! - a stranger's DM gets a pairing code and reaches no agent; `openclaw pairing approve
//!   discord <code> --notify` lets them in, and a 10,000-character answer arrives in messages
//!   of at most 2000 characters and 17 lines, the reply reference on the first only;
//! - a guild message without a mention is ignored, one with a mention answered as a reply;
//! - a `kill -9` between receiving and replying: after the restart (which resumes the Discord
//!   session from the stored cursor) the message is answered exactly once;
//! - a zombied gateway connection (no heartbeat ACK) is detected and resumed, and the bot
//!   hears again;
//! - `gateway call send` returns Discord's message id; `channels status` shows the account.

mod support_cli;

use std::time::{Duration, Instant};

use openclaw_channels::testing_discord::{FakeDiscord, GENERAL_ID, GUILD_ID};
use serde_json::{Value, json};
use support_cli::{Home, stderr, stdout};

const TOKEN: &str = "discord-e2e-token";
const BOT_TOKEN: &str = "fake-discord-bot-token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_for(fake: &FakeDiscord, what: &str, f: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let sent = fake.messages();
        if f(&sent) {
            return sent;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {sent:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until no message has been created for a second; the count.
async fn settled(fake: &FakeDiscord) -> usize {
    let mut n = fake.messages().len();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = fake.messages().len();
        if now == n {
            return n;
        }
        n = now;
    }
}

fn typing_in(fake: &FakeDiscord, channel: &str) -> usize {
    let path = format!("/channels/{channel}/typing");
    fake.requests().iter().filter(|r| r.path == path).count()
}

/// About 9,800 characters in 160 lines of numbered words.
fn long_question() -> String {
    (0..160)
        .map(|l| {
            (0..10)
                .map(|w| format!("w{l:03}x{w}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn numbered_words(texts: &[String]) -> Vec<String> {
    texts
        .iter()
        .flat_map(|t| t.split_whitespace())
        .filter(|w| w.len() == 6 && w.starts_with('w') && w.as_bytes()[4] == b'x')
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairing_chunking_mentions_a_kill_a_zombie_and_send() {
    let Some(home) = Home::start() else { return };
    let fake = FakeDiscord::start(BOT_TOKEN, 1_000).await.unwrap();
    let path = home.state_dir().join("openclaw.json");
    let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    cfg["agents"] = json!({"defaults": {"model": {"primary": "fake/fake-model"}}});
    cfg["session"] = json!({"dmScope": "per-channel-peer"});
    cfg["channels"] = json!({"discord": {
        "token": BOT_TOKEN, "apiRoot": fake.api_root(), "gatewayUrl": fake.gateway_url(),
        "replyToMode": "first",
        "guilds": {GUILD_ID: {"channels": {"general": {"requireMention": true}}}},
    }});
    std::fs::write(&path, cfg.to_string()).unwrap();
    let port = free_port();
    let env = [("OPENCLAW_GATEWAY_TOKEN", TOKEN)];
    let url = format!("ws://127.0.0.1:{port}");
    let mut gw = Some(home.gateway(&["--port", &port.to_string()], &env, port));

    // Discord delivers to a session only what happens after it identified.
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.identifies().is_empty() {
        assert!(Instant::now() < deadline, "the gateway never identified");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A stranger: one pairing reply in the DM, nothing reaches the agent.
    let dm = fake.dm_channel("4242");
    fake.push_dm("4242", "alice", "hello bot");
    let sent = wait_for(&fake, "the pairing reply", |s| !s.is_empty()).await;
    assert_eq!(sent[0]["channel_id"], dm.as_str());
    let text = sent[0]["content"].as_str().unwrap();
    assert!(
        text.starts_with("OpenClaw: access not configured.\n\nYour Discord user id: 4242\n"),
        "{text}"
    );
    let code = text.split("```\n").nth(1).unwrap()[..8].to_owned();
    assert!(text.contains(&format!("openclaw pairing approve discord {code}")));
    fake.push_dm("4242", "alice", "hello??");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fake.messages().len(), 1, "answered once");
    assert_eq!(typing_in(&fake, &dm), 0, "a stranger reaches no agent");

    let out = home.run(&["pairing", "approve", "discord", &code, "--notify"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Approved discord sender 4242"),
        "{}",
        stdout(&out)
    );
    let sent = wait_for(&fake, "the approval notice", |s| s.len() >= 2).await;
    assert_eq!(
        sent[1]["channel_id"],
        dm.as_str(),
        "the DM channel, opened by user id"
    );
    assert!(
        sent[1]["content"]
            .as_str()
            .unwrap()
            .contains("access approved")
    );

    // The approved sender: the echo of a 9,800-character question is a >10,000-character
    // answer, delivered in chunks of ≤ 2000 characters and ≤ 17 lines, one reply reference.
    let question = long_question();
    let asked = fake.push_dm("4242", "alice", &question);
    let deadline = Instant::now() + Duration::from_secs(30);
    let chunks: Vec<Value> = loop {
        let now: Vec<Value> = fake.messages()[2..].to_vec();
        let texts: Vec<String> = now
            .iter()
            .map(|m| m["content"].as_str().unwrap().to_owned())
            .collect();
        if numbered_words(&texts).len() >= 1600 {
            break now;
        }
        assert!(Instant::now() < deadline, "the long answer never completed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let texts: Vec<String> = chunks
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    assert!(texts.concat().len() >= 10_000, "{}", texts.concat().len());
    assert!(texts.iter().all(|t| t.chars().count() <= 2000));
    assert!(texts.iter().all(|t| t.lines().count() <= 17));
    assert_eq!(
        numbered_words(&texts),
        numbered_words(&[question]),
        "nothing lost, repeated or reordered"
    );
    assert_eq!(chunks[0]["message_reference"]["message_id"], asked.as_str());
    assert!(chunks[1..].iter().all(|c| c["message_reference"].is_null()));
    assert!(
        chunks
            .iter()
            .all(|c| c["allowed_mentions"]["parse"] == json!(["users"]))
    );

    // A guild message without a mention: ignored; with one: answered as a reply.
    let before = settled(&fake).await;
    fake.push_guild(GENERAL_ID, "4343", "bob", "anyone here?", false);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(fake.messages().len(), before, "no mention, no answer");
    let asked = fake.push_guild(GENERAL_ID, "4343", "bob", "ping the bot", true);
    let sent = wait_for(&fake, "the guild reply", |s| s.len() > before).await;
    let reply = &sent[before];
    assert_eq!(reply["channel_id"], GENERAL_ID);
    assert_eq!(reply["message_reference"]["message_id"], asked.as_str());
    assert!(reply["content"].as_str().unwrap().contains("ping the bot"));

    // Killed between receiving and replying: answered exactly once after the restart.
    let before = settled(&fake).await;
    let typing = typing_in(&fake, GENERAL_ID);
    fake.push_guild(GENERAL_ID, "4343", "bob", "slow 400 are you there", true);
    let deadline = Instant::now() + Duration::from_secs(20);
    while typing_in(&fake, GENERAL_ID) == typing {
        assert!(Instant::now() < deadline, "the run never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(gw.take()); // SIGKILL
    assert_eq!(fake.messages().len(), before, "no reply before the kill");
    let resumes = fake.resumes().len();
    gw = Some(home.gateway(&["--port", &port.to_string()], &env, port));
    let sent = wait_for(&fake, "the replayed reply", |s| s.len() > before).await;
    assert!(
        sent[before]["content"]
            .as_str()
            .unwrap()
            .contains("are you there")
    );
    assert!(fake.resumes().len() > resumes, "the session was resumed");
    let after = settled(&fake).await;
    let replies: Vec<String> = fake.messages()[before..]
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        replies.concat().matches("are you there").count(),
        1,
        "answered exactly once: {replies:?}"
    );

    // A zombied connection: detected within two heartbeat intervals and resumed.
    let before = after;
    let resumes = fake.resumes().len();
    fake.zombify();
    fake.push_dm("4242", "alice", "still there?");
    let sent = wait_for(&fake, "the answer after the zombie", |s| s.len() > before).await;
    assert!(
        sent[before]["content"]
            .as_str()
            .unwrap()
            .contains("still there?")
    );
    settled(&fake).await;
    assert_eq!(fake.resumes().len(), resumes + 1);

    // `send` through the gateway returns Discord's message id.
    let params = json!({"to": format!("channel:{GENERAL_ID}"), "message": "hello from send",
                        "channel": "discord", "idempotencyKey": "discord-send-1"});
    let out = home.run(
        &[
            "gateway",
            "call",
            "send",
            "--params",
            &params.to_string(),
            "--json",
            "--url",
            &url,
            "--token",
            TOKEN,
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let res: Value = serde_json::from_slice(&out.stdout).unwrap();
    let last = fake.messages().last().cloned().unwrap();
    assert_eq!(last["content"], "hello from send");
    assert_eq!(res["messageId"], last["id"], "{res}");
    assert_eq!(res["channel"], "discord");

    let status = home.run(
        &[
            "channels", "status", "--json", "--url", &url, "--token", TOKEN,
        ],
        "",
    );
    assert!(status.status.success(), "{}", stderr(&status));
    let s: Value = serde_json::from_slice(&status.stdout).unwrap();
    let acct = &s["channelAccounts"]["discord"][0];
    assert_eq!(acct["connected"], true, "{s}");
    assert_eq!(acct["mode"], "gateway");
    assert!(acct["stalls"].as_u64().unwrap() >= 1, "{acct}");
    drop(gw);
}
