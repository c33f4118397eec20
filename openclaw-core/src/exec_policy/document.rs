//! The host approvals document, `<stateDir>/exec-approvals.json` (OpenClaw's version 1 shape:
//! `defaults`, per-agent entries and the `"*"` entry that applies to every agent, each with an
//! allowlist). It can only tighten the requested policy: the effective security is the stricter
//! of the two, `ask` the more insistent. A missing file is "no document"; a file that cannot be
//! read or parsed is an error, never an empty document. Written with
//! [`crate::fsutil::atomic_write`], owner-only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::analysis::Segment;
use super::evaluate::entry_matches;
use super::{Ask, ExecPolicy, Security};
use crate::fsutil::{Permissions, atomic_write};

/// An entry's `lastUsedAt` moves only when it is older than this, so an allowlisted command
/// run in a loop does not rewrite the document on every call.
pub const LAST_USED_RESOLUTION_MS: u64 = 1_000;

/// Serialises this process's read-modify-write cycles of the document (allow-always entries,
/// last-used fields, `exec.approvals.set`), so that one never undoes another's.
static WRITE_LOCK: Mutex<()> = Mutex::new(());

/// Runs `f` holding the document's write lock (see [`update`]).
pub fn with_write_lock<T>(f: impl FnOnce() -> T) -> T {
    let _held = crate::sync::lock(&WRITE_LOCK);
    f()
}

/// Loads the document at `path` (an absent one is empty when `create`, else left absent),
/// lets `change` edit it and writes it back atomically when `change` says it changed, all
/// under the write lock; returns whether it wrote.
pub fn update(
    path: &Path,
    create: bool,
    change: impl FnOnce(&mut ApprovalsFile) -> bool,
) -> Result<bool, DocumentError> {
    with_write_lock(|| {
        let Some(mut doc) =
            ApprovalsFile::load(path)?.or_else(|| create.then(ApprovalsFile::default))
        else {
            return Ok(false);
        };
        if !change(&mut doc) {
            return Ok(false);
        }
        doc.save(path)?;
        Ok(true)
    })
}

/// The file name under the state dir.
pub const FILE_NAME: &str = "exec-approvals.json";

/// The `"*"` agent key: entries for every agent.
pub const ANY_AGENT: &str = "*";

/// `source` of an entry written by an allow-always decision.
pub const SOURCE_ALLOW_ALWAYS: &str = "allow-always";

/// Why the document could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid exec approvals document: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `socket` (the macOS app's approvals socket; kept as written, never used here).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocketConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// `defaults` and the policy part of an agent entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyDefaults {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security: Option<Security>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ask: Option<Ask>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ask_fallback: Option<Security>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_allow_skills: Option<bool>,
}

/// One allowlist entry. `pattern` is a glob on the resolved executable (a bare name matches only
/// a command found on `PATH`); `argPattern` a regex on the arguments joined by spaces; `cwd`
/// (written by allow-always) binds the entry to one working directory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllowlistEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub pattern: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arg_pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The exact arguments (argv without argv[0]) an allow-always entry was granted for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_resolved_path: Option<String>,
}

/// `mcpTools[]` (kept as written).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpToolEntry {
    pub server: String,
    pub tool: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub added_at: Option<u64>,
}

/// One agent's entry (or `"*"`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentApprovals {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security: Option<Security>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ask: Option<Ask>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ask_fallback: Option<Security>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_allow_skills: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowlist: Vec<AllowlistEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mcp_tools: Vec<McpToolEntry>,
}

/// The whole document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalsFile {
    pub version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socket: Option<SocketConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defaults: Option<PolicyDefaults>,
    #[serde(default)]
    pub agents: BTreeMap<String, AgentApprovals>,
}

impl Default for ApprovalsFile {
    fn default() -> Self {
        ApprovalsFile {
            version: 1,
            socket: None,
            defaults: None,
            agents: BTreeMap::new(),
        }
    }
}

/// The document's path under a state dir.
pub fn path_in(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// The raw text of the document, `None` when there is none.
pub fn read_text(path: &Path) -> Result<Option<String>, DocumentError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(DocumentError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

impl ApprovalsFile {
    /// Parses a document's text (version 1 only).
    pub fn parse(text: &str, path: &Path) -> Result<Self, DocumentError> {
        let invalid = |message: String| DocumentError::Invalid {
            path: path.to_owned(),
            message,
        };
        let file: ApprovalsFile = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        if file.version != 1 {
            return Err(invalid(format!(
                "version {} is not supported (only 1)",
                file.version
            )));
        }
        Ok(file)
    }

    /// The document at `path`; `None` when the file does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>, DocumentError> {
        read_text(path)?
            .map(|t| ApprovalsFile::parse(&t, path))
            .transpose()
    }

    /// The document as written to disk (pretty JSON, trailing newline).
    pub fn to_text(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Writes the document to `path` atomically, owner-only.
    pub fn save(&self, path: &Path) -> Result<(), DocumentError> {
        atomic_write(path, self.to_text().as_bytes(), Permissions::Private).map_err(|source| {
            DocumentError::Write {
                path: path.to_owned(),
                source,
            }
        })
    }

    /// The document's policy for `agent_id`: its own fields over `defaults`.
    fn policy_for(&self, agent_id: &str) -> PolicyDefaults {
        let base = self.defaults.clone().unwrap_or_default();
        let own = self.agents.get(agent_id);
        PolicyDefaults {
            security: own.and_then(|o| o.security).or(base.security),
            ask: own.and_then(|o| o.ask).or(base.ask),
            ask_fallback: own.and_then(|o| o.ask_fallback).or(base.ask_fallback),
            auto_allow_skills: own
                .and_then(|o| o.auto_allow_skills)
                .or(base.auto_allow_skills),
        }
    }

    /// `requested` tightened by this document for `agent_id`: the stricter security and
    /// fallback, the more insistent ask. A field the document omits keeps the requested value.
    pub fn tighten(&self, requested: &ExecPolicy, agent_id: &str) -> ExecPolicy {
        let doc = self.policy_for(agent_id);
        let mut p = requested.clone();
        if let Some(s) = doc.security {
            p.security = p.security.min(s);
        }
        if let Some(a) = doc.ask {
            p.ask = p.ask.max(a);
        }
        if let Some(f) = doc.ask_fallback {
            p.ask_fallback = p.ask_fallback.min(f);
        }
        p
    }

    /// The allowlist that applies to `agent_id`: its own entries, then `"*"`'s.
    pub fn allowlist(&self, agent_id: &str) -> Vec<&AllowlistEntry> {
        let own = self.agents.get(agent_id).into_iter();
        let any = self.agents.get(ANY_AGENT).into_iter();
        own.chain(any).flat_map(|a| a.allowlist.iter()).collect()
    }

    /// Whether `agent_id` (or `"*"`) holds a `mcpTools` grant for `server`/`tool`.
    pub fn mcp_granted(&self, agent_id: &str, server: &str, tool: &str) -> bool {
        [agent_id, ANY_AGENT]
            .iter()
            .filter_map(|a| self.agents.get(*a))
            .flat_map(|a| a.mcp_tools.iter())
            .any(|e| e.server == server && e.tool == tool)
    }

    /// Adds an allow-always `mcpTools` grant unless one for the same server/tool is there;
    /// returns whether it was added.
    pub fn add_mcp_grant(&mut self, agent_id: &str, server: &str, tool: &str, now: u64) -> bool {
        let list = &mut self
            .agents
            .entry(agent_id.to_owned())
            .or_default()
            .mcp_tools;
        if list.iter().any(|e| e.server == server && e.tool == tool) {
            return false;
        }
        list.push(McpToolEntry {
            server: server.to_owned(),
            tool: tool.to_owned(),
            source: Some("allow-always".to_owned()),
            added_at: Some(now),
        });
        true
    }

    /// Adds `entry` to `agent_id`'s allowlist unless an equal pattern/argPattern/cwd entry is
    /// there; returns whether it was added.
    pub fn add_entry(&mut self, agent_id: &str, entry: AllowlistEntry) -> bool {
        let list = &mut self
            .agents
            .entry(agent_id.to_owned())
            .or_default()
            .allowlist;
        let same = |e: &AllowlistEntry| {
            e.pattern == entry.pattern
                && e.arg_pattern == entry.arg_pattern
                && e.argv == entry.argv
                && e.cwd == entry.cwd
        };
        if list.iter().any(same) {
            return false;
        }
        list.push(entry);
        true
    }

    /// Notes that segment `s` (run in `cwd`) went through `agent_id`'s allowlist: the entry
    /// that let it through (the agent's own first, then `"*"`'s, as [`Self::allowlist`]) gets
    /// OpenClaw's `lastUsedAt`, `lastUsedCommand` and `lastResolvedPath`. Returns whether
    /// anything changed: the same command and path within [`LAST_USED_RESOLUTION_MS`] do not.
    pub fn record_use(&mut self, agent_id: &str, s: &Segment, cwd: &Path, now_ms: u64) -> bool {
        let Some(resolved) = &s.resolved else {
            return false;
        };
        let resolved = resolved.to_string_lossy().into_owned();
        let command = s.argv.join(" ");
        let hit = [agent_id, ANY_AGENT].into_iter().find_map(|k| {
            let list = &self.agents.get(k)?.allowlist;
            Some((k, list.iter().position(|e| entry_matches(e, s, cwd))?))
        });
        let Some(e) = hit.and_then(|(k, i)| self.agents.get_mut(k)?.allowlist.get_mut(i)) else {
            return false;
        };
        let fresh = e
            .last_used_at
            .is_some_and(|t| now_ms.saturating_sub(t) <= LAST_USED_RESOLUTION_MS);
        if fresh
            && e.last_used_command.as_deref() == Some(command.as_str())
            && e.last_resolved_path.as_deref() == Some(resolved.as_str())
        {
            return false;
        }
        e.last_used_at = Some(now_ms);
        e.last_used_command = Some(command);
        e.last_resolved_path = Some(resolved);
        true
    }

    /// Removes `agent_id`'s entries whose pattern is `pattern`; returns how many.
    pub fn remove_pattern(&mut self, agent_id: &str, pattern: &str) -> usize {
        let Some(a) = self.agents.get_mut(agent_id) else {
            return 0;
        };
        let before = a.allowlist.len();
        a.allowlist.retain(|e| e.pattern != pattern);
        before - a.allowlist.len()
    }
}
