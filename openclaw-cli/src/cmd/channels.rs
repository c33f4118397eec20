//! `openclaw channels status` (the gateway's `channels.status`) and `openclaw pairing list |
//! approve`, which, as OpenClaw's, work on this machine's state database (the gateway reads
//! approvals from it at each message, so no restart is needed). `approve --notify` sends the
//! approval text through the channel with the account's configured credentials.

use openclaw_core::channel::pairing::normalize_code;
use openclaw_core::channel::{OutboundText, Target};
use openclaw_core::config;
use openclaw_state::ChannelStore;
use serde_json::{Value, json};

use super::gateway::{call_with, connect_options};
use super::store::{open_state, state_err};
use crate::cli::{ChannelsCmd, PairingCmd};
use crate::error::{CliError, CliResult};
use crate::output::{Table, print_json};

pub fn status(cmd: ChannelsCmd) -> CliResult {
    let (channel, timeout, probe, gateway, json) = match cmd {
        ChannelsCmd::Status {
            channel,
            timeout,
            probe,
            gateway,
            json,
        } => (channel, timeout, probe, gateway, json),
        other => return super::channels_config::run(other),
    };
    let opts = connect_options(&gateway)?.scopes(["operator.read"]);
    let mut params = json!({"probe": probe, "timeoutMs": timeout});
    if let Some(c) = channel {
        params["channel"] = json!(c);
    }
    let (_, res) = call_with(opts, "channels.status", params)?;
    if json.json {
        print_json(&res);
        return Ok(());
    }
    let mut table = Table::new(&[
        "channel",
        "account",
        "running",
        "connected",
        "last inbound",
        "error",
    ]);
    let mut any = false;
    let mut warnings = Vec::new();
    if let Some(channels) = res["channelAccounts"].as_object() {
        for (channel, accounts) in channels {
            for a in accounts.as_array().into_iter().flatten() {
                any = true;
                for w in a["warnings"].as_array().into_iter().flatten() {
                    let id = a["accountId"].as_str().unwrap_or("");
                    warnings.push(format!("{channel} {id}: {}", w.as_str().unwrap_or("")));
                }
                let yes = |k: &str| if a[k] == true { "yes" } else { "no" };
                table.row(vec![
                    channel.clone(),
                    a["accountId"].as_str().unwrap_or("").to_owned(),
                    yes("running").to_owned(),
                    yes("connected").to_owned(),
                    a["lastInboundAt"]
                        .as_u64()
                        .map_or("-".into(), |t| t.to_string()),
                    a["lastError"].as_str().unwrap_or("").to_owned(),
                ]);
            }
        }
    }
    if any {
        table.print();
        for w in warnings {
            crate::out!("warning: {w}");
        }
    } else {
        crate::out!("No channels configured.");
    }
    Ok(())
}

pub fn pairing(cmd: PairingCmd) -> CliResult {
    match cmd {
        PairingCmd::List {
            channel,
            account,
            json,
        } => list(channel.as_deref(), account.as_deref(), json.json),
        PairingCmd::Approve {
            channel,
            code,
            account,
            notify,
            json,
        } => approve(&channel, &code, account.as_deref(), notify, json.json),
    }
}

fn list(channel: Option<&str>, account: Option<&str>, as_json: bool) -> CliResult {
    let store = open_state()?;
    let now = openclaw_state::now_ms();
    let requests = store
        .pairing_requests(channel, account, now)
        .map_err(state_err)?;
    if as_json {
        let items: Vec<Value> = requests
            .iter()
            .map(|r| {
                json!({"channel": r.channel, "accountId": r.account_id, "code": r.code,
                       "senderId": r.sender_id, "meta": r.meta, "createdAt": r.created_at,
                       "lastSeenAt": r.last_seen_at, "expiresAt": r.expires_at})
            })
            .collect();
        print_json(&json!({"requests": items}));
        return Ok(());
    }
    if requests.is_empty() {
        crate::out!("No pending pairing requests.");
        return Ok(());
    }
    let mut table = Table::new(&["channel", "account", "code", "sender", "name", "expires in"]);
    for r in &requests {
        let name = r.meta["username"]
            .as_str()
            .map(|u| format!("@{u}"))
            .or_else(|| r.meta["firstName"].as_str().map(str::to_owned))
            .unwrap_or_default();
        table.row(vec![
            r.channel.clone(),
            r.account_id.clone(),
            r.code.clone(),
            r.sender_id.clone(),
            name,
            format!("{}m", r.expires_at.saturating_sub(now) / 60_000),
        ]);
    }
    table.print();
    Ok(())
}

fn approve(
    channel: &str,
    code: &str,
    account: Option<&str>,
    notify: bool,
    as_json: bool,
) -> CliResult {
    if !openclaw_channels::KNOWN.iter().any(|(c, _)| *c == channel) {
        return Err(CliError::usage(format!("unknown channel: {channel}")));
    }
    let code = normalize_code(code)
        .ok_or_else(|| CliError::usage(format!("not a pairing code: {code} (8 letters/digits)")))?;
    let store = open_state()?;
    let Some(req) = store
        .pairing_approve(channel, account, &code, openclaw_state::now_ms())
        .map_err(state_err)?
    else {
        return Err(CliError::failure(format!(
            "No pending pairing request found for code: {code}"
        )));
    };
    let notification = if notify {
        notify_sender(channel, &req.account_id, &req.sender_id)
    } else {
        "not-requested"
    };
    if as_json {
        print_json(
            &json!({"channel": channel, "accountId": req.account_id, "code": code,
                           "senderId": req.sender_id, "notification": notification}),
        );
    } else {
        crate::out!("Approved {channel} sender {}.", req.sender_id);
        if notify && notification != "sent" {
            crate::out!("The sender could not be notified ({notification}).");
        }
    }
    Ok(())
}

/// Sends the approval text with the account's configured credentials.
fn notify_sender(channel: &str, account_id: &str, sender: &str) -> &'static str {
    let Ok(cfg) = super::config::read_raw(&config::config_path()) else {
        return "failed";
    };
    let Some(section) = cfg.pointer(&format!("/channels/{channel}")) else {
        return "unsupported";
    };
    let env = |k: &str| std::env::var(k).ok();
    let Ok(account) = openclaw_channels::account_for(channel, section, account_id, &env) else {
        return "failed";
    };
    let Ok(rt) = super::runtime() else {
        return "failed";
    };
    let msg = OutboundText {
        to: Target {
            chat_id: account.dm_target(sender),
            thread_id: None,
        },
        text: account.approved_text(),
        ..OutboundText::default()
    };
    match rt.block_on(account.send_text(&msg)) {
        Ok(_) => "sent",
        Err(_) => "failed",
    }
}
