//! A small reader of the agent roster in `openclaw.json`: agents from `agents.list[]` (v3) or
//! `agents.entries{}` (v4) with `agents.defaults`. (Models come from openclaw-core's registry.)

use std::path::Path;
use std::time::Duration;

use openclaw_core::tool::{ExecConfig, ExecSettings};
use serde_json::{Map, Value, json};

/// OpenClaw's default run timeout (`agents.defaults.timeoutSeconds`): the `timeout` its CLI
/// sends with `openclaw agent`.
pub const DEFAULT_RUN_TIMEOUT_SECS: u64 = 600;

/// One configured agent.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentEntry {
    pub id: String,
    pub name: Option<String>,
    pub workspace: String,
    pub model_primary: Option<String>,
    pub model_fallbacks: Vec<String>,
    pub identity: Map<String, Value>,
    pub is_default: bool,
    /// The agent's skill allowlist: its own `skills`, else `agents.defaults.skills`; `None`
    /// when neither is set (every skill).
    pub skills: Option<Vec<String>>,
    /// A run still going after this is aborted (`timeoutSeconds`; `None` when 0).
    pub run_timeout: Option<Duration>,
    /// What bounds its `bash` commands (`tools.exec`, then the agent's `tools.exec`).
    pub exec: ExecSettings,
}

/// The run limits of one agent entry (or `agents.defaults`), as written.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunLimitsConfig {
    timeout_seconds: Option<u64>,
    #[serde(default)]
    tools: ToolsConfig,
}

#[derive(Debug, Default, serde::Deserialize)]
struct ToolsConfig {
    exec: Option<ExecConfig>,
}

fn run_limits(v: Option<&Value>, key: &str) -> Result<RunLimitsConfig, (String, String)> {
    match v {
        None => Ok(RunLimitsConfig::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| (key.to_owned(), e.to_string())),
    }
}

/// Checks `timeoutSeconds` and `tools.exec` of the defaults, every agent and the top level;
/// the error is (the section, what is wrong).
pub fn check_run_limits(config: &Value) -> Result<(), (String, String)> {
    run_limits(config.pointer("/agents/defaults"), "agents.defaults")?;
    run_limits(Some(config), "openclaw.json")?;
    let list = config.pointer("/agents/list").and_then(Value::as_array);
    for (i, e) in list.into_iter().flatten().enumerate() {
        run_limits(Some(e), &format!("agents.list[{i}]"))?;
    }
    let entries = config.pointer("/agents/entries").and_then(Value::as_object);
    for (id, e) in entries.into_iter().flatten() {
        run_limits(Some(e), &format!("agents.entries.{id}"))?;
    }
    Ok(())
}

/// One agent's run timeout and exec settings from its entry over the defaults and top level
/// (a section that does not parse counts as absent; [`check_run_limits`] refuses it at load).
fn resolve_limits(config: &Value, entry: &Value) -> (Option<Duration>, ExecSettings) {
    let get = |v: Option<&Value>| run_limits(v, "").unwrap_or_default();
    let defaults = get(config.pointer("/agents/defaults"));
    let top = get(Some(config));
    let own = get(Some(entry));
    let secs = own
        .timeout_seconds
        .or(defaults.timeout_seconds)
        .unwrap_or(DEFAULT_RUN_TIMEOUT_SECS);
    let layers = [top.tools.exec, own.tools.exec];
    let exec = ExecSettings::from_layers(layers.iter().flatten());
    ((secs > 0).then(|| Duration::from_secs(secs)), exec)
}

/// The agents the config declares (at least `main`).
#[derive(Debug, Clone, PartialEq)]
pub struct Roster {
    pub agents: Vec<AgentEntry>,
}

fn non_empty(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn model_of(v: Option<&Value>) -> (Option<String>, Vec<String>) {
    match v {
        Some(Value::String(s)) if !s.is_empty() => (Some(s.clone()), vec![]),
        Some(Value::Object(m)) => {
            let fallbacks = m
                .get("fallbacks")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| non_empty(Some(x))).collect())
                .unwrap_or_default();
            (non_empty(m.get("primary")), fallbacks)
        }
        _ => (None, vec![]),
    }
}

/// A JSON array's strings (`None` when `value` is not an array).
fn string_list(value: Option<&Value>) -> Option<Vec<String>> {
    value.and_then(Value::as_array).map(|items| {
        items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    })
}

impl Roster {
    pub fn from_config(config: &Value, state_dir: &Path) -> Self {
        let agents_cfg = config.get("agents");
        let defaults = agents_cfg.and_then(|a| a.get("defaults"));
        let mut raw: Vec<(String, Value)> = Vec::new();
        if let Some(list) = agents_cfg
            .and_then(|a| a.get("list"))
            .and_then(Value::as_array)
        {
            for entry in list {
                if let Some(id) = non_empty(entry.get("id")) {
                    raw.push((id, entry.clone()));
                }
            }
        }
        if let Some(entries) = agents_cfg
            .and_then(|a| a.get("entries"))
            .and_then(Value::as_object)
        {
            for (id, entry) in entries {
                if !id.is_empty() && !raw.iter().any(|(r, _)| r == id) {
                    raw.push((id.clone(), entry.clone()));
                }
            }
        }
        if raw.is_empty() {
            raw.push(("main".into(), json!({})));
        }
        let default_idx = raw
            .iter()
            .position(|(_, e)| e.get("default") == Some(&Value::Bool(true)))
            .unwrap_or(0);
        let default_ws = non_empty(defaults.and_then(|d| d.get("workspace")));
        let (def_primary, def_fallbacks) = model_of(defaults.and_then(|d| d.get("model")));
        let agents = raw
            .into_iter()
            .enumerate()
            .map(|(i, (id, e))| {
                let is_default = i == default_idx;
                let workspace = non_empty(e.get("workspace")).unwrap_or_else(|| {
                    match (&default_ws, is_default) {
                        (Some(ws), true) => ws.clone(),
                        (Some(ws), false) => format!("{ws}-{id}"),
                        (None, true) => state_dir.join("workspace").display().to_string(),
                        (None, false) => state_dir
                            .join(format!("workspace-{id}"))
                            .display()
                            .to_string(),
                    }
                });
                let (primary, fallbacks) = match model_of(e.get("model")) {
                    (None, _) => (def_primary.clone(), def_fallbacks.clone()),
                    other => other,
                };
                let identity = e
                    .get("identity")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .filter(|(k, v)| {
                                ["name", "theme", "emoji", "avatar", "avatarUrl"]
                                    .contains(&k.as_str())
                                    && v.as_str().is_some_and(|s| !s.is_empty())
                            })
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default();
                let (run_timeout, exec) = resolve_limits(config, &e);
                let skills = string_list(e.get("skills"))
                    .or_else(|| string_list(defaults.and_then(|d| d.get("skills"))));
                AgentEntry {
                    run_timeout,
                    exec,
                    name: non_empty(e.get("name")),
                    id,
                    workspace,
                    model_primary: primary,
                    model_fallbacks: fallbacks,
                    identity,
                    is_default,
                    skills,
                }
            })
            .collect();
        Roster { agents }
    }

    pub fn default_id(&self) -> &str {
        self.agents
            .iter()
            .find(|a| a.is_default)
            .map_or("main", |a| a.id.as_str())
    }

    pub fn get(&self, id: &str) -> Option<&AgentEntry> {
        self.agents.iter().find(|a| a.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_timeout_and_exec_limits_default_as_openclaw_and_layer_per_agent() {
        let dir = Path::new("/s");
        let r = Roster::from_config(&json!({}), dir);
        assert_eq!(r.agents[0].run_timeout, Some(Duration::from_secs(600)));
        assert_eq!(r.agents[0].exec, ExecSettings::default());
        assert_eq!(
            r.agents[0].exec.default_timeout,
            Some(Duration::from_secs(1800))
        );
        let cfg = json!({
            "tools": {"deny": ["x"], "exec": {"timeoutSeconds": 30, "limits": {"maxProcesses": 50}}},
            "agents": {"defaults": {"timeoutSeconds": 120},
                       "list": [{"id": "a"}, {"id": "b", "timeoutSeconds": 0,
                                 "tools": {"exec": {"timeoutSeconds": 5}}}]}});
        assert!(check_run_limits(&cfg).is_ok());
        let r = Roster::from_config(&cfg, dir);
        let (a, b) = (r.get("a").unwrap(), r.get("b").unwrap());
        assert_eq!(a.run_timeout, Some(Duration::from_secs(120)));
        assert_eq!(b.run_timeout, None);
        assert_eq!(a.exec.default_timeout, Some(Duration::from_secs(30)));
        assert_eq!(b.exec.default_timeout, Some(Duration::from_secs(5)));
        assert_eq!(b.exec.limits.max_processes, Some(50));
        let bad = json!({"agents": {"list": [{"id": "a", "tools": {"exec": {"limits": {"maxMemoryMb": -1}}}}]}});
        assert_eq!(check_run_limits(&bad).unwrap_err().0, "agents.list[0]");
    }

    #[test]
    fn list_and_entries_forms() {
        let dir = Path::new("/s");
        let v3 = json!({"agents":{"list":[{"id":"a","name":"A"},{"id":"b","default":true,"model":"p/m"}]}});
        let r = Roster::from_config(&v3, dir);
        assert_eq!(r.default_id(), "b");
        assert_eq!(r.get("b").unwrap().model_primary.as_deref(), Some("p/m"));
        assert_eq!(r.get("a").unwrap().workspace, "/s/workspace-a");
        let v4 = json!({"agents":{"defaults":{"model":{"primary":"x/y","fallbacks":["z/w"]}},
            "entries":{"main":{"identity":{"name":"Claw","emoji":"🦞","bogus":1}}}}});
        let r = Roster::from_config(&v4, dir);
        assert_eq!(r.default_id(), "main");
        let main = r.get("main").unwrap();
        assert_eq!(main.model_fallbacks, vec!["z/w".to_owned()]);
        assert_eq!(main.identity.len(), 2);
        assert_eq!(main.workspace, "/s/workspace");
        assert_eq!(Roster::from_config(&json!({}), dir).default_id(), "main");
    }
}
