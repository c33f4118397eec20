//! Scheduler overhead with many jobs (issue 15): `BENCH_CRON_JOBS` (default 10,000) jobs —
//! a third `cron` (`0 9 * * 1-5`, Europe/Vienna), a third `every` 24 h, a third one-shot `at`
//! a year ahead, so nothing fires during the run — are written straight into a state
//! database, then `openclaw gateway run` is started over it and measured:
//!
//! - the time to compute every job's next run, in process (`cron::schedule::next_run_ms`);
//! - start-up: spawn → the first `cron.status` answer, when the jobs have no next run yet
//!   (the scheduler computes them all at start) and again after a restart (they are stored);
//! - RSS after start, against the same gateway with no jobs: memory per job;
//! - the gateway's CPU (utime + stime of /proc/<pid>/stat) over `BENCH_CRON_IDLE_SECS`
//!   (default 60) of idle with all jobs loaded, and with none.
//!
//!   cargo build -p openclaw-cli && OPENCLAW_BIN=target/debug/openclaw cargo bench --bench cron_scale
//!
//! Env: OPENCLAW_BIN (default target/release/openclaw), BENCH_CRON_JOBS, BENCH_CRON_IDLE_SECS.

use std::path::Path;
use std::time::{Duration, Instant};

use openclaw_core::protocol::cron::{
    AgentTurnPayload, CronJob, CronJobState, CronPayload, CronSchedule, SessionTarget, WakeMode,
};
use openclaw_gateway::cron::schedule::next_run_ms;
use openclaw_rpc::client::gateway::{ConnectOptions, GatewayClient};
use openclaw_state::{CronStore, SqliteStore};
use serde_json::json;

mod support;
use support::{Proc, TOKEN, free_port, gateway_bin, rss_kib};

fn jobs(count: usize, now: u64) -> Vec<CronJob> {
    (0..count)
        .map(|i| {
            let schedule = match i % 3 {
                0 => CronSchedule::Cron {
                    expr: "0 9 * * 1-5".into(),
                    tz: Some("Europe/Vienna".into()),
                    stagger_ms: None,
                },
                1 => CronSchedule::Every {
                    every_ms: 86_400_000,
                    anchor_ms: Some(now),
                },
                _ => CronSchedule::At {
                    at: jiff::Timestamp::from_millisecond((now + 31_536_000_000) as i64)
                        .map(|t| t.to_string())
                        .unwrap_or_default(),
                },
            };
            CronJob {
                id: format!("bench-{i:05}"),
                name: format!("job {i}"),
                display_name: None,
                description: None,
                agent_id: None,
                session_key: None,
                enabled: true,
                delete_after_run: None,
                created_at_ms: now,
                updated_at_ms: now,
                schedule,
                session_target: SessionTarget::Isolated,
                wake_mode: WakeMode::Now,
                payload: CronPayload::AgentTurn(AgentTurnPayload {
                    message: format!("report {i}"),
                    ..AgentTurnPayload::default()
                }),
                delivery: None,
                failure_alert: None,
                state: CronJobState::default(),
                config_revision: None,
                owner: None,
            }
        })
        .collect()
}

fn write_config(state: &Path, port: u16) {
    let config = json!({
        "gateway": {"port": port, "bind": "loopback", "auth": {"mode": "token", "token": TOKEN}},
        "agents": {"defaults": {"skipBootstrap": true, "heartbeat": {"every": "0m"}},
            "list": [{"id": "main", "default": true, "workspace": state.join("ws")}]},
    });
    std::fs::write(state.join("openclaw.json"), config.to_string()).expect("config");
}

/// utime + stime of `pid` in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of stat; here 11 and 12 (state is field 3).
    n(11) + n(12)
}

/// Spawns the gateway over `state`; returns it and the time until `cron.status` answered
/// (with the job count it reported).
async fn start(bin: &Path, state: &Path, port: u16) -> (Proc, Duration, u64) {
    let t = Instant::now();
    let child = support::spawn_gateway(bin, state, &[]);
    let proc = Proc(child);
    let url = format!("ws://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut o = ConnectOptions::new(&url).token(TOKEN);
        o.timeout = Duration::from_secs(60);
        if let Ok(c) = GatewayClient::connect(o).await
            && let Ok(s) = c.call("cron.status", Some(json!({}))).await
        {
            let jobs = s["jobs"].as_u64().unwrap_or(0);
            return (proc, t.elapsed(), jobs);
        }
        assert!(Instant::now() < deadline, "the gateway did not answer");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::main]
async fn main() {
    let Some(bin) = gateway_bin() else { return };
    let count: usize = std::env::var("BENCH_CRON_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let idle_secs: u64 = std::env::var("BENCH_CRON_IDLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let now = openclaw_state::now_ms();
    let all = jobs(count, now);

    // Next runs in process.
    let t = Instant::now();
    let computed = all
        .iter()
        .filter(|j| next_run_ms(&j.schedule, &j.id, j.created_at_ms, now).is_ok())
        .count();
    let next_ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(computed, count);

    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    // Baseline: no jobs.
    let empty = tempfile::tempdir_in(&base).expect("state dir");
    let port = free_port();
    write_config(empty.path(), port);
    let (p0, ready0, _) = start(&bin, empty.path(), port).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss0 = rss_kib(p0.0.id());
    let t0 = cpu_ticks(p0.0.id());
    tokio::time::sleep(Duration::from_secs(idle_secs)).await;
    let ticks_empty = cpu_ticks(p0.0.id()) - t0;
    drop(p0);

    // With the jobs (no next run stored: the scheduler computes them at start).
    let state = tempfile::tempdir_in(&base).expect("state dir");
    let port = free_port();
    write_config(state.path(), port);
    let t = Instant::now();
    {
        let store = SqliteStore::open(state.path()).expect("state database");
        for j in &all {
            store.put_cron_job(j).expect("job");
        }
    }
    let write_s = t.elapsed().as_secs_f64();
    let (p1, ready1, listed) = start(&bin, state.path(), port).await;
    assert_eq!(listed as usize, count);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = p1.0.id();
    let rss1 = rss_kib(pid);
    // The first minute after start holds one-off work (the loop's first look at every job);
    // the idle figure is the minute after it.
    let settle0 = cpu_ticks(pid);
    tokio::time::sleep(Duration::from_secs(idle_secs)).await;
    let settle_ticks = cpu_ticks(pid) - settle0;
    let ticks0 = cpu_ticks(pid);
    let wall = Instant::now();
    tokio::time::sleep(Duration::from_secs(idle_secs)).await;
    let ticks = cpu_ticks(pid) - ticks0;
    let hz = 100.0; // USER_HZ on Linux
    let cpu_pct = ticks as f64 / hz / wall.elapsed().as_secs_f64() * 100.0;
    let rss_idle = rss_kib(pid);
    let mut c = p1;
    let _ = c.0.kill();
    let _ = c.0.wait();
    drop(c);
    // Restart: next runs are stored now.
    let (p2, ready2, _) = start(&bin, state.path(), port).await;
    drop(p2);

    println!(
        "cron_scale jobs={count} next_runs_in_process_ms={next_ms:.1} \
         write_jobs_s={write_s:.1} startup_empty_ms={:.0} startup_jobs_first_ms={:.0} \
         startup_jobs_restart_ms={:.0} rss_empty_kib={rss0} rss_jobs_kib={rss1} \
         rss_after_idle_kib={rss_idle} bytes_per_job={:.0} idle_cpu_ticks={ticks} \
         idle_cpu_pct={cpu_pct:.3} first_minute_ticks={settle_ticks} idle_cpu_ticks_no_jobs={ticks_empty} idle_secs={idle_secs}",
        ready0.as_secs_f64() * 1e3,
        ready1.as_secs_f64() * 1e3,
        ready2.as_secs_f64() * 1e3,
        (rss1.saturating_sub(rss0) * 1024) as f64 / count as f64,
    );
}
