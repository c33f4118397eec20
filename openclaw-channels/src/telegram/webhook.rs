//! Webhook mode (`webhookUrl` + `webhookSecret`, as OpenClaw): the account listens on
//! `webhookHost:webhookPort` (default `127.0.0.1:8787`) at `webhookPath` (default
//! `/telegram-webhook`; `/healthz` is reserved for health checks), registers `webhookUrl` with
//! `setWebhook` (with the secret and the same `allowed_updates` as polling), and for each POST:
//!
//! 1. checks `X-Telegram-Bot-Api-Secret-Token` against the secret in constant time (401
//!    otherwise);
//! 2. parses the update (400 when it is not one);
//! 3. commits its message to the durable inbound queue, deduplicated by message id, and only
//!    then answers an empty `200` with `x-openclaw-delivery-accepted: durable` — a storage
//!    error answers 500, so Telegram delivers the update again.
//!
//! Telegram retries an update until it gets a 2xx, so a crash before the commit loses
//! nothing, and a retry after it is dropped by the dedupe key.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use openclaw_core::CancellationToken;
use openclaw_core::channel::{InboundSink, StatusCell};
use subtle::ConstantTimeEq;

use super::TelegramAccount;
use super::api::{self, BotApi, SetWebhook, Update, User};
use super::poll::{Ended, inbound, now};
use crate::backoff::Backoff;

/// The header Telegram sends the secret in.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// The largest update body accepted (Telegram's updates are a few KiB).
const MAX_BODY: usize = 1024 * 1024;
pub const DEFAULT_PATH: &str = "/telegram-webhook";
pub const DEFAULT_HOST: &str = "127.0.0.1";
pub const DEFAULT_PORT: u16 = 8787;

/// The webhook settings of an account.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    /// Never logged, never in status.
    pub secret: String,
    pub path: String,
    pub host: String,
    pub port: u16,
}

impl WebhookConfig {
    /// From the account's keys; `None` when `webhookUrl` is not set (polling).
    pub fn from_keys(
        url: Option<String>,
        secret: Option<String>,
        path: Option<String>,
        host: Option<String>,
        port: Option<u16>,
    ) -> Result<Option<Self>, String> {
        let Some(url) = url.filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let Some(secret) = secret.filter(|s| !s.trim().is_empty()) else {
            return Err("webhookUrl is set without webhookSecret".into());
        };
        // Telegram's rule for secret_token: 1-256 of A-Z a-z 0-9 _ -.
        if secret.len() > 256
            || !secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return Err("webhookSecret must be 1-256 characters of A-Z, a-z, 0-9, _ and -".into());
        }
        let path = path.unwrap_or_else(|| DEFAULT_PATH.to_owned());
        if !path.starts_with('/') || path == "/healthz" || path.contains(['{', '}', '*']) {
            return Err(format!(
                "webhookPath {path:?} must start with / and must not be /healthz"
            ));
        }
        Ok(Some(Self {
            url,
            secret,
            path,
            host: host.unwrap_or_else(|| DEFAULT_HOST.to_owned()),
            port: port.unwrap_or(DEFAULT_PORT),
        }))
    }
}

struct Hook {
    api: BotApi,
    account_id: String,
    secret: String,
    me: User,
    sink: Arc<dyn InboundSink>,
    status: StatusCell,
}

pub(super) async fn run(
    acct: &TelegramAccount,
    cfg: &WebhookConfig,
    sink: Arc<dyn InboundSink>,
    cancel: CancellationToken,
) {
    let status = &acct.status;
    status.starting(now());
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
    match acct.token.as_deref() {
        None => status.update(|s| s.last_error = Some(super::not_configured().to_string())),
        Some(token) => loop {
            let ended = listen(acct, cfg, token, &sink, &cancel).await;
            status.update(|s| s.connected = false);
            if matches!(ended, Ended::Cancelled) || cancel.is_cancelled() {
                break;
            }
            status.update(|s| {
                s.reconnect_attempts += 1;
                s.lifecycle = "reconnecting".into();
            });
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(backoff.next_delay()) => {}
            }
        },
    }
    status.update(|s| {
        s.running = false;
        s.connected = false;
        s.lifecycle = "stopped".into();
        s.last_stop_at = Some(now());
    });
}

/// Binds, registers the webhook and serves until `cancel` or an error.
async fn listen(
    acct: &TelegramAccount,
    cfg: &WebhookConfig,
    token: &str,
    sink: &Arc<dyn InboundSink>,
    cancel: &CancellationToken,
) -> Ended {
    let status = &acct.status;
    let fail = |e: String| {
        tracing::warn!("telegram {} (webhook): {e}", acct.account_id);
        status.update(|s| s.last_error = Some(e));
        Ended::Reconnect
    };
    let api = match BotApi::new(&acct.api_root, token) {
        Ok(a) => a,
        Err(e) => return fail(e.to_string()),
    };
    let listener = match tokio::net::TcpListener::bind((cfg.host.as_str(), cfg.port)).await {
        Ok(l) => l,
        Err(e) => return fail(format!("cannot listen on {}:{}: {e}", cfg.host, cfg.port)),
    };
    let setup = async {
        let me: User = api
            .call("getMe", &api::Empty {}, Duration::from_secs(15))
            .await?;
        let req = SetWebhook {
            url: &cfg.url,
            secret_token: &cfg.secret,
            allowed_updates: api::ALLOWED_UPDATES,
            drop_pending_updates: false,
        };
        let _: bool = api
            .call("setWebhook", &req, Duration::from_secs(15))
            .await?;
        Ok::<User, openclaw_core::channel::ChannelError>(me)
    };
    let me = tokio::select! {
        _ = cancel.cancelled() => return Ended::Cancelled,
        r = setup => match r {
            Ok(me) => me,
            Err(e) => return fail(format!("setWebhook: {e}")),
        },
    };
    tokio::select! {
        _ = cancel.cancelled() => return Ended::Cancelled,
        _ = acct.sync_menu(&api) => {}
    }
    status.update(|s| {
        s.bot = serde_json::to_value(&me).ok();
        s.connected = true;
        s.lifecycle = "ready".into();
        s.last_connected_at = Some(now());
        s.last_error = None;
    });
    *openclaw_core::sync::lock(&acct.me) = Some(me.clone());
    let hook = Arc::new(Hook {
        api: api.clone(),
        account_id: acct.account_id.clone(),
        secret: cfg.secret.clone(),
        me,
        sink: sink.clone(),
        status: status.clone(),
    });
    let app = Router::new()
        .route(&cfg.path, post(update))
        .route("/healthz", get(|| async { "ok" }))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(hook);
    let stop = cancel.clone();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await;
    match served {
        Ok(()) => Ended::Cancelled,
        Err(e) => fail(format!("webhook listener: {e}")),
    }
}

async fn update(State(hook): State<Arc<Hook>>, headers: HeaderMap, body: Bytes) -> Response {
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !bool::from(given.ct_eq(hook.secret.as_bytes())) {
        return (StatusCode::UNAUTHORIZED, "unauthorized").into_response();
    }
    let Ok(update) = serde_json::from_slice::<Update>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a Telegram update").into_response();
    };
    hook.status
        .update(|s| s.last_transport_activity_at = Some(now()));
    if let Some(q) = update.callback_query.clone() {
        let (api, id, sink) = (hook.api.clone(), hook.account_id.clone(), hook.sink.clone());
        tokio::spawn(async move { super::buttons::pressed(&api, &id, &sink, q).await });
    }
    let messages: Vec<_> = inbound(&hook.account_id, &hook.me, update)
        .into_iter()
        .collect();
    let n = messages.len();
    match hook
        .sink
        .commit("telegram", &hook.account_id, messages, None)
        .await
    {
        Ok(()) => {
            if n > 0 {
                hook.status.update(|s| s.last_inbound_at = Some(now()));
            }
            (
                StatusCode::OK,
                [("x-openclaw-delivery-accepted", "durable")],
                "",
            )
                .into_response()
        }
        Err(e) => {
            hook.status
                .update(|s| s.last_error = Some(format!("cannot store inbound: {e}")));
            (StatusCode::INTERNAL_SERVER_ERROR, "not stored").into_response()
        }
    }
}
