//! Cron delivery over a real loopback gateway: `webhook` POSTs the finished run to a loopback
//! HTTP server with `Authorization: Bearer <cron.webhookToken>` and records `delivered`; a
//! failing or internal-but-not-allowed webhook and `announce` record `not-delivered` with a
//! reason.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::model::{config_for, start_model};
use common::{ADMIN, Client, Setup};
use serde_json::{Value, json};

type Seen = Arc<Mutex<Vec<(Option<String>, Value)>>>;

/// A loopback webhook receiver answering `status`; records (Authorization, body).
async fn receiver(status: StatusCode) -> (String, Seen) {
    let seen = Seen::default();
    let s = seen.clone();
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let s = s.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = serde_json::from_str(&body).unwrap_or(Value::Null);
                s.lock().unwrap().push((auth, body));
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

async fn run_and_wait(c: &mut Client, delivery: Value) -> Value {
    let job = c
        .ok(
            "cron.add",
            json!({"name": "report", "schedule": {"kind": "every", "everyMs": 3_600_000},
                   "sessionTarget": "isolated", "wakeMode": "now",
                   "payload": {"kind": "agentTurn", "message": "report"},
                   "delivery": delivery}),
        )
        .await;
    let id = job["id"].as_str().unwrap().to_owned();
    c.ok("cron.run", json!({"id": id})).await;
    loop {
        let e = tokio::time::timeout(Duration::from_secs(20), c.event("cron"))
            .await
            .expect("finished in 20 s");
        if e["payload"]["jobId"] == id && e["payload"]["action"] == "finished" {
            return e["payload"].clone();
        }
    }
}

#[tokio::test]
async fn a_webhook_gets_the_run_with_the_bearer_token_and_failures_are_recorded() {
    let model = start_model().await;
    let (ok_url, seen) = receiver(StatusCode::OK).await;
    let (bad_url, bad_seen) = receiver(StatusCode::INTERNAL_SERVER_ERROR).await;
    let mut config = config_for(&model);
    config["cron"] = json!({"webhookToken": "wh-secret-42",
        "webhookSsrfPolicy": {"allowedHostnames": ["127.0.0.1"]}});
    let tg = common::start(Setup {
        config,
        engine: true,
        ..Setup::default()
    })
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;

    let done = run_and_wait(&mut c, json!({"mode": "webhook", "to": ok_url})).await;
    assert_eq!(done["status"], "ok", "{done}");
    assert_eq!(done["delivered"], true, "{done}");
    assert_eq!(done["deliveryStatus"], "delivered");
    assert_eq!(done["delivery"]["resolved"]["status"], 200);
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0.as_deref(), Some("Bearer wh-secret-42"));
    assert_eq!(got[0].1["summary"], "pong");
    assert_eq!(got[0].1["jobId"], done["jobId"]);
    let runs = c.ok("cron.runs", json!({"id": done["jobId"]})).await;
    assert_eq!(runs["entries"][0]["deliveryStatus"], "delivered", "{runs}");
    let job = c.ok("cron.get", json!({"id": done["jobId"]})).await;
    assert_eq!(job["state"]["lastDeliveryStatus"], "delivered");

    let done = run_and_wait(&mut c, json!({"mode": "webhook", "to": bad_url})).await;
    assert_eq!(done["status"], "ok", "the run itself succeeded");
    assert_eq!(done["delivered"], false);
    assert_eq!(done["deliveryStatus"], "not-delivered");
    assert!(
        done["deliveryError"].as_str().unwrap().contains("HTTP 500"),
        "{done}"
    );
    assert_eq!(bad_seen.lock().unwrap().len(), 1);

    let done = run_and_wait(
        &mut c,
        json!({"mode": "announce", "channel": "telegram", "to": "42"}),
    )
    .await;
    assert_eq!(done["deliveryStatus"], "not-delivered");
    assert!(
        done["deliveryError"]
            .as_str()
            .unwrap()
            .contains("no telegram account is configured on this gateway"),
        "{done}"
    );

    let bad = c
        .err(
            "cron.add",
            json!({"name": "x", "schedule": {"kind": "every", "everyMs": 60_000},
                   "sessionTarget": "isolated", "wakeMode": "now",
                   "payload": {"kind": "agentTurn", "message": "x"},
                   "delivery": {"mode": "webhook", "to": "ftp://example.com/x"}}),
        )
        .await;
    assert!(
        bad["message"].as_str().unwrap().contains("http(s) URL"),
        "{bad}"
    );
}

#[tokio::test]
async fn an_internal_webhook_is_refused_unless_allowed() {
    let model = start_model().await;
    let (url, seen) = receiver(StatusCode::OK).await;
    let tg = common::start(Setup {
        config: config_for(&model),
        engine: true,
        ..Setup::default()
    })
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let done = run_and_wait(&mut c, json!({"mode": "webhook", "to": url})).await;
    assert_eq!(done["deliveryStatus"], "not-delivered");
    assert!(
        done["deliveryError"]
            .as_str()
            .unwrap()
            .contains("internal address"),
        "{done}"
    );
    assert!(seen.lock().unwrap().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn a_failure_alert_goes_out_once_errors_reach_after_and_respects_its_cooldown() {
    let model = openclaw_core::testing::sse_server::SseServer::start(vec![
        openclaw_core::testing::sse_server::Reply::json(
            400,
            r#"{"error":{"message":"bad request","type":"invalid_request_error"}}"#,
        ),
    ])
    .await
    .unwrap();
    let (url, seen) = receiver(StatusCode::OK).await;
    let mut config = config_for(&model);
    config["cron"] = json!({"webhookToken": "wh-secret-42",
        "webhookSsrfPolicy": {"dangerouslyAllowPrivateNetwork": true}});
    let tg = common::start(Setup {
        config,
        engine: true,
        ..Setup::default()
    })
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let job = c
        .ok(
            "cron.add",
            json!({"name": "flaky", "schedule": {"kind": "every", "everyMs": 3_600_000},
                   "sessionTarget": "isolated", "wakeMode": "now",
                   "payload": {"kind": "agentTurn", "message": "report"},
                   "failureAlert": {"after": 2, "mode": "webhook", "to": url,
                                    "cooldownMs": 3_600_000}}),
        )
        .await;
    let id = job["id"].as_str().unwrap().to_owned();
    for n in 1..=3 {
        c.ok("cron.run", json!({"id": id})).await;
        let done = loop {
            let e = tokio::time::timeout(Duration::from_secs(20), c.event("cron"))
                .await
                .expect("finished in 20 s");
            if e["payload"]["jobId"] == id && e["payload"]["action"] == "finished" {
                break e["payload"].clone();
            }
        };
        assert_eq!(done["status"], "error", "run {n}: {done}");
        // The alert follows the run's record; give it time to arrive (or not).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while n == 2 && seen.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let alerts = seen.lock().unwrap().clone();
        match n {
            1 => assert!(alerts.is_empty(), "one error is below after: 2"),
            _ => assert_eq!(alerts.len(), 1, "run {n}: one alert, then the cooldown"),
        }
    }
    let alerts = seen.lock().unwrap().clone();
    assert_eq!(alerts[0].0.as_deref(), Some("Bearer wh-secret-42"));
    assert_eq!(alerts[0].1["action"], "failure-alert");
    assert_eq!(alerts[0].1["consecutiveErrors"], 2);
    assert_eq!(alerts[0].1["jobId"], id.as_str());
    let job = c.ok("cron.get", json!({"id": id})).await;
    assert!(
        job["state"]["lastFailureAlertAtMs"].as_u64().is_some(),
        "{job}"
    );
}
