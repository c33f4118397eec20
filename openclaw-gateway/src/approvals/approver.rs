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

/// Where the turn that raises a request came from: `request.runId`, `turnSourceChannel`
/// (`webchat` for a WebSocket client's chat, `http` for the HTTP API and `/tools/invoke`) and
/// `turnSourceTo` (the session key).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TurnOrigin {
    pub run_id: Option<String>,
    pub channel: Option<String>,
    pub to: Option<String>,
}

/// The origin of the turn in progress, looked up when a request is raised.
pub type TurnOriginOf = Arc<dyn Fn() -> TurnOrigin + Send + Sync>;

/// Asks the gateway's approval clients.
pub struct GatewayApprover {
    approvals: Arc<Approvals>,
    origin: Option<TurnOriginOf>,
}

impl GatewayApprover {
    pub fn new(approvals: Arc<Approvals>) -> Self {
        GatewayApprover {
            approvals,
            origin: None,
        }
    }

    /// Names the current turn in each request (`runId`, `turnSource*`).
    pub fn with_origin(mut self, origin: TurnOriginOf) -> Self {
        self.origin = Some(origin);
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
        ..ExecApprovalRequestInfo::default()
    }
}

#[async_trait]
impl Approver for GatewayApprover {
    async fn request(&self, req: ApprovalRequest, cancel: CancellationToken) -> ApprovalOutcome {
        let a = &self.approvals;
        let mut info = info_of(&req);
        let origin = self.origin.as_ref().map(|f| f()).unwrap_or_default();
        info.run_id = origin.run_id;
        info.turn_source_channel = origin.channel;
        info.turn_source_to = origin.to;
        let live = match a.create(Some(req.id.clone()), info, req.timeout, None) {
            Ok(l) => l,
            Err(e) => return ApprovalOutcome::Failed(e.message),
        };
        if !a.has_route(None) && !a.has_other_route(&live.info) {
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
