//! Gateway benchmark: starts `openclaw gateway run` (release build by default) with the fake
//! model (`shared/fake_llm.py`) over a throwaway state dir and measures, with the
//! tokio-tungstenite client in `openclaw_rpc::client::gateway`:
//! spawn → accepting TCP and → hello-ok, idle RSS, RSS across 1,000 chats, health round trip,
//! chat.send → final chat event, RSS across 1,000 chats on one session (as OpenClaw measured,
//! session `measure`), 1,000 concurrent clients (RSS per client, health p99 while
//! connected, RSS again after the next `tick` reached them), fake_llm.py's own ceiling (requests/s
//! sent straight to it), 200 clients running chat.send
//! (turns/s) — once against `fake_llm.py` and once against a fast in-process Rust fake model
//! (openclaw-core's `testing` SSE server answering `echo: <text>` as fake_llm.py does,
//! keep-alive connections) — and SIGTERM (exit time with a run and a bash tool in flight,
//! child processes left, restart on the same port).
//!
//!   cargo build --release -p openclaw-cli && cargo bench --bench gateway_bench
//!
//! Env: OPENCLAW_BIN (default target/release/openclaw), OPENCLAW_SHARED_DIR (the folder with
//! fake_llm.py; default ../shared beside the repo), BENCH_QUICK=1 (smaller counts).

use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use openclaw_rpc::client::gateway::{ConnectOptions, GatewayClient};
use serde_json::json;

mod support;
use support::{
    Proc, TOKEN, fake_provider, free_port, gateway_bin, pct, rss_kib, spawn_gateway,
    start_fake_llm, wait_tcp, write_config,
};

struct Env {
    bin: PathBuf,
    state: tempfile::TempDir,
    port: u16,
}

impl Env {
    fn url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }
    fn spawn(&self) -> Child {
        spawn_gateway(&self.bin, self.state.path(), &[])
    }
}

async fn client(url: &str) -> GatewayClient {
    let mut o = ConnectOptions::new(url).token(TOKEN);
    o.timeout = Duration::from_secs(60);
    GatewayClient::connect(o).await.expect("connect")
}

/// One chat.send of `msg` on `key` with a fresh idempotency key; the time to its final event.
async fn chat(c: &GatewayClient, key: &str, msg: &str) -> Duration {
    support::chat(c, key, msg, &uuid_like()).await
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "bench-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = std::env::var("BENCH_QUICK").is_ok();
    let Some(bin) = gateway_bin() else {
        return;
    };
    let (fake_proc, fake_port) = start_fake_llm().await;
    let fake_pid = fake_proc.0.id();
    let rust_fake = support::start_rust_fake();
    let env = Env {
        bin,
        state: tempfile::tempdir().expect("tempdir"),
        port: free_port(),
    };
    write_config(
        env.state.path(),
        env.port,
        json!({"fake": fake_provider(&format!("http://127.0.0.1:{fake_port}/v1")),
            "rustfake": fake_provider(&format!("{rust_fake}/v1"))}),
    );
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut row = |k: &str, v: String| {
        println!("{k:<48} {v}");
        rows.push((k.into(), v));
    };

    // Spawn → accepting, → hello-ok.
    let t = Instant::now();
    let child = env.spawn();
    let pid = child.id();
    let mut gw = Proc(child);
    wait_tcp(env.port).await;
    let accept = t.elapsed();
    let c = client(&env.url()).await;
    let hello = t.elapsed();
    row(
        "spawn → accepting TCP",
        format!("{:.1} ms", accept.as_secs_f64() * 1e3),
    );
    row(
        "spawn → hello-ok",
        format!("{:.1} ms", hello.as_secs_f64() * 1e3),
    );
    drop(c);
    tokio::time::sleep(Duration::from_millis(500)).await;
    row(
        "idle RSS (no clients)",
        format!("{:.1} MiB", rss_kib(pid) as f64 / 1024.0),
    );

    // Health round trip.
    let c = client(&env.url()).await;
    let mut lat = Vec::new();
    for _ in 0..2000 {
        let t = Instant::now();
        c.call("health", None).await.expect("health");
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    row(
        "health round trip median / p99",
        format!(
            "{:.3} ms / {:.3} ms",
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99)
        ),
    );

    // chat.send → final, and RSS across 1,000 chats (20 session keys round robin).
    let n_chats = if quick { 200 } else { 1000 };
    let mut lat = Vec::new();
    let mut rss_after_100 = 0;
    for i in 0..n_chats {
        let d = chat(&c, &format!("agent:main:bench-{}", i % 20), "hello bench").await;
        lat.push(d.as_secs_f64() * 1e3);
        if i == 99 {
            rss_after_100 = rss_kib(pid);
        }
    }
    let rss_end = rss_kib(pid);
    row(
        "chat.send → final chat event median / p99",
        format!(
            "{:.2} ms / {:.2} ms",
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99)
        ),
    );
    row(
        &format!("RSS after 100 / {n_chats} chats"),
        format!(
            "{:.1} MiB / {:.1} MiB (Δ {:+.2} MiB)",
            rss_after_100 as f64 / 1024.0,
            rss_end as f64 / 1024.0,
            (rss_end as f64 - rss_after_100 as f64) / 1024.0
        ),
    );

    // The same on one session key, as OpenClaw measured ("measure").
    let mut lat = Vec::new();
    let mut rss_after_100 = 0;
    for i in 0..n_chats {
        let d = chat(&c, "measure", "hello bench").await;
        lat.push(d.as_secs_f64() * 1e3);
        if i == 99 {
            rss_after_100 = rss_kib(pid);
        }
    }
    let rss_end = rss_kib(pid);
    row(
        "one session: chat.send → final median / p99",
        format!(
            "{:.2} ms / {:.2} ms",
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99)
        ),
    );
    row(
        &format!("one session: RSS after 100 / {n_chats} chats"),
        format!(
            "{:.1} MiB / {:.1} MiB (Δ {:+.2} MiB)",
            rss_after_100 as f64 / 1024.0,
            rss_end as f64 / 1024.0,
            (rss_end as f64 - rss_after_100 as f64) / 1024.0
        ),
    );

    // 1,000 concurrent clients.
    let n_clients = if quick { 200 } else { 1000 };
    let before = rss_kib(pid);
    let mut held = Vec::with_capacity(n_clients);
    for _ in 0..(n_clients / 50) {
        let url = env.url();
        let batch = futures::future::join_all((0..50).map(|_| client(&url))).await;
        held.extend(batch);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(pid);
    row(
        &format!("{n_clients} clients held: RSS per client"),
        format!(
            "{:.1} KiB (total {:.1} MiB)",
            (after.saturating_sub(before)) as f64 / n_clients as f64,
            after as f64 / 1024.0
        ),
    );
    let mut lat = Vec::new();
    for _ in 0..1000 {
        let t = Instant::now();
        c.call("health", None).await.expect("health");
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    row(
        &format!("health median / p99 with {n_clients} connected"),
        format!(
            "{:.3} ms / {:.3} ms",
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99)
        ),
    );
    // Held through the gateway's next `tick` broadcast (every 30 s by default): every client
    // gets one, and RSS is read again once it has gone out.
    if let Some(last) = held.last() {
        let mut events = last.subscribe();
        let waited = Instant::now();
        let tick = tokio::time::timeout(Duration::from_secs(40), async {
            loop {
                match events.recv().await {
                    Ok(f) if f["event"] == "tick" => return true,
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(_) => return false,
                }
            }
        })
        .await
        .unwrap_or(false);
        tokio::time::sleep(Duration::from_millis(200)).await;
        let after_tick = rss_kib(pid);
        row(
            &format!("{n_clients} clients held: RSS per client after a tick"),
            format!(
                "{:.1} KiB (total {:.1} MiB; tick {} after {:.1} s)",
                (after_tick.saturating_sub(before)) as f64 / n_clients as f64,
                after_tick as f64 / 1024.0,
                if tick { "seen" } else { "NOT seen" },
                waited.elapsed().as_secs_f64()
            ),
        );
    }
    drop(held);

    // What fake_llm.py serves on its own: the smallest streamed chat completion, sent straight
    // to it (no gateway) over 1 and 8 connections at a time — the ceiling of any gateway's
    // turns/s against it on this machine.
    for conc in [1, 8] {
        let total = if quick { 500 } else { 2000 };
        let rate = fake_llm_direct_rate(fake_port, conc, total).await;
        row(
            &format!("fake_llm.py alone, {conc} connection(s)"),
            format!("{rate:.0} requests/s ({total} streamed completions, no gateway)"),
        );
    }

    // 200 clients running chat.send: against fake_llm.py, then against the Rust fake (those
    // sessions created and their model set to it with sessions.create + sessions.patch
    // beforehand, outside the timing; their first turn still starts the engine).
    let n = 200;
    let per = if quick { 5 } else { 20 };
    let url = env.url();
    for (label, prefix, model) in [
        ("fake_llm.py", "load", None),
        ("Rust fake", "rload", Some("rustfake/fake-model")),
    ] {
        let clients = futures::future::join_all((0..n).map(|_| client(&url))).await;
        if let Some(m) = model {
            for i in 0..n {
                let key = format!("agent:main:{prefix}-{i}");
                c.call("sessions.create", Some(json!({"key": key})))
                    .await
                    .expect("sessions.create");
                c.call("sessions.patch", Some(json!({"key": key, "model": m})))
                    .await
                    .expect("sessions.patch");
            }
        }
        // CPU of the gateway, of the fake model (fake_llm.py's process, or the Rust fake's
        // thread in this process) and of the 200 clients (the rest of this process).
        let fake_ticks = || match model {
            None => cpu_ticks(fake_pid),
            Some(_) => thread_ticks("rust-fake"),
        };
        let own_ticks = || cpu_ticks(std::process::id()) - thread_ticks("rust-fake");
        let (cpu0, fake0, own0) = (cpu_ticks(pid), fake_ticks(), own_ticks());
        let t = Instant::now();
        futures::future::join_all(clients.iter().enumerate().map(|(i, c)| async move {
            for _ in 0..per {
                chat(c, &format!("agent:main:{prefix}-{i}"), "load").await;
            }
        }))
        .await;
        let secs = t.elapsed().as_secs_f64();
        let per_turn = |ticks: u64| ticks as f64 * 1e4 / (n * per) as f64;
        row(
            &format!("{n} clients × {per} chat.send ({label})"),
            format!(
                "{:.0} turns/s ({} turns in {:.2} s; CPU per turn: gateway {:.0} µs, fake model {:.0} µs, clients {:.0} µs)",
                (n * per) as f64 / secs,
                n * per,
                secs,
                per_turn(cpu_ticks(pid) - cpu0),
                per_turn(fake_ticks() - fake0),
                per_turn(own_ticks().saturating_sub(own0)),
            ),
        );
        drop(clients);
    }

    // SIGTERM with a slow run and a bash tool in flight.
    let marker = format!("sleep {}.{}", 40, std::process::id() % 1000);
    c.call(
        "chat.send",
        Some(json!({"sessionKey": "main", "idempotencyKey": uuid_like(),
        "message": format!("call bash {{\"command\":\"{marker}\"}}")})),
    )
    .await
    .expect("tool run");
    let mut events = c.subscribe();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let child_running = Command::new("pgrep")
        .args(["-f", &marker])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    let t = Instant::now();
    send_sigterm(pid);
    let _ = gw.0.wait();
    let exit = t.elapsed();
    let mut got_shutdown = false;
    while let Ok(Ok(f)) = tokio::time::timeout(Duration::from_millis(200), events.recv()).await {
        if f["event"] == "shutdown" {
            got_shutdown = true;
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let child_left = Command::new("pgrep")
        .args(["-f", &marker])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    row(
        "SIGTERM → exit (run + bash tool in flight)",
        format!(
            "{:.0} ms; shutdown event {}; bash child before {} / after {}",
            exit.as_secs_f64() * 1e3,
            if got_shutdown {
                "received"
            } else {
                "NOT received"
            },
            if child_running { "running" } else { "not seen" },
            if child_left { "LEFT RUNNING" } else { "gone" }
        ),
    );
    let t = Instant::now();
    let child = env.spawn();
    let _gw2 = Proc(child);
    let ok = wait_tcp(env.port).await
        && GatewayClient::connect(ConnectOptions::new(env.url()).token(TOKEN))
            .await
            .is_ok();
    row(
        "restart on the same port",
        format!(
            "{} in {:.1} ms",
            if ok { "ok" } else { "FAILED" },
            t.elapsed().as_secs_f64() * 1e3
        ),
    );
    let transcript_has_abort = std::fs::read_dir(env.state.path().join("agents/main/sessions"))
        .map(|d| {
            d.filter_map(|e| e.ok()).any(|e| {
                std::fs::read_to_string(e.path())
                    .map(|s| s.contains("\"aborted\""))
                    .unwrap_or(false)
            })
        })
        .unwrap_or(false);
    row(
        "aborted run recorded in the transcript",
        format!("{transcript_has_abort}"),
    );
}

/// utime + stime of a process, in clock ticks (100 per second).
fn cpu_ticks(pid: u32) -> u64 {
    stat_ticks(&format!("/proc/{pid}/stat"))
}

/// utime + stime from a `/proc/…/stat` file, in clock ticks.
fn stat_ticks(path: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_owned();
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

/// CPU ticks of this bench's threads named `name` (`rust-fake`: the Rust fake model).
fn thread_ticks(name: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|t| t.ok())
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.trim_end() == name)
        })
        .map(|t| stat_ticks(&t.path().join("stat").to_string_lossy()))
        .sum()
}

/// Streamed chat completions per second that fake_llm.py answers when `conc` clients send it
/// the smallest request back to back (each on a new connection, as it closes every one).
async fn fake_llm_direct_rate(port: u16, conc: usize, total: usize) -> f64 {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body =
        r#"{"model":"fake-model","stream":true,"messages":[{"role":"user","content":"load"}]}"#;
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let left = AtomicUsize::new(total);
    let t = Instant::now();
    futures::future::join_all((0..conc).map(|_| async {
        let mut buf = vec![0u8; 16 * 1024];
        while left
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok()
        {
            let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect to fake_llm.py");
            s.write_all(request.as_bytes()).await.expect("request");
            let mut got = Vec::new();
            loop {
                let n = s.read(&mut buf).await.expect("response");
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert!(
                got.windows(12).any(|w| w == b"data: [DONE]"),
                "fake_llm.py answered {}",
                String::from_utf8_lossy(&got)
            );
        }
    }))
    .await;
    total as f64 / t.elapsed().as_secs_f64()
}

fn send_sigterm(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}
