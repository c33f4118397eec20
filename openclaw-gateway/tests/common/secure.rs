//! Support for the security tests: a gateway over a config file on disk, raw WebSocket and
//! HTTP requests with chosen headers.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use openclaw_gateway::agent_host::AgentHost;
use openclaw_gateway::{Gateway, GatewayOptions, Limits, config};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::{Client, TOKEN, connect_params};

/// A gateway over the config file at `state/openclaw.json` as it is on disk (or absent).
pub async fn start_on(state: &Path, limits: Limits, engine: bool) -> Gateway {
    let path = state.join("openclaw.json");
    let source = config::load(&path).expect("config loads");
    let mut opts =
        GatewayOptions::from_source(source, state.to_owned(), &|_| None).expect("options");
    opts.config.port = 0;
    opts.limits = limits;
    if engine {
        opts.backend = std::sync::Arc::new(
            AgentHost::new(opts.source.value.clone(), state.to_owned()).expect("agent host"),
        );
    }
    Gateway::start(opts).await.expect("gateway starts")
}

pub fn write_config(state: &Path, text: &str) {
    std::fs::create_dir_all(state).unwrap();
    std::fs::write(state.join("openclaw.json"), text).unwrap();
}

pub fn token_config(extra_gateway: Value) -> String {
    let mut gw = json!({"auth": {"mode": "token", "token": TOKEN}, "handshakeTimeoutMs": 60_000});
    if let (Some(g), Value::Object(extra)) = (gw.as_object_mut(), extra_gateway) {
        g.extend(extra);
    }
    json!({"gateway": gw, "agents": {"list": [{"id": "main", "default": true}]}}).to_string()
}

#[cfg(unix)]
pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Opens a WebSocket with extra request headers; `Err(status)` when the upgrade is refused.
pub async fn ws_with(addr: SocketAddr, headers: &[(&str, &str)]) -> Result<Client, u16> {
    let mut req = format!("ws://{addr}").into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(Client::from_ws(ws)),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("ws connect: {e}"),
    }
}

/// Challenge, then `connect` with `token`; the response frame.
pub async fn connect(c: &mut Client, token: Option<&str>) -> Value {
    c.challenge().await;
    c.request(
        "connect",
        Some(connect_params(token, &["operator.read"], 4, 4)),
    )
    .await
}

/// One HTTP/1.1 request over a raw socket: (status, body).
pub async fn http(addr: SocketAddr, head: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_string(&mut out))
        .await
        .expect("answer in time")
        .unwrap();
    let status = out[9..12].parse().unwrap();
    (
        status,
        out.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned(),
    )
}
