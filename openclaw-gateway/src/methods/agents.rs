//! `models.list`, `agents.list` and `agent.identity.get`, answered from the config.

use std::sync::Arc;

use openclaw_core::protocol::{ErrorShape, details};
use serde_json::{Value, json};

use super::params::Params;
use crate::roster::{Roster, configured_models};
use crate::state::Shared;

pub(crate) fn models_list(shared: &Arc<Shared>, p: Params) -> Result<Value, ErrorShape> {
    let p = p.closed(&[
        "agentId",
        "includeProviderCapabilities",
        "preparedOnly",
        "refresh",
        "view",
    ])?;
    p.str("agentId")?;
    p.bool("includeProviderCapabilities")?;
    let prepared = p.bool("preparedOnly")?.unwrap_or(false);
    let refresh = p.bool("refresh")?.unwrap_or(false);
    if prepared && refresh {
        return Err(ErrorShape::invalid_params(
            "models.list",
            "at root: preparedOnly and refresh cannot both be true",
        ));
    }
    p.choice("view", &["default", "configured", "provider-config", "all"])?;
    Ok(json!({"models": configured_models(&shared.config_value())}))
}

pub(crate) fn agents_list(shared: &Arc<Shared>, p: Params) -> Result<Value, ErrorShape> {
    p.closed(&[])?;
    let roster = Roster::from_config(&shared.config_value(), &shared.state_dir);
    let agents: Vec<Value> = roster
        .agents
        .iter()
        .map(|a| {
            let mut row = json!({"id": a.id, "kind": "agent"});
            if let Some(n) = &a.name {
                row["name"] = json!(n);
            }
            if !a.identity.is_empty() {
                row["identity"] = Value::Object(a.identity.clone());
            }
            row["workspace"] = json!(a.workspace);
            if let Some(primary) = &a.model_primary {
                let mut model = json!({"primary": primary});
                if !a.model_fallbacks.is_empty() {
                    model["fallbacks"] = json!(a.model_fallbacks);
                }
                row["model"] = model;
            }
            row
        })
        .collect();
    Ok(
        json!({"defaultId": roster.default_id(), "mainKey": "main", "scope": "per-sender", "agents": agents}),
    )
}

/// The agent id named by `agentId`, or by an `agent:<id>:…` session key, else the default.
fn agent_from(p: &Params, roster: &Roster) -> Result<String, ErrorShape> {
    if let Some(id) = p.str("agentId")? {
        return Ok(id.to_owned());
    }
    if let Some(key) = p.str("sessionKey")? {
        if let Some(rest) = key.strip_prefix("agent:") {
            if let Some((id, _)) = rest.split_once(':') {
                return Ok(id.to_owned());
            }
        }
    }
    Ok(roster.default_id().to_owned())
}

pub(crate) fn identity_get(shared: &Arc<Shared>, p: Params) -> Result<Value, ErrorShape> {
    let p = p.closed(&["agentId", "sessionKey"])?;
    let roster = Roster::from_config(&shared.config_value(), &shared.state_dir);
    let id = agent_from(&p, &roster)?;
    let Some(agent) = roster.get(&id) else {
        return Err(
            ErrorShape::invalid_request(format!("unknown agent id: {id}"))
                .with_details(json!({"code": details::UNKNOWN_AGENT_ID, "agentId": id})),
        );
    };
    let name = agent
        .identity
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| agent.name.clone())
        .unwrap_or_else(|| agent.id.clone());
    let mut out = json!({"agentId": agent.id, "name": name});
    for key in ["emoji", "avatar", "avatarUrl", "theme"] {
        if let Some(v) = agent.identity.get(key) {
            out[key] = v.clone();
        }
    }
    Ok(out)
}
