//! Inbound hooks over a real loopback gateway with the agent host and the fake model:
//! `POST /hooks/agent` starts a run in its own session (and only once per idempotency key),
//! `POST /hooks/wake` queues a system event; a query token, a wrong token and an oversized body
//! are refused before anything runs; hooks are off without a distinct token.

mod common;

use std::time::{Duration, Instant};

use common::model::{bodies, config_for, start_model};
use common::secure::http;
use common::{ADMIN, Client, Setup, TOKEN, TestGateway};
use openclaw_core::testing::sse_server::SseServer;
use serde_json::{Value, json};

const HOOK_TOKEN: &str = "hook-secret-0123456789";

async fn gateway(model: &SseServer, hooks: Value) -> TestGateway {
    let mut config = config_for(model);
    config["hooks"] = hooks;
    config["agents"]["defaults"]["heartbeat"] = json!({"every": "0m"});
    common::start(Setup {
        config,
        engine: true,
        ..Setup::default()
    })
    .await
}

async fn post(tg: &TestGateway, path: &str, auth: &str, body: &str) -> (u16, Value) {
    let head =
        format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json");
    let (status, text) = http(tg.addr, &head, body).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn bearer() -> String {
    format!("Authorization: Bearer {HOOK_TOKEN}\r\n")
}

async fn wait_for_requests(model: &SseServer, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while model.request_count() < n {
        assert!(
            Instant::now() < deadline,
            "the model saw {} requests",
            model.request_count()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn hooks_agent_starts_a_run_and_bad_credentials_start_nothing() {
    let model = start_model().await;
    let tg = gateway(
        &model,
        json!({"enabled": true, "token": HOOK_TOKEN, "maxBodyBytes": 4096}),
    )
    .await;
    let body = json!({"message": "New email from Bob: lunch?", "name": "Gmail",
                      "idempotencyKey": "evt-1"})
    .to_string();

    // Refused before anything runs.
    let (s, r) = post(&tg, &format!("/hooks/agent?token={HOOK_TOKEN}"), "", &body).await;
    assert_eq!(s, 400, "{r}");
    assert!(r["error"].as_str().unwrap().contains("query string"), "{r}");
    let (s, _) = post(
        &tg,
        &format!("/hooks/agent?token={HOOK_TOKEN}"),
        &bearer(),
        &body,
    )
    .await;
    assert_eq!(
        s, 400,
        "a query token is refused even next to a good header"
    );
    let (s, _) = post(
        &tg,
        "/hooks/agent",
        "Authorization: Bearer wrong\r\n",
        &body,
    )
    .await;
    assert_eq!(s, 401);
    let gateway_token = format!("Authorization: Bearer {TOKEN}\r\n");
    let (s, _) = post(&tg, "/hooks/agent", &gateway_token, &body).await;
    assert_eq!(s, 401, "the gateway token is not a hooks token");
    let big = json!({"message": "x".repeat(5000)}).to_string();
    let (s, _) = post(&tg, "/hooks/agent", &bearer(), &big).await;
    assert_eq!(s, 413);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(model.request_count(), 0);

    // Accepted: a run in its own session, with the message marked untrusted.
    let (s, r) = post(&tg, "/hooks/agent", &bearer(), &body).await;
    assert_eq!(s, 202, "{r}");
    assert_eq!(r["ok"], true);
    let run_id = r["runId"].as_str().unwrap().to_owned();
    assert!(run_id.starts_with("hook:"), "{run_id}");
    // The same idempotency key: the same answer, no second run.
    let (s, again) = post(&tg, "/hooks/agent", &bearer(), &body).await;
    assert_eq!((s, &again), (202, &r));
    wait_for_requests(&model, 1).await;
    let sent = bodies(&model)[0]["messages"].to_string();
    assert!(
        sent.contains("Hook Gmail") && sent.contains("lunch?"),
        "{sent}"
    );
    assert!(sent.contains("EXTERNAL_UNTRUSTED_CONTENT"), "{sent}");

    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let key = format!("agent:main:{run_id}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let h = c
            .request("chat.history", Some(json!({"sessionKey": key})))
            .await;
        if h["payload"]["messages"].to_string().contains("pong") {
            break;
        }
        assert!(Instant::now() < deadline, "no reply in {key}: {h}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The reply is posted to the main session and wakes it (the second model call).
    wait_for_requests(&model, 2).await;
    let wake = bodies(&model)[1]["messages"].to_string();
    assert!(wake.contains("Hook Gmail: pong"), "{wake}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(model.request_count(), 2);
}

#[tokio::test]
async fn hooks_wake_queues_an_event_with_the_header_token() {
    let model = start_model().await;
    let tg = gateway(
        &model,
        json!({"enabled": true, "token": HOOK_TOKEN, "path": "/in/"}),
    )
    .await;
    let auth = format!("x-openclaw-token: {HOOK_TOKEN}\r\n");
    let body = json!({"text": "Deploy finished", "mode": "next-heartbeat"}).to_string();
    let (s, r) = post(&tg, "/in/wake", &auth, &body).await;
    assert_eq!((s, r), (200, json!({"ok": true, "mode": "next-heartbeat"})));
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let status = c.ok("status", json!({})).await;
    assert_eq!(status["queuedSystemEvents"], json!(["Deploy finished"]));
    assert_eq!(model.request_count(), 0);
    let (s, _) = post(&tg, "/in/wake", &auth, "{\"mode\": \"now\"}").await;
    assert_eq!(s, 400, "text is required");
}

#[tokio::test]
async fn hooks_are_off_without_a_token_of_their_own() {
    let model = start_model().await;
    for hooks in [
        json!({"enabled": true}),
        json!({"enabled": true, "token": TOKEN}),
        json!({"enabled": false, "token": HOOK_TOKEN}),
    ] {
        let tg = gateway(&model, hooks.clone()).await;
        let log = std::fs::read_to_string(tg.state().join("logs").join("gateway.log")).unwrap();
        if hooks["enabled"] == true {
            assert!(
                log.contains("hooks disabled: hooks."),
                "the reason is logged: {log}"
            );
        }
        let (s, _) = post(&tg, "/hooks/wake", &bearer(), "{\"text\": \"x\"}").await;
        assert_ne!(s, 200, "{hooks}");
        let (s, _) = post(
            &tg,
            "/hooks/wake",
            &format!("Authorization: Bearer {TOKEN}\r\n"),
            "{\"text\": \"x\"}",
        )
        .await;
        assert_eq!(s, 404, "{hooks}");
    }
}

#[tokio::test]
async fn a_mapping_turns_a_custom_path_into_a_templated_run_or_wake() {
    let model = start_model().await;
    let tg = gateway(
        &model,
        json!({"enabled": true, "token": HOOK_TOKEN, "maxBodyBytes": 4096, "mappings": [
            {"id": "ci", "match": {"path": "github", "source": "ci"}, "action": "wake",
             "wakeMode": "next-heartbeat", "textTemplate": "CI {{status}} on {{repo.name}} ({{headers.x-event-type}})"},
            {"id": "push", "match": {"path": "github"}, "name": "GitHub {{repo.name}}",
             "messageTemplate": "Review commit {{commits[0].id}} by {{commits[0].author}}",
             "deliver": false},
            {"id": "scripted", "match": {"path": "scripted"}, "transform": {"module": "x.js"}}
        ]}),
    )
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let push = json!({"repo": {"name": "claw"}, "commits": [{"id": "abc123", "author": "ada"}],
        "idempotencyKey": "push-1"})
    .to_string();

    // Auth and the body limit hold for mapped paths too.
    let (s, _) = post(&tg, "/hooks/github", "", &push).await;
    assert_eq!(s, 401);
    let (s, _) = post(&tg, "/hooks/github?token=x", &bearer(), &push).await;
    assert_eq!(s, 400);
    let (s, _) = post(&tg, "/hooks/github", &bearer(), &"x".repeat(5000)).await;
    assert_eq!(s, 413);
    assert_eq!(model.request_count(), 0);

    // The agent mapping: a templated message in untrusted markers, once per idempotency key.
    let (s, r) = post(&tg, "/hooks/github", &bearer(), &push).await;
    assert_eq!(s, 200, "{r}");
    let (s2, r2) = post(&tg, "/hooks/github", &bearer(), &push).await;
    assert_eq!((s2, &r2["runId"]), (200, &r["runId"]), "replayed");
    wait_for_requests(&model, 1).await;
    let sent = bodies(&model)[0]["messages"].to_string();
    assert!(sent.contains("Task: Hook GitHub claw"), "{sent}");
    assert!(sent.contains("Review commit abc123 by ada"), "{sent}");
    assert!(sent.contains("EXTERNAL_UNTRUSTED_CONTENT"), "{sent}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(model.request_count(), 1, "one run for two deliveries");

    // The wake mapping (matched by source first), with a header in its template.
    let head = format!("{}X-Event-Type: check_run\r\n", bearer());
    let ci = json!({"source": "ci", "status": "red", "repo": {"name": "claw"}}).to_string();
    let (s, r) = post(&tg, "/hooks/github", &head, &ci).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["mode"], "next-heartbeat");
    let status = c.ok("status", json!({})).await;
    assert_eq!(
        status["queuedSystemEvents"],
        json!(["CI red on claw (check_run)"])
    );

    // No mapping, or one this gateway refused at load: 404.
    let (s, _) = post(&tg, "/hooks/gitlab", &bearer(), "{}").await;
    assert_eq!(s, 404);
    let (s, _) = post(&tg, "/hooks/scripted", &bearer(), "{}").await;
    assert_eq!(s, 404);
}
