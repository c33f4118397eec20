//! The values the engine's API takes and returns. They serialise in pi's wire shapes (camelCase
//! keys, pi's key order, absent fields omitted) so transports can pass them through unchanged.

use std::path::PathBuf;

use serde::Serialize;

use crate::message::ImageContent;
use crate::model::{Model, ThinkingLevel};
use crate::settings::QueueMode;

/// What to do with a prompt that arrives while a run is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamingBehavior {
    /// Deliver after the current turn, before the next model call.
    Steer,
    /// Deliver when the agent would otherwise stop.
    FollowUp,
}

/// A user prompt: text plus optional images (appended after the text block).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PromptInput {
    pub text: String,
    pub images: Vec<ImageContent>,
    /// Required when a run is active; ignored when idle.
    pub streaming_behavior: Option<StreamingBehavior>,
}

impl PromptInput {
    /// A text-only prompt.
    pub fn text(text: impl Into<String>) -> Self {
        PromptInput {
            text: text.into(),
            ..PromptInput::default()
        }
    }
}

/// A snapshot of the session state (pi's `get_state` data).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EngineState {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<Model>,
    pub thinking_level: ThinkingLevel,
    pub is_streaming: bool,
    pub is_compacting: bool,
    #[serde(serialize_with = "queue_mode")]
    pub steering_mode: QueueMode,
    #[serde(serialize_with = "queue_mode")]
    pub follow_up_mode: QueueMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_file: Option<PathBuf>,
    pub session_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    pub auto_compaction_enabled: bool,
    pub message_count: usize,
    pub pending_message_count: usize,
}

fn queue_mode<S: serde::Serializer>(m: &QueueMode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

/// Token totals of [`SessionStats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenTotals {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub total: u64,
}

/// How full the context window is. `tokens`/`percent` are unknown right after a compaction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextUsage {
    pub tokens: Option<u64>,
    pub context_window: u64,
    #[serde(with = "crate::num::option")]
    pub percent: Option<f64>,
}

/// Counts over the current context (pi's `get_session_stats` data).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStats {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_file: Option<PathBuf>,
    pub session_id: String,
    pub user_messages: usize,
    pub assistant_messages: usize,
    pub tool_calls: usize,
    pub tool_results: usize,
    pub total_messages: usize,
    pub tokens: TokenTotals,
    #[serde(with = "crate::num")]
    pub cost: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_usage: Option<ContextUsage>,
}

/// The outcome of a shell command run for the user (pi's `BashResult`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BashResult {
    pub output: String,
    /// Absent when the command was killed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub cancelled: bool,
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_output_path: Option<String>,
}

/// The result of cycling models.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCycle {
    pub model: Model,
    pub thinking_level: ThinkingLevel,
    pub is_scoped: bool,
}

/// The result of forking at a user message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForkResult {
    /// The text of the message forked at (for re-editing).
    pub text: String,
    pub cancelled: bool,
}

/// A user message one can fork at.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ForkPoint {
    pub entry_id: String,
    pub text: String,
}
