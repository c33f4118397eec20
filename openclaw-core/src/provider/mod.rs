//! Model providers: the [`Provider`] trait every wire API implements, the delta-level
//! [`StreamEvent`]s a provider yields, and the [`MessageBuilder`] that turns them into the
//! assistant message and pi's `message_update` events.

#[cfg(feature = "tokio")]
pub mod anthropic;
mod builder;
pub mod catalog;
#[cfg(feature = "tokio")]
pub mod google;
#[cfg(feature = "tokio")]
pub mod http;
#[cfg(feature = "tokio")]
pub mod openai_completions;
#[cfg(feature = "tokio")]
pub mod openai_responses;
mod overflow;
pub mod registry;
pub mod routing;

pub use builder::MessageBuilder;
pub use overflow::is_context_overflow;
pub use registry::{ModelRegistry, ResolveError, Resolved};

use futures::stream::BoxStream;
use indexmap::IndexMap;
use std::sync::Arc;

use crate::cancel::CancellationToken;
use crate::message::{Message, StopReason};
use crate::model::{Model, ThinkingLevel};
use crate::tool::ToolSpec;

/// What the model is asked: system prompt, conversation (user / assistant / toolResult messages
/// only: other roles are converted before they reach a provider) and tools.
#[derive(Debug, Clone, Default)]
pub struct LlmContext {
    pub system_prompt: String,
    /// The converted context, sharing its messages with the agent's.
    pub messages: Vec<Arc<Message>>,
    pub tools: Vec<ToolSpec>,
}

/// Per-request options (`Debug` redacts the key).
#[derive(Clone, Default)]
pub struct StreamOptions {
    /// The resolved API key (never logged).
    pub api_key: Option<String>,
    pub thinking: ThinkingLevel,
    /// Overrides the model's `maxTokens`.
    pub max_tokens: Option<u64>,
    pub temperature: Option<f64>,
    /// Extra headers on top of the model's.
    pub headers: IndexMap<String, String>,
    /// A stable id for prompt caching where the API supports one.
    pub session_id: Option<String>,
    /// Aborts the request mid-stream.
    pub cancel: CancellationToken,
}

impl std::fmt::Debug for StreamOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamOptions")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("thinking", &self.thinking)
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("session_id", &self.session_id)
            .field("cancel", &self.cancel)
            .finish()
    }
}

/// Token counts reported by the API (cost and total are computed by the [`MessageBuilder`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenCounts {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
}

/// One delta of a streamed assistant message, as a provider reports it.
///
/// `index` is the position of the content block in the message; providers open blocks in
/// order (0, 1, 2, …) and may close them in any order.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The provider's id for this response.
    ResponseId(String),
    TextStart {
        index: usize,
    },
    TextDelta {
        index: usize,
        delta: String,
    },
    TextEnd {
        index: usize,
        signature: Option<String>,
    },
    ThinkingStart {
        index: usize,
    },
    ThinkingDelta {
        index: usize,
        delta: String,
    },
    ThinkingEnd {
        index: usize,
        signature: Option<String>,
        redacted: bool,
    },
    ToolCallStart {
        index: usize,
        id: String,
        name: String,
    },
    /// A fragment of the arguments' JSON text.
    ToolCallDelta {
        index: usize,
        delta: String,
    },
    /// The call is complete. `arguments` is given by APIs that send them whole (Gemini);
    /// otherwise the builder parses the accumulated deltas.
    ToolCallEnd {
        index: usize,
        arguments: Option<serde_json::Value>,
        thought_signature: Option<String>,
    },
    /// Usage so far (later reports replace earlier ones).
    Usage(TokenCounts),
    /// The message finished normally.
    Done {
        reason: StopReason,
    },
    /// The message failed (`Error`) or was cancelled (`Aborted`); partial content is kept.
    Error {
        reason: StopReason,
        message: String,
    },
}

/// A model API client.
pub trait Provider: Send + Sync {
    /// The wire API this provider speaks (`openai-completions`, …).
    fn api(&self) -> &str;

    /// Stream one assistant message. The stream must end with exactly one `Done` or `Error`
    /// event; failures (HTTP errors, broken connections, cancellation) are reported as `Error`,
    /// never as a panic or a silently empty stream.
    fn stream(
        &self,
        model: &Model,
        context: &LlmContext,
        options: &StreamOptions,
    ) -> BoxStream<'static, StreamEvent>;
}

/// The provider implementation for a wire API name (`None` for an API this build cannot speak).
#[cfg(feature = "tokio")]
pub fn provider_for_api(api: &str) -> Option<std::sync::Arc<dyn Provider>> {
    match api {
        "openai-completions" => Some(std::sync::Arc::new(openai_completions::OpenAiCompletions)),
        "anthropic-messages" => Some(std::sync::Arc::new(anthropic::AnthropicMessages)),
        "openai-responses" => Some(std::sync::Arc::new(openai_responses::OpenAiResponses)),
        "google-generative-ai" => Some(std::sync::Arc::new(google::GoogleGenerativeAi)),
        _ => None,
    }
}
