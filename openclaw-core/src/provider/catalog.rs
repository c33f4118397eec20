//! The built-in model catalogue: current models of OpenAI, Anthropic, Google and the common
//! OpenAI-compatible services (OpenRouter, Groq, xAI, Mistral, DeepSeek, local Ollama), with
//! context window, output limit, reasoning flag, input kinds and prices per million tokens.

use crate::model::{Model, ModelCost};

/// A built-in provider: id, wire API, base URL and the env vars holding its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinProvider {
    pub id: &'static str,
    pub api: &'static str,
    pub base_url: &'static str,
    /// Env vars checked in order for the API key (empty: no key needed).
    pub env_keys: &'static [&'static str],
    /// Whether the provider works without any key (local servers).
    pub keyless: bool,
}

/// Built-in providers, in pi's default-priority order.
pub const PROVIDERS: &[BuiltinProvider] = &[
    BuiltinProvider {
        id: "anthropic",
        api: "anthropic-messages",
        base_url: "https://api.anthropic.com",
        env_keys: &["ANTHROPIC_OAUTH_TOKEN", "ANTHROPIC_API_KEY"],
        keyless: false,
    },
    BuiltinProvider {
        id: "openai",
        api: "openai-responses",
        base_url: "https://api.openai.com/v1",
        env_keys: &["OPENAI_API_KEY"],
        keyless: false,
    },
    BuiltinProvider {
        id: "google",
        api: "google-generative-ai",
        base_url: "https://generativelanguage.googleapis.com/v1beta",
        env_keys: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        keyless: false,
    },
    BuiltinProvider {
        id: "openrouter",
        api: "openai-completions",
        base_url: "https://openrouter.ai/api/v1",
        env_keys: &["OPENROUTER_API_KEY"],
        keyless: false,
    },
    BuiltinProvider {
        id: "groq",
        api: "openai-completions",
        base_url: "https://api.groq.com/openai/v1",
        env_keys: &["GROQ_API_KEY"],
        keyless: false,
    },
    BuiltinProvider {
        id: "xai",
        api: "openai-completions",
        base_url: "https://api.x.ai/v1",
        env_keys: &["XAI_API_KEY"],
        keyless: false,
    },
    BuiltinProvider {
        id: "mistral",
        api: "openai-completions",
        base_url: "https://api.mistral.ai/v1",
        env_keys: &["MISTRAL_API_KEY"],
        keyless: false,
    },
    BuiltinProvider {
        id: "deepseek",
        api: "openai-completions",
        base_url: "https://api.deepseek.com/v1",
        env_keys: &["DEEPSEEK_API_KEY"],
        keyless: false,
    },
    BuiltinProvider {
        id: "ollama",
        api: "openai-completions",
        base_url: "http://127.0.0.1:11434/v1",
        env_keys: &["OLLAMA_API_KEY"],
        keyless: true,
    },
];

/// The built-in provider `id`.
pub fn builtin_provider(id: &str) -> Option<&'static BuiltinProvider> {
    PROVIDERS.iter().find(|p| p.id == id)
}

/// (provider, id, name, reasoning, images, context window, max tokens, $ in, $ out, $ cache read, $ cache write)
type Row = (
    &'static str,
    &'static str,
    &'static str,
    bool,
    bool,
    u64,
    u64,
    f64,
    f64,
    f64,
    f64,
);

const ROWS: &[Row] = &[
    (
        "anthropic",
        "claude-opus-4-5",
        "Claude Opus 4.5",
        true,
        true,
        200_000,
        64_000,
        5.0,
        25.0,
        0.5,
        6.25,
    ),
    (
        "anthropic",
        "claude-sonnet-4-5",
        "Claude Sonnet 4.5",
        true,
        true,
        200_000,
        64_000,
        3.0,
        15.0,
        0.3,
        3.75,
    ),
    (
        "anthropic",
        "claude-haiku-4-5",
        "Claude Haiku 4.5",
        true,
        true,
        200_000,
        64_000,
        1.0,
        5.0,
        0.1,
        1.25,
    ),
    (
        "anthropic",
        "claude-opus-4-1",
        "Claude Opus 4.1",
        true,
        true,
        200_000,
        32_000,
        15.0,
        75.0,
        1.5,
        18.75,
    ),
    (
        "anthropic",
        "claude-sonnet-4-0",
        "Claude Sonnet 4",
        true,
        true,
        200_000,
        64_000,
        3.0,
        15.0,
        0.3,
        3.75,
    ),
    (
        "openai", "gpt-5.1", "GPT-5.1", true, true, 400_000, 128_000, 1.25, 10.0, 0.125, 0.0,
    ),
    (
        "openai",
        "gpt-5.1-codex",
        "GPT-5.1 Codex",
        true,
        true,
        400_000,
        128_000,
        1.25,
        10.0,
        0.125,
        0.0,
    ),
    (
        "openai", "gpt-5", "GPT-5", true, true, 400_000, 128_000, 1.25, 10.0, 0.125, 0.0,
    ),
    (
        "openai",
        "gpt-5-mini",
        "GPT-5 Mini",
        true,
        true,
        400_000,
        128_000,
        0.25,
        2.0,
        0.025,
        0.0,
    ),
    (
        "openai",
        "gpt-5-nano",
        "GPT-5 Nano",
        true,
        true,
        400_000,
        128_000,
        0.05,
        0.4,
        0.005,
        0.0,
    ),
    (
        "openai", "gpt-4.1", "GPT-4.1", false, true, 1_047_576, 32_768, 2.0, 8.0, 0.5, 0.0,
    ),
    (
        "openai", "gpt-4o", "GPT-4o", false, true, 128_000, 16_384, 2.5, 10.0, 1.25, 0.0,
    ),
    (
        "openai", "o4-mini", "o4-mini", true, true, 200_000, 100_000, 1.1, 4.4, 0.275, 0.0,
    ),
    (
        "google",
        "gemini-2.5-pro",
        "Gemini 2.5 Pro",
        true,
        true,
        1_048_576,
        65_536,
        1.25,
        10.0,
        0.31,
        0.0,
    ),
    (
        "google",
        "gemini-2.5-flash",
        "Gemini 2.5 Flash",
        true,
        true,
        1_048_576,
        65_536,
        0.3,
        2.5,
        0.075,
        0.0,
    ),
    (
        "google",
        "gemini-2.5-flash-lite",
        "Gemini 2.5 Flash-Lite",
        true,
        true,
        1_048_576,
        65_536,
        0.1,
        0.4,
        0.025,
        0.0,
    ),
    (
        "google",
        "gemini-3-pro-preview",
        "Gemini 3 Pro Preview",
        true,
        true,
        1_048_576,
        65_536,
        2.0,
        12.0,
        0.2,
        0.0,
    ),
    (
        "openrouter",
        "anthropic/claude-sonnet-4.5",
        "Anthropic: Claude Sonnet 4.5",
        true,
        true,
        1_000_000,
        64_000,
        3.0,
        15.0,
        0.3,
        3.75,
    ),
    (
        "openrouter",
        "openai/gpt-5",
        "OpenAI: GPT-5",
        true,
        true,
        400_000,
        128_000,
        1.25,
        10.0,
        0.125,
        0.0,
    ),
    (
        "openrouter",
        "google/gemini-2.5-pro",
        "Google: Gemini 2.5 Pro",
        true,
        true,
        1_048_576,
        65_536,
        1.25,
        10.0,
        0.31,
        0.0,
    ),
    (
        "openrouter",
        "deepseek/deepseek-chat-v3.1",
        "DeepSeek: DeepSeek V3.1",
        true,
        false,
        163_840,
        65_536,
        0.2,
        0.8,
        0.0,
        0.0,
    ),
    (
        "openrouter",
        "qwen/qwen3-coder",
        "Qwen: Qwen3 Coder",
        false,
        false,
        262_144,
        65_536,
        0.22,
        0.95,
        0.0,
        0.0,
    ),
    (
        "groq",
        "openai/gpt-oss-120b",
        "GPT OSS 120B",
        true,
        false,
        131_072,
        65_536,
        0.15,
        0.75,
        0.0,
        0.0,
    ),
    (
        "groq",
        "llama-3.3-70b-versatile",
        "Llama 3.3 70B Versatile",
        false,
        false,
        131_072,
        32_768,
        0.59,
        0.79,
        0.0,
        0.0,
    ),
    (
        "groq",
        "moonshotai/kimi-k2-instruct-0905",
        "Kimi K2 Instruct",
        false,
        false,
        262_144,
        16_384,
        1.0,
        3.0,
        0.0,
        0.0,
    ),
    (
        "xai", "grok-4", "Grok 4", true, true, 256_000, 64_000, 3.0, 15.0, 0.75, 0.0,
    ),
    (
        "xai",
        "grok-4-fast",
        "Grok 4 Fast",
        true,
        true,
        2_000_000,
        30_000,
        0.2,
        0.5,
        0.05,
        0.0,
    ),
    (
        "xai",
        "grok-code-fast-1",
        "Grok Code Fast 1",
        true,
        false,
        256_000,
        10_000,
        0.2,
        1.5,
        0.02,
        0.0,
    ),
    (
        "mistral",
        "mistral-large-latest",
        "Mistral Large",
        false,
        true,
        128_000,
        16_384,
        2.0,
        6.0,
        0.0,
        0.0,
    ),
    (
        "mistral",
        "mistral-medium-latest",
        "Mistral Medium",
        false,
        true,
        128_000,
        16_384,
        0.4,
        2.0,
        0.0,
        0.0,
    ),
    (
        "mistral",
        "devstral-medium-latest",
        "Devstral Medium",
        false,
        false,
        128_000,
        16_384,
        0.4,
        2.0,
        0.0,
        0.0,
    ),
    (
        "mistral",
        "codestral-latest",
        "Codestral",
        false,
        false,
        256_000,
        16_384,
        0.3,
        0.9,
        0.0,
        0.0,
    ),
    (
        "deepseek",
        "deepseek-chat",
        "DeepSeek V3.2 (chat)",
        false,
        false,
        128_000,
        8_192,
        0.28,
        0.42,
        0.028,
        0.0,
    ),
    (
        "deepseek",
        "deepseek-reasoner",
        "DeepSeek V3.2 (reasoner)",
        true,
        false,
        128_000,
        64_000,
        0.28,
        0.42,
        0.028,
        0.0,
    ),
    (
        "ollama",
        "gpt-oss:20b",
        "gpt-oss 20B (local)",
        true,
        false,
        131_072,
        16_384,
        0.0,
        0.0,
        0.0,
        0.0,
    ),
    (
        "ollama",
        "qwen3:8b",
        "Qwen3 8B (local)",
        true,
        false,
        40_960,
        16_384,
        0.0,
        0.0,
        0.0,
        0.0,
    ),
    (
        "ollama",
        "llama3.2",
        "Llama 3.2 (local)",
        false,
        false,
        131_072,
        16_384,
        0.0,
        0.0,
        0.0,
        0.0,
    ),
];

fn compat_for(provider: &str) -> Option<serde_json::Value> {
    match provider {
        // Servers that reject `store`, `developer` or `reasoning_effort`.
        "mistral" => Some(
            serde_json::json!({"supportsStore": false, "supportsDeveloperRole": false,
            "supportsReasoningEffort": false, "maxTokensField": "max_tokens"}),
        ),
        "xai" | "deepseek" | "groq" => Some(serde_json::json!({"supportsStore": false,
            "supportsDeveloperRole": false, "supportsReasoningEffort": provider == "groq"})),
        "ollama" => {
            Some(serde_json::json!({"supportsStore": false, "supportsDeveloperRole": false}))
        }
        _ => None,
    }
}

/// Every built-in model, grouped by provider in [`PROVIDERS`] order.
pub fn builtin_models() -> Vec<Model> {
    let mut out = Vec::with_capacity(ROWS.len());
    for p in PROVIDERS {
        for row in ROWS.iter().filter(|r| r.0 == p.id) {
            let (_, id, name, reasoning, images, ctx, max, i, o, cr, cw) = *row;
            let mut input = vec!["text".to_owned()];
            if images {
                input.push("image".to_owned());
            }
            out.push(Model {
                id: id.to_owned(),
                name: name.to_owned(),
                api: p.api.to_owned(),
                provider: p.id.to_owned(),
                base_url: p.base_url.to_owned(),
                reasoning,
                input,
                cost: ModelCost {
                    input: i,
                    output: o,
                    cache_read: cr,
                    cache_write: cw,
                },
                context_window: ctx,
                max_tokens: max,
                headers: None,
                compat: compat_for(p.id),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_provider_has_models_and_ids_are_unique() {
        let models = builtin_models();
        for p in PROVIDERS {
            assert!(models.iter().any(|m| m.provider == p.id), "{}", p.id);
        }
        let mut keys: Vec<String> = models.iter().map(Model::key).collect();
        keys.sort();
        let n = keys.len();
        keys.dedup();
        assert_eq!(n, keys.len());
        let sonnet = models.iter().find(|m| m.id == "claude-sonnet-4-5").unwrap();
        assert_eq!(sonnet.api, "anthropic-messages");
        assert!(sonnet.supports_images());
    }
}
