//! Gateway cost against the number of sessions: for 1k, 10k and 100k sessions (rows written
//! straight into the state database, one small transcript file each) it starts
//! `openclaw gateway run` (release build by default) with the fast in-process fake model and
//! measures the medians of connect (to hello-ok), `health`, `sessions.list {limit: 50}`,
//! `chat.send` → final on an existing key (its engine started from its transcript) and on a new
//! key, the bytes the gateway wrote to storage per turn (`write_bytes` of /proc/<pid>/io over
//! the existing-key turns), its RSS idle after start and after the turns, and the time of
//! `openclaw sessions list --json` over the same state dir.
//!
//! Targets (issue 12): at 100k each latency within 2× of 1k, ≤ 64 KB written per turn, idle
//! RSS ≤ 30 MB.
//!
//!   cargo build --release -p openclaw-cli && cargo bench --bench gateway_scale
//!
//! When the real OpenClaw 2026.9.6 is installed (`shared/peers/README.md`; see
//! `support::peer`), the same run then measures it at `BENCH_SCALE_PEER` sessions (default
//! 10000; 0 skips it): it is started once on a fresh state dir, makes one real session
//! (`chat.send` on `main`), is stopped, that session's rows are cloned into its SQLite state
//! as `agent:main:s<i>`, and it is started again and measured like ours (same client, same
//! fake model), without the bytes-written and CLI columns.
//!
//! Env: OPENCLAW_BIN (default target/release/openclaw), BENCH_SCALE_SIZES (default
//! `1000,10000,100000`), BENCH_SCALE_REPS (calls per median, default 20), BENCH_SCALE_PEER.

use std::path::Path;
use std::time::{Duration, Instant};

use openclaw_rpc::client::gateway::{ConnectOptions, GatewayClient};
use openclaw_state::{SessionRow, SqliteStore, paths};
use serde_json::json;

mod support;
use support::{Proc, TOKEN, fake_provider, free_port, gateway_bin, pct, rss_kib, wait_tcp};

const AGENT: &str = "main";

/// `count` sessions of agent `main`: one row each (one transaction) and a two-message
/// transcript each.
fn generate(state: &Path, count: usize) -> Duration {
    let t = Instant::now();
    let dir = paths::sessions_dir(state, AGENT);
    std::fs::create_dir_all(&dir).expect("sessions dir");
    let now = openclaw_state::now_ms();
    let mut rows = Vec::with_capacity(count);
    for i in 0..count {
        let id = format!("00000000-0000-7000-8000-{i:012}");
        let header = json!({"type": "session", "version": 3, "id": id,
            "timestamp": "2026-12-01T00:00:00.000Z", "cwd": state.join("ws")});
        let user = json!({"type": "message", "id": "u0000001", "parentId": null,
            "timestamp": "2026-12-01T00:00:01.000Z",
            "message": {"role": "user", "content": format!("hello {i}"), "timestamp": 1}});
        let text = format!("{header}\n{user}\n");
        let file = dir.join(format!("{id}.jsonl"));
        std::fs::write(&file, text).expect("transcript");
        let mut row = SessionRow::new(&format!("agent:{AGENT}:s{i}"), AGENT, now - i as u64);
        row.session_id = Some(id);
        row.transcript = paths::to_relative(state, &file);
        row.session_started_at = Some(now - i as u64);
        row.meta.chat_type = Some("direct".into());
        rows.push(row);
    }
    let store = SqliteStore::open(state).expect("state database");
    store.put_many(&rows).expect("rows");
    t.elapsed()
}

fn write_config(state: &Path, port: u16, model_url: &str) {
    let config = json!({
        "gateway": {"port": port, "bind": "loopback", "auth": {"mode": "token", "token": TOKEN}},
        "agents": {"defaults": {"model": {"primary": "fake/fake-model"}, "skipBootstrap": true},
            "list": [{"id": AGENT, "default": true, "workspace": state.join("ws")}]},
        "models": {"providers": {"fake": fake_provider(model_url)}},
    });
    std::fs::write(state.join("openclaw.json"), config.to_string()).expect("config");
}

async fn client(url: &str) -> GatewayClient {
    let mut o = ConnectOptions::new(url).token(TOKEN);
    o.timeout = Duration::from_secs(60);
    GatewayClient::connect(o).await.expect("connect")
}

/// `write_bytes` of /proc/<pid>/io (bytes sent to storage, counted when pages are dirtied).
fn write_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/io"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("write_bytes:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

async fn median_ms<F, Fut>(reps: usize, mut f: F) -> f64
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut v = Vec::with_capacity(reps);
    for i in 0..reps {
        let t = Instant::now();
        f(i).await;
        v.push(t.elapsed().as_secs_f64() * 1e3);
    }
    pct(&mut v, 0.5)
}

/// One size: generate, start, measure; prints one line and returns the latencies.
async fn measure(bin: &Path, model_url: &str, count: usize, reps: usize) -> [f64; 5] {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let state = tempfile::tempdir_in(&base).expect("state dir on disk");
    let port = free_port();
    write_config(state.path(), port, model_url);
    let generated = generate(state.path(), count);
    let child = support::spawn_gateway(bin, state.path(), &[]);
    let pid = child.id();
    let _proc = Proc(child);
    assert!(wait_tcp(port).await, "the gateway did not start");
    let url = format!("ws://127.0.0.1:{port}");
    let c = client(&url).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = rss_kib(pid);
    let connect = median_ms(reps, |_| async { client(&url).await.close().await }).await;
    let health = median_ms(reps, |_| async {
        c.call("health", Some(json!({}))).await.expect("health");
    })
    .await;
    let list = median_ms(reps, |_| async {
        let l = c
            .call("sessions.list", Some(json!({"limit": 50})))
            .await
            .expect("list");
        assert_eq!(l["sessions"].as_array().map(Vec::len), Some(50));
    })
    .await;
    // Existing keys spread over the index (each starts its engine from its transcript).
    let turns = reps.min(count);
    let before = write_bytes(pid);
    let existing = median_ms(turns, |i| {
        let key = format!("agent:{AGENT}:s{}", i * (count / turns));
        let c = &c;
        async move {
            support::chat(c, &key, "hi", &format!("e{i}")).await;
        }
    })
    .await;
    let per_turn = (write_bytes(pid) - before) / turns as u64;
    // The turns really ran: the generated message, then the turn's question and answer.
    let h = c
        .call(
            "chat.history",
            Some(json!({"sessionKey": format!("agent:{AGENT}:s0")})),
        )
        .await
        .expect("history");
    let roles: Vec<&str> = h["messages"]
        .as_array()
        .map(|m| m.iter().filter_map(|x| x["role"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(roles, ["user", "user", "assistant"], "{h}");
    let new = median_ms(turns, |i| {
        let key = format!("agent:{AGENT}:new{i}");
        let c = &c;
        async move {
            support::chat(c, &key, "hi", &format!("n{i}")).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_rss = rss_kib(pid);
    let t = Instant::now();
    let out = std::process::Command::new(bin)
        .args(["sessions", "list", "--json"])
        .env("OPENCLAW_STATE_DIR", state.path())
        .output()
        .expect("openclaw sessions list");
    let cli_list = t.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!(
        "{count:>7} sessions (generated in {:.1} s): connect {connect:.2} ms, health {health:.2} ms, \
         sessions.list{{limit:50}} {list:.2} ms, chat.send→final existing key {existing:.2} ms, \
         new key {new:.2} ms, {:.1} KB written per turn, idle RSS {:.1} MB (after the turns {:.1} MB), \
         `openclaw sessions list --json` {:.0} ms",
        generated.as_secs_f64(),
        per_turn as f64 / 1024.0,
        idle_rss as f64 / 1024.0,
        after_rss as f64 / 1024.0,
        cli_list.as_secs_f64() * 1e3,
    );
    [connect, health, list, existing, new]
}

/// The real OpenClaw gateway at `count` sessions (see the module docs); prints one line.
async fn measure_peer(cli: &Path, node_bin: &Path, model_url: &str, count: usize, reps: usize) {
    let root = tempfile::tempdir().expect("peer root");
    let port = free_port();
    let state = support::peer::state_dir(root.path());
    let mut cmd = support::peer::command(cli, node_bin, root.path(), port, model_url);
    let first = cmd.spawn().expect("spawn the real gateway");
    let c = support::peer::connect(port).await;
    support::chat(&c, "main", "hi", "peer-template").await;
    c.close().await;
    support::peer::stop(first);
    let t = Instant::now();
    support::peer::clone_sessions(&state, "agent:main:main", count, "s");
    let generated = t.elapsed();
    let t = Instant::now();
    let child = cmd.spawn().expect("restart the real gateway");
    let pid = child.id();
    let _proc = Proc(child);
    // Its start-up looks at every session: give it time.
    let c = match support::peer::connect_within(port, Duration::from_secs(900)).await {
        Ok(c) => c,
        Err(e) => {
            println!(
                "OpenClaw 2026.9.6 at {count} sessions: no hello-ok ({e}); its log ends:\n{}",
                support::peer::log_tail(root.path(), 15)
            );
            return;
        }
    };
    let started = t.elapsed();
    // Let start-up work settle (it keeps loading for a while after hello-ok).
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle_rss = rss_kib(pid);
    let connect = median_ms(reps, |_| async {
        support::peer::connect(port).await.close().await
    })
    .await;
    let health = median_ms(reps, |_| async {
        c.call("health", Some(json!({}))).await.expect("health");
    })
    .await;
    let listed = std::cell::Cell::new(0);
    let list = median_ms(reps, |_| {
        let (c, listed) = (&c, &listed);
        async move {
            let l = c
                .call("sessions.list", Some(json!({"limit": 50})))
                .await
                .expect("list");
            listed.set(l["sessions"].as_array().map_or(0, Vec::len));
        }
    })
    .await;
    let listed = listed.get();
    let total = c
        .call("sessions.list", Some(json!({"limit": 1})))
        .await
        .map(|l| l["totalCount"].clone())
        .unwrap_or_default();
    // Existing keys as it lists them: at 10k sessions its maintenance archives many of them
    // (a turn on an archived key is refused: "Session … is archived. Restore it …").
    let page = c
        .call("sessions.list", Some(json!({"limit": 50})))
        .await
        .expect("list");
    let keys: Vec<String> = page["sessions"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter_map(|r| r["key"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let turns = reps.min(keys.len());
    let existing = median_ms(turns, |i| {
        let key = keys[i].clone();
        let c = &c;
        async move {
            support::chat(c, &key, "hi", &format!("pe{i}")).await;
        }
    })
    .await;
    let new = median_ms(turns, |i| {
        let key = format!("agent:main:new{i}");
        let c = &c;
        async move {
            support::chat(c, &key, "hi", &format!("pn{i}")).await;
        }
    })
    .await;
    println!(
        "OpenClaw 2026.9.6 at {count} sessions (cloned in {:.1} s, hello-ok {:.1} s after the \
         restart; sessions.list totalCount {total}, a page of {listed}): connect {connect:.2} ms, health {health:.2} ms, \
         sessions.list{{limit:50}} {list:.2} ms, chat.send→final existing key {existing:.2} ms, \
         new key {new:.2} ms, idle RSS {:.1} MB (main process)",
        generated.as_secs_f64(),
        started.as_secs_f64(),
        idle_rss as f64 / 1024.0,
    );
}

#[tokio::main]
async fn main() {
    let Some(bin) = gateway_bin() else { return };
    let sizes: Vec<usize> = std::env::var("BENCH_SCALE_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let reps = std::env::var("BENCH_SCALE_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let model_url = format!("{}/v1", support::start_rust_fake());
    let mut first: Option<[f64; 5]> = None;
    for count in sizes {
        let m = measure(&bin, &model_url, count, reps).await;
        match &first {
            None => first = Some(m),
            Some(f) => {
                let names = ["connect", "health", "list", "existing", "new"];
                let ratios: Vec<String> = names
                    .iter()
                    .zip(m.iter().zip(f))
                    .map(|(n, (a, b))| format!("{n} {:.2}×", a / b))
                    .collect();
                println!("        vs the first size: {}", ratios.join(", "));
            }
        }
    }
    let peer_count = std::env::var("BENCH_SCALE_PEER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    if peer_count > 0
        && let Some((cli, node_bin)) = support::peer::installed()
    {
        measure_peer(&cli, &node_bin, &model_url, peer_count, reps).await;
    }
}
