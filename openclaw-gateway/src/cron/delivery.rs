//! Where a finished run's result goes (`delivery`): `none`; `webhook` — a POST of the run's
//! `finished` entry as JSON to `delivery.to` with `Authorization: Bearer <cron.webhookToken>`,
//! [`WEBHOOK_TIMEOUT`] at most, no redirects, and `delivered` only on a 2xx answer; `announce`
//! — the run's text sent by the channel manager to `delivery.channel` / `delivery.to`
//! (`delivered` only when the platform accepted every chunk; `channel: "last"` is the last
//! conversation of the job's session, else of its agent — see `openclaw_state::RouteStore`).
//! A `NO_REPLY` result is not delivered anywhere.
//!
//! Webhook URLs are checked against `cron.webhookSsrfPolicy` as OpenClaw does: a host that
//! resolves to a loopback, private, link-local or otherwise internal address is refused
//! unless it is in `allowedHostnames` or `dangerouslyAllowPrivateNetwork` is true; the request
//! then goes to the address that was checked (no second lookup to rebind).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::channels::ChannelService;

use openclaw_core::protocol::cron::{
    CronDelivery, DeliveryIntent, DeliveryMode, DeliveryResolved, RunDelivery, ThreadId,
};
use openclaw_state::ConversationRoute;
use serde::Deserialize;
use serde_json::Value;

/// A webhook answer is awaited this long at most (connect and lookup included).
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// A secret that never appears in `Debug` output.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

/// `cron.webhookSsrfPolicy`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SsrfPolicy {
    #[serde(default)]
    pub allowed_hostnames: Vec<String>,
    #[serde(default)]
    pub dangerously_allow_private_network: bool,
}

/// How a run's delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub delivered: bool,
    /// `delivered | not-delivered | not-requested`.
    pub status: &'static str,
    pub error: Option<String>,
    pub detail: Option<RunDelivery>,
}

impl Outcome {
    pub fn not_requested() -> Self {
        Outcome {
            delivered: false,
            status: "not-requested",
            error: None,
            detail: None,
        }
    }

    fn of(intended: DeliveryIntent, result: Result<Option<u16>, String>) -> Self {
        let delivered = result.is_ok();
        let (status, error) = match result {
            Ok(s) => (s, None),
            Err(e) => (None, Some(e)),
        };
        Outcome {
            delivered,
            status: if delivered {
                "delivered"
            } else {
                "not-delivered"
            },
            error: error.clone(),
            detail: Some(RunDelivery {
                intended,
                resolved: DeliveryResolved {
                    ok: delivered,
                    status,
                    error,
                },
                delivered,
            }),
        }
    }
}

/// Checks a job's `delivery` at `cron.add` / `cron.update`.
pub fn check(delivery: &CronDelivery) -> Result<(), String> {
    if delivery.mode != DeliveryMode::Webhook {
        return Ok(());
    }
    let to = delivery
        .to
        .as_deref()
        .ok_or("delivery.to (the webhook URL) is required for delivery mode \"webhook\"")?;
    let url = reqwest::Url::parse(to).map_err(|e| format!("delivery.to is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("delivery.to must be an http(s) URL".into());
    }
    Ok(())
}

/// Whether `ip` is internal (loopback, private, link-local, CGNAT, unique-local, …).
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let seg = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg & 0xfe00) == 0xfc00
                || (seg & 0xffc0) == 0xfe80
        }
    }
}

/// Delivers `entry` (the run's finished entry as JSON; `text` its whole answer, for
/// `announce`) as the job's `delivery` asks; `no_reply`: the run answered `NO_REPLY`;
/// `last`: the conversation `channel: "last"` (or a channel without `to`) resolves to.
#[allow(clippy::too_many_arguments)]
pub async fn deliver(
    delivery: Option<&CronDelivery>,
    entry: &Value,
    no_reply: bool,
    token: Option<&Secret>,
    policy: &SsrfPolicy,
    channels: Option<&Arc<ChannelService>>,
    text: &str,
    last: Option<&ConversationRoute>,
) -> Outcome {
    let Some(d) = delivery.filter(|d| d.mode != DeliveryMode::None) else {
        return Outcome::not_requested();
    };
    let intended = DeliveryIntent {
        mode: d.mode,
        channel: d.channel.clone(),
        to: d.to.clone(),
    };
    if no_reply {
        return Outcome::of(intended, Err("NO_REPLY: nothing to deliver".into()));
    }
    match d.mode {
        DeliveryMode::Announce => Outcome::of(
            intended,
            announce(d, text, channels, last).await.map(|_| None),
        ),
        DeliveryMode::Webhook => {
            let to = d.to.clone().unwrap_or_default();
            let result = tokio::time::timeout(WEBHOOK_TIMEOUT, post(&to, entry, token, policy))
                .await
                .unwrap_or_else(|_| {
                    Err(format!("no answer within {}s", WEBHOOK_TIMEOUT.as_secs()))
                });
            Outcome::of(intended, result.map(Some))
        }
        DeliveryMode::None => Outcome::not_requested(),
    }
}

/// Where an `announce` goes: the named channel and chat; `channel: "last"` (or none) is the
/// last conversation; a channel without `to` is the last conversation on that channel.
pub fn resolve_target(
    d: &CronDelivery,
    last: Option<&ConversationRoute>,
) -> Result<(String, Option<String>, String, Option<String>), String> {
    let thread = d.thread_id.as_ref().map(|t| match t {
        ThreadId::Number(n) => n.to_string(),
        ThreadId::Text(s) => s.clone(),
    });
    match (d.channel.as_deref(), d.to.as_deref()) {
        (Some(c), Some(to)) if c != "last" => {
            Ok((c.to_owned(), d.account_id.clone(), to.to_owned(), thread))
        }
        (channel, to) => {
            let r = last
                .filter(|r| channel.is_none_or(|c| c == "last" || c == r.channel))
                .ok_or_else(|| match channel {
                    None | Some("last") => "announce to the last conversation (channel \"last\"): \
                        no conversation has reached this agent on a channel yet"
                        .to_owned(),
                    Some(c) => format!("announce needs `to` (no conversation on {c} yet)"),
                })?;
            Ok((
                r.channel.clone(),
                d.account_id.clone().or_else(|| Some(r.account_id.clone())),
                to.unwrap_or(&r.peer).to_owned(),
                thread.or_else(|| r.thread_id.clone()),
            ))
        }
    }
}

/// The `announce` delivery of `text` through the channel manager.
async fn announce(
    d: &CronDelivery,
    text: &str,
    channels: Option<&Arc<ChannelService>>,
    last: Option<&ConversationRoute>,
) -> Result<String, String> {
    let channels = channels.ok_or("this gateway runs no channels")?;
    let (channel, account, to, thread) = resolve_target(d, last)?;
    if text.trim().is_empty() {
        return Err("the run produced no text to announce".into());
    }
    channels
        .announce_in(&channel, account.as_deref(), &to, thread.as_deref(), text)
        .await
}

/// `failureAlert` defaults: after 3 consecutive errors, at most once an hour.
pub const ALERT_AFTER: u32 = 3;
pub const ALERT_COOLDOWN_MS: u64 = 3_600_000;

/// Whether a job with `consecutive_errors` (last alert at `last_alert`) alerts now under
/// `alert`.
pub fn alert_due(
    alert: &openclaw_core::protocol::cron::FailureAlertConfig,
    consecutive_errors: u32,
    last_alert: Option<u64>,
    now: u64,
) -> bool {
    let after = alert.after.unwrap_or(ALERT_AFTER).max(1);
    let cooldown = alert.cooldown_ms.unwrap_or(ALERT_COOLDOWN_MS);
    consecutive_errors >= after && last_alert.is_none_or(|at| now.saturating_sub(at) >= cooldown)
}

/// Sends a failure alert: `mode: "webhook"` POSTs `body` to `to` (as a webhook delivery);
/// anything else names a channel, which this gateway does not have yet.
pub async fn send_alert(
    alert: &openclaw_core::protocol::cron::FailureAlertConfig,
    body: &Value,
    token: Option<&Secret>,
    policy: &SsrfPolicy,
) -> Result<u16, String> {
    if alert.mode.as_deref() != Some("webhook") {
        return Err(format!(
            "channels are not available yet: the alert to {} was not delivered",
            alert.channel.as_deref().unwrap_or("last")
        ));
    }
    let to = alert
        .to
        .as_deref()
        .ok_or("failureAlert.to (the webhook URL) is missing")?;
    tokio::time::timeout(WEBHOOK_TIMEOUT, post(to, body, token, policy))
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {}s", WEBHOOK_TIMEOUT.as_secs())))
}

/// POSTs `body` to `to`; the HTTP status of a 2xx answer.
async fn post(
    to: &str,
    body: &Value,
    token: Option<&Secret>,
    policy: &SsrfPolicy,
) -> Result<u16, String> {
    let url = reqwest::Url::parse(to).map_err(|e| format!("not a URL: {e}"))?;
    let host = url.host_str().ok_or("the URL has no host")?.to_owned();
    let port = url.port_or_known_default().ok_or("the URL has no port")?;
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare.as_str(), port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let allowed = policy.dangerously_allow_private_network
        || policy
            .allowed_hostnames
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&bare));
    let addr = *addrs
        .first()
        .ok_or_else(|| format!("{host} has no address"))?;
    if !allowed && addrs.iter().any(|a| is_internal(a.ip())) {
        return Err(format!(
            "refused: {host} resolves to an internal address (allow it in \
             cron.webhookSsrfPolicy.allowedHostnames)"
        ));
    }
    let client = reqwest::Client::builder()
        .timeout(WEBHOOK_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&bare, addr)
        .build()
        .map_err(|e| e.to_string())?;
    let mut req = client.post(url).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(&t.0);
    }
    let resp = req.send().await.map_err(|e| {
        // reqwest errors name the URL; keep the reason only.
        format!("request failed: {}", e.without_url())
    })?;
    let status = resp.status();
    if status.is_success() {
        Ok(status.as_u16())
    } else {
        Err(format!("the webhook answered HTTP {}", status.as_u16()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(!is_internal(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn the_token_is_not_in_debug_output() {
        assert_eq!(format!("{:?}", Secret("s3cret".into())), "\"***\"");
    }
}
