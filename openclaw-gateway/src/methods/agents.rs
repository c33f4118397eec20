//! `models.list`, `agents.list` and `agent.identity.get`, answered from the live config;
//! `models.list` from the same model registry the agents' engines use (configured providers,
//! pi's `models.json` and the built-in catalogue, with credentials from the config or the
//! environment).

use std::sync::Arc;

use openclaw_core::config::{self as core_config, OpenClawConfig};
use openclaw_core::protocol::{ErrorShape, details};
use openclaw_core::provider::ModelRegistry;
use serde::Serialize;
use serde_json::{Value, json};

use crate::roster::Roster;
use crate::state::Shared;
use openclaw_core::protocol::system::{IdentityParams, ModelsListParams, ModelsView, NoParams};

/// One row of `models.list`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ModelRow {
    id: String,
    name: String,
    provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    alias: Option<String>,
    context_window: u64,
    reasoning: bool,
    input: Vec<String>,
    /// Whether a request can be authenticated (a key in the config or the environment).
    available: bool,
}

/// The registry the engines would build from the running config.
fn registry(shared: &Shared) -> Result<ModelRegistry, ErrorShape> {
    let (path, text) = shared
        .config
        .read()
        .map(|c| {
            let text = c
                .source
                .raw
                .clone()
                .unwrap_or_else(|| c.source.value.to_string());
            (c.source.path.clone(), text)
        })
        .map_err(|_| ErrorShape::unavailable("config lock poisoned"))?;
    let config = OpenClawConfig::parse(&path, &text)
        .map_err(|e| ErrorShape::unavailable(format!("cannot read the model config: {e}")))?;
    // pi's models.json is optional; an unreadable one is reported by the engines.
    let pi = core_config::load_pi_models(&core_config::pi_models_path()).ok();
    Ok(ModelRegistry::from_config(&config, pi.as_ref()))
}

/// The models a view lists: `default` the usable ones, `configured` / `provider-config` those
/// of the providers in `models.providers`, `all` the whole catalogue.
fn model_rows(shared: &Shared, view: &str) -> Result<Vec<ModelRow>, ErrorShape> {
    let reg = registry(shared)?;
    let configured: Vec<String> = shared
        .config_value()
        .pointer("/models/providers")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let alias_of = |key: &str| {
        reg.aliases()
            .iter()
            .find(|(_, target)| target.as_str() == key)
            .map(|(alias, _)| alias.clone())
    };
    Ok(reg
        .all_models()
        .iter()
        .filter(|m| match view {
            "all" => true,
            "configured" | "provider-config" => configured.contains(&m.provider),
            _ => reg.has_credentials(&m.provider),
        })
        .map(|m| ModelRow {
            alias: alias_of(&m.key()),
            id: m.id.clone(),
            name: m.name.clone(),
            provider: m.provider.clone(),
            context_window: m.context_window,
            reasoning: m.reasoning,
            input: m.input.clone(),
            available: reg.has_credentials(&m.provider),
        })
        .collect())
}

/// `models.list`. `refresh` and `preparedOnly` change nothing beyond their conflict check:
/// the list is built fresh from the config and the environment on every call; nor does
/// `includeProviderCapabilities`: every row always carries what this gateway knows of a model's
/// capabilities (`reasoning`, `input`, `available`).
pub(crate) fn models_list(shared: &Arc<Shared>, p: ModelsListParams) -> Result<Value, ErrorShape> {
    let roster = Roster::from_config(&shared.config_value(), &shared.state_dir);
    let session_agent = p.session_key.as_deref().and_then(agent_of_key);
    for id in p.agent_id.as_deref().into_iter().chain(session_agent) {
        if roster.get(id).is_none() {
            return Err(ErrorShape::invalid_request(format!(
                "unknown agent id \"{id}\""
            )));
        }
    }
    let prepared = p.prepared_only.unwrap_or(false);
    let refresh = p.refresh.unwrap_or(false);
    if prepared && refresh {
        return Err(ErrorShape::invalid_params(
            "models.list",
            "at root: preparedOnly and refresh cannot both be true",
        ));
    }
    let view = p.view.unwrap_or(ModelsView::Default).as_str();
    let mut models = model_rows(shared, view)?;
    if let Some(provider) = p.provider.as_deref() {
        models.retain(|m| m.provider == provider);
    }
    Ok(json!({"models": models}))
}

/// The agent of an `agent:<id>:…` session key (other keys belong to the default agent).
fn agent_of_key(key: &str) -> Option<&str> {
    key.strip_prefix("agent:")?
        .split_once(':')
        .map(|(id, _)| id)
}

pub(crate) fn agents_list(shared: &Arc<Shared>, _: NoParams) -> Result<Value, ErrorShape> {
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
fn agent_from(p: &IdentityParams, roster: &Roster) -> Result<String, ErrorShape> {
    if let Some(id) = &p.agent_id {
        return Ok(id.to_string());
    }
    if let Some(key) = p.session_key.as_deref() {
        if let Some(rest) = key.strip_prefix("agent:") {
            if let Some((id, _)) = rest.split_once(':') {
                return Ok(id.to_owned());
            }
        }
    }
    Ok(roster.default_id().to_owned())
}

pub(crate) fn identity_get(shared: &Arc<Shared>, p: IdentityParams) -> Result<Value, ErrorShape> {
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
