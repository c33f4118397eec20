//! Params of the `sessions.*` methods (OpenClaw v3/v4 schemas, closed objects). Every key the
//! schema accepts is a field here; what the gateway does with each is documented on its handler.

use serde::Deserialize;
use serde_json::Value;

use super::params::{Bounded, Change, Count, NonEmpty, SessionKey};
use crate::model::ThinkingLevel;

/// `sessions.list` (and `sessions.subscribe` v4).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListParams {
    pub limit: Option<Bounded<1, { u64::MAX }>>,
    pub active_minutes: Option<Bounded<1, { u64::MAX }>>,
    pub include_global: Option<bool>,
    pub include_unknown: Option<bool>,
    pub include_derived_titles: Option<bool>,
    pub include_last_message: Option<bool>,
    pub label: Option<NonEmpty>,
    pub spawned_by: Option<NonEmpty>,
    pub agent_id: Option<NonEmpty>,
    pub search: Option<NonEmpty>,
    pub offset: Option<Count>,
    pub active_only: Option<bool>,
    pub sort_by: Option<SortBy>,
    pub archived: Option<bool>,
    pub owner_first: Option<bool>,
    pub exclude_subagents: Option<bool>,
    pub exclude_cron: Option<bool>,
    pub exclude_system: Option<bool>,
    pub include_activity_summary: Option<bool>,
    /// v4: only agents present in config. This gateway lists only the configured agents'
    /// sessions in any case, so `true` and `false` answer the same.
    pub configured_agents_only: Option<bool>,
}

/// `sessions.list` `sortBy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SortBy {
    UpdatedAt,
    LastInteractionAt,
    Activity,
}

/// `sessions.messages.subscribe` (v4): live message events of one session.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MessagesSubscribeParams {
    pub key: SessionKey,
    pub agent_id: Option<NonEmpty>,
    /// Only `true` is allowed: the answer then carries `approvalReplay`.
    pub include_approvals: Option<True>,
}

/// `sessions.messages.unsubscribe` (v4).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MessagesUnsubscribeParams {
    pub key: SessionKey,
    pub agent_id: Option<NonEmpty>,
}

/// The literal `true` (a schema's `Type.Literal(true)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct True;

impl<'de> Deserialize<'de> for True {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if bool::deserialize(d)? {
            Ok(True)
        } else {
            Err(serde::de::Error::custom("must be true"))
        }
    }
}

/// `sessions.get`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GetParams {
    pub key: SessionKey,
    pub agent_id: Option<NonEmpty>,
    pub limit: Option<Bounded<1, 10_000>>,
}

/// `sessions.preview`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PreviewParams {
    pub keys: Vec<NonEmpty>,
    pub limit: Option<Bounded<1, 1000>>,
    pub max_chars: Option<Bounded<20, 100_000>>,
}

/// `sessions.describe`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DescribeParams {
    pub key: SessionKey,
    pub agent_id: Option<NonEmpty>,
    pub include_derived_titles: Option<bool>,
    pub include_last_message: Option<bool>,
}

/// `sessions.resolve`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResolveParams {
    pub key: Option<SessionKey>,
    pub session_id: Option<NonEmpty>,
    pub label: Option<NonEmpty>,
    pub agent_id: Option<NonEmpty>,
    pub spawned_by: Option<NonEmpty>,
    pub include_global: Option<bool>,
    pub include_unknown: Option<bool>,
    pub short_id: Option<NonEmpty>,
    pub slug_hint: Option<NonEmpty>,
    pub allow_missing: Option<bool>,
    pub reference: Option<NonEmpty>,
}

/// `sessions.create`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateParams {
    pub key: Option<SessionKey>,
    pub agent_id: Option<NonEmpty>,
    pub label: Option<NonEmpty>,
    pub model: Option<NonEmpty>,
    pub parent_session_key: Option<NonEmpty>,
    pub emit_command_hooks: Option<bool>,
    pub task: Option<NonEmpty>,
    pub message: Option<NonEmpty>,
    pub idempotency_key: Option<NonEmpty>,
}

/// `sessions.patch`: `null` clears a field, absence keeps it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchParams {
    pub key: SessionKey,
    pub agent_id: Option<NonEmpty>,
    pub expected_session_id: Option<NonEmpty>,
    #[serde(default)]
    pub label: Change<String>,
    #[serde(default)]
    pub thinking_level: Change<ThinkingLevel>,
    #[serde(default)]
    pub model: Change<NonEmpty>,
    #[serde(default)]
    pub fast_mode: Change<bool>,
    #[serde(default)]
    pub verbose_level: Change<String>,
    #[serde(default)]
    pub trace_level: Change<String>,
    #[serde(default)]
    pub reasoning_level: Change<String>,
    #[serde(default)]
    pub response_usage: Change<String>,
    #[serde(default)]
    pub elevated_level: Change<String>,
    #[serde(default)]
    pub exec_host: Change<String>,
    #[serde(default)]
    pub exec_node: Change<String>,
    #[serde(default)]
    pub send_policy: Change<String>,
    #[serde(default)]
    pub group_activation: Change<String>,
    #[serde(default)]
    pub context_window: Change<u64>,
    #[serde(default)]
    pub archived: Change<bool>,
    #[serde(default)]
    pub pinned: Change<bool>,
    #[serde(default)]
    pub unread: Change<bool>,
    #[serde(default)]
    pub category: Change<String>,
    #[serde(default)]
    pub icon: Change<String>,
    #[serde(default)]
    pub color: Change<String>,
}

/// `sessions.reset`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ResetParams {
    pub key: SessionKey,
    pub reason: Option<ResetReason>,
    pub agent_id: Option<NonEmpty>,
    pub expected_session_id: Option<NonEmpty>,
}

/// `sessions.reset` `reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResetReason {
    New,
    Reset,
}

/// `sessions.delete`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeleteParams {
    pub key: SessionKey,
    pub delete_transcript: Option<bool>,
    pub emit_lifecycle_hooks: Option<bool>,
    pub agent_id: Option<NonEmpty>,
    pub expected_session_id: Option<NonEmpty>,
    pub expected_lifecycle_revision: Option<Value>,
    pub expected_session_updated_at: Option<Count>,
    pub archived_only: Option<bool>,
}

/// `sessions.compact`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CompactParams {
    pub key: SessionKey,
    pub max_lines: Option<Bounded<1, { u64::MAX }>>,
    pub agent_id: Option<NonEmpty>,
}

/// `sessions.send` / `sessions.steer`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SendParams {
    pub key: SessionKey,
    pub message: NonEmpty,
    pub thinking: Option<ThinkingLevel>,
    pub attachments: Option<Vec<super::chat::Attachment>>,
    pub timeout_ms: Option<Count>,
    pub idempotency_key: Option<NonEmpty>,
    pub agent_id: Option<NonEmpty>,
}

/// `sessions.abort`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AbortParams {
    pub key: Option<SessionKey>,
    pub run_id: Option<NonEmpty>,
    pub agent_id: Option<NonEmpty>,
    pub clear_queued: Option<bool>,
}
