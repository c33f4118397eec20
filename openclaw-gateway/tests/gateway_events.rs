//! Events and the transport around them over real loopback sockets: tick cadence and
//! per-connection seq, presence, scope filtering, a slow consumer cut off without hurting
//! another client, graceful shutdown, and the HTTP surface on the same port.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures::StreamExt;
use openclaw_gateway::Limits;
use serde_json::{Value, json};

fn fast_ticks() -> Setup {
    Setup {
        limits: Limits {
            tick_interval_ms: 100,
            ..Limits::default()
        },
        ..Setup::default()
    }
}

#[tokio::test]
async fn ticks_arrive_with_gap_free_seq() {
    let tg = start(fast_ticks()).await;
    let (mut c, hello) = Client::connected(&tg, &["operator.read"]).await;
    assert_eq!(hello["policy"]["tickIntervalMs"], 100);
    let mut ticks = 0;
    let mut last_seq = 0;
    let t0 = Instant::now();
    while ticks < 3 {
        let f = c.next().await.expect("frame");
        let seq = f["seq"].as_u64().expect("broadcast events carry seq");
        assert_eq!(seq, last_seq + 1, "seq gap at {f}");
        last_seq = seq;
        if f["event"] == "tick" {
            assert!(f["payload"]["ts"].as_u64().is_some());
            ticks += 1;
        }
    }
    assert!(t0.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn presence_and_scope_filtering() {
    let tg = start(fast_ticks()).await;
    let (mut reader, _) = Client::connected(&tg, &["operator.read"]).await;
    let (mut bare, _) = Client::connected(&tg, &[]).await;
    // A lasting client (a UI) is announced; one-shot CLI connections are not.
    let mut ui = Client::open(&tg).await;
    ui.challenge().await;
    let mut params = common::connect_params(Some(common::TOKEN), &["operator.read"], 4, 4);
    params["client"]["id"] = json!("openclaw-tui");
    params["client"]["mode"] = json!("ui");
    assert_eq!(ui.request("connect", Some(params)).await["ok"], true);
    let p = reader.event("presence").await;
    assert!(p["stateVersion"]["presence"].as_u64().unwrap() >= 1);
    let list = p["payload"]["presence"].as_array().unwrap();
    assert_eq!(
        list.len(),
        2,
        "the gateway and the UI, not the CLI clients: {list:?}"
    );
    assert_eq!(list[1]["mode"], "ui");
    // Broadcast a read-scoped event: only the scoped clients (reader, UI) get it; all get ticks.
    assert_eq!(
        tg.gateway
            .events()
            .broadcast("chat", json!({"runId": "r", "state": "final"})),
        2
    );
    assert_eq!(reader.event("chat").await["payload"]["runId"], "r");
    let mut seen = Vec::new();
    let mut last = 0;
    while !seen.iter().any(|e: &String| e == "tick") {
        let f = bare.next().await.unwrap();
        let seq = f["seq"].as_u64().unwrap();
        assert_eq!(seq, last + 1, "the unscoped client's seq has no gaps");
        last = seq;
        seen.push(f["event"].as_str().unwrap().to_owned());
    }
    assert!(
        !seen.iter().any(|e| e == "chat" || e == "presence"),
        "{seen:?}"
    );
    // Events outside the table are never broadcast.
    assert_eq!(tg.gateway.events().broadcast("made.up", json!({})), 0);
}

#[tokio::test]
async fn hello_presence_lists_the_gateway_and_lasting_clients_only() {
    let tg = start(Setup::default()).await;
    let modes = |hello: &Value| -> Vec<String> {
        hello["snapshot"]["presence"]
            .as_array()
            .expect("snapshot.presence")
            .iter()
            .map(|e| e["mode"].as_str().unwrap_or("?").to_owned())
            .collect()
    };
    // As OpenClaw: a CLI's hello-ok lists only the gateway, however many CLIs are connected.
    let mut clis = Vec::new();
    for _ in 0..3 {
        let (c, hello) = Client::connected(&tg, &["operator.read"]).await;
        assert_eq!(modes(&hello), ["gateway"], "{hello}");
        clis.push(c);
    }
    // A UI's lists the gateway and itself (reason connect) ...
    let mut ui = Client::open(&tg).await;
    ui.challenge().await;
    let mut params = common::connect_params(Some(common::TOKEN), &["operator.read"], 4, 4);
    params["client"]["id"] = json!("openclaw-tui");
    params["client"]["mode"] = json!("ui");
    let res = ui.request("connect", Some(params)).await;
    assert_eq!(modes(&res["payload"]), ["gateway", "ui"], "{res}");
    assert_eq!(
        res["payload"]["snapshot"]["presence"][1]["reason"],
        "connect"
    );
    // ... and a later CLI sees the UI, still not the other CLIs.
    let (_c, hello) = Client::connected(&tg, &["operator.read"]).await;
    assert_eq!(modes(&hello), ["gateway", "ui"], "{hello}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumer_is_disconnected_and_others_are_unaffected() {
    let limits = Limits {
        max_buffered_bytes: 512 * 1024,
        ..Limits::default()
    };
    let tg = start(Setup {
        limits,
        ..Setup::default()
    })
    .await;
    let (slow, _) = Client::connected(&tg, &["operator.read"]).await;
    let (mut fast, _) = Client::connected(&tg, &["operator.read"]).await;
    assert_eq!(tg.gateway.connection_count(), 2);
    let blob = "z".repeat(64 * 1024);
    let total = 300;
    let reader = tokio::spawn(async move {
        let mut got = 0;
        let mut last = 0u64;
        while got < total {
            let f = fast
                .next_within(Duration::from_secs(10))
                .await
                .expect("fast client stays connected");
            let seq = f["seq"].as_u64().unwrap();
            assert_eq!(seq, last + 1);
            last = seq;
            if f["event"] == "chat" {
                got += 1;
            }
        }
        fast
    });
    let sink = tg.gateway.events();
    for i in 0..total {
        sink.broadcast("chat", json!({"runId": "bulk", "i": i, "blob": blob}));
        // A producer the fast client can keep up with (~256 KiB per 5 ms).
        if i % 4 == 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let mut fast = tokio::time::timeout(Duration::from_secs(20), reader)
        .await
        .expect("fast client keeps up")
        .unwrap();
    // ~19 MB were sent; the slow client never read and is gone.
    let deadline = Instant::now() + Duration::from_secs(5);
    while tg.gateway.connection_count() != 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        tg.gateway.connection_count(),
        1,
        "the slow consumer was not dropped"
    );
    assert_eq!(fast.ok("health", json!({})).await["ok"], true);
    // The slow socket ends once its buffered frames are drained.
    let mut ws = slow.ws;
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "the slow client's socket was not closed");
}

#[tokio::test]
async fn graceful_shutdown_sends_shutdown_and_frees_the_port() {
    let tg = start_default().await;
    let (mut c, _) = Client::connected(&tg, &[]).await;
    let addr = tg.addr;
    let t0 = Instant::now();
    let TestGateway { gateway, dir, .. } = tg;
    gateway.shutdown("test stop").await;
    assert!(t0.elapsed() < Duration::from_secs(1));
    let ev = c.event("shutdown").await;
    assert_eq!(ev["payload"], json!({"reason": "test stop"}));
    assert_eq!(c.closed().await, (1012, "service restart".into()));
    // The same port can be bound again at once.
    let again = tokio::net::TcpListener::bind(addr).await;
    assert!(again.is_ok(), "port not reusable: {again:?}");
    drop(dir);
}

async fn http(tg: &TestGateway, method: &str, path: &str, bearer: Option<&str>) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(tg.addr).await.unwrap();
    let auth = bearer
        .map(|b| format!("Authorization: Bearer {b}\r\n"))
        .unwrap_or_default();
    let req =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

#[tokio::test]
async fn http_probes_are_open_and_everything_else_needs_the_bearer() {
    let tg = start_default().await;
    for path in ["/health", "/healthz"] {
        let (st, body) = http(&tg, "GET", path, None).await;
        assert_eq!(st, 200);
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"ok": true, "status": "live"})
        );
    }
    assert_eq!(http(&tg, "GET", "/readyz", None).await.0, 200);
    assert_eq!(http(&tg, "HEAD", "/health", None).await.0, 200);
    let (st, body) = http(&tg, "GET", "/v1/models", None).await;
    assert_eq!(st, 401);
    assert!(body.contains("unauthorized"));
    assert_eq!(http(&tg, "GET", "/v1/models", Some("wrong")).await.0, 401);
    assert_eq!(http(&tg, "GET", "/v1/models", Some(TOKEN)).await.0, 404);
    // `/` is the built-in Control UI's page (public files, see tests/control_ui.rs); any other
    // path still needs the bearer.
    let (st, body) = http(&tg, "GET", "/", None).await;
    assert_eq!(st, 200);
    assert!(body.contains("<!doctype html>"), "{body}");
    assert_eq!(http(&tg, "GET", "/anything", None).await.0, 401);
}

#[tokio::test]
async fn refuses_to_bind_beyond_loopback_without_auth() {
    use openclaw_gateway::{BindMode, ConfigSource, Gateway, GatewayError, GatewayOptions};
    let dir = tempfile::tempdir().unwrap();
    let value = json!({"gateway": {"auth": {"mode": "none"}}});
    let source = ConfigSource {
        path: dir.path().join("openclaw.json"),
        raw: Some(value.to_string()),
        value,
    };
    let mut opts = GatewayOptions::from_source(source, dir.path().to_owned(), &|_| None).unwrap();
    opts.config.port = 0;
    opts.config.bind = BindMode::Lan;
    assert!(matches!(
        Gateway::start(opts).await,
        Err(GatewayError::InsecureBind { .. })
    ));
}
