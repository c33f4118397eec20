//! `sessions.*` reads: the index as OpenClaw's session rows (`sessions.list` one indexed page,
//! `sessions.get`, `sessions.preview`, `sessions.describe`, `sessions.resolve`), one handler per
//! method; the lifecycle and runs addressed by session are in `session_life`.

use std::sync::Arc;

use openclaw_core::protocol::ErrorShape;
use openclaw_state::{SessionQuery, SessionRow};
use serde::Serialize;
use serde_json::{Value, json};

use super::Core;
use super::chat::resolve_key;
use super::history::session_messages;
use super::list_filter::ListFilter;
use super::session_life;
use super::store::unavailable;
use crate::backend::CallContext;
use crate::methods::params::Params;
use crate::state::now_ms;

/// OpenClaw's `SessionRow` for an index row.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionView<'a> {
    key: &'a str,
    kind: &'static str,
    agent_id: &'a str,
    chat_type: &'a str,
    is_main: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
    updated_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_interaction_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model_provider: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    context_tokens: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spawned_by: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_run_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking_level: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verbose_level: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    archived: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pinned: Option<bool>,
    /// The first user message (`includeDerivedTitles`).
    #[serde(skip_serializing_if = "Option::is_none")]
    derived_title: Option<String>,
    /// The last message's text (`includeLastMessage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    last_message_preview: Option<String>,
    has_active_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    active_run_ids: Option<[String; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

impl<'a> SessionView<'a> {
    pub(crate) fn of(core: &Core, r: &'a SessionRow) -> Self {
        let active = core.live_if_any(&r.key).and_then(|l| l.current_run_id());
        let m = &r.meta;
        SessionView {
            key: &r.key,
            kind: "direct",
            agent_id: &r.agent_id,
            chat_type: "direct",
            is_main: r.key.ends_with(":main"),
            session_id: r.session_id.as_deref(),
            label: r.label.as_deref(),
            display_name: m.display_name.as_deref(),
            updated_at: r.updated_at,
            last_interaction_at: m.last_interaction_at,
            model: m.model_override.as_deref().or(m.model.as_deref()),
            model_provider: m.model_provider.as_deref(),
            input_tokens: m.input_tokens,
            output_tokens: m.output_tokens,
            total_tokens: m.total_tokens,
            context_tokens: m.context_tokens,
            spawned_by: r.spawned_by.as_deref(),
            last_run_id: m.last_run_id.as_deref(),
            thinking_level: m.thinking_level.as_deref(),
            verbose_level: m.verbose_level.as_deref(),
            archived: m.archived,
            pinned: m.pinned,
            derived_title: None,
            last_message_preview: None,
            has_active_run: active.is_some(),
            status: active.as_ref().map(|_| "running"),
            active_run_ids: active.map(|id| [id]),
        }
    }

    /// Adds `derivedTitle` (the first user message) and `lastMessagePreview`, when asked for.
    fn with_previews(mut self, core: &Core, filter: &ListFilter) -> Result<Self, ErrorShape> {
        if !filter.derived_titles && !filter.last_message {
            return Ok(self);
        }
        let (_, messages) = session_messages(core, self.key)?;
        let texts: Vec<(&str, String)> = messages.iter().map(|m| text_of(m)).collect();
        if filter.derived_titles {
            self.derived_title = texts
                .iter()
                .find(|(r, t)| *r == "user" && !t.trim().is_empty())
                .map(|(_, t)| clip(t.trim(), 60));
        }
        if filter.last_message {
            self.last_message_preview = texts
                .iter()
                .rev()
                .find(|(_, t)| !t.trim().is_empty())
                .map(|(_, t)| clip(t.trim(), 120));
        }
        Ok(self)
    }
}

/// Dispatches one `sessions.*` method.
pub(crate) async fn call(
    core: &Arc<Core>,
    method: &str,
    params: Option<Value>,
    ctx: &CallContext,
) -> Result<Value, ErrorShape> {
    let p = Params::new(method, params)?;
    match method {
        "sessions.list" => list(core, p),
        "sessions.get" => get(core, p),
        "sessions.preview" => preview(core, p),
        "sessions.describe" => describe(core, p),
        "sessions.resolve" => resolve(core, p),
        "sessions.create" => session_life::create(core, p, ctx).await,
        "sessions.patch" => session_life::patch(core, p),
        "sessions.reset" => session_life::reset(core, p).await,
        "sessions.delete" => session_life::delete(core, p).await,
        "sessions.compact" => session_life::compact(core, p).await,
        "sessions.send" | "sessions.steer" => session_life::send(core, p, method, ctx),
        "sessions.abort" => session_life::abort(core, p).await,
        m => Err(ErrorShape::unknown_method(m)),
    }
}

/// The agents a call is about: one, or all of the roster.
pub(crate) fn agents_for(core: &Core, agent: Option<&str>) -> Vec<String> {
    match agent {
        Some(a) => vec![a.to_owned()],
        None => core
            .settings()
            .roster
            .agents
            .iter()
            .map(|a| a.id.clone())
            .collect(),
    }
}

/// The key and agent named by `key` (and `agentId`).
pub(crate) fn need_key(core: &Core, p: &Params) -> Result<(String, String), ErrorShape> {
    let key = p.required_str("key")?;
    resolve_key(core, p, key, p.str("agentId")?)
}

const LIST_KEYS: &[&str] = &[
    "limit",
    "activeMinutes",
    "includeGlobal",
    "includeUnknown",
    "includeDerivedTitles",
    "includeLastMessage",
    "label",
    "spawnedBy",
    "agentId",
    "search",
    "offset",
    "activeOnly",
    "sortBy",
    "archived",
    "ownerFirst",
    "excludeSubagents",
    "excludeCron",
    "excludeSystem",
    "includeActivitySummary",
];

/// `sessions.list`: one page of the index, newest first (one indexed page without filters).
fn list(core: &Core, p: Params) -> Result<Value, ErrorShape> {
    let p = p.closed(LIST_KEYS)?;
    let filter = ListFilter::from_params(&p)?;
    let running = if filter.needs_running() {
        core.running_keys()
    } else {
        Vec::new()
    };
    let query = filter.query(agents_for(core, p.str("agentId")?), running);
    let page = core.index().list_sessions(&query).map_err(unavailable)?;
    let sessions = page
        .rows
        .iter()
        .map(|r| SessionView::of(core, r).with_previews(core, &filter))
        .collect::<Result<Vec<_>, _>>()?;
    let def = core
        .agent(&core.default_agent())
        .and_then(|a| a.model_primary.clone());
    let (prov, model) = match def.as_deref().and_then(|m| m.split_once('/')) {
        Some((p, m)) => (json!(p), json!(m)),
        None => (Value::Null, json!(def)),
    };
    Ok(json!({"ts": now_ms(), "path": core.index().location(),
        "count": sessions.len(), "totalCount": page.total,
        "defaults": {"modelProvider": prov, "model": model, "contextTokens": null},
        "sessions": sessions}))
}

/// `sessions.get`: the last `limit` messages.
fn get(core: &Core, p: Params) -> Result<Value, ErrorShape> {
    let p = p.closed(&["key", "agentId", "limit"])?;
    let limit = p.uint("limit", 1, 10_000)?.unwrap_or(200) as usize;
    let (key, _) = need_key(core, &p)?;
    let (_, messages) = session_messages(core, &key)?;
    let skip = messages.len().saturating_sub(limit);
    Ok(json!({"key": key, "messages": messages[skip..]}))
}

fn text_of(m: &openclaw_core::message::Message) -> (&'static str, String) {
    use openclaw_core::message::Message;
    match m {
        Message::User(u) => ("user", u.content.text()),
        Message::Assistant(a) => ("assistant", a.text()),
        _ => ("", String::new()),
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        s.chars().take(max).collect::<String>() + "…"
    }
}

/// `sessions.preview`: the last messages of several sessions as short text.
fn preview(core: &Core, p: Params) -> Result<Value, ErrorShape> {
    let p = p.closed(&["keys", "limit", "maxChars"])?;
    let keys = p
        .str_list("keys")?
        .filter(|k| !k.is_empty())
        .ok_or_else(|| p.invalid("at root: must have required property 'keys'"))?;
    let limit = p.uint("limit", 1, 1000)?.unwrap_or(12) as usize;
    let max = p.uint("maxChars", 20, 100_000)?.unwrap_or(240) as usize;
    let mut previews = Vec::new();
    for k in keys.iter().take(64) {
        let (key, _) = core.canonical_key(k, None);
        if core.row(&key)?.is_none() {
            previews.push(json!({"key": k, "status": "missing", "items": []}));
            continue;
        }
        let (_, messages) = session_messages(core, &key)?;
        let skip = messages.len().saturating_sub(limit);
        let items: Vec<Value> = messages[skip..]
            .iter()
            .map(|m| text_of(m))
            .filter(|(_, t)| !t.is_empty())
            .map(|(role, t)| json!({"role": role, "text": clip(&t, max)}))
            .collect();
        let status = if items.is_empty() { "empty" } else { "ok" };
        previews.push(json!({"key": k, "status": status, "items": items}));
    }
    Ok(json!({"ts": now_ms(), "previews": previews}))
}

/// `sessions.describe`: one row.
fn describe(core: &Core, p: Params) -> Result<Value, ErrorShape> {
    let p = p.closed(&[
        "key",
        "agentId",
        "includeDerivedTitles",
        "includeLastMessage",
    ])?;
    let (key, _) = need_key(core, &p)?;
    let row = core.row(&key)?;
    Ok(json!({"session": row.as_ref().map(|r| SessionView::of(core, r))}))
}

const RESOLVE_KEYS: &[&str] = &[
    "key",
    "sessionId",
    "label",
    "agentId",
    "spawnedBy",
    "includeGlobal",
    "includeUnknown",
    "shortId",
    "slugHint",
    "allowMissing",
    "reference",
];

/// `sessions.resolve`: a key from a key, a session id or a label (indexed lookups).
fn resolve(core: &Core, p: Params) -> Result<Value, ErrorShape> {
    let p = p.closed(RESOLVE_KEYS)?;
    let allow_missing = p.bool("allowMissing")?.unwrap_or(false);
    if let Some(k) = p.str("key")? {
        let (key, _) = resolve_key(core, &p, k, p.str("agentId")?)?;
        if allow_missing || core.row(&key)?.is_some() {
            return Ok(json!({"ok": true, "key": key}));
        }
        return Err(ErrorShape::invalid_request(format!(
            "No session found: {k}"
        )));
    }
    let agents = agents_for(core, p.str("agentId")?);
    let found = match (p.str("sessionId")?, p.str("label")?) {
        (Some(id), _) => core
            .index()
            .session_by_id(id)
            .map_err(unavailable)?
            .filter(|r| agents.contains(&r.agent_id))
            .ok_or(id),
        (None, Some(label)) => core
            .index()
            .list_sessions(&SessionQuery {
                agent_ids: Some(agents),
                label: Some(label.to_owned()),
                limit: Some(1),
                ..SessionQuery::default()
            })
            .map_err(unavailable)?
            .rows
            .pop()
            .ok_or(label),
        _ => return Err(p.invalid("at root: must have one of key, sessionId, label")),
    };
    match found {
        Ok(row) => Ok(json!({"ok": true, "key": row.key})),
        Err(want) => Err(ErrorShape::invalid_request(format!(
            "No session found: {want}"
        ))),
    }
}
