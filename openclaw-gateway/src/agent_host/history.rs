//! `chat.history`: a session's messages (from its live engine, else its transcript) with the
//! session's real thinking level, limited by `limit`, paged by `offset`, clipped per message by
//! `maxChars` and in total by `maxBytes`; with `cursor` (the `deltaCursor` of an earlier answer)
//! only the messages added since, or `{kind:"reset"}` when the session was replaced.

use std::sync::Arc;

use openclaw_core::message::Message;
use openclaw_core::model::ThinkingLevel;
use openclaw_core::protocol::ErrorShape;
use openclaw_core::session::SessionManager;
use serde::Serialize;
use serde_json::Value;

use super::Core;
use super::chat::resolve_key;
use openclaw_core::protocol::chat::HistoryParams;
use openclaw_core::protocol::params::{NonEmpty, invalid, parse, result};

/// A session as history reads it.
struct SessionView {
    session_id: String,
    messages: Vec<Arc<Message>>,
    thinking: ThinkingLevel,
    /// `verboseLevel` and `fastMode` as `sessions.patch` set them.
    verbose: Option<String>,
    fast: Option<bool>,
    /// The run that wrote the session's last turn (the row's `lastRunId`).
    last_run: Option<String>,
}

/// The session's level: what `sessions.patch` set, else the live engine's, else the
/// transcript's last recorded level. The transcript is opened read-only (a damaged line is
/// skipped and logged; a read never rewrites the file); one that cannot be read is an error
/// naming it, not an empty history.
fn session_view(core: &Core, key: &str) -> Result<SessionView, ErrorShape> {
    let row = core.row(key)?;
    let meta = row.as_ref().map(|r| &r.meta);
    let verbose = meta.and_then(|m| m.verbose_level.clone());
    let fast = meta.and_then(|m| m.fast_mode);
    let last_run = meta.and_then(|m| m.last_run_id.clone());
    let patched = meta
        .and_then(|m| m.thinking_level.as_deref())
        .and_then(|s| s.parse::<ThinkingLevel>().ok());
    if let Some(engine) = core.live_if_any(key).and_then(|l| l.engine()) {
        return Ok(SessionView {
            session_id: engine.state().session_id,
            messages: engine.messages(),
            thinking: patched.unwrap_or_else(|| engine.agent().thinking_level()),
            verbose,
            fast,
            last_run,
        });
    }
    let Some(row) = row.as_ref() else {
        return Ok(SessionView {
            session_id: String::new(),
            messages: Vec::new(),
            thinking: patched.unwrap_or_default(),
            verbose,
            fast,
            last_run,
        });
    };
    let manager = match core.transcript_of(row).filter(|f| f.exists()) {
        Some(f) => {
            Some(SessionManager::open(&f, "").map_err(|e| ErrorShape::unavailable(e.to_string()))?)
        }
        None => None,
    };
    Ok(SessionView {
        session_id: row.session_id.clone().unwrap_or_default(),
        thinking: patched
            .or_else(|| manager.as_ref().map(SessionManager::thinking_level))
            .unwrap_or_default(),
        messages: manager
            .map(|m| m.build_context().messages)
            .unwrap_or_default(),
        verbose,
        fast,
        last_run,
    })
}

/// The messages of a session: from its live engine, else from its transcript.
pub(crate) fn session_messages(
    core: &Core,
    key: &str,
) -> Result<(String, Vec<Arc<Message>>), ErrorShape> {
    let v = session_view(core, key)?;
    Ok((v.session_id, v.messages))
}

/// `chat.history`'s answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct History {
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    session_key: String,
    session_id: String,
    messages: Vec<Value>,
    thinking_level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    verbose_level: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fast_mode: Option<bool>,
    /// Pass back as `cursor` to get only what was added since.
    delta_cursor: String,
    total_messages: usize,
    has_more: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_offset: Option<usize>,
    /// Accepted inputs not yet run: none are kept apart from the transcript here.
    pending_inputs: PendingInputs,
    /// With `inputRunIds`: the receipts this gateway keeps for them (none).
    #[serde(skip_serializing_if = "Option::is_none")]
    input_receipts: Option<[(); 0]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_consumptions: Option<[(); 0]>,
}

/// `pendingInputs` (v4): a page of accepted inputs awaiting their turn.
#[derive(Serialize, Default)]
struct PendingInputs {
    items: [(); 0],
    total: u64,
}

/// `inputRunIds`: 1–50 ids of at most 256 characters.
fn check_run_ids(ids: Option<&[NonEmpty]>) -> Result<(), ErrorShape> {
    let Some(ids) = ids else { return Ok(()) };
    if ids.is_empty() || ids.len() > 50 {
        return Err(invalid(
            "chat.history",
            "inputRunIds",
            "must have 1 to 50 items",
        ));
    }
    let distinct: std::collections::HashSet<&str> = ids.iter().map(|id| &**id).collect();
    if distinct.len() != ids.len() {
        return Err(invalid(
            "chat.history",
            "inputRunIds",
            "must not contain duplicates",
        ));
    }
    if ids.iter().any(|id| id.chars().count() > 256) {
        return Err(invalid(
            "chat.history",
            "inputRunIds",
            "an id is longer than 256 characters",
        ));
    }
    Ok(())
}

/// `__openclaw` on a history message (v4 clients tell messages apart by it): its 1-based
/// position in the session, and for the last turn the run that wrote it (the user message as
/// `idempotencyKey` `<runId>:user`, the replies with `runId` and `idempotencyKey` `<runId>`), so a client that sent that turn
/// matches its own copy to the stored one instead of showing both.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageMeta<'a> {
    seq: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    idempotency_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<&'a str>,
}

/// Adds [`MessageMeta`] to the serialised messages `page`, which start at `start`.
fn stamp(page: &mut [Value], start: usize, view: &SessionView) {
    let last_user = view
        .messages
        .iter()
        .rposition(|m| matches!(**m, Message::User(_)));
    for (i, m) in page.iter_mut().enumerate() {
        let pos = start + i;
        let run = view
            .last_run
            .as_deref()
            .filter(|_| last_user.is_some_and(|u| pos >= u));
        let meta = MessageMeta {
            seq: pos + 1,
            idempotency_key: run.map(|r| {
                if Some(pos) == last_user {
                    format!("{r}:user")
                } else {
                    r.to_owned()
                }
            }),
            run_id: run.filter(|_| Some(pos) != last_user),
        };
        if let (Some(obj), Ok(meta)) = (m.as_object_mut(), serde_json::to_value(meta)) {
            obj.insert("__openclaw".into(), meta);
        }
    }
}

impl History {
    /// The answer before its messages are chosen: the whole session, nothing more to page.
    fn first(
        session_key: String,
        view: &SessionView,
        delta_cursor: String,
        receipts: Option<[(); 0]>,
    ) -> Self {
        History {
            kind: None,
            session_key,
            session_id: view.session_id.clone(),
            messages: Vec::new(),
            thinking_level: view.thinking.as_str(),
            verbose_level: view.verbose.clone(),
            fast_mode: view.fast,
            delta_cursor,
            total_messages: view.messages.len(),
            has_more: false,
            next_offset: None,
            pending_inputs: PendingInputs::default(),
            input_receipts: receipts,
            input_consumptions: receipts,
        }
    }
}

fn clip(text: &mut String, max: usize) {
    if let Some((cut, _)) = text.char_indices().nth(max) {
        text.truncate(cut);
        text.push('…');
    }
}

/// Clips every text and thinking block of a serialised message to `max` characters.
fn clip_message(m: &mut Value, max: usize) {
    match m.get_mut("content") {
        Some(Value::String(s)) => clip(s, max),
        Some(Value::Array(blocks)) => {
            for b in blocks {
                for field in ["text", "thinking"] {
                    if let Some(Value::String(s)) = b.get_mut(field) {
                        clip(s, max);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Parses a `deltaCursor`: `<sessionId>:<message count>`.
fn parse_cursor(cursor: &str) -> Result<(String, usize), ErrorShape> {
    cursor
        .rsplit_once(':')
        .and_then(|(id, n)| Some((id.to_owned(), n.parse().ok()?)))
        .ok_or_else(|| {
            invalid(
                "chat.history",
                "cursor",
                "not a cursor from chat.history's deltaCursor",
            )
        })
}

pub(crate) async fn chat_history(
    core: &Arc<Core>,
    params: Option<Value>,
) -> Result<Value, ErrorShape> {
    history(core, parse("chat.history", params)?)
}

/// `chat.history`'s answer to parsed params (also `chat.startup`'s with a `sessionKey`).
pub(crate) fn history(core: &Arc<Core>, p: HistoryParams) -> Result<Value, ErrorShape> {
    let limit = p.limit.map_or(200, |l| l.usize());
    let max_chars = p.max_chars.map(|n| n.usize());
    let max_bytes = p.max_bytes.map(|n| n.usize());
    let offset = p.offset.map_or(0, |o| o.usize());
    let cursor = p.cursor.as_deref().map(parse_cursor).transpose()?;
    check_run_ids(p.input_run_ids.as_deref())?;
    let receipts = p.input_run_ids.as_ref().map(|_| []);
    let (key, _) = resolve_key(core, &p.session_key, p.agent_id.as_deref())?;
    let view = session_view(core, &key)?;
    if let Some(want) = p.session_id.as_deref() {
        if want != view.session_id {
            return Err(ErrorShape::invalid_request(format!(
                "session changed: sessionId {want} is not the current session {}",
                view.session_id
            )));
        }
    }
    let total = view.messages.len();
    let delta_cursor = format!("{}:{total}", view.session_id);
    let mut out = History::first(key, &view, delta_cursor, receipts);
    // Which messages: those after the cursor, else the newest `limit` before `offset`.
    let (start, end) = match cursor {
        Some((id, seen)) if id != view.session_id || seen > total => {
            out.kind = Some("reset");
            return result(out);
        }
        Some((_, seen)) => {
            out.kind = Some("delta");
            let end = total.min(seen + limit);
            out.delta_cursor = format!("{}:{end}", view.session_id);
            (seen, end)
        }
        None => {
            let end = total.saturating_sub(offset);
            (end.saturating_sub(limit), end)
        }
    };
    let mut messages: Vec<Value> = view.messages[start..end]
        .iter()
        .filter_map(|m| serde_json::to_value(m).ok())
        .collect();
    stamp(&mut messages, start, &view);
    if let Some(max) = max_chars {
        messages.iter_mut().for_each(|m| clip_message(m, max));
    }
    // Over `maxBytes`, the oldest messages go first.
    let mut dropped = 0;
    if let Some(max) = max_bytes {
        let mut size: usize = messages.iter().map(|m| m.to_string().len()).sum();
        while size > max && !messages.is_empty() {
            size -= messages.remove(0).to_string().len();
            dropped += 1;
        }
    }
    let first = start + dropped;
    out.has_more = if out.kind.is_some() {
        end < total
    } else {
        first > 0
    };
    if out.kind.is_none() && first > 0 {
        out.next_offset = Some(total - first);
    }
    out.messages = messages;
    result(out)
}
