//! The v4 methods OpenClaw's Control UI (2026.9.6) calls to open a chat: `chat.startup` (the
//! first page of a session's history, or a short chat link's resolution) and
//! `sessions.messages.subscribe` / `unsubscribe` (a session's live message stream).
//!
//! This gateway sends `chat` and `agent` events to every operator connection, so a message
//! subscription only names the canonical session key back; it does not change what the
//! connection receives. Short chat links do not exist here, so `chat.startup` by `shortId`
//! answers OpenClaw's "missing" resolution.

use std::sync::Arc;

use openclaw_core::protocol::ErrorShape;
use openclaw_core::protocol::chat::{HistoryParams, StartupLinkParams};
use openclaw_core::protocol::params::{parse, result};
use openclaw_core::protocol::sessions::{MessagesSubscribeParams, MessagesUnsubscribeParams};
use serde::Serialize;
use serde_json::Value;

use super::Core;
use super::chat::resolve_key;
use super::history::history;
use crate::state::now_ms;

/// `chat.startup`: with `sessionKey` exactly `chat.history`; with `shortId` (a short chat link)
/// the resolution `{ok:false}` of a link that does not exist.
pub(crate) fn chat_startup(core: &Arc<Core>, params: Option<Value>) -> Result<Value, ErrorShape> {
    let by_key = params
        .as_ref()
        .and_then(Value::as_object)
        .is_some_and(|o| o.contains_key("sessionKey"));
    if by_key {
        let p: HistoryParams = parse("chat.startup", params)?;
        return history(core, p);
    }
    let _: StartupLinkParams = parse("chat.startup", params)?;
    result(StartupUnresolved {
        resolution: Resolution { ok: false },
    })
}

#[derive(Serialize)]
struct StartupUnresolved {
    resolution: Resolution,
}

#[derive(Serialize)]
struct Resolution {
    ok: bool,
}

/// `sessions.messages.subscribe`'s and `unsubscribe`'s answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Subscription {
    subscribed: bool,
    key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    approval_replay: Option<ApprovalReplay>,
}

/// The pending approvals of the session when the stream opens. Exec approvals reach the page
/// through `exec.approval.list` and the `exec.approval.*` events instead, so this set is empty.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApprovalReplay {
    session_key: String,
    updated_at_ms: u64,
    approvals: [(); 0],
    truncated: bool,
}

/// `sessions.messages.subscribe`: the session's canonical key (an unknown agent is refused).
pub(crate) fn messages_subscribe(
    core: &Core,
    p: MessagesSubscribeParams,
) -> Result<Value, ErrorShape> {
    let (key, _) = resolve_key(core, &p.key, p.agent_id.as_deref())?;
    let approval_replay = p.include_approvals.map(|_| ApprovalReplay {
        session_key: key.clone(),
        updated_at_ms: now_ms(),
        approvals: [],
        truncated: false,
    });
    result(Subscription {
        subscribed: true,
        key,
        approval_replay,
    })
}

/// `sessions.messages.unsubscribe`.
pub(crate) fn messages_unsubscribe(
    core: &Core,
    p: MessagesUnsubscribeParams,
) -> Result<Value, ErrorShape> {
    let (key, _) = resolve_key(core, &p.key, p.agent_id.as_deref())?;
    result(Subscription {
        subscribed: false,
        key,
        approval_replay: None,
    })
}
