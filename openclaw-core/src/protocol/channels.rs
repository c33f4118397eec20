//! `channels.*` params and results (OpenClaw 2026.9.6 shapes, `server-methods/channels.ts`).
//! `send`'s params are [`super::chat::SendParams`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::channel::AccountStatus;

/// `channels.status`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StatusParams {
    pub probe: Option<bool>,
    pub timeout_ms: Option<u64>,
    pub channel: Option<String>,
}

/// `channels.start` / `channels.stop` / `channels.logout`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AccountParams {
    pub channel: String,
    pub account_id: Option<String>,
}

/// `channels.pairing.list`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PairingListParams {
    pub channel: Option<String>,
    pub account_id: Option<String>,
}

/// `channels.pairing.approve`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PairingApproveParams {
    pub channel: String,
    pub account_id: Option<String>,
    pub request_id: String,
    pub notify: Option<bool>,
    pub bootstrap_command_owner: Option<bool>,
}

/// `channels.pairing.dismiss`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PairingDismissParams {
    pub channel: String,
    pub account_id: Option<String>,
    pub request_id: String,
}

/// One account in `channels.status` (`ChannelAccountSnapshot`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountSnapshot {
    pub account_id: String,
    pub enabled: bool,
    /// `available` or `missing`.
    pub token_status: &'static str,
    pub dm_policy: String,
    pub allow_from: Vec<String>,
    #[serde(flatten)]
    pub status: AccountStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_probe_at: Option<u64>,
}

/// A pending request in `channels.pairing.list`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingRequestInfo {
    pub request_id: String,
    pub code: String,
    pub channel: String,
    pub channel_label: String,
    pub account_id: String,
    pub sender_id: String,
    pub sender_label: String,
    pub metadata: Value,
    pub created_at: u64,
    pub last_seen_at: u64,
    pub expires_at: u64,
    pub notify_supported: bool,
}

/// An account in `channels.pairing.list`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingAccountInfo {
    pub channel: String,
    pub channel_label: String,
    pub account_id: String,
    pub notify_supported: bool,
}

/// `channels.pairing.list`'s result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingList {
    pub accounts: Vec<PairingAccountInfo>,
    pub requests: Vec<PairingRequestInfo>,
    pub command_owner_configured: bool,
    pub limits: PairingLimits,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingLimits {
    pub pending_per_account: usize,
    pub ttl_ms: u64,
}

/// `channels.pairing.approve`'s result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PairingApproved {
    pub request_id: String,
    pub sender_id: String,
    /// `not-requested`, `sent`, `unsupported`, `failed`.
    pub notification: &'static str,
    /// `not-requested`, `unavailable` (this gateway does not write `commands.ownerAllowFrom`).
    pub command_owner_bootstrap: &'static str,
}

/// `send`'s result.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendResult {
    pub run_id: String,
    pub message_id: String,
    pub channel: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
}

/// `message.action` (OpenClaw's `MessageActionParamsSchema`, a closed object). `params` is the
/// action's own arguments, per channel and action ([`MessageSendArgs`] for `send`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MessageActionParams {
    pub channel: crate::protocol::params::NonEmpty,
    pub action: crate::protocol::params::NonEmpty,
    pub params: serde_json::Map<String, Value>,
    pub reply: Option<Value>,
    pub account_id: Option<String>,
    pub requester_account_id: Option<String>,
    pub requester_sender_id: Option<String>,
    pub sender_is_owner: Option<bool>,
    pub session_key: Option<String>,
    pub session_id: Option<String>,
    pub inbound_turn_kind: Option<String>,
    pub agent_id: Option<String>,
    pub tool_context: Option<Value>,
    pub conversation_read_origin: Option<String>,
    pub idempotency_key: crate::protocol::params::NonEmpty,
}

/// A string or a number, as the message tool's arguments carry ids.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StrOrNum {
    Str(String),
    Num(serde_json::Number),
}

impl StrOrNum {
    /// The value as text; `None` when it is an empty string.
    pub fn text(&self) -> Option<String> {
        match self {
            StrOrNum::Str(s) if s.trim().is_empty() => None,
            StrOrNum::Str(s) => Some(s.trim().to_owned()),
            StrOrNum::Num(n) => Some(n.to_string()),
        }
    }
}

/// The arguments of `message.action` `send` that this gateway reads (the message tool's names
/// and their aliases, as OpenClaw's Telegram action reads them). Other keys are ignored, as
/// OpenClaw's channel actions ignore what they do not use.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSendArgs {
    pub target: Option<StrOrNum>,
    pub to: Option<StrOrNum>,
    pub content: Option<String>,
    pub message: Option<String>,
    pub caption: Option<String>,
    pub media: Option<String>,
    pub media_url: Option<String>,
    pub path: Option<String>,
    pub file_path: Option<String>,
    #[serde(default)]
    pub media_urls: Vec<String>,
    pub reply_to: Option<StrOrNum>,
    pub reply_to_message_id: Option<StrOrNum>,
    pub reply_to_id: Option<StrOrNum>,
    pub thread_id: Option<StrOrNum>,
    pub message_thread_id: Option<StrOrNum>,
    pub silent: Option<bool>,
    pub account_id: Option<StrOrNum>,
    pub parse_mode: Option<String>,
}

impl MessageSendArgs {
    /// The target chat (`to` or `target`).
    pub fn target(&self) -> Option<String> {
        self.to
            .as_ref()
            .and_then(StrOrNum::text)
            .or_else(|| self.target.as_ref().and_then(StrOrNum::text))
    }

    /// The text (`content`, `message` or `caption`).
    pub fn text(&self) -> Option<&str> {
        self.content
            .as_deref()
            .or(self.message.as_deref())
            .or(self.caption.as_deref())
    }

    /// Every media reference, first-seen order, duplicates dropped.
    pub fn media(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let singles = [&self.media_url, &self.media, &self.path, &self.file_path];
        for m in singles
            .into_iter()
            .flatten()
            .chain(self.media_urls.iter())
            .map(|s| s.trim())
        {
            if !m.is_empty() && !out.iter().any(|o| o == m) {
                out.push(m.to_owned());
            }
        }
        out
    }

    pub fn reply_to(&self) -> Option<String> {
        [&self.reply_to_message_id, &self.reply_to, &self.reply_to_id]
            .into_iter()
            .flatten()
            .find_map(StrOrNum::text)
    }

    pub fn thread(&self) -> Option<String> {
        [&self.message_thread_id, &self.thread_id]
            .into_iter()
            .flatten()
            .find_map(StrOrNum::text)
    }
}

/// One account in `health.channels` (OpenClaw's account snapshot merged with its token
/// channel summary: `configured, running, lastStartAt, lastStopAt, lastError, tokenSource,
/// lastProbeAt, mode` always present, `null` when unknown). No probe result: `health` does not
/// probe, and OpenClaw shows a probe only to admins.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthAccount {
    pub account_id: String,
    pub enabled: bool,
    pub configured: bool,
    pub running: bool,
    pub connected: bool,
    pub reconnect_attempts: u64,
    pub last_connected_at: Option<u64>,
    pub last_start_at: Option<u64>,
    pub last_stop_at: Option<u64>,
    pub last_inbound_at: Option<u64>,
    pub last_outbound_at: Option<u64>,
    pub last_error: Option<String>,
    pub mode: Option<String>,
    pub dm_policy: String,
    pub allow_from: Vec<String>,
    pub token_source: String,
    pub last_probe_at: Option<u64>,
}

/// One channel in `health.channels`: its preferred (default) account's fields plus every
/// account by id.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthChannel {
    #[serde(flatten)]
    pub preferred: HealthAccount,
    pub accounts: std::collections::BTreeMap<String, HealthAccount>,
}
