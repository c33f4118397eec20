//! The agents' `automations` tool (OpenClaw's scheduler tool, alias `cron`) end to end: a
//! real loopback gateway with the agent host, the independent fake model
//! (`shared/fake_llm.py`) calling the tool, and the real scheduler. The agent adds an `at` job
//! two seconds ahead from a chat; it fires exactly once into the conversation that asked and
//! is removed. A non-admin conversation sees only its own jobs, a cron run only its own job,
//! and a tool policy denying `cron` removes the tool.

mod common;

use std::time::{Duration, Instant};

use common::fake::Fake;
use common::{ADMIN, Client, Setup, TestGateway};
use serde_json::{Value, json};

const CHAT: &[&str] = &["operator.read", "operator.write"];

fn config(fake: &Fake, tools: Value) -> Value {
    let mut c = common::fake::config_with(fake, json!({"skipBootstrap": true}));
    c["tools"] = tools;
    c
}

async fn gateway(fake: &Fake, tools: Value) -> TestGateway {
    common::start(Setup {
        config: config(fake, tools),
        engine: true,
        ..Setup::default()
    })
    .await
}

/// Sends `message` on `key` and returns the run's final text.
async fn say(c: &mut Client, key: &str, message: &str) -> String {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let idem = format!("idem-{n}-{}", key.len());
    let sent = c
        .ok(
            "chat.send",
            json!({"sessionKey": key, "message": message, "idempotencyKey": idem}),
        )
        .await;
    let run_id = sent["runId"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut backlog = std::mem::take(&mut c.backlog).into_iter();
    loop {
        assert!(
            Instant::now() < deadline,
            "no final chat event for {message}"
        );
        let f = match backlog.next() {
            Some(f) => f,
            None => c.next_within(Duration::from_secs(30)).await.expect("open"),
        };
        let state = f["payload"]["state"].as_str().unwrap_or("");
        if f["event"] == "chat" && f["payload"]["runId"] == run_id && state != "delta" {
            assert_eq!(state, "final", "{f}");
            return f["payload"]["message"]["content"][0]["text"]
                .as_str()
                .unwrap_or("")
                .to_owned();
        }
    }
}

fn call(args: Value) -> String {
    format!("call automations {args}")
}

/// The tool results the model was shown in `key`'s history.
async fn tool_results(c: &mut Client, key: &str) -> Vec<String> {
    let h = c
        .ok("chat.history", json!({"sessionKey": key, "limit": 200}))
        .await;
    h["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "toolResult")
        .map(|m| m["content"][0]["text"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn the_agent_adds_an_at_job_that_fires_once_into_the_conversation_that_asked() {
    let Some(fake) = common::fake::fake_llm() else {
        return;
    };
    let tg = gateway(&fake, json!({})).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let at = (jiff::Timestamp::now() + Duration::from_secs(2)).to_string();
    let args = json!({"action": "add", "job": {"name": "stand-up",
        "schedule": {"kind": "at", "at": at},
        "payload": {"kind": "agentTurn", "message": "time to stand up"}}});
    let reply = say(&mut c, "main", &call(args)).await;
    assert!(reply.starts_with("done: "), "{reply}");
    let results = tool_results(&mut c, "agent:main:main").await;
    let added: Value = serde_json::from_str(&results[0]).expect("the job as JSON");
    let id = added["id"].as_str().unwrap().to_owned();
    // What the tool filled in: the calling conversation, its agent and owner, no delivery
    // (web chat: the answer stays in this conversation's history).
    assert_eq!(added["sessionTarget"], "current", "{added}");
    assert_eq!(added["sessionKey"], "agent:main:main");
    assert_eq!(added["agentId"], "main");
    assert_eq!(added["owner"]["sessionKey"], "agent:main:main");
    assert_eq!(added["delivery"]["mode"], "none");

    // It fires once, into this conversation, and the one-shot is removed.
    let deadline = Instant::now() + Duration::from_secs(30);
    let finished = loop {
        assert!(Instant::now() < deadline, "the job never finished");
        let e = c.event("cron").await;
        if e["payload"]["jobId"] == id && e["payload"]["action"] == "finished" {
            break e["payload"].clone();
        }
    };
    assert_eq!(finished["status"], "ok", "{finished}");
    assert_eq!(finished["sessionKey"], "agent:main:main");
    let history = c
        .ok("chat.history", json!({"sessionKey": "main", "limit": 200}))
        .await;
    let text = history["messages"].to_string();
    assert!(
        text.contains(&format!("[cron:{id} stand-up] time to stand up")),
        "{text}"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let runs = c.ok("cron.runs", json!({"id": id})).await;
    assert_eq!(runs["total"], 1, "fired exactly once: {runs}");
    let gone = c.err("cron.get", json!({"id": id})).await;
    assert_eq!(gone["details"]["code"], "CRON_JOB_NOT_FOUND");
}

#[tokio::test]
async fn a_non_admin_conversation_manages_only_its_own_jobs() {
    let Some(fake) = common::fake::fake_llm() else {
        return;
    };
    let tg = gateway(&fake, json!({})).await;
    let (mut admin, _) = Client::connected(&tg, ADMIN).await;
    let theirs = admin
        .ok(
            "cron.add",
            json!({"name": "operator-job", "schedule": {"kind": "every", "everyMs": 3_600_000},
               "sessionTarget": "isolated", "wakeMode": "now",
               "payload": {"kind": "agentTurn", "message": "report"}}),
        )
        .await;
    let (mut c, _) = Client::connected(&tg, CHAT).await;
    let add = json!({"action": "add", "everyMs": 3_600_000, "message": "water the plants"});
    say(&mut c, "main", &call(add)).await;
    say(&mut c, "main", &call(json!({"action": "list"}))).await;
    let remove = json!({"action": "remove", "jobId": theirs["id"]});
    say(&mut c, "main", &call(remove)).await;
    let results = tool_results(&mut c, "agent:main:main").await;
    let listed: Value = serde_json::from_str(&results[1]).unwrap();
    assert_eq!(listed["scope"], "caller", "{listed}");
    assert_eq!(listed["total"], 1, "only its own job: {listed}");
    assert_eq!(listed["jobs"][0]["name"], "water the plants");
    assert!(
        results[2].contains("Automation not found"),
        "{}",
        results[2]
    );
    // The operator's job is still there.
    admin.ok("cron.get", json!({"id": theirs["id"]})).await;

    // An admin conversation sees the whole inventory.
    say(
        &mut admin,
        "agent:main:ops",
        &call(json!({"action": "list"})),
    )
    .await;
    let results = tool_results(&mut admin, "agent:main:ops").await;
    let all: Value = serde_json::from_str(&results[0]).unwrap();
    assert_eq!(all["scope"], "gateway");
    assert_eq!(all["total"], 2, "{all}");
}

#[tokio::test]
async fn a_policy_denying_cron_removes_the_tool() {
    let Some(fake) = common::fake::fake_llm() else {
        return;
    };
    let tg = gateway(&fake, json!({"deny": ["cron"]})).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    say(&mut c, "main", &call(json!({"action": "status"}))).await;
    let results = tool_results(&mut c, "agent:main:main").await;
    assert!(
        results[0].to_lowercase().contains("not found")
            || results[0].to_lowercase().contains("unknown"),
        "{results:?}"
    );
    let status = c.ok("cron.status", json!({})).await;
    assert_eq!(status["jobs"], 0);
}
