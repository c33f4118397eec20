//! The engine backend over real loopback sockets, with the independent fake model
//! `shared/fake_llm.py` (`openclaw_core::testing::prereq`: without python3 or shared/ a test is
//! skipped with the reason on stderr, and fails under `CI=true`):
//! chat.send streaming and idempotency, chat.history, chat.abort, the agent double response,
//! agent.wait, the sessions.* lifecycle on disk, per-key serialisation, agents.files.*, and the
//! HTTP endpoints.

mod common;

use openclaw_state::StateStore;
use std::time::Duration;

use common::fake::{gateway, gateway_with};
use common::{Client, TOKEN};
use openclaw_core::testing::prereq::FakeLlm;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const RW: &[&str] = &["operator.read", "operator.write", "operator.admin"];

/// Events until the run's `chat` event in a terminal state; returns (all run frames, terminal).
async fn until_chat_end(c: &mut Client, run_id: &str) -> (Vec<Value>, Value) {
    let mut seen = Vec::new();
    let mut backlog = std::mem::take(&mut c.backlog).into_iter();
    loop {
        let f = match backlog.next() {
            Some(f) => f,
            None => c
                .next_within(Duration::from_secs(20))
                .await
                .expect("socket open"),
        };
        if f["payload"]["runId"] == run_id {
            seen.push(f.clone());
            let state = f["payload"]["state"].as_str().unwrap_or("");
            if f["event"] == "chat" && ["final", "aborted", "error"].contains(&state) {
                return (seen, f);
            }
        }
    }
}

#[tokio::test]
async fn chat_send_streams_dedupes_and_keeps_history() {
    let Some(fake) = FakeLlm::start() else { return };
    let tg = gateway(&fake).await;
    let (mut c, _) = Client::connected(&tg, RW).await;
    let ack = c
        .ok(
            "chat.send",
            json!({"sessionKey": "main", "message": "hello there", "idempotencyKey": "run-1"}),
        )
        .await;
    assert_eq!(ack, json!({"runId": "run-1", "status": "started"}));
    let (frames, fin) = until_chat_end(&mut c, "run-1").await;
    assert_eq!(fin["payload"]["state"], "final");
    assert_eq!(fin["payload"]["sessionKey"], "agent:main:main");
    assert_eq!(
        fin["payload"]["message"]["content"][0]["text"],
        "echo: hello there"
    );
    let streams: Vec<&str> = frames
        .iter()
        .filter(|f| f["event"] == "agent")
        .filter_map(|f| f["payload"]["stream"].as_str())
        .collect();
    assert!(
        streams.contains(&"lifecycle") && streams.contains(&"assistant"),
        "{streams:?}"
    );
    let seqs: Vec<u64> = frames.iter().filter_map(|f| f["seq"].as_u64()).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "frame seq gap: {seqs:?}"
    );
    let deltas: Vec<&Value> = frames
        .iter()
        .filter(|f| f["payload"]["state"] == "delta")
        .collect();
    assert!(deltas.iter().all(|d| d["payload"]["deltaText"].is_string()));
    // After the run, the repeat answers from the cache.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let again = c
        .ok(
            "chat.send",
            json!({"sessionKey": "main", "message": "hello there", "idempotencyKey": "run-1"}),
        )
        .await;
    assert_eq!(again, json!({"runId": "run-1", "status": "ok"}));
    // While running, a repeat is in_flight.
    c.ok(
        "chat.send",
        json!({"sessionKey": "main", "message": "slow 300 stream 3", "idempotencyKey": "run-2"}),
    )
    .await;
    let dup = c.ok("chat.send", json!({"sessionKey": "main", "message": "slow 300 stream 3", "idempotencyKey": "run-2"})).await;
    assert_eq!(dup["status"], "in_flight");
    until_chat_end(&mut c, "run-2").await;
    let hist = c.ok("chat.history", json!({"sessionKey": "main"})).await;
    let msgs = hist["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 4, "{hist}");
    assert_eq!(msgs[0]["role"], "user");
    assert_eq!(msgs[1]["content"][0]["text"], "echo: hello there");
    let err = c
        .err(
            "chat.send",
            json!({"sessionKey": "main", "message": "x", "idempotencyKey": "k", "bogus": 1}),
        )
        .await;
    assert_eq!(
        err["message"],
        "invalid chat.send params: at root: unexpected property 'bogus'"
    );
}

#[tokio::test]
async fn agent_double_response_wait_and_abort() {
    let Some(fake) = FakeLlm::start() else { return };
    let tg = gateway(&fake).await;
    let (mut c, _) = Client::connected(&tg, RW).await;
    let id = c.send_request("agent", Some(json!({"message": "hi agent", "agentId": "main", "idempotencyKey": "a1", "deliver": false, "timeout": 600}))).await;
    let first = c.response(&id).await;
    assert_eq!(first["payload"]["status"], "accepted");
    assert_eq!(first["payload"]["sessionKey"], "agent:main:main");
    let second = c.response(&id).await;
    assert_eq!(second["payload"]["status"], "ok");
    assert_eq!(second["payload"]["summary"], "completed");
    assert_eq!(
        second["payload"]["result"]["payloads"][0]["text"],
        "echo: hi agent"
    );
    let waited = c
        .ok("agent.wait", json!({"runId": "a1", "timeoutMs": 1000}))
        .await;
    assert_eq!(waited["status"], "ok");
    let e = c.err("agent.wait", json!({"runId": "nope"})).await;
    assert_eq!(e["message"], "agent run was not found");
    // Abort a slow run once it streams.
    c.ok(
        "chat.send",
        json!({"sessionKey": "main", "message": "slow 300 stream 20", "idempotencyKey": "slow-1"}),
    )
    .await;
    loop {
        let f = c.event("agent").await;
        if f["payload"]["runId"] == "slow-1" && f["payload"]["stream"] == "assistant" {
            break;
        }
    }
    let e = c
        .err(
            "chat.abort",
            json!({"sessionKey": "agent:helper:main", "runId": "slow-1"}),
        )
        .await;
    assert_eq!(e["message"], "runId does not match sessionKey");
    let ab = c
        .ok(
            "chat.abort",
            json!({"sessionKey": "main", "runId": "slow-1"}),
        )
        .await;
    assert_eq!(
        ab,
        json!({"ok": true, "aborted": true, "runIds": ["slow-1"]})
    );
    let (_, end) = until_chat_end(&mut c, "slow-1").await;
    assert_eq!(end["payload"]["state"], "aborted");
}

#[tokio::test]
async fn runs_on_one_key_are_serialised_and_different_keys_overlap() {
    let Some(fake) = FakeLlm::start() else { return };
    let tg = gateway(&fake).await;
    let (mut c, _) = Client::connected(&tg, RW).await;
    c.ok("sessions.subscribe", json!({})).await;
    for (k, id) in [("main", "s1"), ("main", "s2"), ("other", "o1")] {
        c.ok(
            "chat.send",
            json!({"sessionKey": k, "message": "slow 150 stream 4", "idempotencyKey": id}),
        )
        .await;
    }
    let mut order = Vec::new();
    let mut finals = 0;
    while finals < 3 {
        let f = c.next_within(Duration::from_secs(20)).await.expect("open");
        let p = &f["payload"];
        if f["event"] == "agent" && p["stream"] == "lifecycle" && p["data"]["phase"] == "start" {
            order.push(format!("start:{}", p["runId"].as_str().unwrap()));
        }
        if f["event"] == "chat" && p["state"] == "final" {
            order.push(format!("final:{}", p["runId"].as_str().unwrap()));
            finals += 1;
        }
    }
    let pos = |s: &str| order.iter().position(|o| o == s).unwrap();
    assert!(
        pos("final:s1") < pos("start:s2"),
        "same key must not overlap: {order:?}"
    );
    assert!(
        pos("start:o1") < pos("final:s1"),
        "different keys run in parallel: {order:?}"
    );
}

#[tokio::test]
async fn the_run_lane_limits_runs_across_keys_and_a_queued_run_can_be_aborted() {
    let Some(fake) = FakeLlm::start() else { return };
    let tg = gateway_with(&fake, json!({"maxConcurrent": 1})).await;
    let (mut c, _) = Client::connected(&tg, RW).await;
    c.ok("sessions.subscribe", json!({})).await;
    for (k, id) in [("a", "a1"), ("b", "b1"), ("c", "c1")] {
        c.ok(
            "chat.send",
            json!({"sessionKey": k, "message": "slow 100 stream 3", "idempotencyKey": id}),
        )
        .await;
    }
    // c1 waits for the lane behind a1 and b1: abort it before it gets there.
    let r = c
        .ok("chat.abort", json!({"sessionKey": "c", "runId": "c1"}))
        .await;
    assert_eq!(r["aborted"], true, "{r}");
    let mut order = Vec::new();
    let mut ended = 0;
    while ended < 3 {
        let f = c.next_within(Duration::from_secs(20)).await.expect("open");
        let p = &f["payload"];
        let id = p["runId"].as_str().unwrap_or_default().to_owned();
        if f["event"] == "agent" && p["stream"] == "lifecycle" && p["data"]["phase"] == "start" {
            order.push(format!("start:{id}"));
        }
        if f["event"] == "chat"
            && ["final", "aborted", "error"].contains(&p["state"].as_str().unwrap_or(""))
        {
            order.push(format!("{}:{id}", p["state"].as_str().unwrap()));
            ended += 1;
        }
    }
    let pos = |s: &str| order.iter().position(|o| o == s);
    assert!(
        pos("final:a1").unwrap() < pos("start:b1").unwrap(),
        "with maxConcurrent 1, runs on different keys must not overlap: {order:?}"
    );
    assert!(pos("aborted:c1").is_some(), "{order:?}");
    assert!(
        pos("start:c1").is_none(),
        "the aborted run never started: {order:?}"
    );
}

#[tokio::test]
async fn session_lifecycle_on_disk() {
    let Some(fake) = FakeLlm::start() else { return };
    let tg = gateway(&fake).await;
    let state = tg.dir.path().to_owned();
    let (mut c, _) = Client::connected(&tg, RW).await;
    c.ok(
        "chat.send",
        json!({"sessionKey": "main", "message": "remember", "idempotencyKey": "l1"}),
    )
    .await;
    until_chat_end(&mut c, "l1").await;
    let list = c.ok("sessions.list", json!({})).await;
    let row = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == "agent:main:main")
        .cloned()
        .expect("main row");
    let sid = row["sessionId"].as_str().unwrap().to_owned();
    // Written through: another connection to the database sees the row at once, with the
    // transcript path relative to the state dir.
    let index = openclaw_state::SqliteStore::open(&state).unwrap();
    let stored = index.session("agent:main:main").unwrap().expect("row");
    let rel = stored.transcript.clone().unwrap();
    assert!(rel.starts_with("agents/main/sessions/"), "{rel}");
    let file = state.join(&rel);
    let header: Value = serde_json::from_str(
        std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["type"], "session");
    assert_eq!(header["id"], sid.as_str());
    let reset = c.ok("sessions.reset", json!({"key": "main"})).await;
    assert_ne!(reset["entry"]["sessionId"], sid.as_str());
    assert!(!file.exists());
    let archived = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().contains(".reset."));
    assert!(archived, "the old transcript is archived");
    let hist = c.ok("chat.history", json!({"sessionKey": "main"})).await;
    assert_eq!(hist["messages"], json!([]));
    let created = c
        .ok(
            "sessions.create",
            json!({"key": "agent:helper:notes", "label": "Notes"}),
        )
        .await;
    assert_eq!(created["key"], "agent:helper:notes");
    let patched = c
        .ok(
            "sessions.patch",
            json!({"key": "agent:helper:notes", "label": "Renamed"}),
        )
        .await;
    assert_eq!(patched["entry"]["label"], "Renamed");
    let d = c
        .ok("sessions.describe", json!({"key": "agent:helper:notes"}))
        .await;
    assert_eq!(d["session"]["label"], "Renamed");
    let r = c.ok("sessions.resolve", json!({"label": "Renamed"})).await;
    assert_eq!(r["key"], "agent:helper:notes");
    let e = c.err("sessions.delete", json!({"key": "main"})).await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("Cannot delete the main session")
    );
    let del = c
        .ok("sessions.delete", json!({"key": "agent:helper:notes"}))
        .await;
    assert_eq!(del["deleted"], true);
    let d = c
        .ok("sessions.describe", json!({"key": "agent:helper:notes"}))
        .await;
    assert_eq!(d["session"], Value::Null);
    let health = c.ok("health", json!({})).await;
    assert_eq!(health["sessions"]["count"], 1);
    // Workspace files.
    let files = c.ok("agents.files.list", json!({"agentId": "main"})).await;
    assert!(
        files["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "SOUL.md" && f["missing"] == false)
    );
    c.ok(
        "agents.files.set",
        json!({"agentId": "main", "name": "USER.md", "content": "Ada"}),
    )
    .await;
    let got = c
        .ok(
            "agents.files.get",
            json!({"agentId": "main", "name": "USER.md"}),
        )
        .await;
    assert_eq!(got["file"]["content"], "Ada");
    assert!(state.join("workspace/AGENTS.md").exists());
}

async fn http(addr: std::net::SocketAddr, path: &str, token: &str, body: &Value) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = body.to_string();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    let code = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, out)
}

#[tokio::test]
async fn http_endpoints() {
    let Some(fake) = FakeLlm::start() else { return };
    let tg = gateway(&fake).await;
    let (code, out) = http(tg.addr, "/v1/chat/completions", TOKEN, &json!({"model": "openclaw", "stream": true, "messages": [{"role": "user", "content": "hi http"}]})).await;
    assert_eq!(code, 200);
    assert!(out.contains("text/event-stream"));
    assert!(out.contains("\"object\":\"chat.completion.chunk\""));
    assert!(out.contains("data: [DONE]\n\n"), "{out}");
    let (code, out) = http(
        tg.addr,
        "/v1/chat/completions",
        TOKEN,
        &json!({"model": "openclaw/helper", "messages": [{"role": "user", "content": "plain"}]}),
    )
    .await;
    assert_eq!(code, 200);
    assert!(out.contains("\"content\":\"echo: plain\""), "{out}");
    let (code, _) = http(tg.addr, "/v1/chat/completions", "wrong", &json!({})).await;
    assert_eq!(code, 401);
    let (code, out) = http(
        tg.addr,
        "/v1/responses",
        TOKEN,
        &json!({"model": "openclaw", "stream": true, "input": "resp"}),
    )
    .await;
    assert_eq!(code, 200);
    for ev in [
        "response.created",
        "response.output_text.delta",
        "response.completed",
    ] {
        assert!(out.contains(&format!("event: {ev}")), "{ev} missing: {out}");
    }
    std::fs::write(tg.dir.path().join("workspace/note.txt"), "tool text").unwrap();
    let (code, out) = http(
        tg.addr,
        "/tools/invoke",
        TOKEN,
        &json!({"tool": "read", "args": {"path": "note.txt"}}),
    )
    .await;
    assert_eq!(code, 200, "{out}");
    assert!(out.contains("tool text"));
    let (code, _) = http(
        tg.addr,
        "/tools/invoke",
        TOKEN,
        &json!({"tool": "bash", "args": {"command": "true"}}),
    )
    .await;
    assert_eq!(code, 403);
    let (code, _) = http(tg.addr, "/tools/invoke", TOKEN, &json!({"tool": "nope"})).await;
    assert_eq!(code, 404);
}

#[tokio::test]
async fn agent_to_agent_tool_and_loop_protection() {
    let Some(fake) = FakeLlm::start() else { return };
    let tg = gateway(&fake).await;
    let (mut c, _) = Client::connected(&tg, RW).await;
    // main asks helper; helper's reply comes back as the tool result.
    let msg = r#"call sessions_send {"agentId":"helper","message":"ping from main"}"#;
    c.ok(
        "chat.send",
        json!({"sessionKey": "main", "message": msg, "idempotencyKey": "a2a-1"}),
    )
    .await;
    let (_, fin) = until_chat_end(&mut c, "a2a-1").await;
    assert_eq!(
        fin["payload"]["message"]["content"][0]["text"],
        "done: echo: ping from main"
    );
    let helper = c
        .ok("chat.history", json!({"sessionKey": "agent:helper:main"}))
        .await;
    assert_eq!(
        helper["messages"][1]["content"][0]["text"],
        "echo: ping from main"
    );
    // helper trying to message main back (main is waiting on helper) is refused.
    let inner = r#"call sessions_send {\"agentId\":\"main\",\"message\":\"loop\"}"#;
    let msg = format!(r#"call sessions_send {{"agentId":"helper","message":"{inner}"}}"#);
    c.ok(
        "chat.send",
        json!({"sessionKey": "main", "message": msg, "idempotencyKey": "a2a-2"}),
    )
    .await;
    let (_, fin) = until_chat_end(&mut c, "a2a-2").await;
    let text = fin["payload"]["message"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(text.starts_with("done: done: "), "{text}");
    let helper = c
        .ok("chat.history", json!({"sessionKey": "agent:helper:main"}))
        .await;
    let tool_result = helper["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "toolResult")
        .cloned()
        .expect("tool result");
    assert!(
        tool_result
            .to_string()
            .contains("already waiting in this conversation chain"),
        "{tool_result}"
    );
}
