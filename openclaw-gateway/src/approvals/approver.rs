//! [`GatewayApprover`]: the agent host's gates ask the gateway's approval clients. The gateway
//! registers the request itself (no client scope involved), refuses at once when no approval
//! client is connected (the gate then applies `askFallback`), and withdraws the request when the
//! run is aborted.

use std::sync::Arc;

use async_trait::async_trait;
use openclaw_core::CancellationToken;
use openclaw_core::exec_policy::{ApprovalOutcome, ApprovalRequest, Approver, Decision};
use openclaw_core::protocol::approvals::{CommandAnalysisWire, ExecApprovalRequestInfo};

use super::{Approvals, PendingGuard, Resolver};

/// The id of the run a request comes from, looked up when it is raised.
pub type RunIdOf = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// Asks the gateway's approval clients.
pub struct GatewayApprover {
    approvals: Arc<Approvals>,
    run_id: Option<RunIdOf>,
}

impl GatewayApprover {
    pub fn new(approvals: Arc<Approvals>) -> Self {
        GatewayApprover {
            approvals,
            run_id: None,
        }
    }

    /// Names the current run in each request (`request.runId`).
    pub fn with_run_id(mut self, run_id: RunIdOf) -> Self {
        self.run_id = Some(run_id);
        self
    }
}

/// The announced request for a gate's question.
pub(crate) fn info_of(req: &ApprovalRequest) -> ExecApprovalRequestInfo {
    let allowed = req.allowed_decisions();
    ExecApprovalRequestInfo {
        command: req.command.clone(),
        command_argv: req.argv.clone(),
        cwd: Some(req.cwd.clone()),
        host: Some("gateway".into()),
        security: Some(req.security.as_str().into()),
        ask: Some(req.ask.as_str().into()),
        command_analysis: Some(CommandAnalysisWire {
            command_count: req.command_count,
            nested_command_count: req.nested_count,
            ..CommandAnalysisWire::default()
        }),
        unavailable_decisions: if req.allow_always {
            Vec::new()
        } else {
            vec![Decision::AllowAlways]
        },
        allowed_decisions: allowed,
        agent_id: Some(req.agent_id.clone()),
        resolved_path: req.resolved_path.clone(),
        session_key: req.session_key.clone(),
        tool_call_id: Some(req.tool_call_id.clone()),
        turn_source_channel: req.session_key.as_ref().map(|_| "webchat".into()),
        turn_source_to: req.session_key.clone(),
        ..ExecApprovalRequestInfo::default()
    }
}

#[async_trait]
impl Approver for GatewayApprover {
    async fn request(&self, req: ApprovalRequest, cancel: CancellationToken) -> ApprovalOutcome {
        let a = &self.approvals;
        let mut info = info_of(&req);
        info.run_id = self.run_id.as_ref().and_then(|f| f());
        let live = match a.create(Some(req.id.clone()), info, req.timeout, None) {
            Ok(l) => l,
            Err(e) => return ApprovalOutcome::Failed(e.message),
        };
        if !a.has_route(None) {
            a.settle(&live.id, None, "no-route", &Resolver::system());
            return ApprovalOutcome::NoRoute;
        }
        // Dropped with this future (an aborted run): the request is withdrawn.
        let _guard = PendingGuard {
            approvals: a.clone(),
            id: live.id.clone(),
        };
        a.announce(&live);
        let t = tokio::select! {
            t = live.wait() => t,
            _ = cancel.cancelled() => {
                a.settle(&live.id, None, "run-aborted", &Resolver::system());
                return ApprovalOutcome::Failed("the run was aborted".into());
            }
        };
        match t.decision {
            Some(d) => ApprovalOutcome::Decided(d),
            None if t.reason == "timeout" => ApprovalOutcome::Expired,
            None if t.reason == "no-route" => ApprovalOutcome::NoRoute,
            None if t.reason == "gateway-restart" => ApprovalOutcome::Failed(
                "The gateway stopped before anyone answered, so the command did not run; ask again once it is back.".into(),
            ),
            None => ApprovalOutcome::Failed(format!("the approval ended: {}", t.reason)),
        }
    }
}
