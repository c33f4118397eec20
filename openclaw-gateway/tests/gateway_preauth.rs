//! Sockets waiting to authenticate, against a real gateway on loopback: the bounds come from
//! the config file (`gateway.maxPreauthConnections`, `gateway.maxPreauthConnectionsPerIp`),
//! one client address cannot take every place (clients on other loopback addresses, 127.0.0.2
//! and 127.0.0.3, still get in), and failed auth from loopback is not rate limited unless
//! `gateway.auth.rateLimit.exemptLoopback` is false.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use common::{Client, TOKEN, connect_params};
use openclaw_gateway::{Gateway, GatewayOptions, config};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A gateway over `gateway` (merged into a token config) written to `state/openclaw.json`,
/// with every limit as the file and defaults give it.
async fn start(state: &Path, gateway: Value) -> Gateway {
    let mut gw = json!({"auth": {"mode": "token", "token": TOKEN}, "handshakeTimeoutMs": 60_000});
    if let (Some(g), Value::Object(extra)) = (gw.as_object_mut(), gateway) {
        g.extend(extra);
    }
    let text = json!({"gateway": gw, "agents": {"list": [{"id": "main", "default": true}]}});
    std::fs::write(state.join("openclaw.json"), text.to_string()).unwrap();
    let source = config::load(&state.join("openclaw.json")).expect("config loads");
    let mut opts =
        GatewayOptions::from_source(source, state.to_owned(), &|_| None).expect("options");
    opts.config.port = 0;
    Gateway::start(opts).await.expect("gateway starts")
}

/// A WebSocket upgrade sent from the loopback address `from`: the response's status and the
/// socket (left waiting before `connect`).
async fn upgrade_from(from: &str, addr: SocketAddr) -> (u16, TcpStream) {
    let sock = TcpSocket::new_v4().unwrap();
    sock.bind(SocketAddr::new(from.parse::<IpAddr>().unwrap(), 0))
        .unwrap();
    let mut s = sock.connect(addr).await.unwrap();
    let req = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        assert_eq!(s.read(&mut b).await.unwrap(), 1, "closed during upgrade");
        head.push(b[0]);
    }
    let status = String::from_utf8_lossy(&head[9..12]).parse().unwrap_or(0);
    (status, s)
}

#[tokio::test]
async fn one_address_cannot_take_every_pre_auth_place() {
    let tmp = tempfile::tempdir().unwrap();
    let gw = start(
        tmp.path(),
        json!({"maxPreauthConnections": 3, "maxPreauthConnectionsPerIp": 2}),
    )
    .await;
    let addr = gw.local_addr();
    let mut waiting = Vec::new();
    for _ in 0..2 {
        let (status, s) = upgrade_from("127.0.0.1", addr).await;
        assert_eq!(status, 101);
        waiting.push(s);
    }
    // 127.0.0.1 holds all an address may; another address still gets in.
    assert_eq!(upgrade_from("127.0.0.1", addr).await.0, 503);
    let (status, _other) = upgrade_from("127.0.0.2", addr).await;
    assert_eq!(status, 101);
    // Now every place is taken, whoever asks.
    assert_eq!(upgrade_from("127.0.0.3", addr).await.0, 503);
    // A waiting socket goes away: its place is free again.
    drop(waiting.pop());
    let mut got = 0;
    for _ in 0..250 {
        got = upgrade_from("127.0.0.3", addr).await.0;
        if got == 101 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(got, 101, "a closed pre-auth socket kept its place");
}

#[tokio::test]
async fn the_default_bounds_let_hundreds_of_local_clients_connect_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let gw = start(tmp.path(), json!({})).await;
    let addr = gw.local_addr();
    // As after a restart: 200 clients all upgrade before any of them authenticates.
    let mut waiting = Vec::new();
    for _ in 0..200 {
        let (status, s) = upgrade_from("127.0.0.1", addr).await;
        assert_eq!(
            status,
            101,
            "refused after {} waiting sockets",
            waiting.len()
        );
        waiting.push(s);
    }
}

/// `connect` with `token` on a fresh socket; the response frame.
async fn connect(addr: SocketAddr, token: &str) -> Value {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}"))
        .await
        .expect("ws connect");
    let mut c = Client::from_ws(ws);
    c.challenge().await;
    c.request(
        "connect",
        Some(connect_params(Some(token), &["operator.read"], 4, 4)),
    )
    .await
}

#[tokio::test]
async fn failed_auth_from_loopback_is_not_rate_limited_by_default() {
    let tmp = tempfile::tempdir().unwrap();
    let gw = start(
        tmp.path(),
        json!({"auth": {"mode": "token", "token": TOKEN,
            "rateLimit": {"maxAttempts": 2, "windowMs": 60_000, "lockoutMs": 60_000}}}),
    )
    .await;
    for i in 0..4 {
        let res = connect(gw.local_addr(), &format!("guess-{i}")).await;
        assert_eq!(
            res["error"]["details"]["code"], "AUTH_TOKEN_MISMATCH",
            "{res}"
        );
    }
    let res = connect(gw.local_addr(), TOKEN).await;
    assert_eq!(res["ok"], true, "{res}");
}
