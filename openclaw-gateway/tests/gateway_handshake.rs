//! Handshake paths over real loopback sockets: tokens, passwords, rate limiting, protocol
//! negotiation, first-frame rules, the pre-auth size limit, device proofs and pairing.

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[tokio::test]
async fn good_token_gets_hello_ok_v4_and_v3() {
    let tg = start_default().await;
    let mut c = Client::open(&tg).await;
    let ch = c.challenge().await;
    assert!(ch["nonce"].as_str().is_some_and(|n| !n.is_empty()));
    assert!(ch["ts"].as_u64().is_some());
    let res = c
        .request(
            "connect",
            Some(connect_params(Some(TOKEN), &["operator.read"], 4, 4)),
        )
        .await;
    let hello = &res["payload"];
    assert_eq!(hello["type"], "hello-ok");
    assert_eq!(hello["protocol"], 4);
    assert_eq!(
        hello["auth"],
        json!({"role": "operator", "scopes": ["operator.read"], "method": "token"})
    );
    assert_eq!(
        hello["policy"],
        json!({"maxPayload": 26214400, "maxBufferedBytes": 52428800, "tickIntervalMs": 30000})
    );
    let methods: Vec<&str> = hello["features"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // (The engine's methods, chat.send and agent among them, are advertised only with an
    // engine: see gateway_surface.rs.)
    for m in [
        "health",
        "status",
        "models.list",
        "config.get",
        "device.pair.list",
    ] {
        assert!(methods.contains(&m), "{m} not advertised");
    }
    assert!(!methods.contains(&"connect"));
    assert_eq!(
        hello["snapshot"]["sessionDefaults"]["mainSessionKey"],
        "agent:main:main"
    );
    assert_eq!(hello["snapshot"]["health"]["ok"], true);
    assert!(hello["server"]["connId"].as_str().is_some());
    assert!(hello.get("canvasHostUrl").is_none() && hello.get("pluginSurfaceUrls").is_none());
    // The connection works afterwards.
    assert_eq!(c.ok("health", json!({})).await["ok"], true);

    for (min, max, want) in [(3, 3, 3), (3, 4, 4), (1, 3, 3)] {
        let mut c = Client::open(&tg).await;
        c.challenge().await;
        let res = c
            .request("connect", Some(connect_params(Some(TOKEN), &[], min, max)))
            .await;
        assert_eq!(res["payload"]["protocol"], want, "offer {min}..{max}");
    }
}

async fn refused(tg: &TestGateway, params: Value) -> (Value, (u16, String)) {
    let mut c = Client::open(tg).await;
    c.challenge().await;
    let res = c.request("connect", Some(params)).await;
    assert_eq!(res["ok"], false, "{res}");
    (res["error"].clone(), c.closed().await)
}

#[tokio::test]
async fn bad_and_missing_token() {
    let tg = start_default().await;
    let (err, close) = refused(&tg, connect_params(Some("wrong"), &["operator.read"], 4, 4)).await;
    assert_eq!(err["code"], "INVALID_REQUEST");
    assert_eq!(err["details"]["code"], "AUTH_TOKEN_MISMATCH");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("unauthorized: gateway token mismatch")
    );
    assert_eq!(close.0, 1008);
    assert!(close.1.starts_with("unauthorized"), "{close:?}");
    let (err, close) = refused(&tg, connect_params(None, &["operator.read"], 4, 4)).await;
    assert_eq!(err["details"]["code"], "AUTH_TOKEN_MISSING");
    assert_eq!(close.0, 1008);
}

#[tokio::test]
async fn rate_limit_locks_out_after_repeated_failures() {
    let mut setup = Setup::default();
    setup.config["gateway"]["auth"]["rateLimit"] =
        json!({"maxAttempts": 2, "windowMs": 60000, "lockoutMs": 60000, "exemptLoopback": false});
    let tg = start(setup).await;
    for _ in 0..2 {
        let (err, _) = refused(&tg, connect_params(Some("wrong"), &[], 4, 4)).await;
        assert_eq!(err["details"]["code"], "AUTH_TOKEN_MISMATCH");
    }
    // Locked out: even the right token is refused now.
    let (err, close) = refused(&tg, connect_params(Some(TOKEN), &[], 4, 4)).await;
    assert_eq!(err["details"]["code"], "AUTH_RATE_LIMITED");
    assert_eq!(err["retryable"], true);
    assert!(err["retryAfterMs"].as_u64().unwrap() > 50_000);
    assert_eq!(close.0, 1008);
    // HTTP shares the limiter.
    let resp = http_get(&tg, "/v1/models", Some(TOKEN)).await;
    assert!(resp.starts_with("HTTP/1.1 429"), "{resp}");
}

#[tokio::test]
async fn password_mode() {
    let mut setup = Setup::default();
    setup.config["gateway"]["auth"] = json!({"mode": "password", "password": "pw-1"});
    let tg = start(setup).await;
    let mut p = connect_params(None, &["operator.read"], 4, 4);
    p["auth"] = json!({"password": "pw-1"});
    let mut c = Client::open(&tg).await;
    c.challenge().await;
    assert_eq!(c.request("connect", Some(p.clone())).await["ok"], true);
    p["auth"] = json!({"password": "nope"});
    let (err, _) = refused(&tg, p).await;
    assert_eq!(err["details"]["code"], "AUTH_PASSWORD_MISMATCH");
}

#[tokio::test]
async fn protocol_mismatch_closes_1002() {
    let tg = start_default().await;
    let (err, close) = refused(&tg, connect_params(Some(TOKEN), &[], 9, 9)).await;
    assert_eq!(err["message"], "protocol mismatch");
    assert_eq!(err["details"]["code"], "PROTOCOL_MISMATCH");
    assert_eq!(err["details"]["expectedProtocol"], 4);
    assert_eq!(close.0, 1002);
}

#[tokio::test]
async fn first_frame_must_be_connect() {
    let tg = start_default().await;
    let mut c = Client::open(&tg).await;
    c.challenge().await;
    let res = c.request("health", None).await;
    assert_eq!(
        res["error"]["message"],
        "invalid handshake: first request must be connect"
    );
    assert_eq!(c.closed().await.0, 1008);
    // Not JSON at all: closed 1008 without a response.
    let mut c = Client::open(&tg).await;
    c.challenge().await;
    c.send_text("{nope".into()).await;
    assert_eq!(c.closed().await, (1008, "invalid request frame".into()));
}

#[tokio::test]
async fn invalid_connect_params_and_role() {
    let tg = start_default().await;
    let mut p = connect_params(Some(TOKEN), &[], 4, 4);
    p["unexpected"] = json!(true);
    let (err, close) = refused(&tg, p).await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid connect params:"),
        "{err}"
    );
    assert_eq!(close.0, 1008);
    let mut p = connect_params(Some(TOKEN), &[], 4, 4);
    p["client"]["mode"] = json!("operator");
    let (err, _) = refused(&tg, p).await;
    assert!(
        err["message"].as_str().unwrap().contains("client.mode"),
        "{err}"
    );
    let mut p = connect_params(Some(TOKEN), &[], 4, 4);
    p["role"] = json!("worker");
    let (err, _) = refused(&tg, p).await;
    assert_eq!(err["message"], "invalid role");
}

#[tokio::test]
async fn oversized_preauth_frame_closes_1009() {
    let tg = start_default().await;
    let mut c = Client::open(&tg).await;
    c.challenge().await;
    let mut p = connect_params(Some(TOKEN), &[], 4, 4);
    p["client"]["displayName"] = json!("x".repeat(70 * 1024));
    c.send_text(json!({"type": "req", "id": "1", "method": "connect", "params": p}).to_string())
        .await;
    let mut got_ok = false;
    while let Some(f) = c.next().await {
        got_ok |= f["ok"] == true;
    }
    assert!(!got_ok);
    assert_eq!(c.close.as_ref().unwrap().0, 1009);
}

struct Device {
    key: SigningKey,
    id: String,
    public: String,
}

fn device(seed: u8) -> Device {
    let key = SigningKey::from_bytes(&[seed; 32]);
    let raw = key.verifying_key().to_bytes();
    Device {
        id: hex::encode(Sha256::digest(raw)),
        public: URL_SAFE_NO_PAD.encode(raw),
        key,
    }
}

/// Connect params signed as the 2026.9.6 TUI does (v3 payload).
fn signed_params(d: &Device, nonce: &str, signed_at: u64, scopes: &[&str]) -> Value {
    let mut p = connect_params(Some(TOKEN), scopes, 4, 4);
    p["client"]["id"] = json!("openclaw-tui");
    p["client"]["mode"] = json!("ui");
    let payload = format!(
        "v3|{}|openclaw-tui|ui|operator|{}|{signed_at}|{TOKEN}|{nonce}|linux|linux",
        d.id,
        scopes.join(",")
    );
    let sig = URL_SAFE_NO_PAD.encode(d.key.sign(payload.as_bytes()).to_bytes());
    p["device"] = json!({"id": d.id, "publicKey": d.public, "signature": sig, "signedAt": signed_at, "nonce": nonce});
    p
}

fn now_ms() -> u64 {
    u64::try_from(openclaw_core::message::now_ms()).unwrap()
}

async fn device_connect(tg: &TestGateway, edit: impl FnOnce(&mut Value, &str)) -> Value {
    let d = device(7);
    let mut c = Client::open(tg).await;
    let ch = c.challenge().await;
    let nonce = ch["nonce"].as_str().unwrap().to_owned();
    let mut p = signed_params(
        &d,
        &nonce,
        ch["ts"].as_u64().unwrap(),
        &["operator.admin", "operator.read"],
    );
    edit(&mut p, &nonce);
    c.request("connect", Some(p)).await
}

type Edit = dyn FnOnce(&mut Value, &str);

#[tokio::test]
async fn device_signature_checks() {
    let tg = start_default().await;
    let ok = device_connect(&tg, |_, _| {}).await;
    assert_eq!(ok["ok"], true, "{ok}");
    // Loopback devices are auto-approved and persisted.
    let paired = std::fs::read_to_string(tg.state().join("devices/paired.json")).unwrap();
    assert!(paired.contains(&device(7).id));

    let cases: Vec<(&str, Box<Edit>)> = vec![
        (
            "DEVICE_AUTH_SIGNATURE_INVALID",
            Box::new(|p, _| p["scopes"] = json!(["operator.read"])),
        ),
        (
            "DEVICE_AUTH_NONCE_MISMATCH",
            Box::new(|p, _| p["device"]["nonce"] = json!("other-nonce")),
        ),
        (
            "DEVICE_AUTH_DEVICE_ID_MISMATCH",
            Box::new(|p, _| p["device"]["id"] = json!("00".repeat(32))),
        ),
        (
            "DEVICE_AUTH_PUBLIC_KEY_INVALID",
            Box::new(|p, _| p["device"]["publicKey"] = json!("AAAA")),
        ),
        (
            "DEVICE_AUTH_SIGNATURE_EXPIRED",
            Box::new(|p, nonce| {
                let old = now_ms() - 10 * 60 * 1000;
                *p = signed_params(&device(7), nonce, old, &["operator.admin", "operator.read"]);
            }),
        ),
    ];
    for (code, edit) in cases {
        let res = device_connect(&tg, edit).await;
        assert_eq!(res["ok"], false, "{code}: {res}");
        assert_eq!(res["error"]["code"], "INVALID_REQUEST");
        assert_eq!(res["error"]["details"]["code"], code, "{res}");
    }
}

#[tokio::test]
async fn remote_devices_need_pairing_approval() {
    let tg = start(Setup {
        loopback_is_local: false,
        ..Setup::default()
    })
    .await;
    // An operator with the pairing scope watches for requests.
    let (mut admin, _) = Client::connected(&tg, &["operator.pairing"]).await;
    let res = device_connect(&tg, |_, _| {}).await;
    assert_eq!(res["error"]["code"], "NOT_PAIRED", "{res}");
    assert_eq!(res["error"]["details"]["code"], "PAIRING_REQUIRED");
    let request_id = res["error"]["details"]["requestId"]
        .as_str()
        .unwrap()
        .to_owned();
    let ev = admin.event("device.pair.requested").await;
    assert_eq!(ev["payload"]["requestId"], request_id);
    let list = admin.ok("device.pair.list", json!({})).await;
    assert_eq!(list["pending"][0]["deviceId"], device(7).id);
    admin
        .ok("device.pair.approve", json!({"requestId": request_id}))
        .await;
    let ev = admin.event("device.pair.resolved").await;
    assert_eq!(ev["payload"]["decision"], "approved");
    assert!(
        std::fs::read_to_string(tg.state().join("devices/paired.json"))
            .unwrap()
            .contains(&device(7).id)
    );
    let res = device_connect(&tg, |_, _| {}).await;
    assert_eq!(res["ok"], true, "{res}");
    let err = admin
        .err("device.pair.approve", json!({"requestId": "nope"}))
        .await;
    assert_eq!(err["message"], "unknown requestId: nope");
}

/// A raw HTTP/1.1 GET (no client library needed).
pub async fn http_get(tg: &TestGateway, path: &str, bearer: Option<&str>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(tg.addr).await.unwrap();
    let auth = bearer
        .map(|b| format!("Authorization: Bearer {b}\r\n"))
        .unwrap_or_default();
    let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}
