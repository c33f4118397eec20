//! The model registry: built-in catalogue plus configured providers, credentials (runtime
//! override, provider env vars, `apiKey` as env-var name / literal / `!command`), the list of
//! available models, and model selection (`provider/model`, bare ids, fuzzy matches, aliases,
//! `:thinking` suffixes, synthetic models for unknown ids of known providers).

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use indexmap::IndexMap;

use super::catalog::{self, BuiltinProvider};
use crate::config::{ModelsConfig, OpenClawConfig, ProviderConfig};
use crate::model::{Model, ThinkingLevel};

/// Where a provider's key comes from (the key itself is never shown).
#[derive(Clone, PartialEq, Eq)]
enum KeySource {
    /// An `apiKey` setting: env-var name, literal or `!command`.
    Setting(String),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeySource(<redacted>)")
    }
}

#[derive(Debug, Clone)]
struct ProviderInfo {
    builtin: Option<&'static BuiltinProvider>,
    configured: bool,
    key: Option<KeySource>,
}

/// Model selection failed; `Display` gives pi's texts (the CLI prefixes `Error: `).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("Unknown provider \"{0}\". Use --list-models to see available providers/models.")]
    UnknownProvider(String),
    #[error("Model \"{0}\" not found. Use --list-models to see available providers/models.")]
    UnknownModel(String),
}

/// A resolved model choice.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    pub model: Model,
    /// From a `:level` suffix.
    pub thinking: Option<ThinkingLevel>,
    /// Set when the id was unknown for a known provider: pi's warning text (the CLI prefixes
    /// `Warning: `), and `model` is synthetic, built from the provider's settings.
    pub warning: Option<String>,
}

/// Built-ins and configured models, with credentials.
pub struct ModelRegistry {
    models: Vec<Model>,
    providers: IndexMap<String, ProviderInfo>,
    aliases: IndexMap<String, String>,
    overrides: HashMap<String, String>,
    key_cache: Mutex<HashMap<String, Option<String>>>,
}

impl fmt::Debug for ModelRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelRegistry")
            .field("models", &self.models.len())
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .field("aliases", &self.aliases)
            .finish_non_exhaustive()
    }
}

impl Default for ModelRegistry {
    fn default() -> Self {
        Self::new(&ModelsConfig::default())
    }
}

fn apply_override(model: &mut Model, p: &ProviderConfig) {
    if let Some(u) = &p.base_url {
        model.base_url = u.clone();
    }
    if let Some(h) = &p.headers {
        model
            .headers
            .get_or_insert_with(IndexMap::new)
            .extend(h.clone());
    }
    if let Some(c) = &p.compat {
        model.compat = Some(c.clone());
    }
}

impl ModelRegistry {
    /// Built-ins plus `config`'s providers (configured ones first, in config order).
    pub fn new(config: &ModelsConfig) -> Self {
        let mut providers: IndexMap<String, ProviderInfo> = IndexMap::new();
        let mut models = Vec::new();
        let mut builtin = catalog::builtin_models();
        for (id, p) in &config.providers {
            let bp = catalog::builtin_provider(id);
            providers.insert(
                id.clone(),
                ProviderInfo {
                    builtin: bp,
                    configured: true,
                    key: p.api_key.clone().map(KeySource::Setting),
                },
            );
            match &p.models {
                Some(list) => {
                    for m in list {
                        if let Some(model) = m.to_model(id, p) {
                            builtin.retain(|b| !(b.provider == *id && b.id == model.id));
                            models.retain(|x: &Model| !(x.provider == *id && x.id == model.id));
                            models.push(model);
                        }
                    }
                }
                None => {
                    for b in builtin.iter_mut().filter(|b| b.provider == *id) {
                        apply_override(b, p);
                    }
                }
            }
        }
        for bp in catalog::PROVIDERS {
            providers.entry(bp.id.to_owned()).or_insert(ProviderInfo {
                builtin: Some(bp),
                configured: false,
                key: None,
            });
        }
        // Configured providers first (config order), then the remaining built-ins.
        let order: Vec<String> = providers.keys().cloned().collect();
        for pid in &order {
            models.extend(builtin.iter().filter(|b| &b.provider == pid).cloned());
        }
        let mut sorted = Vec::with_capacity(models.len());
        for pid in &order {
            sorted.extend(models.iter().filter(|m| &m.provider == pid).cloned());
        }
        ModelRegistry {
            models: sorted,
            providers,
            aliases: IndexMap::new(),
            overrides: HashMap::new(),
            key_cache: Mutex::new(HashMap::new()),
        }
    }

    /// From an OpenClaw config, layered over an optional pi `models.json` (OpenClaw's entries
    /// win per provider), with `agents.defaults.models` aliases.
    pub fn from_config(config: &OpenClawConfig, pi_models: Option<&ModelsConfig>) -> Self {
        let merged = match pi_models {
            Some(pi) => pi.clone().merged_with(config.models.clone()),
            None => config.models.clone(),
        };
        let mut reg = Self::new(&merged);
        for (key, entry) in &config.agents.defaults.models {
            if let Some(alias) = &entry.alias {
                reg.aliases.insert(alias.clone(), key.clone());
            }
        }
        reg
    }

    /// Add a model alias (`alias` -> `provider/model`).
    pub fn add_alias(&mut self, alias: &str, target: &str) {
        self.aliases.insert(alias.to_owned(), target.to_owned());
    }

    /// The alias table.
    pub fn aliases(&self) -> &IndexMap<String, String> {
        &self.aliases
    }

    /// A runtime key for `provider` (the `--api-key` flag); it wins over everything else.
    pub fn set_runtime_api_key(&mut self, provider: &str, key: String) {
        self.overrides.insert(provider.to_owned(), key);
    }

    /// Every known model (configured providers first, then built-ins).
    pub fn all_models(&self) -> &[Model] {
        &self.models
    }

    /// Whether `provider` is known (built-in or configured).
    pub fn has_provider(&self, provider: &str) -> bool {
        self.providers.contains_key(provider)
    }

    /// The API key for `provider`: runtime override, provider env vars, then the configured
    /// `apiKey` (an env-var name if such a variable exists, `!command` output, or the literal).
    pub fn api_key(&self, provider: &str) -> Option<String> {
        if let Some(k) = self.overrides.get(provider) {
            return Some(k.clone());
        }
        let info = self.providers.get(provider)?;
        if let Some(bp) = info.builtin {
            for var in bp.env_keys {
                if let Ok(v) = std::env::var(var) {
                    if !v.is_empty() {
                        return Some(v);
                    }
                }
            }
        }
        let KeySource::Setting(setting) = info.key.as_ref()?;
        if let Ok(mut cache) = self.key_cache.lock() {
            if let Some(v) = cache.get(provider) {
                return v.clone();
            }
            let v = resolve_setting(setting);
            cache.insert(provider.to_owned(), v.clone());
            return v;
        }
        resolve_setting(setting)
    }

    /// Whether a request to `provider` can be authenticated (keyless local servers count once
    /// they are configured).
    pub fn has_credentials(&self, provider: &str) -> bool {
        match self.providers.get(provider) {
            None => false,
            Some(info) => {
                self.overrides.contains_key(provider)
                    || info.builtin.is_some_and(|b| {
                        b.env_keys
                            .iter()
                            .any(|v| std::env::var(v).is_ok_and(|s| !s.is_empty()))
                            || (b.keyless && info.configured)
                    })
                    || info.key.is_some()
            }
        }
    }

    /// Models whose provider has credentials, in registry order.
    pub fn available_models(&self) -> Vec<Model> {
        self.models
            .iter()
            .filter(|m| self.has_credentials(&m.provider))
            .cloned()
            .collect()
    }

    /// The model `provider/id`, exactly.
    pub fn find(&self, provider: &str, id: &str) -> Option<Model> {
        self.models
            .iter()
            .find(|m| m.provider == provider && m.id == id)
            .cloned()
    }

    /// A model standing in for an unknown id of a known provider: the provider's first model
    /// with `id`/`name` replaced.
    fn synthetic(&self, provider: &str, id: &str) -> Option<Model> {
        let template = self.models.iter().find(|m| m.provider == provider)?;
        let mut m = template.clone();
        m.id = id.to_owned();
        m.name = id.to_owned();
        Some(m)
    }

    fn search(&self, provider: Option<&str>, pattern: &str) -> Option<Model> {
        let in_scope = |m: &&Model| provider.is_none_or(|p| m.provider == p);
        if let Some(m) = self
            .models
            .iter()
            .filter(in_scope)
            .find(|m| m.id == pattern)
        {
            return Some(m.clone());
        }
        let lower = pattern.to_lowercase();
        let exact_ci = self
            .models
            .iter()
            .filter(in_scope)
            .find(|m| m.id.to_lowercase() == lower || m.name.to_lowercase() == lower);
        if let Some(m) = exact_ci {
            return Some(m.clone());
        }
        // Fuzzy: substring of id or name; prefer available models, then the shortest id.
        let mut candidates: Vec<&Model> = self
            .models
            .iter()
            .filter(in_scope)
            .filter(|m| {
                m.id.to_lowercase().contains(&lower) || m.name.to_lowercase().contains(&lower)
            })
            .collect();
        candidates.sort_by_key(|m| (!self.has_credentials(&m.provider), m.id.len()));
        candidates.first().map(|m| (*m).clone())
    }

    /// Resolve a model choice like pi's `--provider`/`--model`: `spec` may be `provider/id`, a
    /// bare id, an alias, or a fuzzy fragment of an id or name, each with an optional
    /// `:thinking` suffix.
    pub fn resolve(&self, provider: Option<&str>, spec: &str) -> Result<Resolved, ResolveError> {
        let (body, thinking) = split_thinking(spec);
        let body = self.aliases.get(body).map(String::as_str).unwrap_or(body);
        if let Some(p) = provider {
            if !self.has_provider(p) {
                return Err(ResolveError::UnknownProvider(p.to_owned()));
            }
        }
        let (provider, id) = match (provider, body.split_once('/')) {
            (None, Some((p, rest))) if self.has_provider(p) => (Some(p), rest),
            (Some(p), Some((q, rest))) if q == p => (Some(p), rest),
            _ => (provider, body),
        };
        if let Some(m) = self.search(provider, id) {
            return Ok(Resolved {
                model: m,
                thinking,
                warning: None,
            });
        }
        match provider {
            Some(p) => match self.synthetic(p, id) {
                Some(model) => Ok(Resolved {
                    model,
                    thinking,
                    warning: Some(format!(
                        "Model \"{id}\" not found for provider \"{p}\". Using custom model id."
                    )),
                }),
                None => Err(ResolveError::UnknownModel(id.to_owned())),
            },
            None => Err(ResolveError::UnknownModel(body.to_owned())),
        }
    }

    /// The first available model, in registry order (pi's fallback when nothing is chosen).
    pub fn default_model(&self) -> Option<Model> {
        self.models
            .iter()
            .find(|m| self.has_credentials(&m.provider))
            .cloned()
    }
}

/// Split a trailing `:level` off a model spec when it names a thinking level.
pub fn split_thinking(spec: &str) -> (&str, Option<ThinkingLevel>) {
    if let Some((head, tail)) = spec.rsplit_once(':') {
        if let Ok(level) = tail.parse::<ThinkingLevel>() {
            return (head, Some(level));
        }
    }
    (spec, None)
}

/// Resolve an `apiKey` setting: `!command` → its trimmed stdout; a name of a set env var → its
/// value; otherwise the literal text.
fn resolve_setting(setting: &str) -> Option<String> {
    if let Some(cmd) = setting.strip_prefix('!') {
        let output = shell_command(cmd).output().ok()?;
        if !output.status.success() {
            tracing::warn!("the apiKey command failed with {}", output.status);
            return None;
        }
        let key = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        return Some(key).filter(|k| !k.is_empty());
    }
    match std::env::var(setting) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => Some(setting.to_owned()),
    }
}

fn shell_command(cmd: &str) -> std::process::Command {
    #[cfg(windows)]
    {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", cmd]);
        c
    }
    #[cfg(not(windows))]
    {
        let mut c = std::process::Command::new("sh");
        c.args(["-c", cmd]);
        c
    }
}

#[cfg(test)]
mod tests;
