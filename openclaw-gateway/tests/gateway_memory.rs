//! Workspace memory end to end: a real workspace on disk and the gateway's real state database;
//! the fake model (`shared/fake_llm.py`) calls `memory_search` in an agent turn and the tool
//! result carries the daily note's snippet with its path and line range; `tools.catalog` lists
//! the memory tools; `/tools/invoke` runs them by default (read-only) and `memory_get` refuses
//! a path outside the memory files; an allow list without them takes them away.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fake::config_with;
use common::{Client, TOKEN, TestGateway};
use openclaw_core::testing::prereq::FakeLlm;
use serde_json::{Value, json};

const CHAT: &[&str] = &["operator.read", "operator.write"];

async fn gateway(fake: &FakeLlm, ws: &Path, extra: Value) -> TestGateway {
    let mut config = config_with(fake, json!({"workspace": ws}));
    if let (Some(c), Value::Object(e)) = (config.as_object_mut(), extra) {
        c.extend(e);
    }
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_owned();
    std::fs::write(state.join("openclaw.json"), config.to_string()).unwrap();
    let backend =
        Arc::new(openclaw_gateway::agent_host::AgentHost::new(config.clone(), state).unwrap());
    let mut tg = common::start(common::Setup {
        config,
        backend: Some(backend),
        ..common::Setup::default()
    })
    .await;
    tg.dir = dir;
    tg
}

fn workspace() -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ws.path().join("memory")).unwrap();
    std::fs::write(
        ws.path().join("memory/2026-11-20.md"),
        "# 2026-11-20\n\n## Health\nDentist appointment moved to Friday 3pm.\n",
    )
    .unwrap();
    std::fs::write(
        ws.path().join("MEMORY.md"),
        "# Long-term\nPrefers TypeScript.\n",
    )
    .unwrap();
    ws
}

async fn turn(c: &mut Client, key: &str, message: &str) -> String {
    c.ok(
        "chat.send",
        json!({"sessionKey": "main", "message": message, "idempotencyKey": key}),
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "no final chat event for {key}");
        let f = c.event("chat").await;
        let state = f["payload"]["state"].as_str().unwrap_or("");
        if f["payload"]["runId"] == key && state != "delta" {
            assert_eq!(state, "final", "{f}");
            return f["payload"]["message"]["content"][0]["text"]
                .as_str()
                .unwrap_or("")
                .to_owned();
        }
    }
}

async fn post(tg: &TestGateway, body: &Value) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(tg.addr).await.unwrap();
    let body = body.to_string();
    let req = format!(
        "POST /tools/invoke HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let code = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let json = out
        .split("\r\n\r\n")
        .nth(1)
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (code, json)
}

#[tokio::test]
async fn the_agent_searches_its_daily_notes_in_a_turn() {
    let Some(fake) = FakeLlm::start() else { return };
    let ws = workspace();
    let tg = gateway(&fake, ws.path(), json!({})).await;
    let (mut c, _) = Client::connected(&tg, CHAT).await;
    let call = json!({"query": "when is the dentist?"});
    let text = turn(&mut c, "mem-1", &format!("call memory_search {call}")).await;
    assert_eq!(text, "done: {");
    let h = c
        .ok("chat.history", json!({"sessionKey": "main", "limit": 20}))
        .await;
    let result = h["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "toolResult")
        .unwrap_or_else(|| panic!("no tool result in {h}"));
    assert_eq!(result["toolName"], "memory_search", "{result}");
    let body: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    let hit = &body["results"][0];
    assert_eq!(hit["path"], "memory/2026-11-20.md", "{body}");
    assert_eq!(
        (hit["startLine"].as_u64(), hit["endLine"].as_u64()),
        (Some(3), Some(4))
    );
    assert!(hit["snippet"].as_str().unwrap().contains("Friday 3pm"));
    assert_eq!(body["mode"], "fts-only");

    // memory_get in a turn reads the cited lines.
    let call = json!({"path": "memory/2026-11-20.md", "from": 4, "lines": 1});
    let text = turn(&mut c, "mem-2", &format!("call memory_get {call}")).await;
    assert_eq!(text, "done: {");

    // The catalogue lists them in OpenClaw's memory group.
    let t = c.ok("tools.catalog", json!({})).await;
    let group = t["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "memory")
        .unwrap_or_else(|| panic!("no memory group in {t}"));
    let ids: Vec<&str> = group["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["memory_search", "memory_get"]);
}

#[tokio::test]
async fn tools_invoke_runs_memory_tools_by_default_inside_the_memory_files() {
    let Some(fake) = FakeLlm::start() else { return };
    let ws = workspace();
    let tg = gateway(&fake, ws.path(), json!({})).await;
    let (code, out) = post(
        &tg,
        &json!({"tool": "memory_search", "args": {"query": "TypeScript"}}),
    )
    .await;
    assert_eq!(code, 200, "{out}");
    assert_eq!(
        out["result"]["details"]["results"][0]["path"], "MEMORY.md",
        "{out}"
    );
    let (code, out) = post(
        &tg,
        &json!({"tool": "memory_get", "args": {"path": "memory/2026-11-20.md", "from": 4, "lines": 1}}),
    )
    .await;
    assert_eq!(code, 200, "{out}");
    assert_eq!(
        out["result"]["details"]["text"],
        "Dentist appointment moved to Friday 3pm."
    );
    let (code, out) = post(
        &tg,
        &json!({"tool": "memory_get", "args": {"path": "../openclaw.json"}}),
    )
    .await;
    assert_eq!(code, 200, "{out}");
    assert_eq!(out["result"]["details"]["status"], "error");
    assert_eq!(out["result"]["details"]["code"], "MEMORY_PATH_NOT_ALLOWED");
}

#[tokio::test]
async fn a_tool_allow_list_without_memory_takes_the_tools_away() {
    let Some(fake) = FakeLlm::start() else { return };
    let ws = workspace();
    let tg = gateway(&fake, ws.path(), json!({"tools": {"allow": ["read"]}})).await;
    let (code, out) = post(
        &tg,
        &json!({"tool": "memory_search", "args": {"query": "x"}}),
    )
    .await;
    assert_eq!(code, 404, "{out}");
    let tg2 = gateway(
        &fake,
        ws.path(),
        json!({"tools": {"allow": ["read", "group:memory"]}}),
    )
    .await;
    let (code, out) = post(
        &tg2,
        &json!({"tool": "memory_search", "args": {"query": "dentist"}}),
    )
    .await;
    assert_eq!(code, 200, "{out}");
}
