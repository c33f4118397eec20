//! `channels.status|start|stop|logout`, `channels.pairing.list|approve|dismiss` and `send`,
//! with OpenClaw 2026.9.6's params and result shapes.

use std::sync::Arc;
use std::time::Duration;

use openclaw_core::channel::pairing::{PENDING_PER_ACCOUNT, TTL_MS};
use openclaw_core::channel::policy::normalize_sender;
use openclaw_core::channel::{ChannelError, OutboundText, Target};
use openclaw_core::protocol::ErrorShape;
use openclaw_core::protocol::channels::{
    AccountParams, AccountSnapshot, PairingAccountInfo, PairingApproveParams, PairingApproved,
    PairingDismissParams, PairingLimits, PairingList, PairingListParams, PairingRequestInfo,
    SendResult, StatusParams,
};
use openclaw_core::protocol::chat::SendParams;
use openclaw_core::protocol::params::{parse, result};
use openclaw_state::ChannelStore;
use serde_json::{Map, Value, json};

use super::outbound::{self, Outgoing};
use super::{ChannelService, deliver};

/// Whether `method` is answered here.
pub(crate) fn is_channel_method(method: &str) -> bool {
    method == "send" || method == "message.action" || method.starts_with("channels.")
}

fn label(channel: &str) -> &'static str {
    openclaw_channels::KNOWN
        .iter()
        .find(|(id, _)| *id == channel)
        .map_or("Channel", |(_, l)| l)
}

pub(super) fn known(channel: &str) -> Result<(), ErrorShape> {
    if openclaw_channels::KNOWN
        .iter()
        .any(|(id, _)| *id == channel)
    {
        Ok(())
    } else {
        Err(ErrorShape::invalid_request(format!(
            "unknown channel: {channel}"
        )))
    }
}

pub(super) fn state_err(e: openclaw_state::StateError) -> ErrorShape {
    ErrorShape::unavailable(e.to_string())
}

/// Answers one channel method; `config` is the running config.
pub(crate) async fn call(
    svc: &Arc<ChannelService>,
    config: &Value,
    method: &str,
    params: Option<Value>,
) -> Result<Value, ErrorShape> {
    match method {
        "channels.status" => status(svc, parse(method, params)?).await,
        "channels.start" => start_stop(svc, parse(method, params)?, true),
        "channels.stop" => start_stop(svc, parse(method, params)?, false),
        "channels.logout" => logout(svc, parse(method, params)?).await,
        "channels.pairing.list" => pairing_list(svc, config, parse(method, params)?),
        "channels.pairing.approve" => approve(svc, parse(method, params)?).await,
        "channels.pairing.dismiss" => dismiss(svc, parse(method, params)?),
        "send" => send(svc, parse(method, params)?).await,
        "message.action" => super::action::call(svc, parse(method, params)?).await,
        _ => Err(ErrorShape::unknown_method(method)),
    }
}

async fn status(svc: &Arc<ChannelService>, p: StatusParams) -> Result<Value, ErrorShape> {
    let timeout = Duration::from_millis(p.timeout_ms.unwrap_or(10_000).clamp(100, 60_000));
    let entries: Vec<_> = {
        let accounts = openclaw_core::sync::lock(&svc.accounts);
        let mut v: Vec<_> = accounts
            .iter()
            .filter(|(k, _)| p.channel.as_deref().is_none_or(|c| c == k.0))
            .map(|(k, e)| {
                (
                    k.clone(),
                    e.account.clone(),
                    e.policy.clone(),
                    e.enabled,
                    e.last_probe.clone(),
                )
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let mut channel_accounts: Map<String, Value> = Map::new();
    let mut channels: Map<String, Value> = Map::new();
    for (id, _) in openclaw_channels::KNOWN {
        if p.channel.as_deref().is_some_and(|c| c != *id) {
            continue;
        }
        channel_accounts.insert((*id).to_owned(), json!([]));
        channels.insert(
            (*id).to_owned(),
            json!({"configured": false, "running": false}),
        );
    }
    for ((channel, account_id), account, policy, enabled, mut last_probe) in entries {
        if p.probe == Some(true) {
            let probe = tokio::time::timeout(timeout, account.probe()).await;
            let value = match probe {
                Ok(r) => serde_json::to_value(r).unwrap_or(Value::Null),
                Err(_) => json!({"ok": false, "error": "probe timed out"}),
            };
            let at = openclaw_state::now_ms();
            if let Some(e) = openclaw_core::sync::lock(&svc.accounts)
                .get_mut(&(channel.clone(), account_id.clone()))
            {
                e.last_probe = Some((at, value.clone()));
            }
            last_probe = Some((at, value));
        }
        let status = account.status();
        let snap = AccountSnapshot {
            account_id: account_id.clone(),
            enabled,
            token_status: if status.configured {
                "available"
            } else {
                "missing"
            },
            dm_policy: policy.dm_policy.as_str().to_owned(),
            allow_from: policy.allow_from.iter().map(|e| e.normalized()).collect(),
            probe: last_probe.as_ref().map(|(_, v)| v.clone()),
            last_probe_at: last_probe.as_ref().map(|(t, _)| *t),
            status: status.clone(),
        };
        let summary = channels.entry(channel.clone()).or_insert_with(|| json!({}));
        if account_id == openclaw_core::channel::policy::DEFAULT_ACCOUNT
            || summary.get("tokenSource").is_none()
        {
            *summary = json!({"configured": status.configured, "running": status.running,
                "tokenSource": status.token_source, "mode": status.mode});
            if let Some((at, probe)) = &last_probe {
                summary["probe"] = probe.clone();
                summary["lastProbeAt"] = json!(at);
            }
        }
        if let Some(Value::Array(list)) = channel_accounts.get_mut(&channel) {
            list.push(serde_json::to_value(&snap).unwrap_or(Value::Null));
        }
    }
    let broken: Vec<Value> = openclaw_core::sync::lock(&svc.broken)
        .iter()
        .map(|((c, a), m)| json!({"channel": c, "accountId": a, "kind": "config", "message": m}))
        .collect();
    let order: Vec<&str> = channels.keys().map(String::as_str).collect();
    let labels: Map<String, Value> = order
        .iter()
        .map(|c| ((*c).to_owned(), json!(label(c))))
        .collect();
    let meta: Vec<Value> = order
        .iter()
        .map(|c| json!({"id": c, "label": label(c), "detailLabel": format!("{} Bot", label(c))}))
        .collect();
    let defaults: Map<String, Value> = order
        .iter()
        .map(|c| ((*c).to_owned(), json!("default")))
        .collect();
    let mut out = json!({
        "ts": openclaw_state::now_ms(),
        "channelOrder": order,
        "channelLabels": labels,
        "channelMeta": meta,
        "channels": channels,
        "channelAccounts": channel_accounts,
        "channelDefaultAccountId": defaults,
    });
    if !broken.is_empty() {
        out["statusIssues"] = Value::Array(broken);
    }
    Ok(out)
}

fn start_stop(
    svc: &Arc<ChannelService>,
    p: AccountParams,
    start: bool,
) -> Result<Value, ErrorShape> {
    known(&p.channel)?;
    let id = p.account_id.clone().unwrap_or_else(|| "default".into());
    let mut accounts = openclaw_core::sync::lock(&svc.accounts);
    let Some(e) = accounts.get_mut(&(p.channel.clone(), id.clone())) else {
        return Err(ErrorShape::invalid_request(format!(
            "{} account {id} is not configured",
            p.channel
        )));
    };
    if start {
        let was = e.run.is_some();
        svc.start_run(e);
        Ok(
            json!({"channel": p.channel, "accountId": id, "started": !was,
                  "outcome": if was { json!({"status": "skipped", "reason": "already running"}) }
                             else { json!({"status": "handed-off"}) }}),
        )
    } else {
        let was = e.run.is_some();
        super::stop_run(e);
        Ok(json!({"channel": p.channel, "accountId": id, "stopped": was}))
    }
}

async fn logout(svc: &Arc<ChannelService>, p: AccountParams) -> Result<Value, ErrorShape> {
    known(&p.channel)?;
    let Some(account) = svc.account(&p.channel, p.account_id.as_deref()) else {
        return Err(ErrorShape::invalid_request(format!(
            "{} account is not configured",
            p.channel
        )));
    };
    match account.logout().await {
        Ok(cleared) => {
            start_stop(svc, p, false)?;
            Ok(
                json!({"channel": account.channel(), "accountId": account.account_id(),
                      "cleared": cleared, "loggedOut": cleared}),
            )
        }
        Err(ChannelError::Unsupported(m)) => Err(ErrorShape::invalid_request(m)),
        Err(e) => Err(ErrorShape::unavailable(e.to_string())),
    }
}

fn pairing_list(
    svc: &Arc<ChannelService>,
    config: &Value,
    p: PairingListParams,
) -> Result<Value, ErrorShape> {
    let now = openclaw_state::now_ms();
    let requests = svc
        .store
        .pairing_requests(p.channel.as_deref(), p.account_id.as_deref(), now)
        .map_err(state_err)?;
    let mut accounts: Vec<PairingAccountInfo> = openclaw_core::sync::lock(&svc.accounts)
        .keys()
        .filter(|(c, a)| {
            p.channel.as_deref().is_none_or(|x| x == c)
                && p.account_id.as_deref().is_none_or(|x| x == a)
        })
        .map(|(c, a)| PairingAccountInfo {
            channel: c.clone(),
            channel_label: label(c).to_owned(),
            account_id: a.clone(),
            notify_supported: true,
        })
        .collect();
    accounts.sort_by(|a, b| (&a.channel, &a.account_id).cmp(&(&b.channel, &b.account_id)));
    let list = PairingList {
        accounts,
        requests: requests
            .into_iter()
            .map(|r| PairingRequestInfo {
                request_id: r.code.clone(),
                channel_label: label(&r.channel).to_owned(),
                sender_label: format!("{}UserId", r.channel),
                code: r.code,
                channel: r.channel,
                account_id: r.account_id,
                sender_id: r.sender_id,
                metadata: r.meta,
                created_at: r.created_at,
                last_seen_at: r.last_seen_at,
                expires_at: r.expires_at,
                notify_supported: true,
            })
            .collect(),
        command_owner_configured: config
            .pointer("/commands/ownerAllowFrom")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty()),
        limits: PairingLimits {
            pending_per_account: PENDING_PER_ACCOUNT,
            ttl_ms: TTL_MS,
        },
    };
    result(list)
}

async fn approve(svc: &Arc<ChannelService>, p: PairingApproveParams) -> Result<Value, ErrorShape> {
    known(&p.channel)?;
    let now = openclaw_state::now_ms();
    let Some(req) = svc
        .store
        .pairing_approve(&p.channel, p.account_id.as_deref(), &p.request_id, now)
        .map_err(state_err)?
    else {
        return Err(ErrorShape::invalid_request(format!(
            "no pending pairing request {} for {}",
            p.request_id, p.channel
        )));
    };
    let notification = if p.notify == Some(true) {
        notify(svc, &req.channel, &req.account_id, &req.sender_id).await
    } else {
        "not-requested"
    };
    result(PairingApproved {
        request_id: req.code,
        sender_id: req.sender_id,
        notification,
        command_owner_bootstrap: if p.bootstrap_command_owner == Some(true) {
            "unavailable"
        } else {
            "not-requested"
        },
    })
}

/// Tells an approved sender (DM chat id = user id on Telegram).
pub(crate) async fn notify(
    svc: &ChannelService,
    channel: &str,
    account_id: &str,
    sender: &str,
) -> &'static str {
    let Some(account) = svc.account(channel, Some(account_id)) else {
        return "unsupported";
    };
    let msg = OutboundText {
        to: Target {
            chat_id: account.dm_target(sender),
            thread_id: None,
        },
        text: account.approved_text(),
        ..OutboundText::default()
    };
    match deliver::send_with_retry(account.as_ref(), &msg).await {
        Ok(_) => "sent",
        Err(_) => "failed",
    }
}

fn dismiss(svc: &Arc<ChannelService>, p: PairingDismissParams) -> Result<Value, ErrorShape> {
    known(&p.channel)?;
    let now = openclaw_state::now_ms();
    match svc
        .store
        .pairing_dismiss(&p.channel, p.account_id.as_deref(), &p.request_id, now)
        .map_err(state_err)?
    {
        Some(r) => Ok(
            json!({"requestId": r.code, "channel": r.channel, "accountId": r.account_id,
                             "senderId": r.sender_id, "dismissed": true}),
        ),
        None => Err(ErrorShape::invalid_request(format!(
            "no pending pairing request {} for {}",
            p.request_id, p.channel
        ))),
    }
}

/// A param `send` accepts but this gateway cannot carry out yet: refused by name.
fn refuse_unsupported(p: &SendParams) -> Result<(), ErrorShape> {
    let unsupported = [
        ("buffer", p.buffer.is_some()),
        ("asVoice", matches!(p.as_voice, Some(Value::Bool(true)))),
        (
            "gifPlayback",
            matches!(p.gif_playback, Some(Value::Bool(true))),
        ),
        (
            "forceDocument",
            matches!(p.force_document, Some(Value::Bool(true))),
        ),
    ];
    match unsupported.iter().find(|(_, set)| *set) {
        Some((name, _)) => Err(ErrorShape::invalid_request(format!(
            "send: {name} is not supported by this gateway yet (text and photos)"
        ))),
        None => Ok(()),
    }
}

pub(super) fn as_text(v: &Option<Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The media references of `send` (`mediaUrl`, then `mediaUrls`).
fn send_media_refs(p: &SendParams) -> Vec<String> {
    let mut out: Vec<String> = as_text(&p.media_url).into_iter().collect();
    if let Some(Value::Array(list)) = &p.media_urls {
        for m in list.iter().filter_map(Value::as_str) {
            if !m.trim().is_empty() && !out.iter().any(|o| o == m) {
                out.push(m.trim().to_owned());
            }
        }
    }
    out
}

async fn send(svc: &Arc<ChannelService>, p: SendParams) -> Result<Value, ErrorShape> {
    let key = p.idempotency_key.to_string();
    if let Some(done) = svc.store.send_receipt(&key).map_err(state_err)? {
        return serde_json::from_str::<Value>(&done)
            .map_err(|e| ErrorShape::unavailable(e.to_string()));
    }
    refuse_unsupported(&p)?;
    let channel = match p.channel.as_deref() {
        Some("webchat") => {
            return Err(ErrorShape::invalid_request(
                "unsupported channel: webchat (internal-only; use chat.send)",
            ));
        }
        Some(c) => c.to_owned(),
        None => "telegram".to_owned(),
    };
    let out = Outgoing {
        account_id: as_text(&p.account_id),
        to: p.to.to_string(),
        text: p
            .message
            .as_ref()
            .map(|m| m.to_string())
            .unwrap_or_default(),
        media: send_media_refs(&p),
        thread_id: as_text(&p.thread_id),
        reply_to_id: as_text(&p.reply_to_id),
        silent: matches!(p.silent, Some(Value::Bool(true))),
        raw_html: matches!(&p.parse_mode, Some(Value::String(m)) if m.eq_ignore_ascii_case("html")),
        channel,
    };
    let (account, sent) = outbound::deliver(svc, &out).await?;
    let res = result(SendResult {
        run_id: key.clone(),
        message_id: sent.message_id,
        channel: out.channel,
        chat_id: Some(sent.chat_id),
    })?;
    if let Err(e) = svc
        .store
        .put_send_receipt(&key, account.channel(), &res.to_string())
    {
        tracing::warn!("send: the receipt of {key} was not stored: {e}");
    }
    Ok(res)
}

impl ChannelService {
    /// Sends `text` to chat `to` on `channel` (its account `account_id`, or the default one),
    /// chunked at the account's limit, each chunk's send checked: the cron `announce`
    /// delivery. Returns the last chunk's platform message id.
    /// `thread_id`: the forum topic / thread of the chat, if any.
    pub(crate) async fn announce_in(
        self: &Arc<Self>,
        channel: &str,
        account_id: Option<&str>,
        to: &str,
        thread_id: Option<&str>,
        text: &str,
    ) -> Result<String, String> {
        known(channel).map_err(|_| format!("unknown channel: {channel}"))?;
        let account = self
            .account(channel, account_id)
            .ok_or_else(|| format!("no {channel} account is configured on this gateway"))?;
        let to = normalize_sender(to);
        let mut last = None;
        for chunk in account.chunk(text) {
            let msg = OutboundText {
                to: Target {
                    chat_id: to.clone(),
                    thread_id: thread_id.map(str::to_owned),
                },
                text: chunk,
                reply_to_id: None,
                silent: false,
                raw_html: false,
            };
            let sent = deliver::send_with_retry(account.as_ref(), &msg)
                .await
                .map_err(|e| format!("send failed: {e}"))?;
            last = Some(sent.message_id);
        }
        last.ok_or_else(|| "nothing to send".to_owned())
    }
}
