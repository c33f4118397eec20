//! Gateway-level read methods: `health`, `status`, `system-presence`, `logs.tail`,
//! `usage.status`, `commands.list` (built-in commands and the agent's skills) and
//! `tools.catalog`.

use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use openclaw_core::protocol::ErrorShape;
use serde_json::{Value, json};

use crate::roster::Roster;
use crate::state::{Shared, now_ms};
use openclaw_core::protocol::system::{
    CommandsListParams, HealthParams, LogsTailParams, NoParams, StatusParams, ToolsCatalogParams,
};

/// The typed health summary (the `health` result, `health` event and hello-ok snapshot).
pub(crate) fn health_summary(shared: &Shared, roster: &Roster) -> Value {
    let started = std::time::Instant::now();
    let beats = shared.heartbeat.summary();
    // Every agent's index is in the state database.
    let db = openclaw_state::paths::database(&shared.state_dir);
    let sessions_path = |_: &str| db.clone();
    let agents: Vec<Value> = roster
        .agents
        .iter()
        .map(|a| {
            let mut row = json!({
                "agentId": a.id,
                "isDefault": a.is_default,
                "heartbeat": agent_heartbeat(&beats, &a.id),
                "sessions": sessions_of(shared, &a.id, &sessions_path(&a.id)),
            });
            if let Some(name) = &a.name {
                row["name"] = json!(name);
            }
            row
        })
        .collect();
    // The default agent's summary is already in `agents`: one query, not two.
    let default_sessions = agents
        .iter()
        .find(|a| a["agentId"] == roster.default_id())
        .map(|a| a["sessions"].clone())
        .unwrap_or_else(|| {
            sessions_of(
                shared,
                roster.default_id(),
                &sessions_path(roster.default_id()),
            )
        });
    let channels = shared.channels.health_channels();
    json!({
        "ok": true,
        "ts": now_ms(),
        "durationMs": started.elapsed().as_millis() as u64,
        "channels": channels.channels,
        "channelOrder": channels.order,
        "channelLabels": channels.labels,
        "heartbeatSeconds": beats.iter().find(|b| b.settings.agent_id == roster.default_id())
            .filter(|b| b.enabled).and_then(|b| b.settings.every_ms).map_or(0, |ms| ms / 1000),
        "defaultAgentId": roster.default_id(),
        "agents": agents,
        "sessions": default_sessions,
    })
}

/// An agent's `heartbeat` in `health` (`enabled: false, every: "disabled"` when it does not beat).
fn agent_heartbeat(beats: &[crate::cron::heartbeat::AgentSummary], agent_id: &str) -> Value {
    match beats.iter().find(|b| b.settings.agent_id == agent_id) {
        Some(b) if b.enabled => json!({"enabled": true, "every": b.settings.every,
            "everyMs": b.settings.every_ms, "prompt": b.settings.prompt,
            "target": b.settings.target.as_str(), "ackMaxChars": b.settings.ack_max_chars}),
        _ => json!({"enabled": false, "every": "disabled", "everyMs": null, "prompt": "",
            "target": "none", "ackMaxChars": 300}),
    }
}

/// `{path, count, recent}` for one agent, from the backend when it keeps sessions.
fn sessions_of(shared: &Shared, agent_id: &str, path: &std::path::Path) -> Value {
    let mut v = shared
        .backend
        .sessions_summary(agent_id)
        .unwrap_or_else(|| json!({"count": 0, "recent": []}));
    if let Value::Object(m) = &mut v {
        m.insert("path".into(), json!(path.display().to_string()));
    }
    v
}

/// `health` (`probe` changes nothing: every answer is computed fresh, there is no cache to
/// bypass). Exactly OpenClaw's summary shape: its schema is closed, so our additions (the
/// sandbox) live in `status`.
pub(crate) fn health(shared: &Arc<Shared>, _: HealthParams) -> Result<Value, ErrorShape> {
    let roster = Roster::from_config(&shared.config_value(), &shared.state_dir);
    Ok(health_summary(shared, &roster))
}

/// `status`. `includeChannelSummary` / `includeCliProjection` change nothing: the channel
/// summary is always present (empty: no channels) and there is no separate CLI projection.
/// Ours on top of OpenClaw's: `sandbox` (see [`super::health_sandbox`]).
pub(crate) fn status(shared: &Arc<Shared>, _: StatusParams) -> Result<Value, ErrorShape> {
    let config = shared.config_value();
    let roster = Roster::from_config(&config, &shared.state_dir);
    let sandbox = super::health_sandbox::sandbox_health(&config, &roster, &shared.state_dir);
    let sandbox =
        serde_json::to_value(sandbox).map_err(|e| ErrorShape::unavailable(e.to_string()))?;
    let beats = shared.heartbeat.summary();
    let hb: Vec<Value> = roster
        .agents
        .iter()
        .map(
            |a| match beats.iter().find(|b| b.settings.agent_id == a.id) {
                Some(b) if b.enabled => json!({"agentId": a.id, "enabled": true,
                "every": b.settings.every, "everyMs": b.settings.every_ms}),
                _ => {
                    json!({"agentId": a.id, "enabled": false, "every": "disabled", "everyMs": null})
                }
            },
        )
        .collect();
    let by_agent: Vec<Value> = roster
        .agents
        .iter()
        .map(|a| {
            let mut v = shared
                .backend
                .sessions_summary(&a.id)
                .unwrap_or_else(|| json!({"count": 0, "recent": []}));
            v["agentId"] = json!(a.id);
            v
        })
        .collect();
    let total: u64 = by_agent
        .iter()
        .filter_map(|v| v.get("count").and_then(Value::as_u64))
        .sum();
    Ok(json!({
        "runtimeVersion": shared.version,
        "heartbeat": {"defaultAgentId": roster.default_id(), "agents": hb},
        "channelSummary": [],
        "queuedSystemEvents": shared.heartbeat.queued_texts(),
        "sessions": {"count": total, "defaults": {"model": roster.get(roster.default_id()).and_then(|a| a.model_primary.clone()), "contextTokens": null}, "recent": [], "byAgent": by_agent},
        "gateway": {
            "uptimeMs": shared.uptime_ms(),
            "connections": shared.hub.connections().len(),
            "authMode": shared.auth.mode().as_str(),
            "stateVersion": shared.hub.state_version(),
        },
        "sandbox": sandbox,
    }))
}

pub(crate) fn presence(shared: &Arc<Shared>, _: NoParams) -> Result<Value, ErrorShape> {
    Ok(super::super::presence_list(shared))
}

pub(crate) fn logs_tail(shared: &Arc<Shared>, p: LogsTailParams) -> Result<Value, ErrorShape> {
    let cursor = p.cursor.map(|c| c.get());
    let limit = p.limit.map_or(500, |l| l.usize());
    let max_bytes = p.max_bytes.map_or(250_000, |m| m.get());
    let path = &shared.log.path;
    let file_name = path.display().to_string();
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(_) => return Ok(json!({"file": file_name, "cursor": 0, "size": 0, "lines": []})),
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let (mut start, reset) = match cursor {
        Some(c) if c > size => (0, true),
        Some(c) => (c, false),
        None => (size.saturating_sub(max_bytes), false),
    };
    let mut truncated = false;
    if size - start > max_bytes {
        start = size - max_bytes;
        truncated = true;
    }
    let mut buf = Vec::new();
    let read = file
        .seek(SeekFrom::Start(start))
        .and_then(|_| file.take(size - start).read_to_end(&mut buf));
    read.map_err(|e| ErrorShape::unavailable(format!("cannot read {file_name}: {e}")))?;
    let text = String::from_utf8_lossy(&buf);
    let mut lines: Vec<&str> = text.lines().collect();
    // A tail that starts mid-line drops the partial first line.
    if start > 0 && cursor.is_none() && !lines.is_empty() {
        lines.remove(0);
        truncated = true;
    }
    if lines.len() > limit {
        lines.drain(..lines.len() - limit);
        truncated = true;
    }
    let mut out = json!({"file": file_name, "cursor": size, "size": size, "lines": lines});
    if truncated {
        out["truncated"] = json!(true);
    }
    if reset {
        out["reset"] = json!(true);
    }
    Ok(out)
}

/// One provider's usage in `usage.status`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ProviderUsage {
    provider: String,
    display_name: String,
    /// Quota windows (provider-reported rate limits): none are fetched.
    windows: [(); 0],
    totals: crate::backend::UsageTotals,
    models: Vec<crate::backend::ModelUsage>,
}

/// Tokens and cost per provider (and model) from the transcripts.
pub(crate) fn usage_status(shared: &Arc<Shared>, _: NoParams) -> Result<Value, ErrorShape> {
    let mut providers: std::collections::BTreeMap<String, ProviderUsage> = Default::default();
    for m in shared.backend.usage() {
        let p = providers
            .entry(m.provider.clone())
            .or_insert_with(|| ProviderUsage {
                provider: m.provider.clone(),
                display_name: m.provider.clone(),
                windows: [],
                totals: Default::default(),
                models: Vec::new(),
            });
        let t = &mut p.totals;
        t.input += m.totals.input;
        t.output += m.totals.output;
        t.cache_read += m.totals.cache_read;
        t.cache_write += m.totals.cache_write;
        t.total_tokens += m.totals.total_tokens;
        t.cost += m.totals.cost;
        t.messages += m.totals.messages;
        p.models.push(m);
    }
    let providers: Vec<ProviderUsage> = providers.into_values().collect();
    // Ours on top of OpenClaw's: what heartbeat turns spent (silent acknowledgements are
    // pruned from transcripts, so the per-model totals above do not hold them).
    let states = shared
        .heartbeat
        .states()
        .map_err(|e| ErrorShape::unavailable(e.to_string()))?;
    let mut total = json!({"runs": 0u64, "input": 0u64, "output": 0u64, "totalTokens": 0u64});
    let agents: Vec<Value> = states
        .iter()
        .map(|(id, s)| {
            for (k, v) in [
                ("runs", s.runs),
                ("input", s.input_tokens),
                ("output", s.output_tokens),
                ("totalTokens", s.total_tokens),
            ] {
                total[k] = json!(total[k].as_u64().unwrap_or(0) + v);
            }
            json!({"agentId": id, "runs": s.runs, "input": s.input_tokens,
                "output": s.output_tokens, "totalTokens": s.total_tokens,
                "lastRunAtMs": s.last_run_at_ms})
        })
        .collect();
    total["agents"] = json!(agents);
    Ok(json!({"updatedAt": now_ms(), "providers": providers, "heartbeat": total}))
}

/// Refuses an agent id (given, or named by an `agent:<id>:…` session key) not in the roster.
fn known_agent(
    shared: &Shared,
    agent: Option<&str>,
    key: Option<&str>,
) -> Result<String, ErrorShape> {
    let roster = Roster::from_config(&shared.config_value(), &shared.state_dir);
    let from_key = key
        .and_then(|k| k.strip_prefix("agent:"))
        .and_then(|r| r.split_once(':'))
        .map(|(a, _)| a);
    let id = agent.or(from_key).unwrap_or(roster.default_id()).to_owned();
    if roster.get(&id).is_none() {
        return Err(ErrorShape::invalid_request(format!(
            "unknown agent id \"{id}\""
        )));
    }
    Ok(id)
}

/// The slash commands `chat.send` carries out (only they are listed), for a known agent. Every
/// command works typed as text and is its own native name, so each `scope` lists them all;
/// `provider` (a channel's native command menu) names one of the channels this build has (their
/// commands are these, typed or from Telegram's menu); another is refused.
pub(crate) async fn commands_list(
    shared: &Arc<Shared>,
    p: CommandsListParams,
) -> Result<Value, ErrorShape> {
    let agent_id = known_agent(shared, p.agent_id.as_deref(), p.session_key.as_deref())?;
    if let Some(provider) = &p.provider
        && !openclaw_channels::KNOWN
            .iter()
            .any(|(id, _)| *id == &**provider)
    {
        return Err(ErrorShape::invalid_request(format!(
            "provider \"{}\": not a channel of this gateway",
            &**provider
        )));
    }
    let include_args = p.include_args.unwrap_or(false);
    let commands: Vec<Value> = crate::agent_host::commands::COMMANDS
        .iter()
        .map(|c| {
            let mut row = json!({"name": c.name, "nativeName": c.name,
                "textAliases": [format!("/{}", c.name)], "description": c.description,
                "category": c.category, "source": "native", "scope": "both",
                "acceptsArgs": c.arg.is_some()});
            if let (true, Some((name, description))) = (include_args, c.arg) {
                row["args"] =
                    json!([{"name": name, "description": description, "required": false}]);
            }
            row
        })
        .collect();
    let mut commands = commands;
    commands.extend(skill_commands(shared, agent_id).await?);
    Ok(json!({"commands": commands}))
}

/// One `commands.list` entry per usable, user-invocable skill of the agent, named as OpenClaw
/// names skill commands (unique against the built-ins), after the built-ins.
async fn skill_commands(shared: &Arc<Shared>, agent_id: String) -> Result<Vec<Value>, ErrorShape> {
    let config = shared.config_value();
    let state_dir = shared.state_dir.clone();
    let skills = tokio::task::spawn_blocking(move || {
        crate::skills::AgentSkills::load(&config, &state_dir, Some(&agent_id))
    })
    .await
    .map_err(|e| ErrorShape::unavailable(format!("skills: {e}")))?
    .map_err(ErrorShape::invalid_request)?;
    Ok(skills
        .commands()
        .into_iter()
        .map(|(name, skill)| {
            let description = match skill.description.trim() {
                "" => skill.name.clone(),
                d => d.chars().take(2000).collect(),
            };
            json!({"name": name, "nativeName": name, "textAliases": [format!("/{name}")],
                "description": description, "category": "tools", "source": "skill",
                "scope": "both", "acceptsArgs": true,
                "skillDisplayName": skill.name.chars().take(200).collect::<String>(),
                "skillModelVisible": !skill.disable_model_invocation})
        })
        .collect())
}

/// The profiles a core tool is in by default, and its group.
fn tool_meta(name: &str) -> (&'static str, &'static [&'static str]) {
    match name {
        "read" | "ls" => ("fs", &["minimal", "coding", "full"]),
        "write" | "edit" | "find" | "grep" => ("fs", &["coding", "full"]),
        "bash" => ("runtime", &["coding", "full"]),
        "memory_search" | "memory_get" => ("memory", &["coding"]),
        _ => ("sessions", &["messaging", "full"]),
    }
}

/// One tool of `tools.catalog`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct CatalogTool {
    id: String,
    label: String,
    description: String,
    source: &'static str,
    default_profiles: &'static [&'static str],
}

/// The tools the agents' engines are built from: openclaw-core's built-ins (names and
/// descriptions from the tools themselves) and the gateway's `sessions_send`.
/// and the MCP servers' tools (group `mcp`, plugin `bundle-mcp`, connecting servers as needed).
/// `includePlugins` changes nothing: this gateway loads no other plugins.
pub(crate) async fn tools_catalog(
    shared: &Arc<Shared>,
    p: ToolsCatalogParams,
) -> Result<Value, ErrorShape> {
    let agent_id = known_agent(shared, p.agent_id.as_deref(), None)?;
    let env = Arc::new(openclaw_core::tool::ToolEnv::new(shared.state_dir.clone()));
    let mut tools: Vec<(String, String)> = openclaw_core::tool::all_tools(&env)
        .iter()
        .map(|t| (t.name().to_owned(), t.description().to_owned()))
        .collect();
    let (name, description) = crate::agent_host::SESSIONS_SEND;
    tools.push((name.to_owned(), description.to_owned()));
    // The memory tools, with OpenClaw's catalogue descriptions.
    tools.push(("memory_search".into(), "Semantic search".into()));
    tools.push(("memory_get".into(), "Read memory files".into()));
    let mcp = shared.backend.mcp_catalog(&agent_id).await;
    let mut groups: Vec<Value> = [
        ("fs", "Files"),
        ("runtime", "Runtime"),
        ("memory", "Memory"),
        ("sessions", "Sessions"),
    ]
    .iter()
    .map(|(gid, label)| {
        let tools: Vec<CatalogTool> = tools
            .iter()
            .filter(|(n, _)| tool_meta(n).0 == *gid)
            .map(|(n, d)| CatalogTool {
                id: n.clone(),
                label: n.clone(),
                // The first line: the catalogue shows a summary.
                description: d.lines().next().unwrap_or_default().to_owned(),
                source: "core",
                default_profiles: tool_meta(n).1,
            })
            .collect();
        json!({"id": gid, "label": label, "source": "core", "tools": tools})
    })
    .collect();
    // MCP servers' tools, as OpenClaw lists its bundle-mcp plugin's tools.
    if !mcp.is_empty() {
        let tools: Vec<Value> = mcp
            .iter()
            .map(|t| {
                json!({
                    "id": t.name,
                    "label": t.name,
                    "description": t.description.lines().next().unwrap_or_default(),
                    "source": "plugin",
                    "pluginId": "bundle-mcp",
                    "mcpServer": t.server,
                    "defaultProfiles": ["coding", "messaging", "full"],
                })
            })
            .collect();
        groups.push(json!({"id": "mcp", "label": "MCP", "source": "plugin",
                           "pluginId": "bundle-mcp", "tools": tools}));
    }
    Ok(json!({
        "agentId": agent_id,
        "profiles": [{"id": "minimal", "label": "Minimal"}, {"id": "coding", "label": "Coding"},
                     {"id": "messaging", "label": "Messaging"}, {"id": "full", "label": "Full"}],
        "groups": groups,
    }))
}
