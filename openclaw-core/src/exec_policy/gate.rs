//! The gate in the tool path: [`GatedTool`] wraps `bash`, `write` and `edit`, decides each call
//! with the policy, asks the [`Approver`] when the verdict is "ask" (telling the UIs through the
//! tool's update stream that it waits), and runs the tool only on an allow. The model gets
//! OpenClaw's texts: `Exec denied (gateway id=<id>, user-denied): <command>` on a deny, an
//! expiry is reported as such, never as a tool timeout. Aborting the run cancels the wait.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use serde_json::Value;

use super::analysis::analyze;
use super::document::{self, ApprovalsFile};
use super::evaluate::{Verdict, allow_always_entries, evaluate};
use super::{Ask, Decision, ExecPolicy, Security};
use crate::cancel::CancellationToken;
use crate::message::ContentBlock;
use crate::tool::{McpOrigin, Tool, ToolCallContext, ToolError, ToolOutput, ToolSpec};

/// What a human is asked to decide.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRequest {
    /// Chosen by the gate, so the UIs can be told before the approver answers.
    pub id: String,
    /// `bash`, `write` or `edit`.
    pub tool: String,
    /// The text shown (the command line, or `write <path>`).
    pub command: String,
    /// The exact argv when the command is one simple command.
    pub argv: Option<Vec<String>>,
    pub cwd: String,
    pub agent_id: String,
    pub session_key: Option<String>,
    pub tool_call_id: String,
    pub resolved_path: Option<String>,
    pub security: Security,
    pub ask: Ask,
    /// Whether allow-always is offered.
    pub allow_always: bool,
    pub command_count: usize,
    pub nested_count: usize,
    pub timeout: Duration,
}

impl ApprovalRequest {
    /// The decisions offered, in OpenClaw's order.
    pub fn allowed_decisions(&self) -> Vec<Decision> {
        if self.allow_always {
            vec![Decision::AllowOnce, Decision::AllowAlways, Decision::Deny]
        } else {
            vec![Decision::AllowOnce, Decision::Deny]
        }
    }
}

/// `details` of the partial update a gated tool sends while it waits for a human (the text of
/// that update says so and how to answer).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApprovalWait {
    /// Always [`ApprovalWait::PENDING`].
    pub status: String,
    pub approval_id: String,
}

impl ApprovalWait {
    pub const PENDING: &'static str = "approval-pending";
}

/// How an approval request ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ApprovalOutcome {
    Decided(Decision),
    /// Nobody answered before the timeout.
    Expired,
    /// No surface that can approve was reachable.
    NoRoute,
    /// The approver failed (its text says why).
    Failed(String),
}

/// Someone who can ask a human: the gateway (its approval clients), a terminal UI.
#[async_trait]
pub trait Approver: Send + Sync {
    /// Asks and waits for the answer, at most `req.timeout`. `cancel` fires when the run is
    /// aborted; the approver then withdraws the request.
    async fn request(&self, req: ApprovalRequest, cancel: CancellationToken) -> ApprovalOutcome;
}

/// Everything the gate needs about where its tools run.
pub struct GateContext {
    /// The requested policy (`openclaw.json`).
    pub policy: ExecPolicy,
    /// The host approvals document (`None`: none is used).
    pub approvals_path: Option<PathBuf>,
    pub agent_id: String,
    pub session_key: Option<String>,
    /// The agent's workspace: `bash` runs here; `write`/`edit` inside it are not gated.
    pub workspace: PathBuf,
    /// The `PATH` executables are resolved on.
    pub path_var: String,
    /// Who asks a human; `None`: nobody can be asked (`askFallback` decides).
    pub approver: Option<Arc<dyn Approver>>,
}

impl std::fmt::Debug for GateContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GateContext")
            .field("policy", &self.policy)
            .field("approvals_path", &self.approvals_path)
            .field("agent_id", &self.agent_id)
            .field("session_key", &self.session_key)
            .field("workspace", &self.workspace)
            .field("approver", &self.approver.is_some())
            .finish_non_exhaustive()
    }
}

impl GateContext {
    /// A context for `workspace` with this process's `PATH`.
    pub fn new(policy: ExecPolicy, agent_id: &str, workspace: PathBuf) -> Self {
        GateContext {
            policy,
            approvals_path: None,
            agent_id: agent_id.to_owned(),
            session_key: None,
            workspace,
            path_var: std::env::var("PATH").unwrap_or_default(),
            approver: None,
        }
    }

    /// The document, or an error text for the model.
    fn document(&self) -> Result<Option<ApprovalsFile>, String> {
        match &self.approvals_path {
            None => Ok(None),
            Some(p) => ApprovalsFile::load(p).map_err(|e| e.to_string()),
        }
    }
}

/// Wraps the gated tools of `tools` (`bash`, `write`, `edit` and every MCP server's tools);
/// others pass unchanged.
pub fn gate_tools(tools: Vec<Arc<dyn Tool>>, ctx: &Arc<GateContext>) -> Vec<Arc<dyn Tool>> {
    tools
        .into_iter()
        .map(|t| match t.name() {
            _ if t.mcp_origin().is_some() => Arc::new(GatedTool {
                inner: t,
                ctx: ctx.clone(),
            }) as Arc<dyn Tool>,
            "bash" | "write" | "edit" => Arc::new(GatedTool {
                inner: t,
                ctx: ctx.clone(),
            }) as Arc<dyn Tool>,
            _ => t,
        })
        .collect()
}

/// A tool behind the exec policy.
pub struct GatedTool {
    inner: Arc<dyn Tool>,
    ctx: Arc<GateContext>,
}

/// What the gate decided for one call before asking.
struct Pending {
    verdict: Verdict,
    req: ApprovalRequest,
    /// Allow-always entries to write on that decision.
    entries: Vec<document::AllowlistEntry>,
    /// The `bash` command's analysis (for the allowlist's last-used fields).
    analysis: Option<super::CommandAnalysis>,
    /// An MCP tool's server and tool (allow-always writes an `mcpTools` grant).
    mcp: Option<McpOrigin>,
}

impl GatedTool {
    fn plan(&self, args: &Value, call_id: &str) -> Result<Pending, ToolError> {
        let ctx = &self.ctx;
        let doc = ctx.document().map_err(|e| {
            ToolError::new(format!("Exec denied (gateway, approvals-unreadable): {e}"))
        })?;
        let policy = match &doc {
            Some(d) => d.tighten(&ctx.policy, &ctx.agent_id),
            None => ctx.policy.clone(),
        };
        let cwd = ctx.workspace.to_string_lossy().into_owned();
        let mut req = ApprovalRequest {
            id: uuid::Uuid::new_v4().to_string(),
            tool: self.inner.name().to_owned(),
            command: String::new(),
            argv: None,
            cwd: cwd.clone(),
            agent_id: ctx.agent_id.clone(),
            session_key: ctx.session_key.clone(),
            tool_call_id: call_id.to_owned(),
            resolved_path: None,
            security: policy.security,
            ask: policy.ask,
            allow_always: false,
            command_count: 1,
            nested_count: 0,
            timeout: policy.approval_timeout,
        };
        if let Some(origin) = self.inner.mcp_origin() {
            let granted = doc
                .as_ref()
                .is_some_and(|d| d.mcp_granted(&ctx.agent_id, &origin.server, &origin.tool));
            let verdict = mcp_verdict(&policy, granted);
            req.command = mcp_command_text(&origin, args);
            if let Verdict::Ask { allow_always, .. } = verdict {
                req.allow_always = allow_always;
            }
            return Ok(Pending {
                verdict,
                req,
                entries: Vec::new(),
                analysis: None,
                mcp: Some(origin),
            });
        }
        if self.inner.name() == "bash" {
            let command = args.get("command").and_then(Value::as_str).unwrap_or("");
            let analysis = analyze(command, &ctx.workspace, &ctx.path_var);
            let allowlist = doc
                .as_ref()
                .map(|d| d.allowlist(&ctx.agent_id))
                .unwrap_or_default();
            let verdict = evaluate(&policy, &allowlist, &analysis, &ctx.workspace);
            req.command = command.to_owned();
            req.command_count = analysis.segments.len();
            req.nested_count = analysis.nested_count;
            if let [one] = analysis.segments.as_slice() {
                req.argv = Some(one.argv.clone());
            }
            req.resolved_path = analysis
                .segments
                .first()
                .and_then(|s| s.resolved.as_ref())
                .map(|p| p.to_string_lossy().into_owned());
            if let Verdict::Ask { allow_always, .. } = verdict {
                req.allow_always = allow_always;
            }
            let entries = allow_always_entries(&analysis, &ctx.workspace, now_ms());
            return Ok(Pending {
                verdict,
                req,
                entries,
                analysis: Some(analysis),
                mcp: None,
            });
        }
        let raw = args.get("path").and_then(Value::as_str).unwrap_or(".");
        let path = crate::tool::path::resolve_to_cwd(raw, &ctx.workspace);
        req.command = format!("{} {}", self.inner.name(), path.display());
        let inside = crate::tool::path::confine(&ctx.workspace, &path).is_ok();
        let verdict = file_verdict(&policy, inside);
        Ok(Pending {
            verdict,
            req,
            entries: Vec::new(),
            analysis: None,
            mcp: None,
        })
    }

    /// Asks the approver; `Ok` to run, `Err` the text the model gets.
    async fn ask(
        &self,
        p: Pending,
        fallback_allows: bool,
        ctx: &ToolCallContext,
    ) -> Result<(), ToolError> {
        let req = p.req;
        let (id, command) = (req.id.clone(), req.command.clone());
        let unavailable = || {
            ToolError::new(format!(
                "Exec denied (gateway id={id}, approval-unavailable): {command}\nNobody could be asked: no approval client is connected (`openclaw tui`, or the Control UI: an operator connection holding operator.approvals that declares the exec-approvals cap), so the command did not run. Ask the user to connect one and try again. To let such commands run without asking, the user adds an allowlist entry (`openclaw approvals allowlist add <executable>`) or sets tools.exec.askFallback (or tools.exec.mode) to \"full\" in openclaw.json."
            ))
        };
        let Some(approver) = self.ctx.approver.clone() else {
            return if fallback_allows {
                Ok(())
            } else {
                Err(unavailable())
            };
        };
        (ctx.on_update)(ToolOutput {
            content: vec![ContentBlock::text(format!(
                "Waiting for approval (id={id}): {command}\nApprove with `openclaw approvals resolve {id} allow-once` or `/approve {id} allow-once`; the request expires in {}.",
                human(req.timeout)
            ))],
            details: serde_json::to_value(ApprovalWait {
                status: ApprovalWait::PENDING.into(),
                approval_id: id.clone(),
            })
            .ok(),
        });
        let timeout = req.timeout;
        let cancel = ctx.cancel.clone();
        let asked = approver.request(req, cancel.clone()).fuse();
        // The approver owns the expiry; this bound only guards against one that never answers.
        let guard = futures_timer::Delay::new(timeout + Duration::from_secs(5)).fuse();
        let aborted = cancel.cancelled().fuse();
        futures::pin_mut!(asked, guard, aborted);
        let outcome = futures::select! {
            o = asked => o,
            _ = guard => ApprovalOutcome::Expired,
            _ = aborted => return Err(ToolError::new(format!("Exec aborted while waiting for approval (gateway id={id}): {command}"))),
        };
        match outcome {
            ApprovalOutcome::Decided(Decision::AllowOnce) => Ok(()),
            ApprovalOutcome::Decided(Decision::AllowAlways) => {
                match &p.mcp {
                    Some(origin) => self.remember_mcp(origin),
                    None => self.remember(p.entries),
                }
                Ok(())
            }
            ApprovalOutcome::Decided(Decision::Deny) => Err(ToolError::new(format!(
                "Exec denied (gateway id={id}, user-denied): {command}"
            ))),
            ApprovalOutcome::Expired if fallback_allows => Ok(()),
            ApprovalOutcome::Expired => Err(ToolError::new(format!(
                "Exec denied (gateway id={id}, approval-timeout): {command}\nNobody approved it within {}, so the command did not run (this is not a command timeout). Ask the user to approve it and try again.",
                human(timeout)
            ))),
            ApprovalOutcome::NoRoute if fallback_allows => Ok(()),
            ApprovalOutcome::NoRoute => Err(unavailable()),
            ApprovalOutcome::Failed(e) => Err(ToolError::new(format!(
                "Exec denied (gateway id={id}, approval-failed): {command}\n{e}"
            ))),
        }
    }

    /// Writes allow-always entries to the document (a failure is logged; the call still runs
    /// once, as allowed).
    fn remember(&self, entries: Vec<document::AllowlistEntry>) {
        let Some(path) = &self.ctx.approvals_path else {
            return;
        };
        let agent = &self.ctx.agent_id;
        let result = document::update(path, true, |doc| {
            let mut added = false;
            for e in entries {
                added |= doc.add_entry(agent, e);
            }
            added
        });
        if let Err(e) = result {
            tracing::warn!("allow-always not remembered: {e}");
        }
    }

    /// Writes an allow-always `mcpTools` grant for the agent (a failure is logged; the call
    /// still runs once, as allowed).
    fn remember_mcp(&self, origin: &McpOrigin) {
        let Some(path) = &self.ctx.approvals_path else {
            return;
        };
        let agent = &self.ctx.agent_id;
        let result = document::update(path, true, |doc| {
            doc.add_mcp_grant(agent, &origin.server, &origin.tool, now_ms())
        });
        if let Err(e) = result {
            tracing::warn!("MCP allow-always not remembered: {e}");
        }
    }

    /// A command the allowlist let through updates the last-used fields of the entries that
    /// matched (re-read under the write lock; written only when they change, see
    /// [`document::LAST_USED_RESOLUTION_MS`]). A failure is logged; the call still runs.
    fn record_uses(&self, p: &Pending) {
        let (Some(path), Some(analysis)) = (&self.ctx.approvals_path, &p.analysis) else {
            return;
        };
        if p.req.security != Security::Allowlist {
            return;
        }
        let (agent, cwd, now) = (&self.ctx.agent_id, &self.ctx.workspace, now_ms());
        let result = document::update(path, false, |doc| {
            let mut changed = false;
            for s in &analysis.segments {
                changed |= doc.record_use(agent, s, cwd, now);
            }
            changed
        });
        if let Err(e) = result {
            tracing::warn!("allowlist last-used fields not written: {e}");
        }
    }
}

/// An MCP tool call: `security: full` runs it, `deny` refuses it, `allowlist` runs a tool the
/// agent holds an `mcpTools` grant for and otherwise asks (allow-always offered) — or refuses
/// when `ask: off`. `ask: always` asks for every call.
fn mcp_verdict(policy: &ExecPolicy, granted: bool) -> Verdict {
    let ask = Verdict::Ask {
        allow_always: true,
        fallback_allows: policy.ask_fallback == Security::Full,
    };
    match (policy.security, policy.ask) {
        (Security::Deny, _) => Verdict::Deny {
            reason: "security=deny".into(),
        },
        (_, Ask::Always) => ask,
        (Security::Full, _) => Verdict::Allow,
        (Security::Allowlist, _) if granted => Verdict::Allow,
        (Security::Allowlist, Ask::Off) => Verdict::Deny {
            reason: "mcp-tool-not-granted".into(),
        },
        (Security::Allowlist, _) => ask,
    }
}

/// The text an MCP call is shown (and refused) as: `mcp <server>/<tool> <arguments>`, the
/// arguments cut at 200 characters.
fn mcp_command_text(origin: &McpOrigin, args: &Value) -> String {
    let mut a = args.to_string();
    if a.len() > 200 {
        let mut cut = 200;
        while !a.is_char_boundary(cut) {
            cut -= 1;
        }
        a.truncate(cut);
        a.push('…');
    }
    format!("mcp {}/{} {a}", origin.server, origin.tool)
}

/// `write`/`edit`: free inside the workspace; outside it, the exec policy decides.
fn file_verdict(policy: &ExecPolicy, inside: bool) -> Verdict {
    if inside {
        return Verdict::Allow;
    }
    match (policy.security, policy.ask) {
        (Security::Deny, _) => Verdict::Deny {
            reason: "security=deny".into(),
        },
        (Security::Full, Ask::Off | Ask::OnMiss) => Verdict::Allow,
        (Security::Allowlist, Ask::Off) => Verdict::Deny {
            reason: "outside-workspace".into(),
        },
        _ => Verdict::Ask {
            allow_always: false,
            fallback_allows: policy.ask_fallback == Security::Full,
        },
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s % 60 == 0 {
        format!("{} min", s / 60)
    } else if s >= 1 {
        format!("{s} s")
    } else {
        format!("{} ms", d.as_millis())
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[async_trait]
impl Tool for GatedTool {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn description(&self) -> &str {
        self.inner.description()
    }
    fn parameters(&self) -> Value {
        self.inner.parameters()
    }
    fn prepare_arguments(&self, args: Value) -> Value {
        self.inner.prepare_arguments(args)
    }
    fn spec(&self) -> ToolSpec {
        self.inner.spec()
    }
    fn mcp_origin(&self) -> Option<McpOrigin> {
        self.inner.mcp_origin()
    }
    async fn execute(&self, args: Value, ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        let p = self.plan(&args, &ctx.call_id)?;
        match p.verdict.clone() {
            Verdict::Allow => self.record_uses(&p),
            Verdict::Deny { reason } => {
                return Err(ToolError::new(format!(
                    "Exec denied (gateway, {reason}): {}",
                    p.req.command
                )));
            }
            Verdict::Ask {
                fallback_allows, ..
            } => self.ask(p, fallback_allows, &ctx).await?,
        }
        self.inner.execute(args, ctx).await
    }
}
