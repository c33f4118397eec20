//! Params of the gateway's own methods: health and status, logs, commands, tools, models,
//! agents and their files, config and device pairing (OpenClaw schemas, closed objects).

use serde::Deserialize;

use super::params::{Bounded, Count, NonEmpty, SessionKey};

/// Methods that take no params (`{}`, `null` or none).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

/// `health`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HealthParams {
    pub probe: Option<bool>,
}

/// `status`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StatusParams {
    pub include_channel_summary: Option<bool>,
    pub include_cli_projection: Option<bool>,
}

/// `logs.tail`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogsTailParams {
    pub cursor: Option<Count>,
    pub limit: Option<Bounded<1, 5000>>,
    pub max_bytes: Option<Bounded<1, 1_000_000>>,
}

/// `commands.list`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CommandsListParams {
    pub session_key: Option<SessionKey>,
    pub agent_id: Option<NonEmpty>,
    pub provider: Option<NonEmpty>,
    pub scope: Option<CommandScope>,
    pub include_args: Option<bool>,
}

/// `commands.list` `scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandScope {
    Text,
    Native,
    Both,
}

/// `skills.status`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SkillsStatusParams {
    pub agent_id: Option<NonEmpty>,
    pub session_key: Option<NonEmpty>,
}

/// `skills.skillCard`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SkillsSkillCardParams {
    pub agent_id: Option<NonEmpty>,
    pub skill_key: NonEmpty,
}

/// `skills.detail` (a ClawHub registry reference).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SkillsDetailParams {
    pub slug: NonEmpty,
}

/// `tools.catalog`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ToolsCatalogParams {
    pub agent_id: Option<NonEmpty>,
    pub include_plugins: Option<bool>,
}

/// `models.list`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelsListParams {
    pub agent_id: Option<NonEmpty>,
    /// v4: the session whose agent the list is for (its agent is checked like `agentId`).
    pub session_key: Option<NonEmpty>,
    /// v4: only this provider's models.
    pub provider: Option<NonEmpty>,
    /// v4: accepted; every row always carries what this gateway knows of a model.
    pub include_details: Option<bool>,
    /// v4: accepted; the default models are always part of the `default` view.
    pub include_default_models: Option<bool>,
    pub include_provider_capabilities: Option<bool>,
    pub prepared_only: Option<bool>,
    pub refresh: Option<bool>,
    pub view: Option<ModelsView>,
}

/// `models.list` `view`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelsView {
    Default,
    Configured,
    ProviderConfig,
    All,
}

impl ModelsView {
    pub fn as_str(self) -> &'static str {
        match self {
            ModelsView::Default => "default",
            ModelsView::Configured => "configured",
            ModelsView::ProviderConfig => "provider-config",
            ModelsView::All => "all",
        }
    }
}

/// `agent.identity.get`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IdentityParams {
    pub agent_id: Option<NonEmpty>,
    pub session_key: Option<SessionKey>,
}

/// `agents.files.list`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FilesListParams {
    pub agent_id: NonEmpty,
}

/// `agents.files.get`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FilesGetParams {
    pub agent_id: NonEmpty,
    pub name: NonEmpty,
}

/// `agents.files.set`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FilesSetParams {
    pub agent_id: NonEmpty,
    pub name: NonEmpty,
    pub content: String,
    pub expected_hash: Option<NonEmpty>,
}

/// `config.set`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigSetParams {
    pub raw: NonEmpty,
    pub base_hash: Option<NonEmpty>,
}

/// `device.pair.approve` / `device.pair.reject`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PairResolveParams {
    pub request_id: NonEmpty,
}

/// `device.pair.remove`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PairRemoveParams {
    pub device_id: NonEmpty,
}

/// `config.patch`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigPatchParams {
    pub raw: NonEmpty,
    pub base_hash: Option<NonEmpty>,
    pub session_key: Option<serde_json::Value>,
    pub delivery_context: Option<serde_json::Value>,
    pub note: Option<serde_json::Value>,
    pub restart_delay_ms: Option<Count>,
    pub replace_paths: Option<Vec<serde_json::Value>>,
}
