//! The agent's configurable state and the hook types embedders plug in.

use std::sync::Arc;

use serde_json::Value;

use super::queue::QueueMode;
use super::retry::RetrySettings;
use crate::message::{AssistantMessage, Message};
use crate::model::{Model, ThinkingLevel};
use crate::tool::Tool;

/// How the tool calls of one assistant message run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ToolExecution {
    /// Prepare every call in order, then run them concurrently (pi's default).
    #[default]
    Parallel,
    /// One call after the other; each call's result message follows its `tool_execution_end`.
    Sequential,
}

/// Checks (and may coerce) a call's arguments against the tool's schema before it runs:
/// `(tool_name, schema, args) -> Ok(args to pass) | Err(full error text for the model)`.
pub type ArgumentValidator =
    Arc<dyn Fn(&str, &Value, &Value) -> Result<Value, String> + Send + Sync>;

/// Rewrites the context before it is converted for the model (pi's `transformContext`).
pub type ContextTransform = Arc<dyn Fn(&[Arc<Message>]) -> Vec<Arc<Message>> + Send + Sync>;

/// Decides whether a failed assistant message is a context overflow (never auto-retried):
/// `(message, model context window)`.
pub type OverflowCheck = Arc<dyn Fn(&AssistantMessage, u64) -> bool + Send + Sync>;

/// A validator that accepts every argument object as is (the default is
/// [`tool::validate_arguments`](crate::tool::validate_arguments), pi's schema check).
pub fn accept_all_arguments() -> ArgumentValidator {
    Arc::new(|_name: &str, _schema: &Value, args: &Value| Ok(args.clone()))
}

/// The agent's state. [`Agent::state`](super::Agent::state) returns a snapshot.
#[derive(Clone)]
pub struct AgentState {
    pub system_prompt: String,
    pub model: Model,
    pub thinking_level: ThinkingLevel,
    pub tools: Vec<Arc<dyn Tool>>,
    /// The context: every message the model will see (before conversion), each shared with
    /// the events and the session entry that carry it.
    pub messages: Vec<Arc<Message>>,
    pub tool_execution: ToolExecution,
    pub retry: RetrySettings,
    /// Passed to providers for prompt caching.
    pub session_id: Option<String>,
    /// Replace images with a note before they reach the model (pi's `images.blockImages`).
    pub block_images: bool,
    /// The assistant message being streamed, if any.
    pub stream_message: Option<Message>,
    /// While streaming: the latest partial message, shared with the `message_update` event
    /// that carried it (copied into `stream_message` only when a snapshot is taken, so a
    /// streamed token costs no copy of the whole message here).
    pub(crate) stream_partial: Option<Arc<Message>>,
}

impl std::fmt::Debug for AgentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentState")
            .field("model", &self.model.key())
            .field("thinking_level", &self.thinking_level)
            .field(
                "tools",
                &self
                    .tools
                    .iter()
                    .map(|t| t.name().to_string())
                    .collect::<Vec<_>>(),
            )
            .field("messages", &self.messages.len())
            .finish_non_exhaustive()
    }
}

/// What a new agent starts with.
#[derive(Clone)]
pub struct AgentOptions {
    pub model: Model,
    pub system_prompt: String,
    pub thinking_level: ThinkingLevel,
    pub tools: Vec<Arc<dyn Tool>>,
    pub messages: Vec<Arc<Message>>,
    pub steering_mode: QueueMode,
    pub follow_up_mode: QueueMode,
    pub tool_execution: ToolExecution,
    pub retry: RetrySettings,
    pub session_id: Option<String>,
    pub block_images: bool,
}

impl AgentOptions {
    /// pi's defaults for `model`: empty prompt and context, no tools, thinking off,
    /// one-at-a-time queues, parallel tools, retry enabled (3 × 2 s base).
    pub fn new(model: Model) -> Self {
        AgentOptions {
            model,
            system_prompt: String::new(),
            thinking_level: ThinkingLevel::Off,
            tools: Vec::new(),
            messages: Vec::new(),
            steering_mode: QueueMode::OneAtATime,
            follow_up_mode: QueueMode::OneAtATime,
            tool_execution: ToolExecution::Parallel,
            retry: RetrySettings::default(),
            session_id: None,
            block_images: false,
        }
    }
}
