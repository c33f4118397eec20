//! Telegram end to end against a real `openclaw gateway run` process, the fake Bot API and the
//! fake LLM: a stranger's pairing code approved with `openclaw pairing approve --notify`, then
//! a `kill -9` of the gateway while the agent answers that sender: after a restart the
//! message is answered exactly once (replayed once, never lost, never duplicated).

mod support_cli;

use std::time::{Duration, Instant};

use openclaw_channels::testing::FakeBotApi;
use serde_json::{Value, json};
use support_cli::{Home, stderr, stdout};

const TOKEN: &str = "channels-e2e-token";
const BOT_TOKEN: &str = "123456:ABC-fake";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_for(fake: &FakeBotApi, what: &str, f: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let sent = fake.bodies("sendMessage");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairing_from_the_cli_and_a_kill_during_a_reply() {
    let Some(home) = Home::start() else { return };
    let fake = FakeBotApi::start(BOT_TOKEN).await.unwrap();
    let path = home.state_dir().join("openclaw.json");
    let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    cfg["agents"] = json!({"defaults": {"model": {"primary": "fake/fake-model"}}});
    cfg["session"] = json!({"dmScope": "per-channel-peer"});
    cfg["channels"] = json!({"telegram": {"botToken": BOT_TOKEN, "apiRoot": fake.url(),
                                          "pollTimeoutSeconds": 1}});
    std::fs::write(&path, cfg.to_string()).unwrap();
    let port = free_port();
    let env = [("OPENCLAW_GATEWAY_TOKEN", TOKEN)];
    let mut gw = Some(home.gateway(&["--port", &port.to_string()], &env, port));

    fake.push_dm(4242, "Alice", "hello bot");
    let sent = wait_for(&fake, "the pairing reply", |s| !s.is_empty()).await;
    let text = sent[0]["text"].as_str().unwrap();
    let code = text.split("<pre><code>").nth(1).unwrap()[..8].to_owned();

    let out = home.run(&["pairing", "list", "telegram", "--json"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["requests"][0]["code"], code.as_str(), "{list}");
    assert_eq!(list["requests"][0]["senderId"], "4242");
    let out = home.run(
        &[
            "pairing",
            "approve",
            "telegram",
            &code.to_lowercase(),
            "--notify",
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Approved telegram sender 4242"),
        "{}",
        stdout(&out)
    );
    let sent = wait_for(&fake, "the approval notice", |s| s.len() >= 2).await;
    assert!(
        sent[1]["text"]
            .as_str()
            .unwrap()
            .contains("access approved")
    );
    let again = home.run(&["pairing", "approve", "telegram", &code], "");
    assert!(!again.status.success(), "a code approves once");

    // The approved sender asks; the fake model answers slowly; the gateway is killed mid-run.
    fake.push_dm(4242, "Alice", "slow 400 are you there");
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.bodies("sendChatAction").is_empty() {
        assert!(Instant::now() < deadline, "the run never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(gw.take()); // SIGKILL
    assert_eq!(
        fake.bodies("sendMessage").len(),
        2,
        "no reply before the kill"
    );
    gw = Some(home.gateway(&["--port", &port.to_string()], &env, port));
    let sent = wait_for(&fake, "the replayed reply", |s| s.len() >= 3).await;
    assert!(
        sent[2]["text"].as_str().unwrap().contains("are you there"),
        "{:?}",
        sent[2]
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(fake.bodies("sendMessage").len(), 3, "answered exactly once");

    let status = home.run(
        &[
            "channels",
            "status",
            "--json",
            "--url",
            &format!("ws://127.0.0.1:{port}"),
            "--token",
            TOKEN,
        ],
        "",
    );
    assert!(status.status.success(), "{}", stderr(&status));
    let s: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        s["channelAccounts"]["telegram"][0]["connected"], true,
        "{s}"
    );
    drop(gw);
}
