//! `openclaw sandbox list | explain | recreate` (OpenClaw's commands), the sandbox line of
//! `openclaw health`, and where the in-process modes' `bash` runs. Native sandboxes live only
//! as long as their command (nothing to list but the private workspaces, nothing to
//! recreate); docker/podman ones are the labelled containers OpenClaw's tooling also sees.

use std::path::{Path, PathBuf};

use openclaw_core::config::{self, OpenClawConfig};
use openclaw_core::sandbox::{BackendKind, ExecTarget, SandboxMode, SandboxSettings};
use openclaw_gateway::roster::Roster;
use openclaw_sandbox::docker;
use serde_json::{Value, json};

use crate::cli::{SandboxCmd, SandboxTarget};
use crate::error::{CliError, CliResult};
use crate::output::print_json;

/// The config and the roster of agents with their sandbox settings.
struct Loaded {
    raw: Value,
    roster: Roster,
    state_dir: PathBuf,
}

fn load() -> CliResult<Loaded> {
    let cfg = OpenClawConfig::load()?;
    let state_dir = config::state_dir();
    let roster = Roster::from_config(&cfg.raw, &state_dir);
    Ok(Loaded {
        raw: cfg.raw,
        roster,
        state_dir,
    })
}

impl Loaded {
    fn settings(&self, agent: &str) -> CliResult<SandboxSettings> {
        SandboxSettings::from_openclaw_json(&self.raw, agent, &self.state_dir)
            .map_err(|e| CliError::failure(format!("invalid sandbox configuration: {e}")))
    }

    fn workspace(&self, agent: &str) -> PathBuf {
        self.roster
            .get(agent)
            .map(|a| PathBuf::from(&a.workspace))
            .unwrap_or_else(|| self.state_dir.join("workspace"))
    }
}

pub fn run(cmd: SandboxCmd) -> CliResult {
    match cmd {
        SandboxCmd::List { json } => list(json.json),
        SandboxCmd::Explain { target, json } => explain(&target, json.json),
        SandboxCmd::Recreate { target, all, force } => recreate(&target, all, force),
    }
}

/// The agent and session key a target names (`--session` alone implies its agent).
fn agent_and_key(l: &Loaded, t: &SandboxTarget) -> (String, String) {
    let from_key = t
        .session
        .as_deref()
        .and_then(|k| k.strip_prefix("agent:"))
        .and_then(|k| k.split(':').next());
    let agent = t
        .agent
        .clone()
        .or_else(|| from_key.map(str::to_owned))
        .unwrap_or_else(|| l.roster.default_id().to_owned());
    let key = match t.session.as_deref() {
        Some(k) if k.starts_with("agent:") || k == "global" => k.to_owned(),
        Some(k) => format!("agent:{agent}:{k}"),
        None => format!("agent:{agent}:main"),
    };
    (agent, key)
}

fn explain(t: &SandboxTarget, as_json: bool) -> CliResult {
    let l = load()?;
    let (agent, key) = agent_and_key(&l, t);
    let s = l.settings(&agent)?;
    let ws = l.workspace(&agent);
    let sandboxed = s.applies_to(&agent, Some(&key));
    let target = openclaw_sandbox::exec_target(&s, &agent, Some(&key), &ws);
    let avail = openclaw_sandbox::availability(&s);
    // The scope's container (docker/podman): its name and state.
    let container = container_program(s.backend).map(|program| {
        let name = docker::container_name(&s.container_prefix, &s.scope_key(&agent, Some(&key)));
        let state = match docker::container_state(program, &name) {
            Ok(Some(state)) => state,
            Ok(None) => "absent".into(),
            Err(e) => format!("unknown: {e}"),
        };
        json!({"engine": program, "name": name, "state": state})
    });
    let doc = json!({
        "agentId": agent,
        "sessionKey": key,
        "sandboxed": sandboxed,
        "execTarget": target.describe(),
        "scopeKey": s.scope_key(&agent, Some(&key)),
        "workspace": ws,
        "settings": s,
        "availability": avail,
        "container": container,
    });
    if as_json {
        print_json(&doc);
        return Ok(());
    }
    crate::out!("agent:            {agent}");
    crate::out!("session:          {key}");
    crate::out!(
        "mode:             {} ({})",
        enum_name(&s.mode),
        if sandboxed {
            "sandboxed"
        } else {
            "not sandboxed"
        }
    );
    crate::out!(
        "exec host:        {} -> {}",
        enum_name(&s.exec_host),
        target.describe()
    );
    crate::out!("backend:          {}", enum_name(&s.backend));
    crate::out!(
        "scope:            {} ({})",
        enum_name(&s.scope),
        s.scope_key(&agent, Some(&key))
    );
    crate::out!(
        "workspaceAccess:  {} (agent workspace {})",
        enum_name(&s.workspace_access),
        ws.display()
    );
    crate::out!("network:          {}", if s.network { "on" } else { "off" });
    crate::out!(
        "limits:           {}",
        serde_json::to_string(&s.limits).unwrap_or_default()
    );
    if let Some(c) = &container {
        let field = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        crate::out!(
            "container:        {} ({}, {}; image {}; created on the first command)",
            field("name"),
            field("engine"),
            field("state"),
            s.image
        );
    }
    for layer in &avail.layers {
        let mark = if layer.ok { "✓" } else { "✗" };
        crate::out!("{mark} {:<15} {}", layer.name, layer.detail);
    }
    Ok(())
}

fn enum_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The engine program of a container backend.
fn container_program(kind: BackendKind) -> Option<&'static str> {
    match kind {
        BackendKind::Docker => Some("docker"),
        BackendKind::Podman => Some("podman"),
        BackendKind::Native => None,
    }
}

/// The container programs the configured agents use.
fn container_programs(l: &Loaded) -> Vec<&'static str> {
    let mut out = Vec::new();
    for a in &l.roster.agents {
        let Some(p) = l
            .settings(&a.id)
            .ok()
            .and_then(|s| container_program(s.backend))
        else {
            continue;
        };
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

fn list(as_json: bool) -> CliResult {
    let l = load()?;
    let mut rows = Vec::new();
    for program in container_programs(&l) {
        match docker::list_containers(program) {
            Ok(cs) => rows.extend(cs.into_iter().map(|c| {
                json!({"backend": program, "name": c.name, "image": c.image, "state": c.state, "labels": c.labels})
            })),
            Err(e) => rows.push(json!({"backend": program, "error": e})),
        }
    }
    for root in private_roots(&l) {
        for e in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            // (Dot-entries are the backends' own, e.g. the docker backend's `.empty`.)
            if e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('.') {
                rows.push(json!({"backend": "native", "name": e.file_name().to_string_lossy(), "workspace": e.path()}));
            }
        }
    }
    if as_json {
        print_json(&json!({ "sandboxes": rows }));
        return Ok(());
    }
    if rows.is_empty() {
        crate::out!("No sandboxes (native sandboxes exist only while a command runs).");
    }
    for r in &rows {
        let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
        match r.get("error") {
            Some(e) => crate::out!(
                "{:<8} error: {}",
                field("backend"),
                e.as_str().unwrap_or("")
            ),
            None => crate::out!(
                "{:<8} {:<40} {}",
                field("backend"),
                field("name"),
                if field("state").is_empty() {
                    field("workspace")
                } else {
                    format!("{} {}", field("state"), field("image"))
                }
            ),
        }
    }
    Ok(())
}

/// The private-workspace roots of agents with `workspaceAccess: none`.
fn private_roots(l: &Loaded) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    for a in &l.roster.agents {
        if let Ok(s) = l.settings(&a.id) {
            if s.mode != SandboxMode::Off && !roots.contains(&s.workspace_root) {
                roots.push(s.workspace_root);
            }
        }
    }
    roots
}

fn recreate(t: &SandboxTarget, all: bool, force: bool) -> CliResult {
    if !all && t.agent.is_none() && t.session.is_none() {
        return Err(CliError::usage(
            "name what to recreate: --all, --agent <id> or --session <key>",
        ));
    }
    let l = load()?;
    let mut removed = 0;
    for program in container_programs(&l) {
        let rows = docker::list_containers(program).map_err(CliError::failure)?;
        let wanted = |c: &docker::ContainerRow| {
            let key = c.label("openclaw.sessionKey").unwrap_or("");
            let agent = format!("agent:{}", t.agent.as_deref().unwrap_or(""));
            all || t.session.as_deref() == Some(key)
                || (t.agent.is_some() && (key == agent || key.starts_with(&format!("{agent}:"))))
        };
        for c in rows.iter().filter(|c| wanted(c)) {
            if !force && c.state == "running" {
                crate::out!("skipping running {} (use --force)", c.name);
                continue;
            }
            docker::remove_container(program, &c.name).map_err(CliError::failure)?;
            crate::out!(
                "removed {} ({program}); it is created afresh on its next command",
                c.name
            );
            removed += 1;
        }
    }
    if removed == 0 {
        crate::out!("Nothing to recreate (native sandboxes are created for every command).");
    }
    Ok(())
}

/// `openclaw health`'s sandbox check: the configured agents' modes and whether the backend
/// they need works here (the native backend's layers are always shown).
pub(crate) fn health_check(cfg: &OpenClawConfig) -> (bool, String, Option<String>) {
    let state_dir = config::state_dir();
    let roster = Roster::from_config(&cfg.raw, &state_dir);
    let mut native = SandboxSettings::off(&state_dir);
    let mut modes = Vec::new();
    for a in &roster.agents {
        match SandboxSettings::from_openclaw_json(&cfg.raw, &a.id, &state_dir) {
            Err(e) => {
                return (
                    false,
                    e,
                    Some("fix the sandbox section of openclaw.json".into()),
                );
            }
            Ok(s) if s.mode == SandboxMode::Off => {}
            Ok(s) => {
                let avail = openclaw_sandbox::availability(&s);
                if let Some(why) = avail.refusal() {
                    let hint = "sandboxed commands are refused until this is fixed; `openclaw sandbox explain` shows each layer";
                    return (false, format!("agent {}: {why}", a.id), Some(hint.into()));
                }
                modes.push(format!("{}={}", a.id, enum_name(&s.mode)));
                native = s;
            }
        }
    }
    let summary = openclaw_sandbox::availability(&native).summary();
    let modes = if modes.is_empty() {
        "off".to_owned()
    } else {
        modes.join(", ")
    };
    (true, format!("{modes}; {summary}"), None)
}

/// Where `bash` runs in the in-process modes: sandboxed when `mode: all` (an in-process
/// session is the agent's main session, which `non-main` spares), with the working directory
/// as the workspace.
pub(crate) fn in_process_target(cwd: &Path) -> ExecTarget {
    let Ok(cfg) = OpenClawConfig::load() else {
        return ExecTarget::Host;
    };
    let state_dir = config::state_dir();
    let agent = Roster::from_config(&cfg.raw, &state_dir)
        .default_id()
        .to_owned();
    match SandboxSettings::from_openclaw_json(&cfg.raw, &agent, &state_dir) {
        Ok(s) => openclaw_sandbox::exec_target(&s, &agent, None, cwd),
        Err(e) => ExecTarget::Refuse(format!("invalid sandbox configuration: {e}")),
    }
}
