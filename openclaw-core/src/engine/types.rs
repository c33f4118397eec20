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
