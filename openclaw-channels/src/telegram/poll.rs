//! The supervised long-polling loop of one bot.
//!
//! Each connection is a fresh HTTP client (so no socket outlives a reconnect): `getMe`,
//! `deleteWebhook {drop_pending_updates:false}`, the command menu (`menu`, once per run), then
//! `getUpdates` from the saved offset.
//! A batch of updates is committed to the sink together with the next offset *before* that
//! offset is sent to Telegram (which is what acknowledges the batch), so a crash makes
//! Telegram resend it and the store drops what it already has.
//!
//! Liveness is measured on inbound: a `getUpdates` that has not answered within
//! `stallTimeoutMs` (a healthy long poll answers within its `timeout`) is abandoned — the
//! request future is dropped, closing its socket — counted in `stalls` and the connection is
//! rebuilt. Errors (401 bad token, 409 another poller or a webhook, network) go to
//! `lastError`, and the loop reconnects with exponential backoff and jitter (1 s to 30 s).

use std::sync::Arc;
use std::time::Duration;

use openclaw_core::CancellationToken;
use openclaw_core::channel::{ChatType, InboundMedia, InboundMessage, InboundSink, Sender};

use super::TelegramAccount;
use super::api::{self, BotApi, DeleteWebhook, GetUpdates, Update, User};
use crate::backoff::Backoff;

pub(super) fn now() -> u64 {
    openclaw_core::message::now_ms().max(0) as u64
}

pub(super) enum Ended {
    Cancelled,
    Reconnect,
}

pub(super) async fn run(
    acct: &TelegramAccount,
    sink: Arc<dyn InboundSink>,
    cancel: CancellationToken,
) {
    let status = &acct.status;
    status.starting(now());
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(30));
    match acct.token.as_deref() {
        None => status.update(|s| s.last_error = Some(super::not_configured().to_string())),
        Some(token) => loop {
            let ended = connection(acct, token, &sink, &cancel, &mut backoff).await;
            status.update(|s| s.connected = false);
            if matches!(ended, Ended::Cancelled) || cancel.is_cancelled() {
                break;
            }
            status.update(|s| {
                s.reconnect_attempts += 1;
                s.lifecycle = "reconnecting".into();
            });
            let delay = backoff.next_delay();
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(delay) => {}
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

/// One connection: set up, then poll until an error, a stall or `cancel`.
async fn connection(
    acct: &TelegramAccount,
    token: &str,
    sink: &Arc<dyn InboundSink>,
    cancel: &CancellationToken,
    backoff: &mut Backoff,
) -> Ended {
    let status = &acct.status;
    let fail = |e: String| {
        tracing::warn!("telegram {}: {e}", acct.account_id);
        status.update(|s| s.last_error = Some(e));
        Ended::Reconnect
    };
    let api = match BotApi::new(&acct.api_root, token) {
        Ok(a) => a,
        Err(e) => return fail(e.to_string()),
    };
    let setup = async {
        let me: User = api
            .call("getMe", &api::Empty {}, Duration::from_secs(15))
            .await?;
        let _: bool = api
            .call(
                "deleteWebhook",
                &DeleteWebhook {
                    drop_pending_updates: false,
                },
                Duration::from_secs(15),
            )
            .await?;
        Ok::<User, openclaw_core::channel::ChannelError>(me)
    };
    let me = tokio::select! {
        _ = cancel.cancelled() => return Ended::Cancelled,
        r = setup => match r {
            Ok(me) => me,
            Err(e) => return fail(format!("getMe: {e}")),
        },
    };
    status.update(|s| s.bot = serde_json::to_value(&me).ok());
    *openclaw_core::sync::lock(&acct.me) = Some(me.clone());
    tokio::select! {
        _ = cancel.cancelled() => return Ended::Cancelled,
        _ = acct.sync_menu(&api) => {}
    }
    let mut offset = match sink.cursor("telegram", &acct.account_id).await {
        Ok(c) => c.and_then(|c| c.parse::<i64>().ok()),
        Err(e) => return fail(format!("cannot read the saved offset: {e}")),
    };
    let mut first = true;
    loop {
        let req = GetUpdates {
            offset,
            limit: 100,
            // The first poll returns at once (OpenClaw's sequence), then long polls.
            timeout: if first {
                0
            } else {
                acct.poll_timeout.as_secs()
            },
            allowed_updates: api::ALLOWED_UPDATES,
        };
        first = false;
        let poll = api.call::<_, Vec<Update>>("getUpdates", &req, acct.stall_timeout);
        let res = tokio::select! {
            _ = cancel.cancelled() => return Ended::Cancelled,
            r = tokio::time::timeout(acct.stall_timeout, poll) => r,
        };
        let updates = match res {
            Err(_) => return stalled(acct),
            Ok(Err(openclaw_core::channel::ChannelError::Transport { message, .. }))
                if message.contains("timed out") =>
            {
                return stalled(acct);
            }
            Ok(Err(e)) => return fail(format!("getUpdates: {e}")),
            Ok(Ok(u)) => u,
        };
        backoff.reset();
        status.update(|s| {
            let t = now();
            s.last_transport_activity_at = Some(t);
            if !s.connected {
                s.connected = true;
                s.lifecycle = "ready".into();
                s.last_connected_at = Some(t);
                s.last_error = None;
            }
        });
        let Some(last) = updates.iter().map(|u| u.update_id).max() else {
            continue;
        };
        let next = last + 1;
        let presses: Vec<api::CallbackQuery> = updates
            .iter()
            .filter_map(|u| u.callback_query.clone())
            .collect();
        let messages: Vec<InboundMessage> = updates
            .into_iter()
            .filter_map(|u| inbound(&acct.account_id, &me, u))
            .collect();
        let n = messages.len();
        // Committed (with the offset) before Telegram hears the offset.
        loop {
            match sink
                .commit(
                    "telegram",
                    &acct.account_id,
                    messages.clone(),
                    Some(next.to_string()),
                )
                .await
            {
                Ok(()) => break,
                Err(e) => {
                    status.update(|s| s.last_error = Some(format!("cannot store inbound: {e}")));
                    tokio::select! {
                        _ = cancel.cancelled() => return Ended::Cancelled,
                        _ = tokio::time::sleep(backoff.next_delay()) => {}
                    }
                }
            }
        }
        if n > 0 {
            status.update(|s| s.last_inbound_at = Some(now()));
        }
        for q in presses {
            let (api, id, sink) = (api.clone(), acct.account_id.clone(), sink.clone());
            tokio::spawn(async move { super::buttons::pressed(&api, &id, &sink, q).await });
        }
        offset = Some(next);
    }
}

fn stalled(acct: &TelegramAccount) -> Ended {
    let secs = acct.stall_timeout.as_secs_f64();
    tracing::warn!(
        "telegram {}: getUpdates stalled ({secs:.1}s); reconnecting",
        acct.account_id
    );
    acct.status.update(|s| {
        s.stalls += 1;
        s.last_error = Some(format!(
            "getUpdates stalled: no answer in {secs:.1}s; reconnecting"
        ));
    });
    Ended::Reconnect
}

/// A text or photo message of `update` as an inbound message (others are acknowledged and
/// skipped). A photo is its largest size within the download bound, its caption the text.
pub(super) fn inbound(account_id: &str, me: &User, update: Update) -> Option<InboundMessage> {
    let m = update.message?;
    let photo = m
        .photo
        .iter()
        .rfind(|p| {
            p.file_size
                .is_none_or(|s| s <= super::media::MAX_PHOTO_DOWNLOAD)
        })
        .map(|p| InboundMedia {
            kind: "photo".into(),
            file_id: p.file_id.clone(),
            size: p.file_size,
        });
    let text = match (m.text.clone().or(m.caption.clone()), &photo) {
        (Some(t), _) => t,
        (None, Some(_)) => String::new(),
        (None, None) => return None,
    };
    let from = m.from.clone()?;
    // `/cmd@botname`: for this bot, the command as if typed alone (and a mention); for
    // another bot, not ours.
    let stripped = addressed(&text, me)?;
    let chat_type = match m.chat.kind.as_str() {
        "private" => ChatType::Direct,
        "group" | "supergroup" => ChatType::Group,
        _ => ChatType::Channel,
    };
    let mentioned = chat_type != ChatType::Direct && mentions(&m, &text, me);
    let text = stripped;
    Some(InboundMessage {
        channel: "telegram".into(),
        account_id: account_id.to_owned(),
        dedupe_key: format!("{}:{}", m.chat.id, m.message_id),
        message_id: m.message_id.to_string(),
        chat_type,
        chat_id: m.chat.id.to_string(),
        thread_id: m
            .message_thread_id
            .filter(|_| m.chat.is_forum)
            .map(|t| t.to_string()),
        sender: Sender {
            id: from.id.to_string(),
            username: from.username,
            first_name: from.first_name,
            last_name: from.last_name,
            is_bot: from.is_bot,
        },
        text,
        mentioned,
        media: photo.into_iter().collect(),
        timestamp_ms: u64::try_from(m.date).unwrap_or(0) * 1000,
        guild: None,
    })
}

/// `text` with a leading `/command@botname` made `/command` when it names this bot; `None`
/// when it names another bot (the command is not ours).
fn addressed(text: &str, me: &User) -> Option<String> {
    let Some(rest) = text.strip_prefix('/') else {
        return Some(text.to_owned());
    };
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let Some((cmd, bot)) = rest[..end].split_once('@') else {
        return Some(text.to_owned());
    };
    let ours = me
        .username
        .as_deref()
        .is_some_and(|u| u.eq_ignore_ascii_case(bot));
    ours.then(|| format!("/{cmd}{}", &rest[end..]))
}

/// `@botname` in the text, or a reply to one of the bot's messages.
fn mentions(m: &api::Message, text: &str, me: &User) -> bool {
    let replied_to_bot = m
        .reply_to_message
        .as_ref()
        .and_then(|r| r.from.as_ref())
        .is_some_and(|u| u.id == me.id);
    let named = me.username.as_deref().is_some_and(|u| {
        text.to_lowercase()
            .contains(&format!("@{}", u.to_lowercase()))
    });
    replied_to_bot || named
}
