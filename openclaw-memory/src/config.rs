//! Memory settings from `openclaw.json`, as OpenClaw 9.6 names them: `memory.search` (global)
//! overridden by `agents.entries.<id>.memory.search` (or the `agents.list` entry), with the
//! legacy `agents.defaults.memorySearch` / top-level `memorySearch` read when the new key is
//! absent. Keys: `enabled`, `provider`, `model`, `remote.{baseUrl,apiKey,headers}`,
//! `query.{maxResults,minScore}`; `agents.defaults.compaction.memoryFlush.enabled` for the flush.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

/// OpenClaw's defaults (`memory-search` in its dist).
pub const DEFAULT_MAX_RESULTS: usize = 6;
pub const DEFAULT_MIN_SCORE: f64 = 0.35;
pub const VECTOR_WEIGHT: f64 = 0.7;
pub const TEXT_WEIGHT: f64 = 0.3;
/// OpenAI's default embedding model, as OpenClaw uses it.
pub const DEFAULT_OPENAI_MODEL: &str = "text-embedding-3-small";
const OPENAI_BASE: &str = "https://api.openai.com/v1";

/// `memory.search` as written (every key optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSearch {
    enabled: Option<bool>,
    provider: Option<String>,
    model: Option<String>,
    remote: Option<RawRemote>,
    query: Option<RawQuery>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRemote {
    base_url: Option<String>,
    api_key: Option<String>,
    headers: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawQuery {
    max_results: Option<usize>,
    min_score: Option<f64>,
}

/// Where vectors come from: an OpenAI-compatible `/embeddings` endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct EmbeddingEndpoint {
    /// The provider id as configured (`openai`, `openai-compatible`, a custom id).
    pub provider: String,
    pub model: String,
    /// Without the trailing `/embeddings` (e.g. `http://127.0.0.1:8080/v1`).
    pub base_url: String,
    pub api_key: Option<String>,
    pub headers: BTreeMap<String, String>,
}

impl std::fmt::Debug for EmbeddingEndpoint {
    // The key and headers may hold secrets: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddingEndpoint")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// One agent's memory settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MemorySettings {
    pub enabled: bool,
    /// `None`: keyword search only; `embed_note` says why.
    pub embeddings: Option<EmbeddingEndpoint>,
    pub embed_note: Option<String>,
    pub max_results: usize,
    pub min_score: f64,
}

impl Default for MemorySettings {
    fn default() -> Self {
        MemorySettings {
            enabled: true,
            embeddings: None,
            embed_note: Some("no embedding provider configured: keyword search only".into()),
            max_results: DEFAULT_MAX_RESULTS,
            min_score: DEFAULT_MIN_SCORE,
        }
    }
}

fn agent_entry<'a>(config: &'a Value, agent_id: &str) -> Option<&'a Value> {
    let agents = config.get("agents")?;
    agents
        .get("list")
        .and_then(Value::as_array)
        .and_then(|l| {
            l.iter()
                .find(|e| e.get("id").and_then(Value::as_str) == Some(agent_id))
        })
        .or_else(|| agents.get("entries").and_then(|e| e.get(agent_id)))
}

fn raw(v: Option<&Value>) -> Result<RawSearch, String> {
    match v {
        None | Some(Value::Null) => Ok(RawSearch::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| e.to_string()),
    }
}

impl MemorySettings {
    /// `agent_id`'s settings; `env` looks up environment variables (`OPENAI_API_KEY`).
    /// A malformed section is an error naming the key.
    pub fn resolve(
        config: &Value,
        agent_id: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let global_at = if config.pointer("/memory/search").is_some() {
            "memory.search"
        } else if config.pointer("/agents/defaults/memorySearch").is_some() {
            "agents.defaults.memorySearch"
        } else {
            "memorySearch"
        };
        let global_v = config
            .pointer("/memory/search")
            .or_else(|| config.pointer("/agents/defaults/memorySearch"))
            .or_else(|| config.get("memorySearch"));
        let global = raw(global_v).map_err(|e| format!("{global_at}: {e}"))?;
        let entry = agent_entry(config, agent_id);
        let agent_v = entry.and_then(|e| {
            e.pointer("/memory/search")
                .or_else(|| e.get("memorySearch"))
        });
        let agent =
            raw(agent_v).map_err(|e| format!("agents.entries.{agent_id}.memory.search: {e}"))?;
        let enabled = agent.enabled.or(global.enabled).unwrap_or(true);
        let query = |f: fn(&RawQuery) -> Option<f64>| {
            agent
                .query
                .as_ref()
                .and_then(f)
                .or_else(|| global.query.as_ref().and_then(f))
        };
        let max_results = agent
            .query
            .as_ref()
            .and_then(|q| q.max_results)
            .or_else(|| global.query.as_ref().and_then(|q| q.max_results))
            .unwrap_or(DEFAULT_MAX_RESULTS)
            .clamp(1, 100);
        let min_score = query(|q| q.min_score)
            .unwrap_or(DEFAULT_MIN_SCORE)
            .clamp(0.0, 1.0);
        let provider = agent
            .provider
            .clone()
            .or(global.provider.clone())
            .map(|p| p.trim().to_owned());
        let model = agent.model.clone().or(global.model.clone());
        let remote = merge_remote(agent.remote.as_ref(), global.remote.as_ref());
        let (embeddings, embed_note) = endpoint(config, provider.as_deref(), model, remote, env);
        Ok(MemorySettings {
            enabled,
            embeddings,
            embed_note,
            max_results,
            min_score,
        })
    }
}

fn merge_remote(agent: Option<&RawRemote>, global: Option<&RawRemote>) -> RawRemote {
    let pick =
        |f: fn(&RawRemote) -> Option<String>| agent.and_then(f).or_else(|| global.and_then(f));
    RawRemote {
        base_url: pick(|r| r.base_url.clone()),
        api_key: pick(|r| r.api_key.clone()),
        headers: agent
            .and_then(|r| r.headers.clone())
            .or_else(|| global.and_then(|r| r.headers.clone())),
    }
}

type Resolved = (Option<EmbeddingEndpoint>, Option<String>);

fn endpoint(
    config: &Value,
    provider: Option<&str>,
    model: Option<String>,
    remote: RawRemote,
    env: &dyn Fn(&str) -> Option<String>,
) -> Resolved {
    let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    let build = |provider: &str, base: String, key: Option<String>, model: String| {
        Some(EmbeddingEndpoint {
            provider: provider.to_owned(),
            model,
            base_url: base.trim_end_matches('/').to_owned(),
            api_key: key,
            headers: remote.headers.clone().unwrap_or_default(),
        })
    };
    match provider {
        Some("none") => (
            None,
            Some("memory.search.provider is \"none\": keyword search only".into()),
        ),
        None | Some("") | Some("auto") | Some("openai") => {
            let explicit = provider == Some("openai");
            let key = nonempty(remote.api_key.clone())
                .or_else(|| {
                    nonempty(
                        config
                            .pointer("/models/providers/openai/apiKey")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                    )
                })
                .or_else(|| nonempty(env("OPENAI_API_KEY")));
            let base = nonempty(remote.base_url.clone());
            if key.is_none() && base.is_none() {
                let why = if explicit {
                    "the openai embedding provider has no API key (OPENAI_API_KEY or models.providers.openai.apiKey): keyword search only"
                } else {
                    "no embedding provider configured: keyword search only"
                };
                return (None, Some(why.into()));
            }
            let model = model.unwrap_or_else(|| DEFAULT_OPENAI_MODEL.to_owned());
            (
                build(
                    "openai",
                    base.unwrap_or_else(|| OPENAI_BASE.into()),
                    key,
                    model,
                ),
                None,
            )
        }
        Some(id) => {
            let custom = config.pointer(&format!("/models/providers/{id}"));
            let base = nonempty(remote.base_url.clone()).or_else(|| {
                custom
                    .and_then(|c| c.get("baseUrl"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
            let key = nonempty(remote.api_key.clone()).or_else(|| {
                custom
                    .and_then(|c| c.get("apiKey"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
            let Some(base) = base else {
                return (
                    None,
                    Some(format!(
                        "the embedding provider \"{id}\" has no endpoint (memory.search.remote.baseUrl): keyword search only"
                    )),
                );
            };
            let Some(model) = nonempty(model) else {
                return (
                    None,
                    Some(format!(
                        "the embedding provider \"{id}\" has no model (memory.search.model): keyword search only"
                    )),
                );
            };
            (build(id, base, key, model), None)
        }
    }
}

/// Whether the pre-compaction memory flush is on (`agents.defaults.compaction.memoryFlush.enabled`,
/// default true).
pub fn memory_flush_enabled(config: &Value) -> bool {
    config
        .pointer("/agents/defaults/compaction/memoryFlush/enabled")
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

/// OpenClaw's `softThresholdTokens` default.
pub const DEFAULT_FLUSH_SOFT_TOKENS: u64 = 4000;

/// `agents.defaults.compaction.memoryFlush.softThresholdTokens` (default 4000).
pub fn memory_flush_soft_tokens(config: &Value) -> u64 {
    config
        .pointer("/agents/defaults/compaction/memoryFlush/softThresholdTokens")
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_FLUSH_SOFT_TOKENS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn keyword_only_without_a_provider() {
        let s = MemorySettings::resolve(&json!({}), "main", &no_env).unwrap();
        assert!(s.embeddings.is_none());
        assert!(s.embed_note.unwrap().contains("keyword search only"));
        assert_eq!((s.max_results, s.min_score), (6, 0.35));
    }

    #[test]
    fn openai_compatible_and_agent_override() {
        let cfg = json!({
            "memory": {"search": {"provider": "openai-compatible", "model": "m1",
                        "remote": {"baseUrl": "http://127.0.0.1:9/v1/", "apiKey": "k"},
                        "query": {"maxResults": 3}}},
            "agents": {"entries": {"ops": {"memory": {"search": {"model": "m2", "enabled": false}}}}}
        });
        let main = MemorySettings::resolve(&cfg, "main", &no_env).unwrap();
        let e = main.embeddings.unwrap();
        assert_eq!(
            (e.base_url.as_str(), e.model.as_str()),
            ("http://127.0.0.1:9/v1", "m1")
        );
        assert_eq!(main.max_results, 3);
        let ops = MemorySettings::resolve(&cfg, "ops", &no_env).unwrap();
        assert!(!ops.enabled);
        assert_eq!(ops.embeddings.unwrap().model, "m2");
        assert!(!format!("{:?}", MemorySettings::resolve(&cfg, "main", &no_env)).contains("\"k\""));
    }

    #[test]
    fn legacy_key_and_bad_section() {
        let cfg = json!({"agents": {"defaults": {"memorySearch": {"provider": "none"}}}});
        let s = MemorySettings::resolve(&cfg, "main", &no_env).unwrap();
        assert!(s.embed_note.unwrap().contains("\"none\""));
        let bad = json!({"memory": {"search": {"enabled": "yes"}}});
        let e = MemorySettings::resolve(&bad, "main", &no_env).unwrap_err();
        assert!(e.starts_with("memory.search:"), "{e}");
    }
}
