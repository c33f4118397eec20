//! `POST /tools/invoke`: one tool call over HTTP (bearer auth is in front). Shell and write tools
//! need `gateway.tools.allow`; file tools stay inside the agent's workspace; `bash`, `write`,
//! `edit` and MCP servers' tools (`<server>__<tool>`) go through the exec policy gate, and
//! `bash` runs where the named session's sandbox says.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Core;
use crate::approvals::{TurnOrigin, TurnOriginOf};

/// Tools whose `path` must stay inside the agent's workspace when called over HTTP.
const FILE_TOOLS: &[&str] = &["read", "write", "edit", "ls", "grep", "find"];

/// Tools `/tools/invoke` refuses unless `gateway.tools.allow` lists them (OpenClaw's list plus
/// our names for shell and file writes).
const HTTP_DENIED: &[&str] = &[
    "exec",
    "spawn",
    "shell",
    "fs_write",
    "fs_delete",
    "fs_move",
    "apply_patch",
    "sessions_spawn",
    "sessions_send",
    "cron",
    "gateway",
    "nodes",
    "bash",
    "write",
    "edit",
];

fn tool_error(status: StatusCode, kind: &str, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(json!({"ok": false, "error": {"type": kind, "message": message.into()}})),
    )
        .into_response()
}

fn list_of(core: &Core, ptr: &str) -> Vec<String> {
    core.settings()
        .config
        .pointer(ptr)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) async fn tools_invoke(State(core): State<Arc<Core>>, body: Bytes) -> Response {
    if body.len() > 2 * 1024 * 1024 {
        return tool_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "the body is over 2 MB",
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return tool_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the body is not JSON",
        );
    };
    let Some(name) = body
        .get("tool")
        .or(body.get("name"))
        .and_then(Value::as_str)
    else {
        return tool_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "tool is required",
        );
    };
    let allow = list_of(&core, "/gateway/tools/allow");
    let deny = list_of(&core, "/gateway/tools/deny");
    if deny.iter().any(|d| d == name)
        || (HTTP_DENIED.contains(&name) && !allow.iter().any(|a| a == name))
    {
        return tool_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("tool {name} is blocked by policy (gateway.tools.allow / gateway.tools.deny)"),
        );
    }
    let agent_id = body
        .get("agentId")
        .and_then(Value::as_str)
        .map_or_else(|| core.default_agent(), str::to_owned);
    let Some(agent) = core.agent(&agent_id) else {
        return tool_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("unknown agent id \"{agent_id}\""),
        );
    };
    let mut env = openclaw_core::tool::ToolEnv::new(PathBuf::from(&agent.workspace));
    // `bash` over HTTP is contained exactly as in the session it names (default: the main one).
    let key = body
        .get("sessionKey")
        .and_then(Value::as_str)
        .map_or_else(|| format!("agent:{agent_id}:main"), str::to_owned);
    env.exec_target = core.settings().exec_target(&agent_id, &key, &env.cwd);
    let env = Arc::new(env);
    // The exec policy gates `bash`, `write` and `edit` here as in a run; an approval names this
    // invocation as its run (one id per call) and the HTTP surface as its origin.
    let ws = PathBuf::from(&agent.workspace);
    let origin = TurnOrigin {
        run_id: Some(uuid::Uuid::new_v4().to_string()),
        channel: Some(super::live::CHANNEL_HTTP.to_owned()),
        to: Some(key.clone()),
    };
    let origin: TurnOriginOf = Arc::new(move || origin.clone());
    let at = (Some(key.as_str()), Some(origin));
    let gate = match super::run::exec_gate(&core, &core.settings().config, &agent_id, at, &ws) {
        Ok(g) => g,
        Err(e) => return tool_error(StatusCode::INTERNAL_SERVER_ERROR, "config", e),
    };
    let mut tools = openclaw_core::tool::builtin_tools(&[name], &env);
    if openclaw_memory::MEMORY_TOOL_NAMES.contains(&name) {
        // Read-only, so allowed over HTTP by default; the agent's tool policy still applies.
        tools = core
            .memory_tools(&agent_id)
            .into_iter()
            .filter(|t| t.name() == name)
            .collect();
    }
    if tools.is_empty() && name.contains("__") {
        // An MCP server's tool: the agent's tool policy decides whether it has it at all.
        tools = core
            .mcp_tools(&agent_id)
            .await
            .into_iter()
            .filter(|t| t.name() == name)
            .collect();
    }
    let Some(tool) = openclaw_core::exec_policy::gate_tools(tools, &gate)
        .into_iter()
        .next()
    else {
        return tool_error(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("Tool not available: {name}"),
        );
    };
    let args = tool.prepare_arguments(body.get("args").cloned().unwrap_or_else(|| json!({})));
    let args = match openclaw_core::tool::validate_arguments(name, &tool.parameters(), &args) {
        Ok(a) => a,
        Err(e) => return tool_error(StatusCode::BAD_REQUEST, "invalid_arguments", e),
    };
    if FILE_TOOLS.contains(&name) {
        let raw = args.get("path").and_then(Value::as_str).unwrap_or(".");
        let ws = PathBuf::from(&agent.workspace);
        let path = if name == "read" {
            openclaw_core::tool::path::resolve_read_path(raw, &ws)
        } else {
            openclaw_core::tool::path::resolve_to_cwd(raw, &ws)
        };
        if let Err(e) = super::workspace::confine(&ws, &path) {
            return tool_error(StatusCode::FORBIDDEN, "forbidden", e);
        }
    }
    if body.get("dryRun").and_then(Value::as_bool) == Some(true) {
        return axum::Json(json!({"ok": true, "result": null, "dryRun": true})).into_response();
    }
    let ctx =
        openclaw_core::tool::ToolCallContext::detached(format!("http-{}", uuid::Uuid::new_v4()));
    match tool.execute(args, ctx).await {
        Ok(out) => axum::Json(json!({"ok": true, "result": out})).into_response(),
        Err(e) => tool_error(StatusCode::BAD_REQUEST, "tool_error", e.to_string()),
    }
}
