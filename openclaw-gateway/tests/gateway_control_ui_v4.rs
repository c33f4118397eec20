//! What OpenClaw's Control UI 2026.9.6 (protocol v4) needs to open and follow a chat, over real
//! loopback sockets with the fake model (`shared/fake_llm.py`; skipped with the reason when it is
//! missing, failing under `CI=true`): `chat.startup` answers the first history page,
//! `sessions.messages.subscribe` names the canonical key (with an approval replay when asked),
//! the v4 params of `sessions.list`, `models.list` and `chat.history` are taken, a finished turn
//! is told apart by `__openclaw` in both the `final` event and the history, and the run's
//! `sessions.changed` carries its row with `hasActiveRun:false`.

mod common;

use std::time::Duration;

use common::Client;
use common::fake::gateway;
use openclaw_core::testing::prereq::FakeLlm;
use serde_json::{Value, json};

const RW: &[&str] = &[
    "operator.read",
    "operator.write",
    "operator.admin",
    "operator.approvals",
];

/// Frames until `pred` matches one (20 s at most).
async fn until(c: &mut Client, pred: impl Fn(&Value) -> bool) -> Value {
    let mut backlog = std::mem::take(&mut c.backlog).into_iter();
    loop {
        let f = match backlog.next() {
            Some(f) => f,
            None => c
                .next_within(Duration::from_secs(20))
                .await
                .expect("socket open"),
        };
        if pred(&f) {
            return f;
        }
    }
}

#[tokio::test]
async fn the_v4_control_ui_opens_a_chat_and_matches_its_turn_to_the_stored_one() {
    let Some(fake) = FakeLlm::start() else { return };
    let tg = gateway(&fake).await;
    let (mut c, _) = Client::connected(&tg, RW).await;

    // Load: the session list with v4 params, the model list for a session, the first page.
    let list = c
        .ok(
            "sessions.list",
            json!({"includeGlobal": true, "includeUnknown": true, "configuredAgentsOnly": true,
                   "limit": 200, "includeDerivedTitles": true, "includeLastMessage": true,
                   "ownerFirst": true, "agentId": "main"}),
        )
        .await;
    assert!(list["sessions"].is_array(), "{list}");
    let models = c
        .ok("models.list", json!({"sessionKey": "agent:main:main"}))
        .await;
    assert!(models["models"].is_array(), "{models}");
    let e = c
        .err("models.list", json!({"sessionKey": "agent:nobody:main"}))
        .await;
    assert_eq!(e["code"], "INVALID_REQUEST");
    assert!(e["message"].as_str().unwrap().contains("nobody"), "{e}");
    let first = c
        .ok(
            "chat.startup",
            json!({"sessionKey": "main", "limit": 80, "maxBytes": 262144}),
        )
        .await;
    assert_eq!(first["sessionKey"], "agent:main:main");
    assert_eq!(first["messages"], json!([]));
    assert_eq!(first["pendingInputs"], json!({"items": [], "total": 0}));
    // A short chat link that does not exist is "not resolved", not an error.
    let link = c
        .ok("chat.startup", json!({"shortId": "abc", "agentId": "main"}))
        .await;
    assert_eq!(link, json!({"resolution": {"ok": false}}));
    let bad = c
        .err("chat.startup", json!({"sessionKey": "main", "bogus": 1}))
        .await;
    assert_eq!(bad["code"], "INVALID_REQUEST");

    let sub = c
        .ok(
            "sessions.messages.subscribe",
            json!({"key": "main", "includeApprovals": true}),
        )
        .await;
    assert_eq!(sub["subscribed"], true);
    assert_eq!(sub["key"], "agent:main:main");
    assert_eq!(sub["approvalReplay"]["sessionKey"], "agent:main:main");
    assert_eq!(sub["approvalReplay"]["approvals"], json!([]));
    let e = c
        .err(
            "sessions.messages.subscribe",
            json!({"key": "main", "includeApprovals": false}),
        )
        .await;
    assert_eq!(e["code"], "INVALID_REQUEST");
    c.ok("sessions.subscribe", json!({})).await;

    // A turn: the final event's message and the stored reply carry the same run identity.
    c.ok(
        "chat.send",
        json!({"sessionKey": "agent:main:main", "message": "hello v4", "idempotencyKey": "run-v4"}),
    )
    .await;
    let fin = until(&mut c, |f| {
        f["event"] == "chat"
            && f["payload"]["state"] == "final"
            && f["payload"]["runId"] == "run-v4"
    })
    .await;
    assert_eq!(
        fin["payload"]["message"]["__openclaw"],
        json!({"runId": "run-v4", "idempotencyKey": "run-v4"})
    );
    let ended = until(&mut c, |f| {
        f["event"] == "sessions.changed" && f["payload"]["runId"] == "run-v4"
    })
    .await;
    assert_eq!(ended["payload"]["session"]["key"], "agent:main:main");
    assert_eq!(ended["payload"]["session"]["hasActiveRun"], false);

    let history = c
        .ok(
            "chat.history",
            json!({"sessionKey": "agent:main:main", "inputRunIds": ["run-v4"], "limit": 1000}),
        )
        .await;
    let msgs = history["messages"].as_array().expect("messages");
    assert_eq!(msgs.len(), 2, "{history}");
    assert_eq!(
        msgs[0]["__openclaw"],
        json!({"seq": 1, "idempotencyKey": "run-v4:user"})
    );
    assert_eq!(
        msgs[1]["__openclaw"],
        json!({"seq": 2, "idempotencyKey": "run-v4", "runId": "run-v4"})
    );
    assert_eq!(history["inputReceipts"], json!([]));
    let e = c
        .err(
            "chat.history",
            json!({"sessionKey": "main", "inputRunIds": ["a", "a"]}),
        )
        .await;
    assert!(e["message"].as_str().unwrap().contains("duplicates"), "{e}");

    let unsub = c
        .ok("sessions.messages.unsubscribe", json!({"key": "main"}))
        .await;
    assert_eq!(
        unsub,
        json!({"subscribed": false, "key": "agent:main:main"})
    );
}
