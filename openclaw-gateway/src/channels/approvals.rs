//! Exec approvals on Telegram with inline buttons (OpenClaw's `channels.telegram.execApprovals`,
//! `target: "dm"`): the channel manager is an [`ApprovalRoute`]; each pending request is sent
//! to every approver's DM as a prompt with **Allow once / Always / Deny** buttons whose data is
//! the `/approve <id> <decision>` command, and a press is resolved through
//! [`Approvals::resolve`] — the same path as `/approve` and `exec.approval.resolve`, first
//! answer wins — only when the presser is one of the account's approvers. Approvers are
//! numeric Telegram user ids from `execApprovals.approvers`, else the numeric entries of
//! `commands.ownerAllowFrom`; `execApprovals.enabled: false` turns the route off. Being allowed
//! to chat with the bot (`allowFrom`, pairing) never makes someone an approver.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock, Weak};

use openclaw_core::channel::policy::account_value;
use openclaw_core::channel::{Button, ButtonPress, OutboundText, Target};
use openclaw_core::exec_policy::Decision;
use openclaw_core::protocol::approvals::ExecApprovalRequestInfo;
use serde_json::Value;

use super::{AccountKey, ChannelService};
use crate::approvals::{ApprovalRoute, Approvals, LiveApproval, Resolver};

/// The exec approvals, set once the gateway has them (weak: they hold this route).
#[derive(Clone, Default)]
pub(super) struct ApprovalsCell(Arc<OnceLock<Weak<Approvals>>>);

/// The approvers of each account.
#[derive(Clone, Default)]
pub(super) struct Approvers(Arc<RwLock<HashMap<AccountKey, Vec<String>>>>);

fn strip(id: &str) -> Option<String> {
    let id = id.trim();
    let id = ["telegram:", "tg:"]
        .iter()
        .find_map(|p| id.strip_prefix(p))
        .unwrap_or(id);
    (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then(|| id.to_owned())
}

fn ids(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| match e {
            Value::String(s) => strip(s),
            Value::Number(n) => strip(&n.to_string()),
            _ => None,
        })
        .collect()
}

impl Approvers {
    /// Recomputes every Telegram account's approvers from `config`.
    pub(super) fn apply(&self, config: &Value) {
        let owners = ids(config.pointer("/commands/ownerAllowFrom"));
        let mut map = HashMap::new();
        if let Some(section) = config.pointer("/channels/telegram") {
            for id in openclaw_channels::account_ids("telegram", section) {
                let v = account_value(section, &id);
                let ea = v.get("execApprovals");
                if ea.and_then(|e| e.get("enabled")).and_then(Value::as_bool) == Some(false) {
                    continue;
                }
                let mut list = ids(ea.and_then(|e| e.get("approvers")));
                if list.is_empty() {
                    list = owners.clone();
                }
                if !list.is_empty() {
                    map.insert(("telegram".to_owned(), id), list);
                }
            }
        }
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = map;
    }

    fn all(&self) -> Vec<(AccountKey, Vec<String>)> {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn may_answer(&self, channel: &str, account_id: &str, sender: &str) -> bool {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(channel.to_owned(), account_id.to_owned()))
            .is_some_and(|l| l.iter().any(|a| a == sender))
    }
}

impl ChannelService {
    /// Makes the channel approvers a route of `approvals`.
    pub(crate) fn attach_approvals(self: &Arc<Self>, approvals: &Arc<Approvals>) {
        if self.approvals.0.set(Arc::downgrade(approvals)).is_ok() {
            approvals.add_route(self.clone());
        }
    }
}

/// The prompt an approver receives.
fn prompt(live: &LiveApproval) -> String {
    let info = &live.info;
    let minutes = live.expires_at_ms.saturating_sub(live.created_at_ms) / 60_000;
    let mut text = format!(
        "Exec approval requested (id {})\n\n```\n{}\n```\n",
        live.id, info.command
    );
    if let Some(agent) = &info.agent_id {
        text.push_str(&format!("Agent: {agent}\n"));
    }
    if let Some(cwd) = &info.cwd {
        text.push_str(&format!("Directory: {cwd}\n"));
    }
    if let Some(src) = &info.turn_source_channel {
        text.push_str(&format!("From: {src}\n"));
    }
    text.push_str(&format!("Expires in {}m.", minutes.max(1)));
    text
}

fn buttons(live: &LiveApproval) -> Vec<Vec<Button>> {
    let mut row = Vec::new();
    for (label, d) in [
        ("Allow once", Decision::AllowOnce),
        ("Always", Decision::AllowAlways),
        ("Deny", Decision::Deny),
    ] {
        if live.info.allowed_decisions.contains(&d) {
            row.push(Button {
                text: label.to_owned(),
                data: format!("/approve {} {}", live.id, d.as_str()),
            });
        }
    }
    vec![row]
}

impl ApprovalRoute for ChannelService {
    fn available(&self, _info: &ExecApprovalRequestInfo) -> bool {
        let accounts = openclaw_core::sync::lock(&self.accounts);
        self.approvers.all().iter().any(|(k, _)| {
            accounts
                .get(k)
                .is_some_and(|e| e.enabled && e.account.status().configured)
        })
    }

    fn deliver(&self, live: Arc<LiveApproval>) {
        let text = prompt(&live);
        let rows = buttons(&live);
        for ((channel, account_id), approvers) in self.approvers.all() {
            let Some(account) = self.account(&channel, Some(&account_id)) else {
                continue;
            };
            for approver in approvers {
                let (account, text, rows) = (account.clone(), text.clone(), rows.clone());
                let msg = OutboundText {
                    to: Target {
                        chat_id: approver,
                        thread_id: None,
                    },
                    text,
                    ..OutboundText::default()
                };
                tokio::spawn(async move {
                    if let Err(e) = account.send_buttons(&msg, &rows).await {
                        tracing::warn!(
                            "exec approval prompt to {} {}: {e}",
                            account.channel(),
                            account.account_id()
                        );
                    }
                });
            }
        }
    }
}

/// A pressed button: `/approve <id> <decision>` from an approver resolves the approval.
pub(super) fn press(cell: &ApprovalsCell, approvers: &Approvers, p: &ButtonPress) -> String {
    let mut words = p.data.split_whitespace();
    let (Some("/approve"), Some(id), Some(decision), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return "This button is not handled here.".into();
    };
    let Some(decision) = Decision::parse(decision) else {
        return "Unknown decision.".into();
    };
    if !approvers.may_answer(&p.channel, &p.account_id, &p.sender.id) {
        return "You are not an exec approver for this bot.".into();
    }
    let Some(approvals) = cell.0.get().and_then(Weak::upgrade) else {
        return "Approvals are not available on this gateway.".into();
    };
    let by = Resolver {
        label: Some(p.sender.label()),
        resolver: format!("channel:{}:{}", p.channel, p.sender.id),
    };
    match approvals.resolve(id, decision, &by) {
        Ok(_) => format!("Approval {id}: {}", decision.as_str()),
        Err(e) => e.message,
    }
}
