//! The approval methods: `exec.approval.request` (one answer, or two with `twoPhase`),
//! `.waitDecision`, `.get`, `.list`, `.resolve`; `exec.approvals.get` / `.set`; the ledger's
//! `approval.get` / `.resolve` / `.history`; and the pending lists of the kinds this gateway
//! never raises (`plugin.approval.list`, `openclaw.approval.list`: always empty), which
//! OpenClaw's `approvals pending` asks for too. Error texts and `details.reason` codes are
//! OpenClaw's.

use std::sync::Arc;
use std::time::Duration;

use openclaw_core::exec_policy::{Decision, ExecPolicy};
use openclaw_core::protocol::approvals::{
    ApprovalHistoryParams, ApprovalResolveParams, ExecApprovalDecisionResult,
    ExecApprovalRequestInfo, ExecApprovalRequestParams, ExecApprovalResolveParams,
};
use openclaw_core::protocol::{ErrorShape, RequestFrame, ResponseFrame};
use openclaw_state::ApprovalStatus;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::snapshot::{cursor_after, parse_cursor, request_of, snapshot};
use super::{Approvals, LiveApproval, Resolver, Terminal, document, not_found};
use crate::hub::Connection;
use crate::state::Shared;

/// The methods answered here (advertised only when the gateway has an approvals ledger).
pub const APPROVAL_METHODS: &[&str] = &[
    "exec.approval.request",
    "exec.approval.waitDecision",
    "exec.approval.get",
    "exec.approval.list",
    "exec.approval.resolve",
    "exec.approvals.get",
    "exec.approvals.set",
    "approval.get",
    "approval.resolve",
    "approval.history",
    "plugin.approval.list",
    "openclaw.approval.list",
];

/// The events sent by this module.
pub const APPROVAL_EVENTS: &[&str] = &["exec.approval.requested", "exec.approval.resolved"];

pub(crate) fn is_approval_method(method: &str) -> bool {
    APPROVAL_METHODS.contains(&method)
}

fn params<T: DeserializeOwned>(method: &str, p: Option<Value>) -> Result<T, ErrorShape> {
    serde_json::from_value(p.unwrap_or_else(|| json!({})))
        .map_err(|e| ErrorShape::invalid_params(method, e))
}

fn ledger_not_found() -> ErrorShape {
    ErrorShape::invalid_request("approval not found")
        .with_details(json!({"reason": "APPROVAL_NOT_FOUND"}))
}

fn to_value<T: serde::Serialize>(v: T) -> Result<Value, ErrorShape> {
    serde_json::to_value(v).map_err(|e| ErrorShape::unavailable(e.to_string()))
}

/// Answers one approval method (called on a task of its own: some wait for a human).
pub(crate) async fn call(
    shared: &Arc<Shared>,
    conn: &Arc<Connection>,
    req: RequestFrame,
) -> Result<Value, ErrorShape> {
    let m = req.method.as_str();
    let Some(a) = shared.approvals.clone() else {
        return Err(ErrorShape::unknown_method(m));
    };
    let p = req.params.clone();
    match m {
        "exec.approval.request" => request(shared, &a, conn, &req.id, params(m, p)?).await,
        "exec.approval.waitDecision" => wait_decision(&a, p).await,
        "exec.approval.get" => exec_get(&a, p),
        "exec.approval.list" => to_value(
            a.pending()
                .iter()
                .map(|l| l.announced())
                .collect::<Vec<_>>(),
        ),
        "exec.approval.resolve" => exec_resolve(&a, conn, params(m, p)?),
        "exec.approvals.get" => to_value(document::get(&a.state_dir)?),
        "exec.approvals.set" => to_value(document::set(&a.state_dir, params(m, p)?)?),
        "approval.get" => ledger_get(&a, p),
        "approval.resolve" => ledger_resolve(&a, conn, params(m, p)?),
        "approval.history" => history(&a, params(m, p)?),
        "plugin.approval.list" | "openclaw.approval.list" => Ok(json!([])),
        _ => Err(ErrorShape::unknown_method(m)),
    }
}

fn decision_result(live: &LiveApproval, t: &Terminal) -> ExecApprovalDecisionResult {
    ExecApprovalDecisionResult {
        id: live.id.clone(),
        decision: t.decision,
        created_at_ms: live.created_at_ms,
        expires_at_ms: live.expires_at_ms,
        terminal_reason: t.decision.is_none().then(|| t.reason.clone()),
    }
}

async fn request(
    shared: &Arc<Shared>,
    a: &Arc<Approvals>,
    conn: &Arc<Connection>,
    req_id: &str,
    p: ExecApprovalRequestParams,
) -> Result<Value, ErrorShape> {
    let command = p.command.clone().filter(|c| !c.trim().is_empty());
    let Some(command) = command else {
        return Err(ErrorShape::invalid_request("command is required"));
    };
    if p.host.as_deref() == Some("node") {
        return Err(ErrorShape::invalid_request(
            "host=node is not supported by this gateway",
        ));
    }
    let timeout = match p.timeout_ms {
        Some(ms) => Duration::from_millis(ms.clamp(1, 24 * 3_600_000)),
        None => ExecPolicy::from_config(&shared.config_value(), None)
            .map(|pol| pol.approval_timeout)
            .unwrap_or(Duration::from_millis(
                openclaw_core::exec_policy::DEFAULT_APPROVAL_TIMEOUT_MS,
            )),
    };
    let unavailable = p.unavailable_decisions.clone().unwrap_or_default();
    let allowed: Vec<Decision> = [Decision::AllowOnce, Decision::AllowAlways, Decision::Deny]
        .into_iter()
        .filter(|d| !unavailable.contains(d))
        .collect();
    let info = ExecApprovalRequestInfo {
        command,
        command_argv: p.command_argv,
        cwd: p.cwd,
        host: Some(p.host.unwrap_or_else(|| "gateway".into())),
        security: p.security,
        ask: p.ask,
        warning_text: p.warning_text,
        scope: p.scope,
        unavailable_decisions: unavailable,
        allowed_decisions: allowed,
        agent_id: p.agent_id,
        resolved_path: p.resolved_path,
        session_key: p.session_key,
        session_id: p.session_id,
        run_id: p.run_id,
        tool_call_id: p.tool_call_id,
        turn_source_channel: p.turn_source_channel,
        turn_source_to: p.turn_source_to,
        turn_source_account_id: p.turn_source_account_id,
        turn_source_thread_id: p.turn_source_thread_id,
        ..ExecApprovalRequestInfo::default()
    };
    let live = a.create(p.id, info, timeout, Some(conn.conn_id.clone()))?;
    // No approval client but the requester: expired at once, one answer with `decision: null`.
    if !a.has_route(Some(&conn.conn_id)) {
        a.settle(&live.id, None, "no-route", &Resolver::system());
        return to_value(decision_result(&live, &live.wait().await));
    }
    a.announce(&live);
    if p.two_phase == Some(true) {
        let accepted = json!({"status": "accepted", "id": live.id,
            "deliveryRoute": "approval-client", "createdAtMs": live.created_at_ms,
            "expiresAtMs": live.expires_at_ms});
        conn.out.send_response(&ResponseFrame::ok(req_id, accepted));
    }
    to_value(decision_result(&live, &live.wait().await))
}

async fn wait_decision(a: &Arc<Approvals>, p: Option<Value>) -> Result<Value, ErrorShape> {
    let id = p
        .as_ref()
        .and_then(|p| p.get("id"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ErrorShape::invalid_request("id is required"))?;
    if let Some(live) = a.find(id)? {
        let t = live.wait().await;
        return to_value(decision_result(&live, &t));
    }
    // Settled already: its recorded outcome.
    let row = a
        .store()
        .approval(id)
        .map_err(|e| ErrorShape::unavailable(e.to_string()))?
        .filter(|r| r.status != ApprovalStatus::Pending)
        .ok_or_else(|| ErrorShape::invalid_request("approval expired or not found"))?;
    let decision = row.decision.as_deref().and_then(Decision::parse);
    to_value(ExecApprovalDecisionResult {
        id: row.id,
        decision,
        created_at_ms: row.created_at_ms,
        expires_at_ms: row.expires_at_ms,
        terminal_reason: if decision.is_none() { row.reason } else { None },
    })
}

fn exec_get(a: &Arc<Approvals>, p: Option<Value>) -> Result<Value, ErrorShape> {
    let id = p
        .as_ref()
        .and_then(|p| p.get("id"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let live = a.find(id)?.ok_or_else(not_found)?;
    let i = &live.info;
    Ok(
        json!({"id": live.id, "commandText": i.command, "commandPreview": null,
        "allowedDecisions": i.allowed_decisions, "host": i.host, "nodeId": i.node_id,
        "agentId": i.agent_id, "expiresAtMs": live.expires_at_ms}),
    )
}

fn exec_resolve(
    a: &Arc<Approvals>,
    conn: &Connection,
    p: ExecApprovalResolveParams,
) -> Result<Value, ErrorShape> {
    let decision = Decision::parse(&p.decision)
        .ok_or_else(|| ErrorShape::invalid_request("invalid decision"))?;
    a.resolve(&p.id, decision, &Resolver::of(conn))
}

fn ledger_get(a: &Arc<Approvals>, p: Option<Value>) -> Result<Value, ErrorShape> {
    let id = p
        .as_ref()
        .and_then(|p| p.get("id"))
        .and_then(Value::as_str)
        .ok_or_else(|| ErrorShape::invalid_request("invalid approval.get params"))?;
    let row = a
        .store()
        .approval(id)
        .map_err(|e| ErrorShape::unavailable(e.to_string()))?
        .ok_or_else(ledger_not_found)?;
    Ok(json!({"approval": snapshot(&row)}))
}

fn ledger_resolve(
    a: &Arc<Approvals>,
    conn: &Connection,
    p: ApprovalResolveParams,
) -> Result<Value, ErrorShape> {
    let load = || {
        a.store()
            .approval(&p.id)
            .map_err(|e| ErrorShape::unavailable(e.to_string()))?
            .ok_or_else(ledger_not_found)
    };
    let row = load()?;
    if row.status != ApprovalStatus::Pending {
        return Ok(json!({"applied": false, "approval": snapshot(&row)}));
    }
    let offered = request_of(&row).allowed_decisions;
    let decision = Decision::parse(&p.decision).filter(|d| offered.contains(d));
    let kind_ok = p.kind.as_deref().is_none_or(|k| k == row.kind);
    // As OpenClaw: a verdict that is not one of the offered decisions denies.
    let (decision, reason) = match decision {
        Some(d) if kind_ok => (d, "user"),
        _ => (Decision::Deny, "malformed-verdict"),
    };
    let applied = a.settle(&row.id, Some(decision), reason, &Resolver::of(conn));
    Ok(json!({"applied": applied, "approval": snapshot(&load()?)}))
}

fn history(a: &Arc<Approvals>, p: ApprovalHistoryParams) -> Result<Value, ErrorShape> {
    let limit = p.limit.unwrap_or(50).clamp(1, 100);
    let before = match p.cursor.as_deref() {
        Some(c) => Some(
            parse_cursor(c)
                .ok_or_else(|| ErrorShape::invalid_request("invalid approval.history cursor"))?,
        ),
        None => None,
    };
    let rows = a
        .store()
        .approval_history(
            before.as_ref().map(|(at, id)| (*at, id.as_str())),
            limit + 1,
            p.kind.as_deref(),
        )
        .map_err(|e| ErrorShape::unavailable(e.to_string()))?;
    let more = rows.len() > limit;
    let items: Vec<_> = rows.iter().take(limit).map(snapshot).collect();
    let mut out = json!({"items": items});
    if more {
        if let Some(last) = rows.get(limit - 1) {
            out["nextCursor"] = json!(cursor_after(last));
        }
    }
    Ok(out)
}
