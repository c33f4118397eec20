//! The exec-approval wire shapes (OpenClaw 2026.9.6): the `request` object announced in
//! `exec.approval.requested` and listed by `exec.approval.list`, the event payloads, the params
//! of `exec.approval.request` / `.resolve` / `approval.resolve` (closed, as OpenClaw's schema),
//! and the kind-agnostic ledger projection of `approval.get` / `approval.history`.

use serde::{Deserialize, Serialize};

use crate::exec_policy::Decision;

/// `commandAnalysis` of a request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandAnalysisWire {
    pub command_count: usize,
    pub nested_command_count: usize,
    #[serde(default)]
    pub risk_kinds: Vec<String>,
    #[serde(default)]
    pub warning_lines: Vec<String>,
}

/// The `request` object: what an approval client shows. Absent values are `null`, as OpenClaw
/// sends them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecApprovalRequestInfo {
    pub command: String,
    #[serde(default)]
    pub command_argv: Option<Vec<String>>,
    #[serde(default)]
    pub system_run_binding: Option<serde_json::Value>,
    #[serde(default)]
    pub system_run_plan: Option<serde_json::Value>,
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default)]
    pub node_id: Option<String>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub security: Option<String>,
    #[serde(default)]
    pub ask: Option<String>,
    #[serde(default)]
    pub warning_text: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub command_analysis: Option<CommandAnalysisWire>,
    #[serde(default)]
    pub unavailable_decisions: Vec<Decision>,
    #[serde(default)]
    pub allowed_decisions: Vec<Decision>,
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    pub resolved_path: Option<String>,
    #[serde(default)]
    pub session_key: Option<String>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub run_id: Option<String>,
    #[serde(default)]
    pub tool_call_id: Option<String>,
    #[serde(default)]
    pub turn_source_channel: Option<String>,
    #[serde(default)]
    pub turn_source_to: Option<String>,
    #[serde(default)]
    pub turn_source_account_id: Option<String>,
    #[serde(default)]
    pub turn_source_thread_id: Option<String>,
    #[serde(default)]
    pub cron_execution_source: Option<serde_json::Value>,
    #[serde(default)]
    pub cron_operation_binding: Option<serde_json::Value>,
}

/// `exec.approval.requested`'s payload and an `exec.approval.list` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecApprovalRequested {
    pub approval_kind: String,
    pub id: String,
    pub request: ExecApprovalRequestInfo,
    pub created_at_ms: u64,
    pub expires_at_ms: u64,
}

/// `exec.approval.resolved`'s payload: OpenClaw's `{id, decision, resolvedBy, ts, request}`.
/// An approval that ended without an answer (expired: `timeout`, `gateway-restart`; withdrawn:
/// `run-aborted`) is announced too, with `decision: null` and the ledger's `reason` — a field
/// OpenClaw does not send, present only then, so a decided event stays OpenClaw's exact shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecApprovalResolved {
    pub id: String,
    pub decision: Option<Decision>,
    pub resolved_by: Option<String>,
    pub ts: u64,
    pub request: ExecApprovalRequestInfo,
    /// Why it ended without a decision (`timeout`, `gateway-restart`, `run-aborted`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The decision answer of `exec.approval.request` and `exec.approval.waitDecision`
/// (`decision: null` when it expired).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecApprovalDecisionResult {
    pub id: String,
    pub decision: Option<Decision>,
    pub created_at_ms: u64,
    pub expires_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal_reason: Option<String>,
}

/// `exec.approval.request` params (closed; filled by an agent runtime or a client).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecApprovalRequestParams {
    pub id: Option<String>,
    pub command: Option<String>,
    pub command_argv: Option<Vec<String>>,
    pub system_run_plan: Option<serde_json::Value>,
    pub env: Option<serde_json::Map<String, serde_json::Value>>,
    pub cwd: Option<String>,
    pub node_id: Option<String>,
    pub host: Option<String>,
    pub security: Option<String>,
    pub ask: Option<String>,
    pub warning_text: Option<String>,
    pub scope: Option<String>,
    pub unavailable_decisions: Option<Vec<Decision>>,
    pub command_spans: Option<serde_json::Value>,
    pub agent_id: Option<String>,
    pub resolved_path: Option<String>,
    pub session_key: Option<String>,
    pub session_id: Option<String>,
    pub run_id: Option<String>,
    pub tool_call_id: Option<String>,
    pub turn_source_channel: Option<String>,
    pub turn_source_to: Option<String>,
    pub turn_source_account_id: Option<String>,
    pub turn_source_thread_id: Option<String>,
    pub require_delivery_route: Option<bool>,
    pub suppress_delivery: Option<bool>,
    pub deliver_to_approval_clients_only: Option<bool>,
    pub timeout_ms: Option<u64>,
    pub two_phase: Option<bool>,
}

/// `exec.approval.resolve` params.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecApprovalResolveParams {
    pub id: String,
    /// Checked against the enum by the handler (OpenClaw answers "invalid decision").
    pub decision: String,
    pub reviewer: Option<serde_json::Value>,
    pub grant_expires_in_days: Option<u64>,
}

/// `approval.resolve` params.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalResolveParams {
    pub id: String,
    pub kind: Option<String>,
    pub decision: String,
    pub reviewer: Option<serde_json::Value>,
    pub grant_expires_in_days: Option<u64>,
}

/// `approval.history` params.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApprovalHistoryParams {
    pub cursor: Option<String>,
    pub limit: Option<usize>,
    pub kind: Option<String>,
}

/// `presentation` of a ledger projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalPresentation {
    pub kind: String,
    pub command_text: String,
    pub command_preview: Option<String>,
    pub warning_text: Option<String>,
    pub host: Option<String>,
    pub node_id: Option<String>,
    pub agent_id: Option<String>,
    pub allowed_decisions: Vec<Decision>,
}

/// `source` of a settled projection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
}

/// `resolver`: who settled it (`runtime`, `device`, `channel`, `system`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalResolver {
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// The ledger projection (`approval.get`, `approval.history`, `approval.resolve`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalSnapshot {
    pub id: String,
    /// `pending | allowed | denied | expired | cancelled`.
    pub status: String,
    pub url_path: String,
    pub presentation: ApprovalPresentation,
    pub created_at_ms: u64,
    pub expires_at_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ApprovalSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolver: Option<ApprovalResolver>,
}
