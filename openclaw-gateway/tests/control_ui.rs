//! The built-in Control UI as a browser fetches it from a real gateway on a loopback port: the
//! page and its files with the security headers, validators, caching and precompressed
//! variants; `gateway.controlUi.basePath` and `enabled`; and the UI's own WebSocket connect
//! (client `openclaw-control-ui`, its own origin) next to a foreign origin's refusal; and
//! `gateway.controlUi.root` serving a folder shaped like OpenClaw's own UI build.

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine as _;
use common::secure::{start_on, token_config, write_config};
use common::{Client, TOKEN};
use openclaw_gateway::Limits;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// One HTTP/1.1 GET with extra header lines: (status, lower-cased headers, body bytes).
async fn get(addr: SocketAddr, path: &str, headers: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{headers}Connection: close\r\n\r\n",
        addr.port()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .expect("answer in time")
        .unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).to_string();
    let body = out[split + 4..].to_vec();
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body)
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The `?v=` hash the page links `file` with.
fn linked_hash(index: &str, file: &str) -> String {
    let at = index.find(&format!("{file}?v=")).expect(file) + file.len() + 3;
    index[at..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect()
}

async fn ui_gateway(control_ui: Value) -> (tempfile::TempDir, openclaw_gateway::Gateway) {
    let tmp = tempfile::tempdir().unwrap();
    write_config(
        tmp.path(),
        &token_config(json!({ "controlUi": control_ui })),
    );
    let gw = start_on(tmp.path(), Limits::default(), false).await;
    (tmp, gw)
}

fn assert_security_headers(h: &[(String, String)], what: &str) {
    let csp = header(h, "content-security-policy").unwrap_or_else(|| panic!("{what}: CSP"));
    assert!(csp.contains("script-src 'self'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{what}: {csp}"
    );
    assert_eq!(header(h, "x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(
        header(h, "x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(header(h, "referrer-policy"), Some("no-referrer"), "{what}");
}

#[tokio::test]
async fn the_page_and_its_files_are_served_with_headers_validators_and_compression() {
    let (_tmp, gw) = ui_gateway(json!({})).await;
    let addr = gw.local_addr();

    // The page: no token needed, never cached without revalidation.
    let (st, h, body) = get(addr, "/", "Accept: text/html\r\n").await;
    assert_eq!(st, 200);
    assert_eq!(header(&h, "content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(header(&h, "cache-control"), Some("no-cache"));
    assert_security_headers(&h, "index");
    let index = String::from_utf8(body).unwrap();
    assert!(
        index.contains("<script type=\"module\" src=\"app.js?v="),
        "{index}"
    );
    assert!(
        !index.contains("<script>") && !index.contains(" style="),
        "no inline script or style attribute"
    );
    // The stylesheet is inlined (no request before the first paint), allowed by its hash alone.
    let style = index
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map(|(css, _)| css)
        .expect("the inlined stylesheet");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style));
    let csp = header(&h, "content-security-policy").unwrap();
    assert!(
        csp.contains(&format!("style-src 'self' 'sha256-{hash}';")),
        "{csp}"
    );
    let etag = header(&h, "etag").unwrap().to_owned();
    let (st, h, body) = get(addr, "/", &format!("If-None-Match: {etag}\r\n")).await;
    assert_eq!(st, 304);
    assert!(body.is_empty());
    assert_eq!(header(&h, "etag"), Some(etag.as_str()));

    // A file linked with its hash is immutable; the same file without it is revalidated.
    let hash = linked_hash(&index, "app.js");
    let (st, h, raw) = get(addr, &format!("/app.js?v={hash}"), "").await;
    assert_eq!(st, 200);
    assert_eq!(
        header(&h, "content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        header(&h, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(header(&h, "content-encoding"), None);
    assert_eq!(header(&h, "vary"), Some("Accept-Encoding"));
    assert_security_headers(&h, "app.js");
    let (_, h, _) = get(addr, "/app.js?v=0000", "").await;
    assert_eq!(header(&h, "cache-control"), Some("no-cache"));

    // Precompressed variants, each with its own validator, decoding to the same bytes.
    let (st, h, gz) = get(addr, "/app.js", "Accept-Encoding: gzip, deflate\r\n").await;
    assert_eq!(st, 200);
    assert_eq!(header(&h, "content-encoding"), Some("gzip"));
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, raw);
    let gz_etag = header(&h, "etag").unwrap().to_owned();
    let (st, h, br) = get(
        addr,
        "/app.js",
        "Accept-Encoding: gzip, deflate, br, zstd\r\n",
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(header(&h, "content-encoding"), Some("br"));
    assert!(br.len() < gz.len() && gz.len() < raw.len());
    assert_ne!(header(&h, "etag"), Some(gz_etag.as_str()));

    // Every file the page and its entry module link is there, and all of them together stay
    // small.
    let linked = format!("{index}{}", String::from_utf8_lossy(&raw));
    let mut total = index.len();
    for file in [
        "gateway.js",
        "dom.js",
        "chat.js",
        "panels.js",
        "app.js",
        "favicon.svg",
    ] {
        let hash = linked_hash(&linked, file);
        let (st, _, body) = get(
            addr,
            &format!("/{file}?v={hash}"),
            "Accept-Encoding: br\r\n",
        )
        .await;
        assert_eq!(st, 200, "{file}");
        total += body.len();
    }
    assert!(total < 300 * 1024, "{total} bytes");

    // Anything else is not the UI: it is behind the bearer token as before.
    let (st, _, _) = get(addr, "/nope.js", "").await;
    assert_eq!(st, 401);
    let (st, _, _) = get(
        addr,
        "/nope.js",
        &format!("Authorization: Bearer {TOKEN}\r\n"),
    )
    .await;
    assert_eq!(st, 404);
}

/// The UI's own `connect`: client `openclaw-control-ui`, mode `webchat`, its scopes and caps.
fn ui_connect_params(token: &str) -> Value {
    json!({"minProtocol": 3, "maxProtocol": 4,
        "client": {"id": "openclaw-control-ui", "version": "openclaw-rs", "platform": "Linux x86_64",
                   "mode": "webchat", "instanceId": "5d1c6a2e-0000-4000-8000-000000000001", "timeZone": "UTC"},
        "role": "operator",
        "scopes": ["operator.admin", "operator.read", "operator.write", "operator.approvals", "operator.pairing"],
        "caps": ["agent-kind", "approvals", "exec-approvals", "tool-events"],
        "auth": {"token": token}, "userAgent": "test", "locale": "en-US"})
}

async fn ui_ws(addr: SocketAddr, path: &str, origin: &str) -> Client {
    let mut req = format!("ws://{addr}{path}").into_client_request().unwrap();
    req.headers_mut().insert("origin", origin.parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    Client::from_ws(ws)
}

#[tokio::test]
async fn a_base_path_moves_the_page_and_the_websocket_and_the_page_can_connect() {
    let (_tmp, gw) = ui_gateway(json!({"basePath": "/openclaw/"})).await;
    let addr = gw.local_addr();
    let own = format!("http://127.0.0.1:{}", addr.port());

    let (st, h, _) = get(addr, "/openclaw", "").await;
    assert_eq!(st, 308);
    assert_eq!(header(&h, "location"), Some("/openclaw/"));
    let (st, h, body) = get(addr, "/openclaw/", "").await;
    assert_eq!(st, 200);
    assert_security_headers(&h, "based index");
    let index = String::from_utf8(body).unwrap();
    let hash = linked_hash(&index, "app.js");
    let (st, _, _) = get(addr, &format!("/openclaw/app.js?v={hash}"), "").await;
    assert_eq!(st, 200);
    // Not at the root any more.
    let (st, _, _) = get(addr, "/app.js", "").await;
    assert_eq!(st, 401);

    // A page from a foreign origin may fetch the public files...
    let (st, _, _) = get(
        addr,
        "/openclaw/app.js",
        "Origin: https://evil.example\r\nSec-Fetch-Site: cross-site\r\n",
    )
    .await;
    assert_eq!(st, 200);
    // ...but its WebSocket is refused at connect, with the code the page explains.
    let mut c = ui_ws(addr, "/openclaw/", "https://evil.example").await;
    c.challenge().await;
    let res = c.request("connect", Some(ui_connect_params(TOKEN))).await;
    assert_eq!(
        res["error"]["details"]["code"], "CONTROL_UI_ORIGIN_NOT_ALLOWED",
        "{res}"
    );

    // The page's own origin connects as the Control UI, at the base path, and may approve.
    let mut c = ui_ws(addr, "/openclaw/", &own).await;
    c.challenge().await;
    let res = c.request("connect", Some(ui_connect_params(TOKEN))).await;
    assert_eq!(res["ok"], true, "{res}");
    let scopes = res["payload"]["auth"]["scopes"].as_array().unwrap();
    assert!(scopes.iter().any(|s| s == "operator.approvals"), "{res}");
    let res = c.request("exec.approval.list", Some(json!({}))).await;
    assert_eq!(res["ok"], true, "{res}");

    // A wrong token is refused with the code the page turns into "the gateway refused that token".
    let mut c = ui_ws(addr, "/openclaw/", &own).await;
    c.challenge().await;
    let res = c.request("connect", Some(ui_connect_params("wrong"))).await;
    assert_eq!(
        res["error"]["details"]["code"], "AUTH_TOKEN_MISMATCH",
        "{res}"
    );
}

#[tokio::test]
async fn a_disabled_ui_is_not_served_and_bad_base_paths_are_refused() {
    let (_tmp, gw) = ui_gateway(json!({"enabled": false})).await;
    let (st, _, _) = get(gw.local_addr(), "/", "").await;
    assert_eq!(st, 401);
    let (st, _, _) = get(gw.local_addr(), "/app.js", "").await;
    assert_eq!(st, 401);

    for bad in ["openclaw", "/a/../b", "/v1", "/with space"] {
        let text = token_config(json!({"controlUi": {"basePath": bad}}));
        let value: Value = serde_json::from_str(&text).unwrap();
        let err = openclaw_gateway::GatewayConfig::from_value(&value, None, &|_| None)
            .expect_err(bad)
            .to_string();
        assert!(err.contains("gateway.controlUi.basePath"), "{bad}: {err}");
    }
}

/// A folder shaped like OpenClaw's `dist/control-ui`.
fn fake_openclaw_ui(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("index.html"),
        "<!doctype html><html lang=\"en\"><head><script>window.x=1;</script>\
         <script type=\"module\" crossorigin src=\"./assets/index-abc.js\"></script>\
         <link rel=\"icon\" href=\"./favicon.svg\"></head><body><openclaw-app></openclaw-app></body></html>",
    )
    .unwrap();
    std::fs::write(dir.join("assets/index-abc.js"), "console.log('plain');").unwrap();
    std::fs::write(dir.join("assets/index-abc.js.br"), b"brotli-bytes").unwrap();
    std::fs::write(dir.join("favicon.svg"), "<svg/>").unwrap();
    std::fs::write(dir.parent().unwrap().join("secret.txt"), "outside").unwrap();
}

#[tokio::test]
async fn a_configured_root_serves_openclaws_own_ui_like_openclaw() {
    let tmp = tempfile::tempdir().unwrap();
    let ui = tmp.path().join("ui").join("control-ui");
    fake_openclaw_ui(&ui);
    let state = tmp.path().join("state");
    write_config(
        &state,
        &token_config(json!({"controlUi": {"root": ui, "basePath": "/oc"}})),
    );
    let gw = start_on(&state, Limits::default(), false).await;
    let addr = gw.local_addr();

    // index.html rewritten for the base path, with a CSP allowing exactly its inline script.
    let (st, h, body) = get(addr, "/oc/", "").await;
    assert_eq!(st, 200);
    let html = String::from_utf8(body).unwrap();
    assert!(html.contains("src=\"/oc/assets/index-abc.js\""), "{html}");
    assert!(html.contains("href=\"/oc/favicon.svg\""), "{html}");
    assert!(
        html.contains("data-openclaw-control-ui-base-path=\"/oc\""),
        "{html}"
    );
    let csp = header(&h, "content-security-policy").unwrap();
    assert_eq!(csp.matches("'sha256-").count(), 1, "{csp}");
    assert!(
        !csp.contains("'unsafe-inline' 'self'") && csp.contains("script-src 'self' 'sha256-"),
        "{csp}"
    );
    assert_eq!(header(&h, "x-frame-options"), Some("DENY"));

    // Fingerprinted assets: immutable, precompressed sibling when accepted.
    let (st, h, body) = get(addr, "/oc/assets/index-abc.js", "Accept-Encoding: br\r\n").await;
    assert_eq!(st, 200);
    assert_eq!(header(&h, "content-encoding"), Some("br"));
    assert_eq!(body, b"brotli-bytes");
    assert_eq!(
        header(&h, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let (_, h, body) = get(addr, "/oc/assets/index-abc.js", "").await;
    assert_eq!(body, b"console.log('plain');");
    assert_eq!(
        header(&h, "content-type"),
        Some("text/javascript; charset=utf-8")
    );
    let (_, h, _) = get(addr, "/oc/favicon.svg", "").await;
    assert_eq!(header(&h, "cache-control"), Some("no-cache"));

    // SPA fallback for client-side routes that ask for HTML; a missing file is a 404.
    let (st, _, body) = get(addr, "/oc/chat/main", "Accept: text/html\r\n").await;
    assert_eq!(st, 200);
    assert!(String::from_utf8_lossy(&body).contains("<openclaw-app>"));
    let (st, _, _) = get(addr, "/oc/assets/missing.js", "Accept: text/html\r\n").await;
    assert_eq!(st, 404);
    // Nothing outside the root.
    let (st, _, body) = get(addr, "/oc/../secret.txt", "").await;
    assert!(!String::from_utf8_lossy(&body).contains("outside"), "{st}");
    let (st, _, body) = get(addr, "/oc/%2e%2e/secret.txt", "").await;
    assert!(!String::from_utf8_lossy(&body).contains("outside"), "{st}");

    // The bootstrap document needs the token.
    let (st, _, _) = get(addr, "/oc/control-ui-config.json", "").await;
    assert_eq!(st, 401);
    let (st, _, body) = get(
        addr,
        "/oc/control-ui-config.json",
        &format!("Authorization: Bearer {TOKEN}\r\n"),
    )
    .await;
    assert_eq!(st, 200);
    let cfg: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(cfg["basePath"], "/oc");
    assert_eq!(cfg["assistantAgentId"], "main");

    // The 5.6 UI's avatar lookup: token-gated, "no avatar" for an agent without one, 404 for
    // the image itself (no avatar file is served).
    let (st, _, _) = get(addr, "/oc/avatar/main?meta=1", "").await;
    assert_eq!(st, 401);
    let bearer = format!("Authorization: Bearer {TOKEN}\r\n");
    let (st, _, body) = get(addr, "/oc/avatar/main?meta=1", &bearer).await;
    assert_eq!(st, 200);
    let meta: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(meta["avatarStatus"], "none");
    assert_eq!(meta["avatarUrl"], Value::Null);
    let (st, _, _) = get(addr, "/oc/avatar/main", &bearer).await;
    assert_eq!(st, 404);

    // The gateway's own routes stay its own.
    let (st, _, _) = get(addr, "/v1/models", "Accept: text/html\r\n").await;
    assert_eq!(st, 401);
}

#[tokio::test]
async fn a_root_without_the_ui_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let missing = tmp.path().join("nowhere");
    write_config(
        &state,
        &token_config(json!({"controlUi": {"root": missing}})),
    );
    let gw = start_on(&state, Limits::default(), false).await;
    let (st, _, body) = get(gw.local_addr(), "/", "").await;
    assert_eq!(st, 503);
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("Control UI assets not found at") && text.contains("gateway.controlUi.root"),
        "{text}"
    );
}
