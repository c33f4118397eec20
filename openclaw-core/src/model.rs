//! Model descriptions (pi's `Model` object) and thinking levels.

use std::fmt;
use std::str::FromStr;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::num;

/// How hard a reasoning model thinks: `off, minimal, low, medium, high, xhigh`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum ThinkingLevel {
    #[default]
    Off,
    Minimal,
    Low,
    Medium,
    High,
    Xhigh,
}

impl ThinkingLevel {
    /// Every level, lowest first.
    pub const ALL: [ThinkingLevel; 6] = [
        ThinkingLevel::Off,
        ThinkingLevel::Minimal,
        ThinkingLevel::Low,
        ThinkingLevel::Medium,
        ThinkingLevel::High,
        ThinkingLevel::Xhigh,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ThinkingLevel::Off => "off",
            ThinkingLevel::Minimal => "minimal",
            ThinkingLevel::Low => "low",
            ThinkingLevel::Medium => "medium",
            ThinkingLevel::High => "high",
            ThinkingLevel::Xhigh => "xhigh",
        }
    }

    /// The level clamped to what `model` supports: non-reasoning models only think `off`, and
    /// `xhigh` falls back to `high` unless the model supports it.
    pub fn clamp_to(self, model: &Model) -> ThinkingLevel {
        if !model.reasoning {
            ThinkingLevel::Off
        } else if self == ThinkingLevel::Xhigh && !model.supports_xhigh() {
            ThinkingLevel::High
        } else {
            self
        }
    }

    /// The levels `model` can be cycled through, in order.
    pub fn available_for(model: &Model) -> Vec<ThinkingLevel> {
        if !model.reasoning {
            return vec![ThinkingLevel::Off];
        }
        let mut levels = ThinkingLevel::ALL.to_vec();
        if !model.supports_xhigh() {
            levels.pop();
        }
        levels
    }
}

impl fmt::Display for ThinkingLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ThinkingLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ThinkingLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| format!("invalid thinking level \"{s}\" (expected off, minimal, low, medium, high or xhigh)"))
    }
}

/// Dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCost {
    #[serde(with = "num", default)]
    pub input: f64,
    #[serde(with = "num", default)]
    pub output: f64,
    #[serde(with = "num", default)]
    pub cache_read: f64,
    #[serde(with = "num", default)]
    pub cache_write: f64,
}

/// A model a provider serves (pi's `Model` object, as `get_state` and `set_model` return it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    pub id: String,
    pub name: String,
    /// The wire API: `openai-completions`, `openai-responses`, `anthropic-messages`,
    /// `google-generative-ai`.
    pub api: String,
    pub provider: String,
    pub base_url: String,
    pub reasoning: bool,
    /// Input kinds: `text`, `image`.
    pub input: Vec<String>,
    pub cost: ModelCost,
    pub context_window: u64,
    pub max_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<IndexMap<String, String>>,
    /// Wire-format switches for OpenAI-compatible servers (pi's `compat` object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compat: Option<Value>,
}

impl Model {
    /// `provider/id`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.provider, self.id)
    }

    /// Whether the model accepts image input.
    pub fn supports_images(&self) -> bool {
        self.input.iter().any(|i| i == "image")
    }

    /// Whether the model accepts the `xhigh` thinking level (OpenAI's GPT-5.x codex-class models).
    pub fn supports_xhigh(&self) -> bool {
        let id = self.id.as_str();
        id.starts_with("gpt-5.1-codex-max")
            || id.starts_with("gpt-5.2")
            || id.starts_with("gpt-5.3")
    }

    /// A `compat` switch, if set.
    pub fn compat_flag(&self, key: &str) -> Option<&Value> {
        self.compat.as_ref().and_then(|c| c.get(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_round_trips_get_state_shape() {
        let line = r#"{"id":"fake-model","name":"fake-model","api":"openai-completions","provider":"fake","baseUrl":"http://127.0.0.1:53841/v1","reasoning":false,"input":["text"],"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0},"contextWindow":128000,"maxTokens":4096,"compat":{"supportsDeveloperRole":false,"supportsReasoningEffort":false}}"#;
        let m: Model = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), line);
        assert_eq!(ThinkingLevel::High.clamp_to(&m), ThinkingLevel::Off);
    }

    #[test]
    fn thinking_levels_parse_and_clamp() {
        assert_eq!(
            "xhigh".parse::<ThinkingLevel>().unwrap(),
            ThinkingLevel::Xhigh
        );
        assert!("bogus".parse::<ThinkingLevel>().is_err());
    }
}
