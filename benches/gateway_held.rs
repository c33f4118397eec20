//! Held-clients benchmark (issue #5): starts `openclaw gateway run` (release build) over a
//! throwaway state dir and measures the gateway's RSS per authenticated WebSocket client held
//! open, and the health round trip while they are connected. The full gateway bench
//! (`gateway_bench`) measures the same with its default clients among everything else; this
//! one runs alone in seconds and can vary the client mode.
//!
//!   cargo build --release -p openclaw-cli && cargo bench --bench gateway_held
//!
//! Env: OPENCLAW_BIN (default target/release/openclaw), CLIENTS (default 1000),
//! CLIENT_MODE (default `cli`, one-shot clients left out of presence; `ui` makes every client a
//! lasting one, listed in presence and sent every presence change).

use std::time::{Duration, Instant};

use openclaw_rpc::client::gateway::{ConnectOptions, GatewayClient};
use serde_json::json;

mod support;
use support::{Proc, TOKEN, free_port, gateway_bin, pct, rss_kib, spawn_gateway, wait_tcp};

async fn client(url: &str, mode: &str) -> GatewayClient {
    let mut o = ConnectOptions::new(url).token(TOKEN);
    if mode != "cli" {
        o.client_mode = mode.to_owned();
        o.client_id = "openclaw-tui".to_owned();
    }
    o.timeout = Duration::from_secs(60);
    GatewayClient::connect(o).await.expect("connect")
}

async fn health_ms(c: &GatewayClient, n: usize) -> (f64, f64) {
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        c.call("health", None).await.expect("health");
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    (pct(&mut lat, 0.5), pct(&mut lat, 0.99))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(bin) = gateway_bin() else {
        return;
    };
    let n: usize = std::env::var("CLIENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let mode = std::env::var("CLIENT_MODE").unwrap_or_else(|_| "cli".to_owned());
    let state = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let config = json!({
        "gateway": {"port": port, "bind": "loopback", "auth": {"mode": "token", "token": TOKEN}},
        "agents": {"list": [{"id": "main", "default": true}]},
    });
    std::fs::write(state.path().join("openclaw.json"), config.to_string()).expect("config");
    let child = spawn_gateway(&bin, state.path(), &[]);
    let pid = child.id();
    let _gw = Proc(child);
    assert!(wait_tcp(port).await, "gateway not accepting");
    let url = format!("ws://127.0.0.1:{port}");
    let probe = client(&url, "cli").await;
    health_ms(&probe, 200).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib(pid);
    let (med, p99) = health_ms(&probe, 2000).await;
    println!("{:<44} {before} KiB", "RSS with one client");
    println!(
        "{:<44} {med:.3} ms / {p99:.3} ms",
        "health median / p99, one client"
    );

    let mut held = Vec::with_capacity(n);
    let t = Instant::now();
    while held.len() < n {
        let k = (n - held.len()).min(50);
        held.extend(futures::future::join_all((0..k).map(|_| client(&url, &mode))).await);
    }
    let connect_s = t.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(pid);
    let hello = held
        .last()
        .map(|c| c.hello().to_string().len())
        .unwrap_or(0);
    println!(
        "{:<44} {:.1} KiB (total {:.1} MiB; connects took {connect_s:.2} s; last hello-ok {hello} B)",
        format!("{n} {mode} clients held: RSS per client"),
        after.saturating_sub(before) as f64 / n as f64,
        after as f64 / 1024.0,
    );
    let (med, p99) = health_ms(&probe, 1000).await;
    println!(
        "{:<44} {med:.3} ms / {p99:.3} ms",
        format!("health median / p99 with {n} connected")
    );
    drop(held);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    println!("{:<44} {} KiB", "RSS after they closed", rss_kib(pid));
}
