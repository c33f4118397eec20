//! Exec approvals over the protocol, against a real gateway on loopback with the fake model
//! (`shared/fake_llm.py`) scripting `bash` calls: the approval client gets
//! `exec.approval.requested` (a chat client without `operator.approvals` does not, and its run
//! still asks), a deny keeps the command from running and the model sees OpenClaw's text, an
//! allow-once runs it, first answer wins; without an approval client the run is refused at
//! once; `exec.approval.request` with `twoPhase`, no route and a timeout; the host document
//! with `baseHash`; the ledger (`approval.get` / `.history`) and a restart expiring a pending
//! approval.

mod common;

use std::time::{Duration, Instant};

use common::fake::gateway_with;
use common::{Client, TOKEN, TestGateway, approval_client as approver};
use openclaw_core::testing::prereq::FakeLlm;
use serde_json::{Value, json};

const CHAT: &[&str] = &["operator.read", "operator.write"];

/// Events until the run's terminal `chat` event; returns its text.
async fn final_text(c: &mut Client, run_id: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut backlog = std::mem::take(&mut c.backlog).into_iter();
    loop {
        assert!(
            Instant::now() < deadline,
            "no final chat event for {run_id}"
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

fn ask_config() -> Value {
    json!({"tools": {"exec": {"mode": "ask"}}})
}

async fn send(c: &mut Client, key: &str, command: &str) {
    let msg = format!("call bash {}", json!({"command": command}));
    c.ok(
        "chat.send",
        json!({"sessionKey": "main", "message": msg, "idempotencyKey": key}),
    )
    .await;
}

#[tokio::test]
async fn deny_then_allow_once_over_the_protocol_from_a_chat_without_approvals_scope() {
    let Some(fake) = FakeLlm::start() else { return };
    let tg = gateway_with(&fake, ask_config()).await;
    let mut ap = approver(&tg, &["operator.approvals"]).await;
    let (mut chat, hello) = Client::connected(&tg, CHAT).await;
    let methods = &hello["features"]["methods"];
    assert!(
        methods
            .as_array()
            .unwrap()
            .contains(&json!("exec.approval.resolve"))
    );
    let marker = tg.state().join("ran-marker");
    let cmd = format!("touch {}", marker.display());

    send(&mut chat, "deny-run", &cmd).await;
    let ev = ap.event("exec.approval.requested").await;
    let p = &ev["payload"];
    assert_eq!(p["approvalKind"], "exec");
    assert_eq!(p["request"]["command"], cmd);
    assert_eq!(p["request"]["agentId"], "main");
    assert_eq!(p["request"]["sessionKey"], "agent:main:main");
    assert_eq!(p["request"]["host"], "gateway");
    assert_eq!(p["request"]["security"], "allowlist");
    assert_eq!(p["request"]["ask"], "on-miss");
    assert_eq!(p["request"]["resolvedPath"], "/usr/bin/touch");
    assert_eq!(p["request"]["runId"], "deny-run");
    assert_eq!(
        p["expiresAtMs"].as_u64().unwrap() - p["createdAtMs"].as_u64().unwrap(),
        1_800_000,
        "OpenClaw's default 30 minutes"
    );
    let id = p["id"].as_str().unwrap().to_owned();
    // The chatting client sees the tool item wait for approval, and how to answer.
    let wait = loop {
        let f = chat.event("agent").await;
        if f["payload"]["stream"] == "item" && f["payload"]["data"]["phase"] == "update" {
            break f["payload"]["data"].clone();
        }
    };
    assert_eq!(wait["status"], "approval-pending");
    assert_eq!(wait["approvalId"], id.as_str());
    assert_eq!(wait["name"], "bash");
    assert_eq!(wait["kind"], "tool");
    let progress = wait["progressText"].as_str().unwrap();
    assert!(
        progress.starts_with(&format!("Waiting for approval (id={id}): {cmd}")),
        "{progress}"
    );
    assert!(
        progress.contains(&format!("openclaw approvals resolve {id} allow-once")),
        "{progress}"
    );
    let listed = ap.ok("exec.approval.list", json!({})).await;
    assert_eq!(listed[0]["id"], id.as_str());
    let got = ap.ok("exec.approval.get", json!({"id": &id[..8]})).await;
    assert_eq!(got["commandText"], cmd);

    assert_eq!(
        ap.ok(
            "exec.approval.resolve",
            json!({"id": id, "decision": "deny"})
        )
        .await,
        json!({"ok": true})
    );
    let resolved = ap.event("exec.approval.resolved").await;
    assert_eq!(resolved["payload"]["decision"], "deny");
    assert_eq!(resolved["payload"]["resolvedBy"], "approver-test");
    let text = final_text(&mut chat, "deny-run").await;
    let denial = format!("Exec denied (gateway id={id}, user-denied): {cmd}");
    // The fake model answers with the first 80 characters of the tool result it was sent.
    assert_eq!(text, format!("done: {}", &denial[..80]));
    let history = chat
        .ok("chat.history", json!({"sessionKey": "main"}))
        .await
        .to_string();
    assert!(
        history.contains(&denial),
        "the tool result is the denial: {history}"
    );
    assert!(
        !history.contains("timed out"),
        "never reported as a timeout"
    );
    assert!(!marker.exists(), "a denied command must not run");
    // First answer wins: the same decision again is fine, another one is refused.
    assert_eq!(
        ap.ok(
            "exec.approval.resolve",
            json!({"id": id, "decision": "deny"})
        )
        .await,
        json!({"ok": true})
    );
    let e = ap
        .err(
            "exec.approval.resolve",
            json!({"id": id, "decision": "allow-once"}),
        )
        .await;
    assert_eq!(e["message"], "approval already resolved");
    assert_eq!(e["details"]["reason"], "APPROVAL_ALREADY_RESOLVED");
    // The chat client never saw the approval events.
    assert!(
        chat.backlog
            .iter()
            .all(|f| f["event"] != "exec.approval.requested")
    );

    send(&mut chat, "allow-run", &cmd).await;
    let ev = ap.event("exec.approval.requested").await;
    let id2 = ev["payload"]["id"].as_str().unwrap().to_owned();
    let e = ap
        .err(
            "exec.approval.resolve",
            json!({"id": id2, "decision": "maybe"}),
        )
        .await;
    assert_eq!(e["message"], "invalid decision");
    ap.ok(
        "exec.approval.resolve",
        json!({"id": id2, "decision": "allow-once"}),
    )
    .await;
    final_text(&mut chat, "allow-run").await;
    assert!(marker.exists(), "allow-once runs the command");

    // The ledger has both, settled.
    let h = ap.ok("approval.history", json!({"limit": 1})).await;
    assert_eq!(h["items"][0]["id"], id2.as_str());
    assert_eq!(h["items"][0]["status"], "allowed");
    let next = ap
        .ok("approval.history", json!({"cursor": h["nextCursor"]}))
        .await;
    assert_eq!(next["items"][0]["id"], id.as_str());
    assert_eq!(next["items"][0]["decision"], "deny");
    assert_eq!(
        next["items"][0]["resolver"],
        json!({"kind": "runtime", "id": "cli"})
    );
    let e = ap.err("approval.get", json!({"id": "nope"})).await;
    assert_eq!(e["message"], "approval not found");
    assert_eq!(e["details"]["reason"], "APPROVAL_NOT_FOUND");
    let e = ap
        .err(
            "exec.approval.resolve",
            json!({"id": "nope", "decision": "deny"}),
        )
        .await;
    assert_eq!(e["message"], "unknown or expired approval id");
}

#[tokio::test]
async fn without_an_approval_client_the_run_is_refused_at_once_never_hung() {
    let Some(fake) = FakeLlm::start() else { return };
    let tg = gateway_with(&fake, ask_config()).await;
    let (mut chat, _) = Client::connected(&tg, CHAT).await;
    let marker = tg.state().join("never");
    let cmd = format!("touch {}", marker.display());
    let started = Instant::now();
    send(&mut chat, "lonely", &cmd).await;
    let text = final_text(&mut chat, "lonely").await;
    assert!(text.starts_with("done: Exec denied (gateway id="), "{text}");
    let history = chat
        .ok("chat.history", json!({"sessionKey": "main"}))
        .await
        .to_string();
    assert!(history.contains("approval-unavailable"), "{history}");
    // The model is told how the user can approve or allow such commands.
    assert!(
        history.contains("no approval client is connected"),
        "{history}"
    );
    assert!(
        history.contains("`openclaw approvals allowlist add <executable>`"),
        "{history}"
    );
    assert!(history.contains("tools.exec.askFallback"), "{history}");
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(!marker.exists());
    // The ledger says why.
    let (mut admin, _) = Client::connected(&tg, &["operator.admin"]).await;
    let h = admin.ok("approval.history", json!({})).await;
    assert_eq!(h["items"][0]["status"], "expired");
    assert_eq!(h["items"][0]["reason"], "no-route");
}

#[tokio::test]
async fn request_method_two_phase_no_route_and_timeout() {
    let tg = common::start_default().await;
    let mut req = approver(&tg, &["operator.approvals"]).await;
    // Only the requester is an approval client: no route, one answer, decision null.
    let res = req
        .ok(
            "exec.approval.request",
            json!({"command": "echo hi", "twoPhase": true}),
        )
        .await;
    assert_eq!(res["decision"], Value::Null);
    assert_eq!(res["terminalReason"], "no-route");
    let e = req
        .err("exec.approval.request", json!({"command": "x", "bogus": 1}))
        .await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("invalid exec.approval.request params")
    );

    let mut other = approver(&tg, &["operator.admin"]).await;
    let id = req
        .send_request(
            "exec.approval.request",
            Some(
                json!({"id": "fixed-id-1", "command": "echo hi", "twoPhase": true,
                        "unavailableDecisions": ["allow-always"]}),
            ),
        )
        .await;
    let first = req.response(&id).await;
    assert_eq!(first["payload"]["status"], "accepted");
    assert_eq!(first["payload"]["id"], "fixed-id-1");
    let ev = other.event("exec.approval.requested").await;
    assert_eq!(
        ev["payload"]["request"]["allowedDecisions"],
        json!(["allow-once", "deny"])
    );
    let e = other
        .err(
            "exec.approval.resolve",
            json!({"id": "fixed-id-1", "decision": "allow-always"}),
        )
        .await;
    assert_eq!(e["message"], "allow-always is unavailable for this command");
    assert_eq!(e["details"]["reason"], "APPROVAL_ALLOW_ALWAYS_UNAVAILABLE");
    let wait = other
        .send_request(
            "exec.approval.waitDecision",
            Some(json!({"id": "fixed-id-1"})),
        )
        .await;
    other
        .ok(
            "exec.approval.resolve",
            json!({"id": "fixed-id-1", "decision": "allow-once"}),
        )
        .await;
    let second = req.response(&id).await;
    assert_eq!(second["payload"]["decision"], "allow-once");
    let waited = other.response(&wait).await;
    assert_eq!(waited["payload"]["decision"], "allow-once");
    // The requester never gets its own `requested` event.
    assert!(
        req.backlog
            .iter()
            .all(|f| f["event"] != "exec.approval.requested")
    );

    let res = req
        .ok(
            "exec.approval.request",
            json!({"command": "sleep 1", "timeoutMs": 300}),
        )
        .await;
    assert_eq!(res["decision"], Value::Null);
    assert_eq!(res["terminalReason"], "timeout");
    // A client without the approvals scope cannot answer.
    let (mut reader, _) = Client::connected(&tg, &["operator.read"]).await;
    let e = reader.err("exec.approval.list", json!({})).await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("operator.approvals"),
        "{e}"
    );
}

#[tokio::test]
async fn the_host_document_needs_the_base_hash_once_it_exists() {
    let tg = common::start_default().await;
    let (mut c, _) = Client::connected(&tg, &["operator.admin"]).await;
    let got = c.ok("exec.approvals.get", json!({})).await;
    assert_eq!(got["exists"], false);
    assert_eq!(got["file"], json!({"version": 1, "agents": {}}));
    let file = json!({"version": 1, "socket": {"path": "/x.sock", "token": "secret"},
        "agents": {"main": {"allowlist": [{"pattern": "git"}]}}});
    let set = c.ok("exec.approvals.set", json!({"file": file})).await;
    assert_eq!(set["exists"], true);
    assert_eq!(
        set["file"]["socket"],
        json!({"path": "/x.sock"}),
        "token redacted"
    );
    let e = c.err("exec.approvals.set", json!({"file": file})).await;
    assert_eq!(
        e["message"],
        "exec approvals changed since last load; re-run exec.approvals.get and retry"
    );
    let e = c
        .err(
            "exec.approvals.set",
            json!({"file": {"version": 1, "nope": 1}, "baseHash": set["hash"]}),
        )
        .await;
    assert_eq!(e["code"], "INVALID_REQUEST");
    let mut redacted = set["file"].clone();
    redacted["agents"]["main"]["allowlist"][0]["pattern"] = json!("rg");
    c.ok(
        "exec.approvals.set",
        json!({"file": redacted, "baseHash": set["hash"]}),
    )
    .await;
    let on_disk = std::fs::read_to_string(tg.state().join("exec-approvals.json")).unwrap();
    assert!(
        on_disk.contains("\"token\": \"secret\""),
        "the stored token is kept"
    );
    assert!(on_disk.contains("\"pattern\": \"rg\""));
    std::fs::write(tg.state().join("exec-approvals.json"), "{broken").unwrap();
    let e = c.err("exec.approvals.get", json!({})).await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("not a valid exec approvals document")
    );
}

#[tokio::test]
async fn a_restart_expires_what_was_pending() {
    let tg = common::start_default().await;
    let state = tg.state();
    let mut req = approver(&tg, &["operator.approvals"]).await;
    let mut other = approver(&tg, &["operator.approvals"]).await;
    let id = req
        .send_request(
            "exec.approval.request",
            Some(json!({"id": "survivor", "command": "echo hi", "twoPhase": true})),
        )
        .await;
    assert_eq!(req.response(&id).await["payload"]["status"], "accepted");
    other.event("exec.approval.requested").await;
    let TestGateway { gateway, dir, .. } = tg;
    gateway.shutdown("test restart").await;
    // The approval client hears the expiry before its socket closes.
    let ev = other.event("exec.approval.resolved").await;
    assert_eq!(ev["payload"]["id"], "survivor");
    assert_eq!(ev["payload"]["decision"], Value::Null);
    assert_eq!(ev["payload"]["reason"], "gateway-restart");
    assert_eq!(ev["payload"]["request"]["command"], "echo hi");
    assert!(ev["payload"]["ts"].as_u64().is_some());
    let again = common::start_in(dir).await;
    assert_eq!(again.state(), state);
    let (mut c, _) = Client::connected(&again, &["operator.admin"]).await;
    let got = c.ok("approval.get", json!({"id": "survivor"})).await;
    assert_eq!(got["approval"]["status"], "expired");
    assert_eq!(got["approval"]["reason"], "gateway-restart");
    assert!(
        c.ok("exec.approval.list", json!({}))
            .await
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_unanswered_approval_expires_after_the_configured_timeout_not_as_a_tool_timeout() {
    let Some(fake) = FakeLlm::start() else { return };
    let tg = gateway_with(
        &fake,
        json!({"tools": {"exec": {"mode": "ask", "approvalTimeoutMs": 400}}}),
    )
    .await;
    let mut ap = approver(&tg, &["operator.approvals"]).await;
    let (mut chat, _) = Client::connected(&tg, CHAT).await;
    send(&mut chat, "slow-human", "whoami").await;
    let ev = ap.event("exec.approval.requested").await;
    let p = &ev["payload"];
    assert_eq!(
        p["expiresAtMs"].as_u64().unwrap() - p["createdAtMs"].as_u64().unwrap(),
        400
    );
    let id = p["id"].as_str().unwrap().to_owned();
    // The expiry is announced to the approval client: decision null, reason timeout.
    let ev = ap.event("exec.approval.resolved").await;
    let r = &ev["payload"];
    assert_eq!(r["id"], id.as_str());
    assert_eq!(r["decision"], Value::Null);
    assert_eq!(r["reason"], "timeout");
    assert_eq!(r["resolvedBy"], Value::Null);
    assert_eq!(r["request"]["command"], "whoami");
    assert!(r["ts"].as_u64().unwrap() >= p["expiresAtMs"].as_u64().unwrap());
    let text = final_text(&mut chat, "slow-human").await;
    // What the model was sent: an approval expiry, not a tool timeout or a generic error.
    let sent =
        format!("Exec denied (gateway id={id}, approval-timeout): whoami\nNobody approved it");
    assert_eq!(text, format!("done: {}", &sent[..80]));
    let history = chat
        .ok("chat.history", json!({"sessionKey": "main"}))
        .await
        .to_string();
    assert!(history.contains("approval-timeout"), "{history}");
    assert!(
        history.contains("this is not a command timeout"),
        "{history}"
    );
    let got = ap.ok("approval.get", json!({"id": id})).await;
    assert_eq!(got["approval"]["status"], "expired");
    assert_eq!(got["approval"]["reason"], "timeout");
    let h = ap.ok("approval.history", json!({})).await;
    assert_eq!(h["items"][0]["id"], id.as_str());
    assert_eq!(h["items"][0]["status"], "expired");
    assert_eq!(h["items"][0]["reason"], "timeout");
}

/// A minimal HTTP POST; returns the status code and the whole response.
async fn post(addr: std::net::SocketAddr, path: &str, body: &Value) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = body.to_string();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
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

#[tokio::test]
async fn tools_invoke_goes_through_the_same_gate() {
    let mut config = common::Setup::default().config;
    config["gateway"]["tools"] = json!({"allow": ["bash"]});
    let dir = tempfile::tempdir().unwrap();
    let backend = std::sync::Arc::new(
        openclaw_gateway::agent_host::AgentHost::new(config.clone(), dir.path().to_owned())
            .unwrap(),
    );
    let mut tg = common::start(common::Setup {
        config,
        backend: Some(backend),
        ..common::Setup::default()
    })
    .await;
    tg.dir = dir;
    let marker = tg.state().join("http-marker");
    let cmd = format!("touch {}", marker.display());
    let (code, out) = post(
        tg.addr,
        "/tools/invoke",
        &json!({"tool": "bash", "args": {"command": cmd}}),
    )
    .await;
    assert_eq!(code, 400, "{out}");
    assert!(out.contains("approval-unavailable"), "{out}");
    assert!(!marker.exists());
    let (code, out) = post(
        tg.addr,
        "/tools/invoke",
        &json!({"tool": "bash", "args": {"command": "wc -c"}}),
    )
    .await;
    assert_eq!(code, 200, "a safe bin runs: {out}");
}

#[tokio::test]
async fn slash_approve_in_the_same_chat_answers_and_other_sessions_need_the_scope() {
    let Some(fake) = FakeLlm::start() else { return };
    let tg = gateway_with(&fake, ask_config()).await;
    let mut ap = approver(&tg, &["operator.approvals"]).await;
    let (mut chat, _) = Client::connected(&tg, CHAT).await;
    let marker = tg.state().join("slash-marker");
    let cmd = format!("touch {}", marker.display());
    send(&mut chat, "slash-run", &cmd).await;
    let id = ap.event("exec.approval.requested").await["payload"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Another session of a client without operator.approvals may not answer it.
    chat.ok(
        "chat.send",
        json!({"sessionKey": "elsewhere", "message": format!("/approve {id} allow-once"), "idempotencyKey": "s0"}),
    )
    .await;
    let reply = final_text(&mut chat, "s0").await;
    assert!(reply.contains("belongs to another session"), "{reply}");
    chat.ok(
        "chat.send",
        json!({"sessionKey": "main", "message": format!("/approve {id} deny"), "idempotencyKey": "s1"}),
    )
    .await;
    let reply = final_text(&mut chat, "s1").await;
    assert_eq!(reply, format!("Approval {id} resolved deny: {cmd}"));
    let text = final_text(&mut chat, "slash-run").await;
    assert!(
        text.starts_with(&format!("done: Exec denied (gateway id={id}")),
        "{text}"
    );
    assert!(!marker.exists());
    chat.ok(
        "chat.send",
        json!({"sessionKey": "main", "message": "/approve nope", "idempotencyKey": "s2"}),
    )
    .await;
    assert_eq!(
        final_text(&mut chat, "s2").await,
        "Usage: /approve <id> allow-once|allow-always|deny"
    );
}
