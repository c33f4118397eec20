//! What a run's approvals carry and leave behind, against a real gateway on loopback. Where
//! the turn came from: a `/tools/invoke` call is a run of its own (`runId` set, one per call)
//! from the HTTP surface (`turnSourceChannel: "http"`), a `/v1/chat/completions` turn (the fake
//! model, `shared/fake_llm.py`, calling `bash`) too, and a WebSocket client's `chat.send` is
//! `webchat`; a deny reaches the HTTP caller and the model as OpenClaw's text. What the
//! allowlist remembers: the entry that let a command through gets its last-used fields in the
//! real `exec-approvals.json`, the rest of the file kept, and a read never writes it.

mod common;

use common::fake::config_with;
use common::secure::http;
use common::{Client, TOKEN, approval_client};
use openclaw_core::testing::prereq::FakeLlm;
use serde_json::{Value, json};

/// Waits for the next approval request, denies it, and returns its `request`.
async fn deny_next(ap: &mut Client) -> (String, Value) {
    let ev = ap.event("exec.approval.requested").await;
    let id = ev["payload"]["id"].as_str().unwrap().to_owned();
    ap.ok(
        "exec.approval.resolve",
        json!({"id": id, "decision": "deny"}),
    )
    .await;
    (id, ev["payload"]["request"].clone())
}

#[tokio::test]
async fn tools_invoke_names_its_own_run_and_the_http_surface() {
    let mut config = common::Setup::default().config;
    config["gateway"]["tools"] = json!({"allow": ["bash"]});
    let tg = common::start_engine(config).await;
    let mut ap = approval_client(&tg, &["operator.approvals"]).await;
    let marker = tg.state().join("invoke-marker");
    let cmd = format!("touch {}", marker.display());
    let mut run_ids = Vec::new();
    for _ in 0..2 {
        let body = json!({"tool": "bash", "args": {"command": cmd}});
        let call = {
            let addr = tg.addr;
            let head = format!(
                "POST /tools/invoke HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json"
            );
            tokio::spawn(async move { http(addr, &head, &body.to_string()).await })
        };
        let (id, req) = deny_next(&mut ap).await;
        assert_eq!(req["command"], cmd.as_str());
        assert_eq!(req["turnSourceChannel"], "http");
        assert_eq!(req["turnSourceTo"], "agent:main:main");
        assert_eq!(req["sessionKey"], "agent:main:main");
        let run_id = req["runId"].as_str().expect("runId is set").to_owned();
        assert!(uuid_like(&run_id), "{run_id}");
        run_ids.push(run_id);
        let (code, out) = call.await.unwrap();
        assert_eq!(code, 400, "{out}");
        assert!(
            out.contains(&format!(
                "Exec denied (gateway id={id}, user-denied): {cmd}"
            )),
            "{out}"
        );
    }
    assert_ne!(run_ids[0], run_ids[1], "one run id per invocation");
    assert!(!marker.exists(), "a denied command does not run");
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn http_api_and_websocket_chat_turns_name_their_surface() {
    let Some(fake) = FakeLlm::start() else { return };
    let mut config = config_with(&fake, json!({"tools": {"exec": {"mode": "ask"}}}));
    config["gateway"]["http"] = json!({"endpoints": {"chatCompletions": {"enabled": true}}});
    let tg = common::start_engine(config).await;
    let mut ap = approval_client(&tg, &["operator.approvals"]).await;
    let msg = format!("call bash {}", json!({"command": "whoami"}));

    let body = json!({"model": "openclaw", "messages": [{"role": "user", "content": msg}]});
    let call = {
        let addr = tg.addr;
        let head = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json"
        );
        tokio::spawn(async move { http(addr, &head, &body.to_string()).await })
    };
    let (id, req) = deny_next(&mut ap).await;
    assert_eq!(req["turnSourceChannel"], "http");
    let key = req["sessionKey"].as_str().unwrap();
    assert!(key.starts_with("agent:main:openai:"), "{key}");
    assert_eq!(req["turnSourceTo"], key);
    assert!(uuid_like(req["runId"].as_str().unwrap()), "{req}");
    let (code, out) = call.await.unwrap();
    assert_eq!(code, 200, "{out}");
    // The fake model answers with the start of the tool result it was sent: the denial.
    let denial = format!("Exec denied (gateway id={id}, user-denied): whoami");
    assert!(
        out.contains(&format!("\"done: {}\"", &denial[..80])),
        "{out}"
    );

    let (mut chat, _) = Client::connected(&tg, &["operator.read", "operator.write"]).await;
    chat.ok(
        "chat.send",
        json!({"sessionKey": "main", "message": msg, "idempotencyKey": "ws-run"}),
    )
    .await;
    let (_, req) = deny_next(&mut ap).await;
    assert_eq!(req["turnSourceChannel"], "webchat");
    assert_eq!(req["turnSourceTo"], "agent:main:main");
    assert_eq!(req["runId"], "ws-run");
}

fn approvals_file(tg: &common::TestGateway) -> std::path::PathBuf {
    tg.state().join("exec-approvals.json")
}

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

async fn run_bash(chat: &mut Client, key: &str, command: &str) {
    let msg = format!("call bash {}", json!({"command": command}));
    chat.ok(
        "chat.send",
        json!({"sessionKey": "main", "message": msg, "idempotencyKey": key}),
    )
    .await;
    loop {
        let f = chat.event("chat").await;
        if f["payload"]["runId"] == key && f["payload"]["state"] == "final" {
            return;
        }
    }
}

#[tokio::test]
async fn an_allowlisted_command_updates_its_entry_last_used_fields_and_keeps_the_rest() {
    let Some(fake) = FakeLlm::start() else { return };
    let config = config_with(&fake, json!({"tools": {"exec": {"mode": "allowlist"}}}));
    let tg = common::start_engine(config).await;
    let path = approvals_file(&tg);
    let doc = json!({"version": 1,
        "socket": {"path": "/x.sock", "token": "keep-me"},
        "defaults": {"security": "allowlist", "ask": "on-miss", "askFallback": "deny"},
        "agents": {
            "main": {"autoAllowSkills": true,
                     "allowlist": [{"id": "E1", "pattern": "/usr/bin/touch", "source": "manual"}],
                     "mcpTools": [{"server": "docs", "tool": "publish", "addedAt": 1}]},
            "ops": {"allowlist": [{"pattern": "git"}]}}});
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let (mut admin, _) = Client::connected(&tg, &["operator.admin"]).await;
    // A read never writes.
    let before = std::fs::read(&path).unwrap();
    admin.ok("exec.approvals.get", json!({})).await;
    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "a read rewrote the file"
    );

    let (mut chat, _) = Client::connected(&tg, &["operator.read", "operator.write"]).await;
    let marker = tg.state().join("allowlisted");
    let cmd = format!("touch {}", marker.display());
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    run_bash(&mut chat, "listed-1", &cmd).await;
    assert!(marker.exists(), "the allowlisted command ran");
    let after = read_json(&path);
    let e = &after["agents"]["main"]["allowlist"][0];
    let used = e["lastUsedAt"].as_u64().expect("lastUsedAt written");
    assert!(used >= t0, "{e}");
    assert_eq!(e["lastUsedCommand"], cmd.as_str());
    assert_eq!(e["lastResolvedPath"], "/usr/bin/touch");
    // Everything else is as written.
    let mut rest = after.clone();
    for k in ["lastUsedAt", "lastUsedCommand", "lastResolvedPath"] {
        rest["agents"]["main"]["allowlist"][0]
            .as_object_mut()
            .unwrap()
            .remove(k);
    }
    assert_eq!(rest, doc);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "owner-only");

    // The same command again within a second leaves the file alone; another command updates it.
    let written = std::fs::read(&path).unwrap();
    run_bash(&mut chat, "listed-2", &cmd).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    if now - used <= 1_000 {
        assert_eq!(
            std::fs::read(&path).unwrap(),
            written,
            "rewritten within a second"
        );
    }
    let other = format!("touch {}", tg.state().join("second").display());
    run_bash(&mut chat, "listed-3", &other).await;
    let e = &read_json(&path)["agents"]["main"]["allowlist"][0];
    assert_eq!(e["lastUsedCommand"], other.as_str());
    assert!(e["lastUsedAt"].as_u64().unwrap() >= used);
}
