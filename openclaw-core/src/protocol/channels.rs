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
