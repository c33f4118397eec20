//! The kind-agnostic ledger projection (`approval.get`, `approval.resolve`,
//! `approval.history`) of a stored approval, and the `approval.history` cursor.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openclaw_core::exec_policy::Decision;
use openclaw_core::protocol::approvals::{
    ApprovalPresentation, ApprovalResolver, ApprovalSnapshot, ApprovalSource,
    ExecApprovalRequestInfo,
};
use openclaw_state::{ApprovalRow, ApprovalStatus};

/// The request stored with a row (a damaged one shows as an empty command).
pub(crate) fn request_of(row: &ApprovalRow) -> ExecApprovalRequestInfo {
    serde_json::from_str(&row.request).unwrap_or_default()
}

/// The projection of `row`.
pub(crate) fn snapshot(row: &ApprovalRow) -> ApprovalSnapshot {
    let info = request_of(row);
    let settled = row.status != ApprovalStatus::Pending;
    ApprovalSnapshot {
        id: row.id.clone(),
        status: row.status.as_str().into(),
        url_path: format!("/approve/{}", row.id),
        presentation: ApprovalPresentation {
            kind: row.kind.clone(),
            command_text: info.command.clone(),
            command_preview: None,
            warning_text: info.warning_text.clone(),
            host: info.host.clone(),
            node_id: info.node_id.clone(),
            agent_id: info.agent_id.clone(),
            allowed_decisions: info.allowed_decisions.clone(),
        },
        created_at_ms: row.created_at_ms,
        expires_at_ms: row.expires_at_ms,
        resolved_at_ms: row.resolved_at_ms.filter(|_| settled),
        reason: row.reason.clone().filter(|_| settled),
        decision: row.decision.as_deref().and_then(Decision::parse),
        source: settled.then(|| ApprovalSource {
            agent_id: row.agent_id.clone(),
            session_key: row.session_key.clone(),
        }),
        resolver: row
            .resolver
            .as_deref()
            .filter(|_| settled)
            .map(|r| match r.split_once(':') {
                Some((kind, id)) => ApprovalResolver {
                    kind: kind.into(),
                    id: Some(id.into()),
                },
                None => ApprovalResolver {
                    kind: r.into(),
                    id: None,
                },
            }),
    }
}

/// The cursor after `row` (its creation time and id).
pub(crate) fn cursor_after(row: &ApprovalRow) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", row.created_at_ms, row.id))
}

/// A cursor's position; `None` when it is not one of ours.
pub(crate) fn parse_cursor(cursor: &str) -> Option<(u64, String)> {
    let raw = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (at, id) = text.split_once(':')?;
    Some((at.parse().ok()?, id.to_owned()))
}
