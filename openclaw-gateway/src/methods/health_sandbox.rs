//! `sandbox` of the `status` result (ours, additive to OpenClaw's shape; `health`'s schema is
//! closed): for each agent, its
//! sandbox mode and — when it sandboxes — whether the backend it needs works on this machine,
//! layer by layer, plus one summary line like `openclaw health`'s. The probes are
//! `openclaw-sandbox`'s, cached per process (they ran when the config loaded), so `status`
//! never probes anew; an agent with `mode: "off"` probes nothing.

use std::path::Path;

use openclaw_core::sandbox::{Layer, SandboxMode, SandboxSettings};
use serde::Serialize;
use serde_json::Value;

use crate::roster::Roster;

/// `status.sandbox`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SandboxHealth {
    /// Every sandboxing agent's backend works (true when no agent sandboxes).
    pub ok: bool,
    /// One line: the agents' modes and the backend's layers, or what is wrong.
    pub summary: String,
    pub agents: Vec<AgentSandbox>,
}

/// One agent's sandbox.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AgentSandbox {
    pub agent_id: String,
    /// `off | non-main | all`; `null` when the agent's sandbox section is invalid.
    pub mode: Option<SandboxMode>,
    /// `native | docker | podman` when the agent sandboxes.
    pub backend: Option<String>,
    pub ok: bool,
    /// Why sandboxed commands are refused (an invalid section, an unavailable backend).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<Layer>,
}

fn agent(config: &Value, id: &str, state_dir: &Path) -> AgentSandbox {
    let mut row = AgentSandbox {
        agent_id: id.to_owned(),
        mode: None,
        backend: None,
        ok: true,
        error: None,
        layers: Vec::new(),
    };
    match SandboxSettings::from_openclaw_json(config, id, state_dir) {
        Err(e) => {
            row.ok = false;
            row.error = Some(format!("invalid sandbox configuration: {e}"));
        }
        Ok(s) => {
            row.mode = Some(s.mode);
            if s.mode != SandboxMode::Off {
                let avail = openclaw_sandbox::availability(&s);
                row.error = avail.refusal();
                row.ok = row.error.is_none();
                row.backend = Some(avail.backend);
                row.layers = avail.layers;
            }
        }
    }
    row
}

/// The sandbox health of every agent in `roster`.
pub(crate) fn sandbox_health(config: &Value, roster: &Roster, state_dir: &Path) -> SandboxHealth {
    let agents: Vec<AgentSandbox> = roster
        .agents
        .iter()
        .map(|a| agent(config, &a.id, state_dir))
        .collect();
    let ok = agents.iter().all(|a| a.ok);
    let summary = match agents.iter().find(|a| !a.ok) {
        Some(bad) => format!(
            "agent {}: {}",
            bad.agent_id,
            bad.error.as_deref().unwrap_or("unavailable")
        ),
        None => summary_line(&agents),
    };
    SandboxHealth {
        ok,
        summary,
        agents,
    }
}

/// `main=all, ops=non-main; native: bubblewrap ok, …`, or `off`.
fn summary_line(agents: &[AgentSandbox]) -> String {
    let on: Vec<&AgentSandbox> = agents.iter().filter(|a| a.backend.is_some()).collect();
    let Some(first) = on.first() else {
        return "off".into();
    };
    let modes: Vec<String> = on
        .iter()
        .map(|a| {
            let mode = a.mode.map_or_else(String::new, |m| {
                serde_json::to_value(m)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            });
            format!("{}={mode}", a.agent_id)
        })
        .collect();
    let layers: Vec<String> = first
        .layers
        .iter()
        .map(|l| format!("{} {}", l.name, if l.ok { "ok" } else { "unavailable" }))
        .collect();
    format!(
        "{}; {}: {}",
        modes.join(", "),
        first.backend.as_deref().unwrap_or_default(),
        layers.join(", ")
    )
}
