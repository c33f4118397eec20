//! `message.action`: what the real OpenClaw CLI's `openclaw message send` (and the message
//! tool of a remote agent) calls. `send` is carried out through the same outbound path as the
//! `send` method; the other actions (react, edit, delete, poll, …) are refused by name as
//! OpenClaw refuses an action a channel does not support.

use std::sync::Arc;

use openclaw_core::protocol::ErrorShape;
use openclaw_core::protocol::channels::{MessageActionParams, MessageSendArgs, StrOrNum};
use openclaw_state::ChannelStore;
use serde::Serialize;
use serde_json::Value;

use super::ChannelService;
use super::methods::state_err;
use super::outbound::{self, Outgoing};

/// What `message.action` `send` answers (OpenClaw's Telegram action result).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ActionSent {
    ok: bool,
    message_id: String,
    chat_id: String,
}

/// The arguments a channel action may carry that this gateway cannot honour: refused by name
/// rather than dropped.
const UNSUPPORTED_ARGS: &[&str] = &[
    "buttons",
    "presentation",
    "interactive",
    "location",
    "buffer",
];

pub(super) async fn call(
    svc: &Arc<ChannelService>,
    p: MessageActionParams,
) -> Result<Value, ErrorShape> {
    let channel = p.channel.trim().to_ascii_lowercase();
    if channel == "webchat" {
        return Err(ErrorShape::invalid_request(
            "unsupported channel: webchat (internal-only; use chat.send)",
        ));
    }
    super::methods::known(&channel)
        .map_err(|_| ErrorShape::invalid_request(format!("unsupported channel: {channel}")))?;
    if *p.action != *"send" {
        return Err(ErrorShape::invalid_request(format!(
            "Message action {} not supported for channel {channel}.",
            &*p.action
        )));
    }
    if let Some(k) = UNSUPPORTED_ARGS
        .iter()
        .find(|k| p.params.get(**k).is_some_and(|v| !v.is_null()))
    {
        return Err(ErrorShape::invalid_request(format!(
            "message.action send: {k} is not supported by this gateway yet"
        )));
    }
    let receipt_key = format!("message.action:{}", &*p.idempotency_key);
    if let Some(done) = svc.store.send_receipt(&receipt_key).map_err(state_err)? {
        return serde_json::from_str::<Value>(&done)
            .map_err(|e| ErrorShape::unavailable(e.to_string()));
    }
    let args: MessageSendArgs = serde_json::from_value(Value::Object(p.params))
        .map_err(|e| ErrorShape::invalid_params("message.action", format!("at /params: {e}")))?;
    let Some(to) = args.target() else {
        return Err(ErrorShape::invalid_request(
            "message.action send: target is required",
        ));
    };
    let out = Outgoing {
        channel,
        account_id: p
            .account_id
            .filter(|a| !a.trim().is_empty())
            .or_else(|| args.account_id.as_ref().and_then(StrOrNum::text)),
        to,
        text: args.text().unwrap_or_default().to_owned(),
        media: args.media(),
        thread_id: args.thread(),
        reply_to_id: args.reply_to(),
        silent: args.silent == Some(true),
        raw_html: args
            .parse_mode
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("html")),
    };
    let (account, sent) = outbound::deliver(svc, &out).await?;
    let res = serde_json::to_value(ActionSent {
        ok: true,
        message_id: sent.message_id,
        chat_id: sent.chat_id,
    })
    .map_err(|e| ErrorShape::unavailable(e.to_string()))?;
    if let Err(e) = svc
        .store
        .put_send_receipt(&receipt_key, account.channel(), &res.to_string())
    {
        tracing::warn!("message.action: the receipt was not stored: {e}");
    }
    Ok(res)
}
