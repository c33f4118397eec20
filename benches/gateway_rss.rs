//! RSS growth of the gateway across chats, alone: the two workloads of `gateway_bench`'s
//! "RSS after 100 / 1,000 chats" rows (20 session keys round robin, then one session key
//! `measure`), with RSS printed every 100 chats so the growth curve shows, and nothing else
//! running. For profiling, `OPENCLAW_WRAP` prefixes the gateway command (e.g.
//! `OPENCLAW_WRAP="heaptrack -o /tmp/gw"`); RSS is then read from the wrapped process.
//!
//!   cargo build --release -p openclaw-cli && cargo bench --bench gateway_rss
//!
//! Env: OPENCLAW_BIN (default target/release/openclaw), OPENCLAW_SHARED_DIR (the folder with
//! fake_llm.py; default ../shared beside the repo), BENCH_CHATS (default 1000), OPENCLAW_WRAP.

use std::process::Command;
use std::time::Duration;

use openclaw_rpc::client::gateway::{ConnectOptions, GatewayClient};

mod support;
use support::{
    Proc, TOKEN, bench_chats, chat, child_pids, fake_llm_state, gateway_bin, rss_kib,
    spawn_gateway, start_fake_llm, wait_tcp,
};

/// The pid whose RSS counts: the gateway itself, or the wrapped gateway's deepest child.
fn target_pid(pid: u32) -> u32 {
    match child_pids(pid).last() {
        Some(&c) => target_pid(c),
        None => pid,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(bin) = gateway_bin() else {
        return;
    };
    let n = bench_chats(1000);
    let (_fake, fake_port) = start_fake_llm().await;
    let (state, port) = fake_llm_state(fake_port);
    let wrap = std::env::var("OPENCLAW_WRAP").unwrap_or_default();
    let wrap: Vec<String> = wrap.split_whitespace().map(String::from).collect();
    let child = spawn_gateway(&bin, state.path(), &wrap);
    let outer = child.id();
    let gw = Proc(child);
    wait_tcp(port).await;
    let pid = target_pid(outer);
    let mut o = ConnectOptions::new(format!("ws://127.0.0.1:{port}")).token(TOKEN);
    o.timeout = Duration::from_secs(120);
    let c = GatewayClient::connect(o).await.expect("connect");
    println!("idle RSS {:.1} MiB", rss_kib(pid) as f64 / 1024.0);
    for (name, keys) in [("20 keys", 20usize), ("one session", 1)] {
        let mut curve = Vec::new();
        let mut at100 = 0;
        for i in 0..n {
            let key = if keys == 1 {
                "measure".to_string()
            } else {
                format!("agent:main:bench-{}", i % keys)
            };
            chat(&c, &key, "hello bench", &format!("rss-{name}-{i}")).await;
            if (i + 1) % 100 == 0 {
                let r = rss_kib(pid);
                if i == 99 {
                    at100 = r;
                }
                curve.push(format!("{:.1}", r as f64 / 1024.0));
            }
        }
        let end = rss_kib(pid);
        println!(
            "{name}: RSS after 100 / {n} chats {:.1} / {:.1} MiB (Δ {:+.2} MiB); every 100: {}",
            at100 as f64 / 1024.0,
            end as f64 / 1024.0,
            (end as f64 - at100 as f64) / 1024.0,
            curve.join(" ")
        );
    }
    drop(c);
    // SIGTERM so a wrapper (heaptrack) sees a normal exit.
    let _ = Command::new("kill").arg(pid.to_string()).status();
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(gw);
}
