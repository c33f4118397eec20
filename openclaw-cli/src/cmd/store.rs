//! Where agents keep their sessions: the session index in the state database (`openclaw_state`,
//! the same store the gateway writes through, so both see each other's changes at once) and the
//! transcripts under `<stateDir>/agents/<agentId>/sessions/`. Shared by the `agents` and
//! `sessions` commands.

use std::path::{Path, PathBuf};

use openclaw_core::config::{self, OpenClawConfig};
use openclaw_core::session::{SessionSummary, list_sessions};
use openclaw_state::{SqliteStore, StateStore};

use crate::error::{CliError, CliResult};

/// The default agent id.
pub const DEFAULT_AGENT: &str = "main";

/// `<stateDir>/agents`.
pub fn agents_root() -> PathBuf {
    config::state_dir().join("agents")
}

/// An agent's sessions directory.
pub fn sessions_dir(agent: &str) -> PathBuf {
    agents_root().join(agent).join("sessions")
}

/// Configured agents plus agents that have a directory, `main` always included.
pub fn agent_ids(cfg: &OpenClawConfig) -> Vec<String> {
    let mut ids: Vec<String> = cfg.agents.list.iter().map(|a| a.id.clone()).collect();
    if let Ok(rd) = std::fs::read_dir(agents_root()) {
        let mut found: Vec<String> = rd
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .collect();
        found.sort();
        for f in found {
            if !ids.contains(&f) {
                ids.push(f);
            }
        }
    }
    if !ids.iter().any(|i| i == DEFAULT_AGENT) {
        ids.insert(0, DEFAULT_AGENT.to_string());
    }
    ids
}

/// The state store (opened, migrated and, on first use, OpenClaw's `sessions.json` imported).
/// An unreadable database is an error naming it.
pub fn open_state() -> CliResult<SqliteStore> {
    SqliteStore::open(&config::state_dir()).map_err(|e| CliError::failure(e.to_string()))
}

/// A store error as a CLI error.
pub fn state_err(e: openclaw_state::StateError) -> CliError {
    CliError::failure(e.to_string())
}

/// The agent's sessions, newest first (an absent directory gives none).
pub fn agent_sessions(agent: &str) -> Vec<SessionSummary> {
    let dir = sessions_dir(agent);
    if !dir.is_dir() {
        return Vec::new();
    }
    list_sessions(&dir).unwrap_or_default()
}

/// Sessions the in-process engine wrote (`<stateDir>/sessions/<encoded cwd>/`), newest first.
pub fn local_sessions() -> Vec<SessionSummary> {
    let root = config::state_dir().join("sessions");
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&root) {
        for e in rd.flatten() {
            if e.path().is_dir() {
                out.extend(list_sessions(&e.path()).unwrap_or_default());
            }
        }
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.modified));
    out
}

/// A session found by key, id, id prefix or path.
#[derive(Debug, Clone)]
pub struct Found {
    pub agent: Option<String>,
    pub key: Option<String>,
    pub path: PathBuf,
    /// The transcript's session id, when known.
    pub session_id: Option<String>,
}

/// Resolves `what` (a session key like `agent:main:main` or `main`, a session id or unique
/// id prefix, or a file path).
pub fn find(cfg: &OpenClawConfig, what: &str) -> CliResult<Found> {
    let p = Path::new(what);
    if what.ends_with(".jsonl") && p.is_file() {
        return Ok(Found {
            agent: None,
            key: None,
            path: p.to_path_buf(),
            session_id: None,
        });
    }
    let agents = agent_ids(cfg);
    let state = open_state()?;
    let mut keys = vec![what.to_string()];
    if !what.starts_with("agent:") {
        keys.extend(agents.iter().map(|a| format!("agent:{a}:{what}")));
    }
    // An index row whose transcript is on disk.
    let found = |row: openclaw_state::SessionRow| {
        state.transcript_path(&row).map(|path| Found {
            agent: Some(row.agent_id.clone()),
            key: Some(row.key.clone()),
            path,
            session_id: row.session_id.clone(),
        })
    };
    for key in &keys {
        if let Some(f) = state.session(key).map_err(state_err)?.and_then(found) {
            return Ok(f);
        }
    }
    if let Some(f) = state
        .session_by_id(what)
        .map_err(state_err)?
        .and_then(found)
    {
        return Ok(f);
    }
    let mut hits = Vec::new();
    let mut all: Vec<(Option<String>, SessionSummary)> = Vec::new();
    for agent in &agents {
        all.extend(
            agent_sessions(agent)
                .into_iter()
                .map(|s| (Some(agent.clone()), s)),
        );
    }
    all.extend(local_sessions().into_iter().map(|s| (None, s)));
    for (agent, s) in all {
        {
            if s.id == what {
                return Ok(Found {
                    agent,
                    key: None,
                    path: s.path,
                    session_id: Some(s.id),
                });
            }
            if s.id.starts_with(what) {
                hits.push((agent, s.path, s.id));
            }
        }
    }
    match hits.len() {
        1 => {
            let (agent, path, id) = hits.remove(0);
            Ok(Found {
                agent,
                key: None,
                path,
                session_id: Some(id),
            })
        }
        0 => Err(CliError::usage(format!("no session matches \"{what}\""))
            .hint("`openclaw sessions list` shows keys and ids")),
        n => {
            Err(CliError::usage(format!("\"{what}\" matches {n} sessions"))
                .hint("give more of the id"))
        }
    }
}
