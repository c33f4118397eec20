//! Where an approval says its turn came from, against a real gateway on loopback: a
//! `/tools/invoke` call is a run of its own (`runId` set, one per call) from the HTTP surface
//! (`turnSourceChannel: "http"`), a `/v1/chat/completions` turn (the fake model,
//! `shared/fake_llm.py`, calling `bash`) too, and a WebSocket client's `chat.send` is
//! `webchat`; a deny reaches the HTTP caller and the model as OpenClaw's text.

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
