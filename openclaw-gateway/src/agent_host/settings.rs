//! The part of `openclaw.json` the agent host runs on — the agent roster, the workspace
//! limits and the whole config value (models, providers, tool policy, HTTP endpoints) — as
//! one immutable snapshot. A config reload swaps the snapshot and bumps a generation; an
//! engine started under an older generation is restarted before its next run, so models,
//! providers and tool policy change without restarting the gateway.

use std::path::Path;

use openclaw_core::engine::ToolSelection;
use serde_json::Value;

use super::workspace;
use crate::roster::{AgentEntry, Roster};

/// One snapshot of the host's configuration.
#[derive(Debug, Clone)]
pub(crate) struct HostSettings {
    pub config: Value,
    pub roster: Roster,
    pub per_file_chars: usize,
    pub total_chars: usize,
    pub skip_bootstrap: bool,
}

/// The built-in tools an agent may use when no policy narrows them (pi's default set).
const DEFAULT_TOOLS: &[&str] = &["read", "bash", "edit", "write"];

fn string_list(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    })
}

impl HostSettings {
    pub fn from_config(config: Value, state_dir: &Path) -> Self {
        let roster = Roster::from_config(&config, state_dir);
        let defaults = config.pointer("/agents/defaults");
        let num = |k: &str, d: usize| {
            defaults
                .and_then(|d| d.get(k))
                .and_then(Value::as_u64)
                .map_or(d, |n| n as usize)
        };
        HostSettings {
            per_file_chars: num("bootstrapMaxChars", workspace::DEFAULT_MAX_CHARS),
            total_chars: num("bootstrapTotalMaxChars", workspace::DEFAULT_TOTAL_MAX_CHARS),
            skip_bootstrap: defaults
                .and_then(|d| d.get("skipBootstrap"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            roster,
            config,
        }
    }

    pub fn agent(&self, id: &str) -> Option<&AgentEntry> {
        self.roster.get(id)
    }

    /// The agent's raw config entry (`agents.list[]` or `agents.entries.<id>`).
    fn agent_entry(&self, id: &str) -> Option<&Value> {
        let agents = self.config.get("agents")?;
        agents
            .get("list")
            .and_then(Value::as_array)
            .and_then(|l| {
                l.iter()
                    .find(|e| e.get("id").and_then(Value::as_str) == Some(id))
            })
            .or_else(|| agents.pointer(&format!("/entries/{id}")))
    }

    /// The tools an agent's engine gets: the built-in set narrowed by the global
    /// `tools.allow` / `tools.deny`, then by the agent's own `tools.allow` / `tools.deny`
    /// (a deny always wins; an allow list keeps only what it names).
    pub fn tools_for(&self, agent_id: &str) -> ToolSelection {
        let levels = [
            self.config.get("tools"),
            self.agent_entry(agent_id).and_then(|e| e.get("tools")),
        ];
        if levels.iter().all(Option::is_none) {
            return ToolSelection::Default;
        }
        let mut tools: Vec<String> = DEFAULT_TOOLS.iter().map(|t| (*t).to_owned()).collect();
        for level in levels.into_iter().flatten() {
            if let Some(allow) = string_list(level.get("allow")) {
                tools.retain(|t| allow.iter().any(|a| a == t || a == "*"));
            }
            if let Some(deny) = string_list(level.get("deny")) {
                tools.retain(|t| !deny.iter().any(|d| d == t || d == "*"));
            }
        }
        if tools.is_empty() {
            ToolSelection::None
        } else {
            ToolSelection::Only(tools)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tool_policy_narrows_globally_then_per_agent() {
        let dir = std::path::Path::new("/tmp");
        let s = HostSettings::from_config(json!({}), dir);
        assert_eq!(s.tools_for("main"), ToolSelection::Default);
        let s = HostSettings::from_config(
            json!({"tools": {"deny": ["bash", "process"]},
                   "agents": {"list": [{"id": "main"}, {"id": "ro", "tools": {"allow": ["read", "bash"]}},
                                       {"id": "none", "tools": {"deny": ["*"]}}]}}),
            dir,
        );
        let only = |v: &[&str]| ToolSelection::Only(v.iter().map(|s| (*s).to_owned()).collect());
        assert_eq!(s.tools_for("main"), only(&["read", "edit", "write"]));
        assert_eq!(s.tools_for("ro"), only(&["read"]));
        assert_eq!(s.tools_for("none"), ToolSelection::None);
    }
}
