//! The requested policy from `openclaw.json`: `tools.exec` at the top level, under
//! `agents.defaults.tools.exec` and under the agent's own entry (`agents.list[]` or
//! `agents.entries.<id>`), later layers overriding earlier ones key by key. `mode` and the older
//! `security`/`ask` pair name the same thing; one layer may not mix them (OpenClaw 9.6 rejects it).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::{Ask, DEFAULT_APPROVAL_TIMEOUT_MS, Security};

/// `tools.exec.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecMode {
    Deny,
    Allowlist,
    Ask,
    Full,
}

impl ExecMode {
    /// The `(security, ask)` pair the mode stands for.
    pub fn pair(self) -> (Security, Ask) {
        match self {
            ExecMode::Deny => (Security::Deny, Ask::Off),
            ExecMode::Allowlist => (Security::Allowlist, Ask::Off),
            ExecMode::Ask => (Security::Allowlist, Ask::OnMiss),
            ExecMode::Full => (Security::Full, Ask::Off),
        }
    }
}

/// The policy keys of one `tools.exec` section, as written (other keys are ignored here).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecPolicyConfig {
    pub mode: Option<ExecMode>,
    pub security: Option<Security>,
    pub ask: Option<Ask>,
    pub ask_fallback: Option<Security>,
    pub strict_inline_eval: Option<bool>,
    pub safe_bins: Option<Vec<String>>,
    pub safe_bin_trusted_dirs: Option<Vec<String>>,
    pub approval_timeout_ms: Option<u64>,
}

/// OpenClaw's default `safeBins`: tools that only filter their standard input.
pub const DEFAULT_SAFE_BINS: &[&str] = &["jq", "cut", "uniq", "head", "tail", "tr", "wc"];
/// OpenClaw's default `safeBinTrustedDirs`.
pub const DEFAULT_SAFE_BIN_DIRS: &[&str] = &["/bin", "/usr/bin"];

/// The requested policy after layering (before the approvals document tightens it).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecPolicy {
    pub security: Security,
    pub ask: Ask,
    pub ask_fallback: Security,
    pub strict_inline_eval: bool,
    pub safe_bins: Vec<String>,
    pub safe_bin_trusted_dirs: Vec<PathBuf>,
    pub approval_timeout: Duration,
    /// Whether any layer set `mode`, `security` or `ask` (RPC mode applies a policy only then).
    pub explicit: bool,
}

impl Default for ExecPolicy {
    /// A new install: allowlist, ask on a miss, refuse when nobody can be asked.
    fn default() -> Self {
        ExecPolicy {
            security: Security::Allowlist,
            ask: Ask::OnMiss,
            ask_fallback: Security::Deny,
            strict_inline_eval: false,
            safe_bins: DEFAULT_SAFE_BINS.iter().map(|s| (*s).to_owned()).collect(),
            safe_bin_trusted_dirs: DEFAULT_SAFE_BIN_DIRS.iter().map(PathBuf::from).collect(),
            approval_timeout: Duration::from_millis(DEFAULT_APPROVAL_TIMEOUT_MS),
            explicit: false,
        }
    }
}

impl ExecPolicy {
    /// Runs everything, never asks (`mode: "full"`; pi's behaviour).
    pub fn full() -> Self {
        ExecPolicy {
            security: Security::Full,
            ask: Ask::Off,
            ask_fallback: Security::Full,
            explicit: true,
            ..ExecPolicy::default()
        }
    }

    /// Lays `layer` over this policy; `at` names the section for errors.
    pub fn apply(&mut self, layer: &ExecPolicyConfig, at: &str) -> Result<(), String> {
        if layer.mode.is_some() && (layer.security.is_some() || layer.ask.is_some()) {
            return Err(format!(
                "{at}: set either mode or the older security/ask, not both"
            ));
        }
        if let Some(mode) = layer.mode {
            (self.security, self.ask) = mode.pair();
            self.explicit = true;
        }
        if let Some(s) = layer.security {
            self.security = s;
            self.explicit = true;
        }
        if let Some(a) = layer.ask {
            self.ask = a;
            self.explicit = true;
        }
        if let Some(f) = layer.ask_fallback {
            self.ask_fallback = f;
        }
        if let Some(b) = layer.strict_inline_eval {
            self.strict_inline_eval = b;
        }
        if let Some(bins) = &layer.safe_bins {
            self.safe_bins = bins.clone();
        }
        if let Some(dirs) = &layer.safe_bin_trusted_dirs {
            self.safe_bin_trusted_dirs = dirs.iter().map(PathBuf::from).collect();
        }
        if let Some(ms) = layer.approval_timeout_ms {
            if ms == 0 {
                return Err(format!("{at}.approvalTimeoutMs: must be more than 0"));
            }
            self.approval_timeout = Duration::from_millis(ms);
        }
        Ok(())
    }

    /// The policy of agent `agent_id` (`None`: the defaults) in `config` (`openclaw.json`):
    /// `tools.exec`, then `agents.defaults.tools.exec`, then the agent's `tools.exec`.
    pub fn from_config(config: &Value, agent_id: Option<&str>) -> Result<Self, String> {
        let mut policy = ExecPolicy::default();
        for (at, section) in layers(config, agent_id) {
            let layer: ExecPolicyConfig =
                serde_json::from_value(section.clone()).map_err(|e| format!("{at}: {e}"))?;
            policy.apply(&layer, &at)?;
        }
        Ok(policy)
    }
}

/// The `tools.exec` sections that apply to an agent, in layering order, with their names.
fn layers<'a>(config: &'a Value, agent_id: Option<&str>) -> Vec<(String, &'a Value)> {
    let mut out = Vec::new();
    let mut push = |at: String, v: Option<&'a Value>| {
        if let Some(v) = v.and_then(|v| v.pointer("/tools/exec")) {
            out.push((format!("{at}tools.exec"), v));
        }
    };
    push(String::new(), Some(config));
    push(
        "agents.defaults.".into(),
        config.pointer("/agents/defaults"),
    );
    if let Some(id) = agent_id {
        let listed = config
            .pointer("/agents/list")
            .and_then(Value::as_array)
            .and_then(|l| {
                l.iter()
                    .position(|e| e.get("id").and_then(Value::as_str) == Some(id))
                    .map(|i| (i, &l[i]))
            });
        if let Some((i, e)) = listed {
            push(format!("agents.list[{i}]."), Some(e));
        }
        let entry = config.pointer("/agents/entries").and_then(|e| e.get(id));
        push(format!("agents.entries.{id}."), entry);
    }
    out
}

/// Checks the policy keys of every agent of `config` (for config validation at load).
pub fn check(config: &Value) -> Result<(), String> {
    ExecPolicy::from_config(config, None)?;
    let mut ids: Vec<&str> = Vec::new();
    if let Some(l) = config.pointer("/agents/list").and_then(Value::as_array) {
        ids.extend(l.iter().filter_map(|e| e.get("id").and_then(Value::as_str)));
    }
    if let Some(m) = config.pointer("/agents/entries").and_then(Value::as_object) {
        ids.extend(m.keys().map(String::as_str));
    }
    for id in ids {
        ExecPolicy::from_config(config, Some(id))?;
    }
    Ok(())
}
