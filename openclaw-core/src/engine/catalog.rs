//! The models the engine can use: the providers of `openclaw.json` (`models.providers`) merged
//! over pi's `models.json`, their credentials, and a wire client per API.
//!
//! This is the engine's narrow view of model configuration; it resolves `--provider/--model`
//! as pi does (an unknown provider is an error, an unknown model id of a known provider becomes
//! a custom model cloned from the provider's settings).

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{self, ModelsConfig, OpenClawConfig};
use crate::model::Model;
use crate::provider::Provider;

use super::EngineError;

/// Every configured model plus the provider credentials.
pub(crate) struct Catalog {
    models: Vec<Model>,
    providers: Vec<String>,
    keys: HashMap<String, String>,
}

impl Catalog {
    /// Load `openclaw.json` (path from `OPENCLAW_CONFIG_PATH` or the state dir) and pi's
    /// `models.json`; `api_key` overrides the key of `key_provider`.
    pub(crate) fn load(
        state_dir: &std::path::Path,
        api_key: Option<(&str, &str)>,
    ) -> Result<Catalog, EngineError> {
        let config_path = match std::env::var_os("OPENCLAW_CONFIG_PATH") {
            Some(p) if !p.is_empty() => config::expand_home(std::path::Path::new(&p)),
            _ => state_dir.join("openclaw.json"),
        };
        let oc = OpenClawConfig::load_from(&config_path)
            .map_err(|e| EngineError::Config(e.to_string()))?;
        let pi = config::load_pi_models(&config::pi_models_path())
            .map_err(|e| EngineError::Config(e.to_string()))?;
        let merged: ModelsConfig = pi.merged_with(oc.models);
        let mut catalog = Catalog::from_config(&merged);
        if let Some((provider, key)) = api_key {
            catalog.keys.insert(provider.to_string(), key.to_string());
        }
        Ok(catalog)
    }

    pub(crate) fn from_config(cfg: &ModelsConfig) -> Catalog {
        let mut models = Vec::new();
        let mut providers = Vec::new();
        let mut keys = HashMap::new();
        for (id, p) in &cfg.providers {
            providers.push(id.clone());
            if let Some(key) = p.api_key.as_deref().and_then(resolve_key) {
                keys.insert(id.clone(), key);
            }
            for m in p.models.iter().flatten() {
                if let Some(model) = m.to_model(id, p) {
                    models.push(model);
                }
            }
        }
        Catalog {
            models,
            providers,
            keys,
        }
    }

    /// Models whose provider has credentials, in configuration order.
    pub(crate) fn available(&self) -> Vec<Model> {
        self.models
            .iter()
            .filter(|m| self.keys.contains_key(&m.provider))
            .cloned()
            .collect()
    }

    /// A model with credentials.
    pub(crate) fn find_available(&self, provider: &str, id: &str) -> Option<Model> {
        self.models
            .iter()
            .find(|m| m.provider == provider && m.id == id && self.keys.contains_key(provider))
            .cloned()
    }

    /// Resolve the startup selection. Returns the model and an optional warning.
    pub(crate) fn resolve(
        &self,
        provider: Option<&str>,
        model: Option<&str>,
        default: Option<(&str, &str)>,
    ) -> Result<(Option<Model>, Option<String>), EngineError> {
        // `--model provider/id` without `--provider`.
        let (provider, model) = match (provider, model) {
            (None, Some(m)) if m.contains('/') => {
                let (p, id) = m.split_once('/').unwrap_or((m, ""));
                (Some(p), Some(id))
            }
            other => other,
        };
        if let Some(p) = provider {
            if !self.providers.iter().any(|x| x == p) {
                return Err(EngineError::UnknownProvider(p.to_string()));
            }
        }
        match (provider, model) {
            (Some(p), Some(id)) => {
                if let Some(m) = self.models.iter().find(|m| m.provider == p && m.id == id) {
                    return Ok((Some(m.clone()), None));
                }
                let template = self.models.iter().find(|m| m.provider == p);
                match template {
                    Some(t) => Ok((
                        Some(Model {
                            id: id.to_string(),
                            name: id.to_string(),
                            ..t.clone()
                        }),
                        Some(format!(
                            "Model \"{id}\" not found for provider \"{p}\". Using custom model id."
                        )),
                    )),
                    None => Err(EngineError::ModelNotFound(format!("{p}/{id}"))),
                }
            }
            (Some(p), None) => Ok((
                self.available()
                    .into_iter()
                    .find(|m| m.provider == p)
                    .or_else(|| self.models.iter().find(|m| m.provider == p).cloned()),
                None,
            )),
            (None, Some(id)) => match self.available().into_iter().find(|m| m.id == id) {
                Some(m) => Ok((Some(m), None)),
                None => Err(EngineError::ModelNotFound(id.to_string())),
            },
            (None, None) => {
                let from_default =
                    default.and_then(|(p, id)| self.find_available(p, id));
                Ok((from_default.or_else(|| self.available().into_iter().next()), None))
            }
        }
    }

    /// Use `key` for `provider`.
    pub(crate) fn set_key(&mut self, provider: &str, key: &str) {
        self.keys.insert(provider.to_string(), key.to_string());
    }

    /// The API key of `provider`.
    pub(crate) fn api_key(&self, provider: &str) -> Option<String> {
        self.keys.get(provider).cloned()
    }
}

/// A configured key: the value of the environment variable of that name if set, else the text.
fn resolve_key(configured: &str) -> Option<String> {
    if configured.is_empty() {
        return None;
    }
    match std::env::var(configured) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => Some(configured.to_string()),
    }
}

/// The wire client for a model's API.
pub(crate) fn provider_for(api: &str) -> Option<Arc<dyn Provider>> {
    match api {
        "openai-completions" => Some(Arc::new(crate::provider::openai_completions::OpenAiCompletions)),
        "anthropic-messages" => Some(Arc::new(crate::provider::anthropic::AnthropicMessages)),
        _ => None,
    }
}
