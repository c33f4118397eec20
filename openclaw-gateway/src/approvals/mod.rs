//! Exec approvals owned by the gateway: the live requests and their waiters, the ledger in the
//! state database (pending and past; a graceful stop expires what is pending with reason
//! `gateway-restart` while its clients can still hear it, and what a crash left pending is
//! expired so on the next start), delivery of `exec.approval.requested` /
//! `exec.approval.resolved` (also for an expiry: `decision: null` and a `reason`) to approval clients (OpenClaw's rule: `operator.approvals` or admin,
//! and the `approvals` / `exec-approvals` caps or an approval app's client id), first-answer-wins
//! resolution with OpenClaw's error texts, and the [`GatewayApprover`] the agent host's gates ask
//! — with the gateway's authority, whoever sent the chat.
//!
//! `methods` answers the approval methods; `document` the host approvals document
//! (`exec.approvals.get` / `.set`).

mod approver;
mod document;
mod methods;
mod snapshot;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openclaw_core::exec_policy::Decision;
use openclaw_core::protocol::approvals::{
    ExecApprovalRequestInfo, ExecApprovalRequested, ExecApprovalResolved,
};
use openclaw_core::protocol::{ErrorShape, Role, Scope};
use openclaw_state::{ApprovalRow, ApprovalStatus, ApprovalStore, Settlement};
use tokio::sync::watch;

use crate::hub::{Connection, Hub};
use crate::state::now_ms;

pub use approver::{GatewayApprover, TurnOrigin, TurnOriginOf};
pub(crate) use methods::{call, is_approval_method};

/// Pending approvals held at most; more are refused (each holds a waiter).
pub const MAX_PENDING: usize = 1024;
/// Settled approvals are kept this long (`approval.history`), as OpenClaw.
pub const HISTORY_DAYS: u64 = 30;

/// How an approval ended, for its waiters.
#[derive(Debug, Clone, PartialEq)]
pub struct Terminal {
    pub decision: Option<Decision>,
    pub reason: String,
}

/// A pending approval of this process.
pub struct LiveApproval {
    pub id: String,
    pub info: ExecApprovalRequestInfo,
    pub created_at_ms: u64,
    pub expires_at_ms: u64,
    /// The connection that asked (it never receives its own `requested` event).
    pub requester: Option<String>,
    done: watch::Sender<Option<Terminal>>,
}

impl LiveApproval {
    /// Waits for the end (at once when it has ended).
    pub async fn wait(&self) -> Terminal {
        let mut rx = self.done.subscribe();
        loop {
            if let Some(t) = rx.borrow_and_update().clone() {
                return t;
            }
            if rx.changed().await.is_err() {
                return Terminal {
                    decision: None,
                    reason: "gateway-shutdown".into(),
                };
            }
        }
    }

    /// The `exec.approval.requested` payload / `exec.approval.list` item.
    pub fn announced(&self) -> ExecApprovalRequested {
        ExecApprovalRequested {
            approval_kind: "exec".into(),
            id: self.id.clone(),
            request: self.info.clone(),
            created_at_ms: self.created_at_ms,
            expires_at_ms: self.expires_at_ms,
        }
    }
}

/// Who settled an approval.
pub struct Resolver {
    /// `resolvedBy`: the client's display name or id.
    pub label: Option<String>,
    /// `kind` or `kind:id` (`runtime:cli`, `device:<id>`, `system`).
    pub resolver: String,
}

impl Resolver {
    pub fn system() -> Self {
        Resolver {
            label: None,
            resolver: "system".into(),
        }
    }

    pub fn of(conn: &Connection) -> Self {
        Resolver {
            label: Some(
                conn.display_name
                    .clone()
                    .unwrap_or_else(|| conn.client_id.clone()),
            ),
            resolver: format!("runtime:{}", conn.client_id),
        }
    }
}

/// A route for approval requests besides the WebSocket approval clients: a messaging
/// channel's approvers (Telegram's `execApprovals`), who answer with inline buttons.
pub trait ApprovalRoute: Send + Sync {
    /// Whether someone on this route can answer `info`.
    fn available(&self, info: &ExecApprovalRequestInfo) -> bool;
    /// Delivers the request (without blocking: sends happen on a task).
    fn deliver(&self, live: Arc<LiveApproval>);
}

/// The gateway's approvals.
pub struct Approvals {
    store: Arc<dyn ApprovalStore>,
    hub: Arc<Hub>,
    /// Where the host approvals document lives.
    pub(crate) state_dir: PathBuf,
    live: Mutex<HashMap<String, Arc<LiveApproval>>>,
    routes: Mutex<Vec<Arc<dyn ApprovalRoute>>>,
}

/// Whether `conn` receives exec approval events and counts as a route (OpenClaw's
/// `canDeliverApprovals` for exec).
pub fn can_deliver(conn: &Connection) -> bool {
    conn.role == Role::Operator
        && Scope::Approvals.satisfied_by(&conn.scopes)
        && (conn
            .caps
            .iter()
            .any(|c| c == "approvals" || c == "exec-approvals")
            || matches!(
                conn.client_id.as_str(),
                "openclaw-control-ui" | "openclaw-macos" | "openclaw-ios" | "openclaw-android"
            ))
}

impl Approvals {
    /// Opens the ledger; approvals left pending by an earlier process are expired
    /// (`gateway-restart`) and settled ones older than [`HISTORY_DAYS`] forgotten.
    pub fn open(
        store: Arc<dyn ApprovalStore>,
        hub: Arc<Hub>,
        state_dir: PathBuf,
    ) -> Result<Arc<Self>, openclaw_state::StateError> {
        let now = now_ms();
        let expired = store.expire_pending("gateway-restart", now)?;
        if expired > 0 {
            tracing::info!("{expired} pending approval(s) expired: the gateway restarted");
        }
        store.prune_approvals(now.saturating_sub(HISTORY_DAYS * 86_400_000))?;
        Ok(Arc::new(Approvals {
            store,
            hub,
            state_dir,
            live: Mutex::default(),
            routes: Mutex::default(),
        }))
    }

    pub(crate) fn store(&self) -> &dyn ApprovalStore {
        &*self.store
    }

    fn live_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<LiveApproval>>> {
        openclaw_core::sync::lock(&self.live)
    }

    /// The pending approvals of this process, oldest first.
    pub fn pending(&self) -> Vec<Arc<LiveApproval>> {
        let mut v: Vec<_> = self.live_map().values().cloned().collect();
        v.sort_by_key(|l| l.created_at_ms);
        v
    }

    /// The live approval `input` names: its full id or a unique prefix.
    pub fn find(&self, input: &str) -> Result<Option<Arc<LiveApproval>>, ErrorShape> {
        let map = self.live_map();
        if let Some(l) = map.get(input) {
            return Ok(Some(l.clone()));
        }
        let mut hits = map.values().filter(|l| l.id.starts_with(input));
        match (hits.next(), hits.next()) {
            (Some(one), None) if !input.is_empty() => Ok(Some(one.clone())),
            (Some(_), Some(_)) => Err(ErrorShape::invalid_request(
                "ambiguous approval id prefix; use the full id",
            )),
            _ => Ok(None),
        }
    }

    /// Adds a route (a messaging channel's approvers).
    pub fn add_route(&self, route: Arc<dyn ApprovalRoute>) {
        openclaw_core::sync::lock(&self.routes).push(route);
    }

    /// Whether a route other than the WebSocket clients can answer `info`.
    pub fn has_other_route(&self, info: &ExecApprovalRequestInfo) -> bool {
        openclaw_core::sync::lock(&self.routes)
            .iter()
            .any(|r| r.available(info))
    }

    /// Whether some approval client other than `except` is connected.
    pub fn has_route(&self, except: Option<&str>) -> bool {
        self.hub
            .connections()
            .iter()
            .any(|c| can_deliver(c) && Some(c.conn_id.as_str()) != except)
    }

    /// Registers a pending approval (ledger first, then live) and starts its expiry.
    pub fn create(
        self: &Arc<Self>,
        id: Option<String>,
        info: ExecApprovalRequestInfo,
        timeout: Duration,
        requester: Option<String>,
    ) -> Result<Arc<LiveApproval>, ErrorShape> {
        let id = id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if id.is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
            return Err(ErrorShape::invalid_request("invalid approval id"));
        }
        if id.starts_with("plugin:") {
            return Err(ErrorShape::invalid_request(
                "approval ids starting with plugin: are reserved",
            ));
        }
        let created = now_ms();
        let expires = created.saturating_add(timeout.as_millis() as u64);
        let live = Arc::new(LiveApproval {
            id: id.clone(),
            info,
            created_at_ms: created,
            expires_at_ms: expires,
            requester,
            done: watch::channel(None).0,
        });
        {
            let mut map = self.live_map();
            if map.contains_key(&id) {
                return Err(ErrorShape::invalid_request("approval id already pending"));
            }
            if map.len() >= MAX_PENDING {
                return Err(ErrorShape::unavailable("too many pending approvals"));
            }
            let row = ApprovalRow {
                id: id.clone(),
                kind: "exec".into(),
                status: ApprovalStatus::Pending,
                decision: None,
                reason: None,
                request: serde_json::to_string(&live.info).unwrap_or_default(),
                agent_id: live.info.agent_id.clone(),
                session_key: live.info.session_key.clone(),
                created_at_ms: created,
                expires_at_ms: expires,
                resolved_at_ms: None,
                resolved_by: None,
                resolver: None,
            };
            self.store.insert_approval(&row).map_err(|e| {
                let text = e.to_string();
                if text.contains("UNIQUE") {
                    ErrorShape::invalid_request("approval id already used")
                } else {
                    ErrorShape::unavailable(format!("approval storage unavailable: {text}"))
                }
            })?;
            map.insert(id.clone(), live.clone());
        }
        // The expiry ends with the approval, so settled requests leave no timer behind.
        let me = Arc::downgrade(self);
        let watched = live.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep(timeout) => {
                    if let Some(me) = me.upgrade() {
                        me.settle(&id, None, "timeout", &Resolver::system());
                    }
                }
                _ = watched.wait() => {}
            }
        });
        Ok(live)
    }

    /// Sends `exec.approval.requested` to every approval client except the requester; returns
    /// how many got it.
    pub fn announce(&self, live: &Arc<LiveApproval>) -> usize {
        let routes: Vec<_> = openclaw_core::sync::lock(&self.routes).clone();
        for r in routes.iter().filter(|r| r.available(&live.info)) {
            r.deliver(live.clone());
        }
        let payload = serde_json::to_value(live.announced()).ok();
        let requester = live.requester.clone();
        self.hub
            .broadcast_filtered("exec.approval.requested", payload, None, |c| {
                can_deliver(c) && Some(&c.conn_id) != requester.as_ref()
            })
    }

    /// Settles `id` if it is still pending (first answer wins); false when it was not. The end
    /// is announced as `exec.approval.resolved` (see [`ExecApprovalResolved`]).
    pub fn settle(
        &self,
        id: &str,
        decision: Option<Decision>,
        reason: &str,
        by: &Resolver,
    ) -> bool {
        let status = match decision {
            Some(Decision::AllowOnce | Decision::AllowAlways) => ApprovalStatus::Allowed,
            Some(Decision::Deny) => ApprovalStatus::Denied,
            None if reason == "run-aborted" => ApprovalStatus::Cancelled,
            None => ApprovalStatus::Expired,
        };
        let how = Settlement {
            status,
            decision: decision.map(Decision::as_str),
            reason,
            at_ms: now_ms(),
            resolved_by: by.label.as_deref(),
            resolver: Some(&by.resolver),
        };
        let won = match self.store.settle_approval(id, &how) {
            Ok(won) => won,
            Err(e) => {
                tracing::warn!("approval {id}: the ledger failed: {e}");
                // The live waiter still gets the answer; the ledger row stays pending and is
                // expired at the next start.
                self.live_map().contains_key(id)
            }
        };
        let live = self.live_map().remove(id);
        let Some(live) = live else {
            return won;
        };
        live.done.send_replace(Some(Terminal {
            decision,
            reason: reason.to_owned(),
        }));
        // A request that never found a route was never announced; every other end is, so an
        // approval client can take its card down (an expiry with `decision: null`).
        if reason != "no-route" {
            let ev = ExecApprovalResolved {
                id: id.to_owned(),
                decision,
                resolved_by: by.label.clone(),
                ts: how.at_ms,
                request: live.info.clone(),
                reason: decision.is_none().then(|| reason.to_owned()),
            };
            self.hub.broadcast_filtered(
                "exec.approval.resolved",
                serde_json::to_value(ev).ok(),
                None,
                can_deliver,
            );
        }
        true
    }

    /// Expires every pending approval of this process with `reason` (the gateway is stopping:
    /// `gateway-restart`), while its approval clients are still connected to hear it.
    pub fn expire_all(&self, reason: &str) {
        for live in self.pending() {
            self.settle(&live.id, None, reason, &Resolver::system());
        }
    }
}

/// OpenClaw's "unknown or expired approval id".
pub(crate) fn not_found() -> ErrorShape {
    ErrorShape::invalid_request("unknown or expired approval id")
        .with_details(serde_json::json!({"reason": "APPROVAL_NOT_FOUND"}))
}

/// OpenClaw's answer to a repeated resolution: the same decision is fine, another is not.
fn repeated(recorded: Option<Decision>, wanted: Decision) -> Result<serde_json::Value, ErrorShape> {
    if recorded == Some(wanted) {
        Ok(serde_json::json!({"ok": true}))
    } else {
        Err(ErrorShape::invalid_request("approval already resolved")
            .with_details(serde_json::json!({"reason": "APPROVAL_ALREADY_RESOLVED"})))
    }
}

impl Approvals {
    /// `exec.approval.resolve`: settles the approval `input` names (full id or unique prefix)
    /// with `decision`; first answer wins.
    pub fn resolve(
        &self,
        input: &str,
        decision: Decision,
        by: &Resolver,
    ) -> Result<serde_json::Value, ErrorShape> {
        let recorded = |id: &str| -> Result<Option<Decision>, ErrorShape> {
            let row = self
                .store
                .approval(id)
                .map_err(|e| ErrorShape::unavailable(e.to_string()))?
                .filter(|r| r.status != ApprovalStatus::Pending && r.decision.is_some())
                .ok_or_else(not_found)?;
            Ok(row.decision.as_deref().and_then(Decision::parse))
        };
        let Some(live) = self.find(input)? else {
            return repeated(recorded(input)?, decision);
        };
        if !live.info.allowed_decisions.contains(&decision) {
            return Err(ErrorShape::invalid_request(
                "allow-always is unavailable for this command",
            )
            .with_details(serde_json::json!({"reason": "APPROVAL_ALLOW_ALWAYS_UNAVAILABLE"})));
        }
        if self.settle(&live.id, Some(decision), "user", by) {
            return Ok(serde_json::json!({"ok": true}));
        }
        repeated(recorded(&live.id)?, decision)
    }
}

/// Withdraws a pending approval when its waiter goes away (the run was aborted).
pub(crate) struct PendingGuard {
    pub approvals: Arc<Approvals>,
    pub id: String,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.approvals
            .settle(&self.id, None, "run-aborted", &Resolver::system());
    }
}

/// `hello-ok.features.methods`: `base` plus the approval methods when they are answered.
pub fn advertised_methods(mut base: Vec<String>, with_approvals: bool) -> Vec<String> {
    if with_approvals {
        base.extend(methods::APPROVAL_METHODS.iter().map(|m| (*m).to_owned()));
    }
    base
}

/// `hello-ok.features.events`: `base` plus the approval events when they are sent.
pub fn advertised_events(base: &[&str], with_approvals: bool) -> Vec<String> {
    let extra: &[&str] = if with_approvals {
        methods::APPROVAL_EVENTS
    } else {
        &[]
    };
    base.iter().chain(extra).map(|e| (*e).to_owned()).collect()
}
