//! Typed pieces of the configuration the model layer reads: providers and models (pi's
//! models.json shape), and the agents' model choices (primary, fallbacks, aliases).

use std::path::Path;

use indexmap::IndexMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::ConfigError;
use crate::model::{Model, ModelCost};

/// Deserialize `value` (found at `key` in `path`) into `T`, naming the key on failure.
pub(crate) fn typed<T: DeserializeOwned>(
    path: &Path,
    key: &str,
    value: &Value,
) -> Result<T, ConfigError> {
    T::deserialize(value).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        key: key.to_owned(),
        message: e.to_string(),
    })
}

/// `models.providers` (or a pi models.json's `providers`), in file order.
#[derive(Debug, Clone, Default)]
pub struct ModelsConfig {
    pub providers: IndexMap<String, ProviderConfig>,
}

impl ModelsConfig {
    /// Read `{"providers": {...}}` found at `key` (empty for a document root).
    pub fn from_value(path: &Path, key: &str, value: &Value) -> Result<ModelsConfig, ConfigError> {
        let prefix = if key.is_empty() {
            String::new()
        } else {
            format!("{key}.")
        };
        let mut out = ModelsConfig::default();
        let Some(providers) = value.get("providers") else {
            return Ok(out);
        };
        let Some(map) = providers.as_object() else {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                key: format!("{prefix}providers"),
                message: "expected an object of providers".into(),
            });
        };
        for (id, p) in map {
            let pkey = format!("{prefix}providers.{id}");
            let mut provider: ProviderConfig = typed(path, &pkey, &strip(p, "models"))?;
            if let Some(models) = p.get("models") {
                let Some(list) = models.as_array() else {
                    return Err(ConfigError::Invalid {
                        path: path.to_path_buf(),
                        key: format!("{pkey}.models"),
                        message: "expected an array of models".into(),
                    });
                };
                let mut typed_models = Vec::with_capacity(list.len());
                for (i, m) in list.iter().enumerate() {
                    typed_models.push(typed(path, &format!("{pkey}.models[{i}]"), m)?);
                }
                provider.models = Some(typed_models);
            }
            out.providers.insert(id.clone(), provider);
        }
        Ok(out)
    }

    /// Later entries override earlier ones provider by provider (`other` wins).
    pub fn merged_with(mut self, other: ModelsConfig) -> ModelsConfig {
        for (id, p) in other.providers {
            self.providers.insert(id, p);
        }
        self
    }
}

fn strip(v: &Value, key: &str) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.shift_remove(key);
    }
    v
}

/// One provider entry: a custom provider (with `models`) or an override of a built-in's
/// `baseUrl`/`headers`/`apiKey`/`compat` (without `models`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderConfig {
    pub base_url: Option<String>,
    pub api: Option<String>,
    /// An env var name, a literal key, or `!command` (never logged).
    pub api_key: Option<String>,
    pub headers: Option<IndexMap<String, String>>,
    pub auth_header: Option<bool>,
    pub compat: Option<Value>,
    #[serde(skip)]
    pub models: Option<Vec<ModelConfig>>,
}

/// One model of a custom provider, with pi's defaults for missing fields.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelConfig {
    pub id: String,
    pub name: Option<String>,
    pub api: Option<String>,
    pub base_url: Option<String>,
    pub reasoning: Option<bool>,
    pub input: Option<Vec<String>>,
    pub cost: Option<ModelCost>,
    pub context_window: Option<u64>,
    pub max_tokens: Option<u64>,
    pub headers: Option<IndexMap<String, String>>,
    pub compat: Option<Value>,
}

/// pi's defaults for custom models.
pub const DEFAULT_CONTEXT_WINDOW: u64 = 128_000;
/// pi's default `maxTokens` for custom models.
pub const DEFAULT_MAX_TOKENS: u64 = 16_384;

impl ModelConfig {
    /// The full model for provider `provider_id` (None when no `api` is known).
    pub fn to_model(&self, provider_id: &str, provider: &ProviderConfig) -> Option<Model> {
        let api = self.api.clone().or_else(|| provider.api.clone())?;
        let base_url = self
            .base_url
            .clone()
            .or_else(|| provider.base_url.clone())?;
        let headers = match (&provider.headers, &self.headers) {
            (None, None) => None,
            (a, b) => {
                let mut h = a.clone().unwrap_or_default();
                h.extend(b.clone().unwrap_or_default());
                Some(h)
            }
        };
        let compat = match (&provider.compat, &self.compat) {
            (None, None) => None,
            (Some(c), None) | (None, Some(c)) => Some(c.clone()),
            (Some(Value::Object(a)), Some(Value::Object(b))) => {
                let mut m = a.clone();
                m.extend(b.clone());
                Some(Value::Object(m))
            }
            (_, Some(c)) => Some(c.clone()),
        };
        Some(Model {
            id: self.id.clone(),
            name: self.name.clone().unwrap_or_else(|| self.id.clone()),
            api,
            provider: provider_id.to_owned(),
            base_url,
            reasoning: self.reasoning.unwrap_or(false),
            input: self.input.clone().unwrap_or_else(|| vec!["text".into()]),
            cost: self.cost.unwrap_or_default(),
            context_window: self.context_window.unwrap_or(DEFAULT_CONTEXT_WINDOW),
            max_tokens: self.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            headers,
            compat,
        })
    }
}

/// A model choice: `"prov/model"` or `{primary, fallbacks}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum AgentModelConfig {
    #[default]
    Unset,
    Single(String),
    Chain {
        primary: Option<String>,
        #[serde(default)]
        fallbacks: Vec<String>,
    },
}

impl AgentModelConfig {
    /// The primary model reference.
    pub fn primary(&self) -> Option<&str> {
        match self {
            AgentModelConfig::Unset => None,
            AgentModelConfig::Single(s) => Some(s),
            AgentModelConfig::Chain { primary, .. } => primary.as_deref(),
        }
    }

    /// The ordered fallback references.
    pub fn fallbacks(&self) -> &[String] {
        match self {
            AgentModelConfig::Chain { fallbacks, .. } => fallbacks,
            _ => &[],
        }
    }
}

/// `agents.defaults.models` values.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AliasEntry {
    pub alias: Option<String>,
}

/// `agents.defaults`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AgentDefaults {
    #[serde(default)]
    pub model: AgentModelConfig,
    /// `"prov/model" -> {alias}`, in file order.
    #[serde(default)]
    pub models: IndexMap<String, AliasEntry>,
}

/// One `agents.list[]` entry (only the fields the model layer reads).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AgentConfig {
    pub id: String,
    #[serde(default)]
    pub model: AgentModelConfig,
}
