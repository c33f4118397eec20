//! The part of `openclaw.json` the agent host runs on — the agent roster, the workspace
//! limits and the whole config value (models, providers, tool policy, HTTP endpoints) — as
//! one immutable snapshot. A config reload swaps the snapshot and bumps a generation; an
//! engine started under an older generation is restarted before its next run, so models,
//! providers and tool policy change without restarting the gateway.

use std::collections::HashMap;
use std::path::Path;

use openclaw_core::engine::ToolSelection;
use openclaw_core::sandbox::{ExecTarget, SandboxMode, SandboxSettings};
use openclaw_core::tool::{ALL_TOOL_NAMES, DEFAULT_TOOL_NAMES};
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
    /// Each agent's sandbox (or why its section is invalid), checked when the config loads.
    pub sandboxes: HashMap<String, Result<SandboxSettings, String>>,
}

/// OpenClaw's `group:memory` names the memory tools in allow and deny lists.
fn in_group(entry: &str, tool: &str) -> bool {
    entry == "group:memory" && openclaw_memory::MEMORY_TOOL_NAMES.contains(&tool)
}

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
            sandboxes: sandboxes(&config, &roster, state_dir),
            roster,
            config,
        }
    }

    /// Where `bash` of `session_key` (agent `agent_id`, workspace `workspace`) runs.
    pub fn exec_target(&self, agent_id: &str, session_key: &str, workspace: &Path) -> ExecTarget {
        match self.sandboxes.get(agent_id) {
            Some(Ok(s)) => openclaw_sandbox::exec_target(s, agent_id, Some(session_key), workspace),
            Some(Err(e)) => ExecTarget::Refuse(format!("invalid sandbox configuration: {e}")),
            None => ExecTarget::Host,
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

    /// Whether the tool policy lets `agent_id` use `tool`: the global `tools.allow` /
    /// `tools.deny`, then the agent's own (a deny always wins; an allow list keeps only what it
    /// names). Without an allow list only pi's default built-ins (and the gateway's own tools)
    /// are on.
    pub fn allows(&self, agent_id: &str, tool: &str) -> bool {
        // The scheduler tool answers to its legacy name and its group too (OpenClaw's
        // `automations` / `cron`, `group:automation`).
        let names: &[&str] = if tool == crate::cron::tool::NAME {
            &[
                crate::cron::tool::NAME,
                crate::cron::tool::ALIAS,
                "group:automation",
            ]
        } else {
            &[]
        };
        let named = |a: &String| a == tool || names.contains(&a.as_str());
        let levels = [
            self.config.get("tools"),
            self.agent_entry(agent_id).and_then(|e| e.get("tools")),
        ];
        let mut allowed = None;
        for level in levels.into_iter().flatten() {
            if let Some(allow) = string_list(level.get("allow")) {
                let listed = allow
                    .iter()
                    .any(|a| named(a) || a == "*" || in_group(a, tool));
                allowed = Some(allowed.unwrap_or(true) && listed);
            }
            if let Some(deny) = string_list(level.get("deny")) {
                if deny
                    .iter()
                    .any(|d| named(d) || d == "*" || in_group(d, tool))
                {
                    return false;
                }
            }
        }
        allowed.unwrap_or_else(|| {
            DEFAULT_TOOL_NAMES.contains(&tool) || !ALL_TOOL_NAMES.contains(&tool)
        })
    }

    /// The global and the agent's `tools` policy, for the MCP tools.
    fn mcp_policy(&self, agent_id: &str) -> Vec<openclaw_mcp::policy::PolicyLevel> {
        [
            self.config.get("tools"),
            self.agent_entry(agent_id).and_then(|e| e.get("tools")),
        ]
        .into_iter()
        .flatten()
        .map(openclaw_mcp::policy::PolicyLevel::from_tools)
        .collect()
    }

    /// Whether `agent_id` may use the MCP server whose tools are prefixed `safe_server`
    /// (`openclaw_mcp::policy`: `bundle-mcp`, `<server>__*`).
    pub fn mcp_server_allowed(&self, agent_id: &str, safe_server: &str) -> bool {
        openclaw_mcp::policy::admits_server(&self.mcp_policy(agent_id), safe_server)
    }

    /// Whether `agent_id`'s policy admits the MCP tool `name`.
    pub fn mcp_tool_allowed(&self, agent_id: &str, name: &str) -> bool {
        openclaw_mcp::policy::admits_tool(&self.mcp_policy(agent_id), name)
    }

    /// The built-in tools an agent's engine gets under the tool policy.
    pub fn tools_for(&self, agent_id: &str) -> ToolSelection {
        let no_policy = [
            self.config.get("tools"),
            self.agent_entry(agent_id).and_then(|e| e.get("tools")),
        ]
        .iter()
        .all(Option::is_none);
        if no_policy {
            return ToolSelection::Default;
        }
        let tools: Vec<String> = ALL_TOOL_NAMES
            .iter()
            .filter(|t| self.allows(agent_id, t))
            .map(|t| (*t).to_owned())
            .collect();
        if tools.is_empty() {
            ToolSelection::None
        } else {
            ToolSelection::Only(tools)
        }
    }
}

/// Every agent's sandbox settings; a sandboxing agent's backend is checked now (once per
/// process, cached by `openclaw-sandbox`), and an unavailable one is logged at load, not found
/// mid-turn: its sandboxed runs are then refused with the same reason.
fn sandboxes(
    config: &Value,
    roster: &Roster,
    state_dir: &Path,
) -> HashMap<String, Result<SandboxSettings, String>> {
    let mut out = HashMap::new();
    for agent in &roster.agents {
        let s = SandboxSettings::from_openclaw_json(config, &agent.id, state_dir);
        if let Ok(s) = &s {
            if s.mode != SandboxMode::Off {
                let avail = openclaw_sandbox::availability(s);
                match avail.refusal() {
                    Some(why) => tracing::warn!("agent {}: {why}", agent.id),
                    None => tracing::info!("agent {}: sandbox {}", agent.id, avail.summary()),
                }
            }
        }
        out.insert(agent.id.clone(), s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn non_main_sandboxes_every_session_but_the_main_one() {
        let dir = std::path::Path::new("/tmp");
        let s = HostSettings::from_config(
            json!({"agents": {"defaults": {"sandbox": {"mode": "non-main"}}}}),
            dir,
        );
        let ws = std::path::Path::new("/tmp/ws");
        assert_eq!(
            s.exec_target("main", "agent:main:main", ws),
            ExecTarget::Host
        );
        let group = s.exec_target("main", "agent:main:telegram:group:42", ws);
        assert_ne!(group, ExecTarget::Host, "{group:?}");
        let off = HostSettings::from_config(json!({}), dir);
        assert_eq!(
            off.exec_target("main", "agent:main:telegram:group:42", ws),
            ExecTarget::Host
        );
        let bad = HostSettings::from_config(
            json!({"agents": {"defaults": {"sandbox": {"workspaceAccess": "all"}}}}),
            dir,
        );
        let t = bad.exec_target("main", "agent:main:main", ws);
        assert!(
            t.describe().contains("invalid sandbox configuration"),
            "{t:?}"
        );
    }

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
        assert!(s.allows("main", "sessions_send"));
        assert!(!s.allows("none", "sessions_send"));
        let s = HostSettings::from_config(json!({"tools": {"allow": ["read", "grep"]}}), dir);
        assert_eq!(s.tools_for("main"), only(&["read", "grep"]));
        assert!(!s.allows("main", "sessions_send"));
    }
}
