//! Params of `chat.send`, `chat.history`, `chat.abort`, `chat.inject`, `agent`, `agent.wait` and
//! `send` (OpenClaw v3/v4 schemas, closed objects).

use serde::Deserialize;
use serde_json::Value;

use super::params::{Bounded, Count, NonEmpty, SessionKey};
use crate::model::ThinkingLevel;

/// One item of `attachments[]` (OpenClaw's chat attachment).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub mime_type: Option<String>,
    pub file_name: Option<String>,
    pub content: Option<String>,
}

/// `fastMode`: a flag or `"auto"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum FastMode {
    Flag(bool),
    Word(String),
}

/// `chat.send` `queueMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueMode {
    Steer,
    Followup,
    Collect,
    Interrupt,
}

/// `chat.send`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChatSendParams {
    pub session_key: SessionKey,
    pub message: String,
    pub idempotency_key: NonEmpty,
    pub session_id: Option<NonEmpty>,
    pub thinking: Option<ThinkingLevel>,
    pub deliver: Option<bool>,
    pub originating_channel: Option<Value>,
    pub originating_to: Option<Value>,
    pub originating_account_id: Option<Value>,
    pub originating_thread_id: Option<Value>,
    pub attachments: Option<Vec<Attachment>>,
    pub timeout_ms: Option<Count>,
    pub system_input_provenance: Option<Value>,
    pub system_provenance_receipt: Option<Value>,
    pub agent_id: Option<NonEmpty>,
    pub mentions: Option<Vec<Value>>,
    pub work_context: Option<Value>,
    pub intent: Option<Value>,
    pub fast_mode: Option<FastMode>,
    pub fast_auto_on_seconds: Option<Value>,
    pub queue_mode: Option<QueueMode>,
    pub reply_to_id: Option<Value>,
    pub tool_bindings: Option<Value>,
    pub suppress_command_interpretation: Option<bool>,
    pub expected_leaf_entry_id: Option<NonEmpty>,
    pub expected_session_routing_contract: Option<Value>,
    pub expected_permission_mode: Option<Value>,
    pub expected_tool_overrides: Option<Value>,
}

/// `chat.history`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HistoryParams {
    pub session_key: SessionKey,
    pub limit: Option<Bounded<1, 1000>>,
    pub max_chars: Option<Bounded<1, 500_000>>,
    pub agent_id: Option<NonEmpty>,
    pub cursor: Option<NonEmpty>,
    pub max_bytes: Option<Bounded<1, { u64::MAX }>>,
    pub offset: Option<Count>,
    pub session_id: Option<NonEmpty>,
    /// v4: page the pending (accepted, not yet run) inputs before this one. This gateway
    /// keeps no pending-input list, so the page is always empty.
    pub pending_before: Option<Bounded<1, { u64::MAX }>>,
    /// v4: the runs whose input receipts to report (1–50 ids).
    pub input_run_ids: Option<Vec<NonEmpty>>,
}

/// `chat.startup` (v4) by short chat link (the other form, with `sessionKey`, is
/// [`HistoryParams`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StartupLinkParams {
    pub short_id: NonEmpty,
    pub slug_hint: Option<NonEmpty>,
    pub agent_id: NonEmpty,
    pub limit: Option<Bounded<1, 1000>>,
    pub max_bytes: Option<Bounded<1024, { u64::MAX }>>,
}

/// `chat.abort`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChatAbortParams {
    pub session_key: SessionKey,
    pub run_id: Option<NonEmpty>,
    pub agent_id: Option<NonEmpty>,
    pub preserve_side_runs: Option<bool>,
}

/// `chat.inject`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InjectParams {
    pub session_key: SessionKey,
    pub message: NonEmpty,
    pub label: Option<NonEmpty>,
    pub agent_id: Option<NonEmpty>,
}

/// `agent`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AgentParams {
    pub message: NonEmpty,
    pub idempotency_key: NonEmpty,
    pub agent_id: Option<NonEmpty>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub to: Option<Value>,
    pub reply_to: Option<Value>,
    pub session_id: Option<NonEmpty>,
    pub session_key: Option<SessionKey>,
    pub thinking: Option<ThinkingLevel>,
    pub deliver: Option<bool>,
    pub attachments: Option<Vec<Attachment>>,
    pub channel: Option<Value>,
    pub reply_channel: Option<Value>,
    pub account_id: Option<Value>,
    pub reply_account_id: Option<Value>,
    pub thread_id: Option<Value>,
    pub group_id: Option<Value>,
    pub group_channel: Option<Value>,
    pub group_space: Option<Value>,
    /// Seconds.
    pub timeout: Option<Count>,
    pub best_effort_deliver: Option<bool>,
    pub lane: Option<NonEmpty>,
    pub extra_system_prompt: Option<String>,
    pub prompt_mode: Option<PromptMode>,
    pub bootstrap_context_mode: Option<Value>,
    pub bootstrap_context_run_kind: Option<Value>,
    pub internal_events: Option<Vec<Value>>,
    pub input_provenance: Option<Value>,
    pub label: Option<NonEmpty>,
    pub expected_existing_session_id: Option<NonEmpty>,
    pub cwd: Option<Value>,
    pub session_effects: Option<Value>,
    pub disable_message_tool: Option<bool>,
}

/// `agent` `promptMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptMode {
    Full,
    Minimal,
    None,
}

/// `agent.wait`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WaitParams {
    pub run_id: NonEmpty,
    pub timeout_ms: Option<Count>,
}

/// `send` (channel delivery).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SendParams {
    pub to: NonEmpty,
    pub idempotency_key: NonEmpty,
    pub message: Option<NonEmpty>,
    pub media_url: Option<Value>,
    pub media_urls: Option<Value>,
    pub as_voice: Option<Value>,
    pub gif_playback: Option<Value>,
    pub channel: Option<NonEmpty>,
    pub account_id: Option<Value>,
    pub agent_id: Option<Value>,
    pub reply_to_id: Option<Value>,
    pub thread_id: Option<Value>,
    pub session_key: Option<Value>,
    pub buffer: Option<Value>,
    pub filename: Option<Value>,
    pub content_type: Option<Value>,
    pub force_document: Option<Value>,
    pub silent: Option<Value>,
    pub parse_mode: Option<Value>,
}
