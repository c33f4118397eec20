//! MCP servers as agent tools, end to end with real servers nobody here wrote (the registry's
//! `@modelcontextprotocol/server-everything` and `server-filesystem`, run by Node; under
//! CI=true a missing Node fails): the fake model (`shared/fake_llm.py`) calls
//! `everything__echo` and `files__read_text_file` through a real agent turn and gets their
//! results; the exec policy refuses an MCP call under `mode: deny`; `tools.catalog` lists the
//! namespaced tools and `/tools/invoke` runs one under the same gate; a per-agent tool policy
//! (`tools.deny: ["bundle-mcp"]`) keeps an agent from the servers.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::fake::config_with;
use common::{Client, TOKEN, TestGateway};
use openclaw_core::testing::prereq::{self, FakeLlm};
use serde_json::{Value, json};

const CHAT: &[&str] = &["operator.read", "operator.write"];

fn node_modules() -> Option<PathBuf> {
    if !prereq::command("node") {
        prereq::missing("node", ".ci/run installs nodejs");
        return None;
    }
    let dir = std::env::var_os("OPENCLAW_MCP_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/peers/node_modules"));
    let found = dir
        .join("@modelcontextprotocol/server-everything/dist/index.js")
        .is_file()
        && dir
            .join("@modelcontextprotocol/server-filesystem/dist/index.js")
            .is_file();
    if !found {
        prereq::missing(
            "@modelcontextprotocol/server-everything and server-filesystem",
            "npm install them and set OPENCLAW_MCP_NODE_MODULES to that node_modules (.ci/run does)",
        );
        return None;
    }
    Some(dir)
}

/// A gateway on the fake model with the two registry servers and `extra` top-level keys.
async fn gateway(fake: &FakeLlm, nm: &std::path::Path, extra: Value) -> (TestGateway, PathBuf) {
    let files_root = tempfile::tempdir().unwrap().keep();
    std::fs::write(files_root.join("note.txt"), "remember the milk\n").unwrap();
    let mut config = config_with(fake, json!({}));
    config["mcp"] = json!({"servers": {
        "everything": {"command": "node", "args": [
            nm.join("@modelcontextprotocol/server-everything/dist/index.js"), "stdio"]},
        "files": {"command": "node", "args": [
            nm.join("@modelcontextprotocol/server-filesystem/dist/index.js"), &files_root],
            "toolFilter": {"include": ["read_text_file", "list_directory"]}}
    }});
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
    (tg, files_root)
}

/// Sends `message` and returns the run's final text.
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

#[tokio::test]
async fn the_agent_calls_the_registrys_mcp_servers_in_a_turn() {
    let Some(nm) = node_modules() else { return };
    let Some(fake) = FakeLlm::start() else { return };
    let (tg, root) = gateway(&fake, &nm, json!({"tools": {"exec": {"mode": "full"}}})).await;
    let (mut chat, _) = Client::connected(&tg, CHAT).await;

    let catalog = chat.ok("tools.catalog", json!({})).await;
    let mcp = catalog["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == "mcp")
        .cloned()
        .unwrap_or_else(|| panic!("no mcp group: {catalog}"));
    let ids: Vec<&str> = mcp["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["id"].as_str())
        .collect();
    assert!(ids.contains(&"everything__echo"), "{ids:?}");
    assert!(ids.contains(&"files__read_text_file"), "{ids:?}");
    assert!(!ids.contains(&"files__write_file"), "toolFilter: {ids:?}");
    assert_eq!(mcp["pluginId"], "bundle-mcp");

    let text = turn(
        &mut chat,
        "echo-run",
        &format!("call everything__echo {}", json!({"message": "hello mcp"})),
    )
    .await;
    assert_eq!(text, "done: Echo: hello mcp");

    let note = root.join("note.txt");
    let text = turn(
        &mut chat,
        "read-run",
        &format!(
            "call files__read_text_file {}",
            json!({"path": note.to_string_lossy()})
        ),
    )
    .await;
    // The filesystem server answers with structured content, which comes first (as OpenClaw
    // projects it); the file's text is in the tool result the model got.
    assert_eq!(text, "done: structuredContent:");
    let history = chat
        .ok("chat.history", json!({"sessionKey": "main"}))
        .await
        .to_string();
    assert!(history.contains("remember the milk"), "{history}");

    let (code, out) = post(
        &tg,
        &json!({"tool": "everything__get-sum", "args": {"a": 20, "b": 22}}),
    )
    .await;
    assert_eq!(code, 200, "{out}");
    assert!(out.contains("42"), "{out}");
}

#[tokio::test]
async fn the_exec_policy_and_the_tool_policy_govern_mcp_tools() {
    let Some(nm) = node_modules() else { return };
    let Some(fake) = FakeLlm::start() else { return };
    let (tg, _) = gateway(
        &fake,
        &nm,
        json!({"tools": {"exec": {"mode": "deny"}},
               "agents": {"defaults": {"model": {"primary": "fake/fake-model"}},
                          "list": [{"id": "main", "default": true},
                                   {"id": "helper", "tools": {"deny": ["bundle-mcp"]}}]}}),
    )
    .await;
    let (mut chat, _) = Client::connected(&tg, CHAT).await;
    let text = turn(
        &mut chat,
        "deny-run",
        &format!("call everything__echo {}", json!({"message": "no"})),
    )
    .await;
    assert!(
        text.starts_with("done: Exec denied (gateway, security=deny): mcp everything/echo"),
        "{text}"
    );
    let (code, out) = post(
        &tg,
        &json!({"tool": "everything__echo", "args": {"message": "x"}}),
    )
    .await;
    assert_eq!(code, 400, "{out}");
    assert!(out.contains("Exec denied"), "{out}");

    // The helper agent's policy keeps it from every MCP server.
    let catalog = chat.ok("tools.catalog", json!({"agentId": "helper"})).await;
    assert!(
        !catalog["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["id"] == "mcp"),
        "{catalog}"
    );
    let (code, out) = post(
        &tg,
        &json!({"tool": "everything__echo", "agentId": "helper", "args": {"message": "x"}}),
    )
    .await;
    assert_eq!(code, 404, "{out}");
}

#[tokio::test]
async fn a_long_mcp_call_streams_progress_and_abort_cancels_it() {
    let Some(nm) = node_modules() else { return };
    let Some(fake) = FakeLlm::start() else { return };
    let (tg, _) = gateway(&fake, &nm, json!({"tools": {"exec": {"mode": "full"}}})).await;
    let (mut chat, _) = Client::connected(&tg, CHAT).await;
    let started = Instant::now();
    let call = json!({"duration": 60, "steps": 60});
    chat.ok(
        "chat.send",
        json!({"sessionKey": "main", "idempotencyKey": "long-1",
               "message": format!("call everything__trigger-long-running-operation {call}")}),
    )
    .await;
    // The server's progress notifications reach the tool item as updates.
    let progress = loop {
        let f = chat.event("agent").await;
        let d = &f["payload"]["data"];
        if f["payload"]["stream"] == "item" && d["phase"] == "update" {
            break d["progressText"].as_str().unwrap_or_default().to_owned();
        }
    };
    assert!(progress.starts_with("progress 1/60"), "{progress}");
    let ab = chat
        .ok(
            "chat.abort",
            json!({"sessionKey": "main", "runId": "long-1"}),
        )
        .await;
    assert_eq!(ab["aborted"], true, "{ab}");
    loop {
        let f = chat.event("chat").await;
        let state = f["payload"]["state"].as_str().unwrap_or("");
        if f["payload"]["runId"] == "long-1" && state != "delta" {
            assert_eq!(state, "aborted", "{f}");
            break;
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the 60 s call was cancelled, not waited for"
    );
    // The server is still usable for the next turn.
    let text = turn(
        &mut chat,
        "after-abort",
        &format!("call everything__echo {}", json!({"message": "again"})),
    )
    .await;
    assert_eq!(text, "done: Echo: again");
}

async fn post(tg: &TestGateway, body: &Value) -> (u16, String) {
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
    (code, out)
}
