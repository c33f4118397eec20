//! Where agents keep their sessions: `<stateDir>/agents/<agentId>/sessions/` holding the
//! transcripts (`<sessionId>.jsonl`) and the session store `sessions.json` (session key →
//! entry). Shared by the `agents` and `sessions` commands.

use std::path::{Path, PathBuf};

use openclaw_core::config::{self, OpenClawConfig};
use openclaw_core::session::{SessionSummary, list_sessions};
use serde_json::{Map, Value};

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

/// The agent's session store (`sessions.json`), empty when absent or unreadable.
pub fn load_store(agent: &str) -> Map<String, Value> {
    std::fs::read_to_string(sessions_dir(agent).join("sessions.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

/// Writes the agent's session store.
pub fn save_store(agent: &str, store: &Map<String, Value>) -> CliResult {
    let path = sessions_dir(agent).join("sessions.json");
    let text = serde_json::to_string_pretty(&Value::Object(store.clone()))
        .map_err(|e| CliError::failure(e.to_string()))?;
    std::fs::write(&path, text + "\n")
        .map_err(|e| CliError::failure(format!("cannot write {}: {e}", path.display())))
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
}

fn store_file(agent: &str, entry: &Value) -> Option<PathBuf> {
    if let Some(f) = entry.get("sessionFile").and_then(Value::as_str) {
        return Some(PathBuf::from(f));
    }
    let id = entry.get("sessionId").and_then(Value::as_str)?;
    Some(sessions_dir(agent).join(format!("{id}.jsonl")))
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
        });
    }
    let agents = agent_ids(cfg);
    for agent in &agents {
        let store = load_store(agent);
        let canonical = if what.contains(':') {
            what.to_string()
        } else {
            format!("agent:{agent}:{what}")
        };
        for key in [what, canonical.as_str()] {
            if let Some(path) = store.get(key).and_then(|e| store_file(agent, e)) {
                return Ok(Found {
                    agent: Some(agent.clone()),
                    key: Some(key.to_string()),
                    path,
                });
            }
        }
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
                });
            }
            if s.id.starts_with(what) {
                hits.push((agent, s.path));
            }
        }
    }
    match hits.len() {
        1 => {
            let (agent, path) = hits.remove(0);
            Ok(Found {
                agent,
                key: None,
                path,
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
