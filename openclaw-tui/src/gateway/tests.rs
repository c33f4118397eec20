//! GatewayBackend against a small scripted gateway on a real loopback WebSocket.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use openclaw_core::AgentEvent;
use openclaw_core::message::Message;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as Ws;

use super::*;
use crate::backend::{BackendEvent, ChatBackend};

/// Serves one connection: challenge, token check, then scripted answers. Every request frame
/// is reported on `seen`.
async fn fake_gateway(token: &'static str, seen: mpsc::UnboundedSender<Value>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let send = |v: Value| Ws::Text(v.to_string().into());
        ws.send(send(
            json!({"type":"event","event":"connect.challenge","payload":{"nonce":"n1","ts":1}}),
        ))
        .await
        .unwrap();
        while let Some(Ok(Ws::Text(t))) = ws.next().await {
            let req: Value = serde_json::from_str(&t).unwrap();
            let _ = seen.send(req.clone());
            let id = req["id"].clone();
            let res =
                |payload: Value| send(json!({"type":"res","id":id,"ok":true,"payload":payload}));
            match req["method"].as_str().unwrap_or_default() {
                "connect" => {
                    if req["params"]["auth"]["token"] != token {
                        ws.send(send(json!({"type":"res","id":id,"ok":false,"error":{"code":"INVALID_REQUEST","message":"unauthorized: gateway token mismatch","details":{"code":"AUTH_TOKEN_MISMATCH"}}}))).await.unwrap();
                        return;
                    }
                    ws.send(res(json!({"type":"hello-ok","protocol":4,"snapshot":{"sessionDefaults":{"defaultAgentId":"main"}}}))).await.unwrap();
                }
                "chat.send" => {
                    let run = req["params"]["idempotencyKey"].clone();
                    let key = req["params"]["sessionKey"].clone();
                    ws.send(res(json!({"runId": run, "status": "started"})))
                        .await
                        .unwrap();
                    let text = format!(
                        "echo: {}",
                        req["params"]["message"].as_str().unwrap_or_default()
                    );
                    let msg = json!({"role":"assistant","content":[{"type":"text","text":text}],"timestamp":1});
                    for ev in [
                        json!({"event":"agent","payload":{"runId":run,"sessionKey":key,"stream":"lifecycle","data":{"phase":"model","provider":"fake","model":"fake-model"}}}),
                        json!({"event":"agent","payload":{"runId":run,"sessionKey":key,"stream":"item","data":{"toolCallId":"c1","name":"read","kind":"tool","phase":"start","title":"Read from a.txt"}}}),
                        json!({"event":"agent","payload":{"runId":run,"sessionKey":key,"stream":"item","data":{"toolCallId":"c1","name":"read","kind":"tool","phase":"end","title":"Read from a.txt","status":"completed"}}}),
                        json!({"event":"chat","payload":{"runId":run,"sessionKey":key,"state":"delta","deltaText":text,"message":msg}}),
                        json!({"event":"chat","payload":{"runId":run,"sessionKey":"agent:main:other","state":"delta","deltaText":"x","message":msg}}),
                        json!({"event":"chat","payload":{"runId":run,"sessionKey":key,"state":"final","message":msg}}),
                    ] {
                        let mut frame = ev;
                        frame["type"] = json!("event");
                        ws.send(send(frame)).await.unwrap();
                    }
                }
                "commands.list" => {
                    ws.send(res(json!({"commands":[
                        {"name":"help","description":"Show available commands.","source":"native","scope":"both","acceptsArgs":false},
                        {"name":"weather","description":"Forecasts.","source":"skill","scope":"both","acceptsArgs":true,"skillDisplayName":"weather","skillModelVisible":true},
                    ]}))).await.unwrap();
                }
                "chat.history" => {
                    ws.send(res(json!({"messages":[
                        {"role":"user","content":[{"type":"text","text":"earlier"}],"timestamp":1},
                        {"role":"assistant","content":[{"type":"text","text":"reply"}],"timestamp":2},
                    ]}))).await.unwrap();
                }
                _ => ws.send(res(json!({}))).await.unwrap(),
            }
        }
    });
    url
}

#[tokio::test]
async fn chat_round_trip_over_a_real_socket() {
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let url = fake_gateway("sekret", seen_tx).await;
    let backend = GatewayBackend::connect(&url, Some("sekret".into()), "main")
        .await
        .unwrap();
    let connect = seen.recv().await.unwrap();
    assert_eq!(connect["method"], "connect");
    assert_eq!(connect["params"]["client"]["mode"], "ui");

    let history = backend.messages().await.unwrap();
    assert_eq!(history.len(), 2);
    assert!(matches!(&history[1], Message::Assistant(a) if a.text() == "reply"));

    let mut events = backend.subscribe();
    backend.prompt("hi there".into()).await.unwrap();
    let mut got = Vec::new();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .unwrap()
            .unwrap();
        let end = matches!(ev, BackendEvent::Agent(AgentEvent::AgentEnd { .. }));
        got.push(ev);
        if end {
            break;
        }
    }
    let send = loop {
        let r = seen.recv().await.unwrap();
        if r["method"] == "chat.send" {
            break r;
        }
    };
    assert_eq!(send["params"]["sessionKey"], "agent:main:main");
    assert_eq!(send["params"]["message"], "hi there");

    let user_echo = got.iter().any(|e| matches!(e, BackendEvent::Agent(AgentEvent::MessageStart { message }) if matches!(&**message, Message::User(u) if u.content.text() == "hi there")));
    assert!(user_echo, "{got:?}");
    let tool = got.iter().any(|e| matches!(e, BackendEvent::Agent(AgentEvent::ToolExecutionEnd { tool_name, is_error: false, .. }) if tool_name == "read"));
    assert!(tool, "{got:?}");
    let finals: Vec<String> = got
        .iter()
        .filter_map(|e| match e {
            BackendEvent::Agent(AgentEvent::MessageEnd { message }) => {
                message.as_assistant().map(|a| a.text())
            }
            _ => None,
        })
        .collect();
    assert_eq!(finals, vec!["echo: hi there".to_string()]);
    let updates = got
        .iter()
        .filter(|e| matches!(e, BackendEvent::Agent(AgentEvent::MessageUpdate { .. })))
        .count();
    assert_eq!(updates, 1, "the other session's delta must be ignored");

    // The agent's skill commands (not the built-ins) complete in the slash popup.
    let extra = backend.extra_commands().await.unwrap();
    assert_eq!(extra.len(), 1, "{extra:?}");
    assert_eq!(
        (extra[0].name.as_str(), extra[0].source.as_str()),
        ("weather", "skill")
    );
    let list = loop {
        let r = seen.recv().await.unwrap();
        if r["method"] == "commands.list" {
            break r;
        }
    };
    assert_eq!(list["params"]["sessionKey"], "agent:main:main");
}

#[tokio::test]
async fn wrong_token_is_rejected_with_the_reason() {
    let (seen_tx, _seen) = mpsc::unbounded_channel();
    let url = fake_gateway("right", seen_tx).await;
    let err = GatewayBackend::connect(&url, Some("wrong".into()), "main")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GatewayClientError::Refused { code, .. } if code == "AUTH_TOKEN_MISMATCH"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "the gateway refused the connection: AUTH_TOKEN_MISMATCH: unauthorized: gateway token mismatch"
    );
}

#[tokio::test]
async fn unreachable_gateway_names_the_url() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = GatewayBackend::connect(&url, None, "main")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("cannot reach the gateway at {url}")),
        "{err}"
    );
}

#[test]
fn exec_approval_events_become_cards_and_outcomes() {
    use crate::backend::ApprovalPrompt;
    use openclaw_core::exec_policy::Decision;
    // The payload OpenClaw 2026.9.6 sends (shared/reference/openclaw-services.md §A4).
    let requested = json!({"type": "event", "event": "exec.approval.requested", "seq": 12,
        "payload": {"approvalKind": "exec", "id": "8cb825ad", "request": {"command": "echo approved-run",
        "systemRunBinding": null, "systemRunPlan": null, "cwd": "/tmp/ws", "nodeId": null,
        "host": "gateway", "security": "allowlist", "ask": "on-miss", "warningText": null, "scope": null,
        "commandAnalysis": {"commandCount": 1, "nestedCommandCount": 0, "riskKinds": [], "warningLines": []},
        "unavailableDecisions": ["allow-always"], "allowedDecisions": ["allow-once", "deny"],
        "agentId": "main", "resolvedPath": "/usr/bin/echo", "sessionKey": "agent:main:main",
        "sessionId": null, "runId": "r1", "toolCallId": "call_0", "turnSourceChannel": "webchat",
        "turnSourceTo": "agent:main:main", "turnSourceAccountId": null, "turnSourceThreadId": null,
        "cronExecutionSource": null, "cronOperationBinding": null},
        "createdAtMs": 1796595984097u64, "expiresAtMs": 1796597784097u64}});
    let card = super::translate::approval_event(&GatewayEvent::from_frame(requested));
    assert_eq!(
        card,
        Some(BackendEvent::Approval(ApprovalPrompt {
            id: "8cb825ad".into(),
            command: "echo approved-run".into(),
            cwd: Some("/tmp/ws".into()),
            agent: Some("main".into()),
            expires_at_ms: 1796597784097,
            allow_always: false,
        }))
    );
    let resolved = json!({"type": "event", "event": "exec.approval.resolved", "payload": {
        "id": "8cb825ad", "decision": "deny", "resolvedBy": "cli", "ts": 1, "request": {"command": "x"}}});
    assert_eq!(
        super::translate::approval_event(&GatewayEvent::from_frame(resolved)),
        Some(BackendEvent::ApprovalResolved {
            id: "8cb825ad".into(),
            decision: Some(Decision::Deny)
        })
    );
    let chat = json!({"type": "event", "event": "chat", "payload": {}});
    assert_eq!(
        super::translate::approval_event(&GatewayEvent::from_frame(chat)),
        None
    );
}
