//! The typed records of the store: a session index row ([`SessionRow`] with its
//! [`SessionMeta`]), the bookkeeping of one finished turn ([`TurnRecord`]) and the query of
//! `sessions.list` ([`SessionQuery`] → [`SessionPage`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One session key's index entry. Its JSON form is OpenClaw's `sessions.json` entry
/// (camelCase), with `sessionFile` relative to the state dir.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRow {
    /// The canonical session key (`agent:<agentId>:<rest>`).
    #[serde(skip)]
    pub key: String,
    #[serde(default)]
    pub agent_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The pi-format transcript, relative to the state dir (see [`crate::paths`]).
    #[serde(
        default,
        rename = "sessionFile",
        skip_serializing_if = "Option::is_none"
    )]
    pub transcript: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_started_at: Option<u64>,
    #[serde(default)]
    pub updated_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spawned_by: Option<String>,
    #[serde(flatten)]
    pub meta: SessionMeta,
}

/// The rest of an entry: overrides, counters and the UI's fields, plus any field OpenClaw
/// keeps that this project does not interpret (`extra`, kept as it was imported).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_interaction_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The model and provider the last run used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_provider: Option<String>,
    /// The model and provider asked for (`sessions.patch {model}`), used by the next run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_override: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_override: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbose_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elevated_level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compaction_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_mode: Option<bool>,
    /// Fields of an imported entry this project does not interpret (`origin`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl SessionRow {
    /// A new row for `key` of `agent_id`, updated now.
    pub fn new(key: &str, agent_id: &str, now: u64) -> Self {
        SessionRow {
            key: key.to_owned(),
            agent_id: agent_id.to_owned(),
            updated_at: now,
            ..SessionRow::default()
        }
    }

    /// The JSON entry (OpenClaw's shape).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// What a finished turn changes in its row: one `UPDATE`, whatever the number of sessions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnRecord {
    pub at: u64,
    pub run_id: String,
    pub model: Option<String>,
    pub model_provider: Option<String>,
    /// Tokens the turn used (added to the row's counters).
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
    pub context_tokens: Option<u64>,
}

/// A page of the index, newest first (`sessions.list`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionQuery {
    /// Only these agents (`None`: all).
    pub agent_ids: Option<Vec<String>>,
    /// Only rows updated at or after this time (ms).
    pub updated_since: Option<u64>,
    pub label: Option<String>,
    pub spawned_by: Option<String>,
    /// A case-insensitive substring of the key, label or display name.
    pub search: Option<String>,
    /// Only archived rows (`Some(true)`) or only the others (`Some(false)`).
    pub archived: Option<bool>,
    /// Only these keys (the sessions with a run in progress, for `activeOnly`).
    pub keys: Option<Vec<String>>,
    /// Leave out the kinds of session named by the part of the key after `agent:<id>:`.
    pub exclude: KindFilter,
    pub order: SessionOrder,
    /// These keys come first, in the order (`sortBy: "activity"`: those with a run).
    pub first_keys: Vec<String>,
    pub limit: Option<usize>,
    pub offset: usize,
}

/// Kinds of session a [`SessionQuery`] leaves out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KindFilter {
    /// Spawned by another session (`spawnedBy` set, or a `subagent:` key).
    pub subagents: bool,
    /// `cron:` keys.
    pub cron: bool,
    /// `hook:`, `heartbeat…` and `system…` keys.
    pub system: bool,
}

/// The order of a [`SessionQuery`] (newest first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SessionOrder {
    /// By `updatedAt` (indexed).
    #[default]
    UpdatedAt,
    /// By `lastInteractionAt`.
    LastInteractionAt,
}

/// The rows of a [`SessionQuery`] and how many match in all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionPage {
    pub rows: Vec<SessionRow>,
    pub total: u64,
}
