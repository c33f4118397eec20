//! `sessions.*` reads: the index as OpenClaw's session rows (`sessions.list` one indexed page,
//! `sessions.get`, `sessions.preview`, `sessions.describe`, `sessions.resolve`), one handler per
//! method; the lifecycle and runs addressed by session are in `session_life`.

use std::sync::Arc;

use openclaw_core::message::Message;
use openclaw_core::protocol::ErrorShape;
use openclaw_core::protocol::params::{parse, result};
use openclaw_core::protocol::sessions::{
    DescribeParams, GetParams, ListParams, PreviewParams, ResolveParams,
};
use openclaw_state::{SessionQuery, SessionRow};
use serde::Serialize;
use serde_json::Value;

use super::Core;
use super::chat::resolve_key;
use super::history::session_messages;
use super::list_filter::ListFilter;
use super::session_life;
use super::store::unavailable;
use crate::backend::CallContext;
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
    /// The row as it is once its run has ended (the run is still current while it records).
    pub(crate) fn ended(mut self) -> Self {
        self.has_active_run = false;
        self.active_run_ids = None;
        self.status = None;
        self
    }

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
    fn with_previews(
        mut self,
        core: &Core,
        (derived_titles, last_message): (bool, bool),
    ) -> Result<Self, ErrorShape> {
        if !derived_titles && !last_message {
            return Ok(self);
        }
        let (_, messages) = session_messages(core, self.key)?;
        let texts: Vec<(&str, String)> = messages.iter().map(|m| text_of(m)).collect();
        if derived_titles {
            self.derived_title = texts
                .iter()
                .find(|(r, t)| *r == "user" && !t.trim().is_empty())
                .map(|(_, t)| clip(t.trim(), 60));
        }
        if last_message {
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
    match method {
        "sessions.list" => list(core, parse(method, params)?),
        "sessions.get" => get(core, parse(method, params)?),
        "sessions.preview" => preview(core, parse(method, params)?),
        "sessions.describe" => describe(core, parse(method, params)?),
        "sessions.resolve" => resolve(core, parse(method, params)?),
        "sessions.create" => session_life::create(core, parse(method, params)?, ctx).await,
        "sessions.patch" => session_life::patch(core, parse(method, params)?),
        "sessions.reset" => session_life::reset(core, parse(method, params)?).await,
        "sessions.delete" => session_life::delete(core, parse(method, params)?).await,
        "sessions.compact" => session_life::compact(core, parse(method, params)?).await,
        "sessions.send" | "sessions.steer" => {
            session_life::send(core, parse(method, params)?, method, ctx)
        }
        "sessions.abort" => session_life::abort(core, parse(method, params)?).await,
        "sessions.messages.subscribe" => {
            super::startup::messages_subscribe(core, parse(method, params)?)
        }
        "sessions.messages.unsubscribe" => {
            super::startup::messages_unsubscribe(core, parse(method, params)?)
        }
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

/// `sessions.list`'s answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListResult<'a> {
    ts: u64,
    path: String,
    count: usize,
    total_count: u64,
    defaults: ListDefaults,
    sessions: Vec<SessionView<'a>>,
}

/// The default model of `sessions.list` (`contextTokens` is always `null`: not known here).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListDefaults {
    model_provider: Option<String>,
    model: Option<String>,
    context_tokens: Option<u64>,
}

/// `sessions.list`: one page of the index, newest first (one indexed page without filters).
fn list(core: &Core, p: ListParams) -> Result<Value, ErrorShape> {
    let agents = agents_for(core, p.agent_id.as_deref());
    let filter = ListFilter::from_params(&p)?;
    let running = if filter.needs_running() {
        core.running_keys()
    } else {
        Vec::new()
    };
    let query = filter.query(agents, running);
    let page = core.index().list_sessions(&query).map_err(unavailable)?;
    let previews = (filter.derived_titles, filter.last_message);
    let sessions = page
        .rows
        .iter()
        .map(|r| SessionView::of(core, r).with_previews(core, previews))
        .collect::<Result<Vec<_>, _>>()?;
    let def = core
        .agent(&core.default_agent())
        .and_then(|a| a.model_primary.clone());
    let (model_provider, model) = match def.as_deref().and_then(|m| m.split_once('/')) {
        Some((p, m)) => (Some(p.to_owned()), Some(m.to_owned())),
        None => (None, def),
    };
    result(ListResult {
        ts: now_ms(),
        path: core.index().location(),
        count: sessions.len(),
        total_count: page.total,
        defaults: ListDefaults {
            model_provider,
            model,
            context_tokens: None,
        },
        sessions,
    })
}

/// `sessions.get`'s answer.
#[derive(Serialize)]
struct GetResult<'a> {
    key: &'a str,
    messages: &'a [Arc<Message>],
}

/// `sessions.get`: the last `limit` messages.
fn get(core: &Core, p: GetParams) -> Result<Value, ErrorShape> {
    let limit = p.limit.map_or(200, |l| l.usize());
    let (key, _) = resolve_key(core, &p.key, p.agent_id.as_deref())?;
    let (_, messages) = session_messages(core, &key)?;
    let skip = messages.len().saturating_sub(limit);
    result(GetResult {
        key: &key,
        messages: &messages[skip..],
    })
}

fn text_of(m: &Message) -> (&'static str, String) {
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

/// `sessions.preview`'s answer.
#[derive(Serialize)]
struct PreviewResult {
    ts: u64,
    previews: Vec<Preview>,
}

/// One session of `sessions.preview`.
#[derive(Serialize)]
struct Preview {
    key: String,
    status: &'static str,
    items: Vec<PreviewItem>,
}

#[derive(Serialize)]
struct PreviewItem {
    role: &'static str,
    text: String,
}

/// `sessions.preview`: the last messages of several sessions as short text.
fn preview(core: &Core, p: PreviewParams) -> Result<Value, ErrorShape> {
    if p.keys.is_empty() {
        return Err(ErrorShape::invalid_params(
            "sessions.preview",
            "at /keys: must NOT have fewer than 1 items",
        ));
    }
    let limit = p.limit.map_or(12, |l| l.usize());
    let max = p.max_chars.map_or(240, |m| m.usize());
    let mut previews = Vec::new();
    for k in p.keys.iter().take(64) {
        let (key, _) = core.canonical_key(k, None);
        let items = if core.row(&key)?.is_none() {
            None
        } else {
            let (_, messages) = session_messages(core, &key)?;
            let skip = messages.len().saturating_sub(limit);
            Some(
                messages[skip..]
                    .iter()
                    .map(|m| text_of(m))
                    .filter(|(_, t)| !t.is_empty())
                    .map(|(role, t)| PreviewItem {
                        role,
                        text: clip(&t, max),
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let status = match &items {
            None => "missing",
            Some(i) if i.is_empty() => "empty",
            Some(_) => "ok",
        };
        previews.push(Preview {
            key: k.to_string(),
            status,
            items: items.unwrap_or_default(),
        });
    }
    result(PreviewResult {
        ts: now_ms(),
        previews,
    })
}

/// `sessions.describe`'s answer.
#[derive(Serialize)]
struct DescribeResult<'a> {
    session: Option<SessionView<'a>>,
}

/// `sessions.describe`: one row, with its derived title and last message when asked for.
fn describe(core: &Core, p: DescribeParams) -> Result<Value, ErrorShape> {
    let (key, _) = resolve_key(core, &p.key, p.agent_id.as_deref())?;
    let row = core.row(&key)?;
    let previews = (
        p.include_derived_titles.unwrap_or(false),
        p.include_last_message.unwrap_or(false),
    );
    let session = row
        .as_ref()
        .map(|r| SessionView::of(core, r).with_previews(core, previews))
        .transpose()?;
    result(DescribeResult { session })
}

/// `sessions.resolve`'s answer.
#[derive(Serialize)]
struct ResolveResult {
    ok: bool,
    key: String,
}

/// Refuses `sessions.resolve` params that name a lookup this gateway does not have.
fn refuse_resolve_lookups(p: &ResolveParams) -> Result<(), ErrorShape> {
    for (name, given) in [
        ("shortId", p.short_id.is_some()),
        ("slugHint", p.slug_hint.is_some()),
        ("reference", p.reference.is_some()),
    ] {
        if given {
            return Err(ErrorShape::invalid_request(format!(
                "{name} is not supported by this gateway; resolve by key, sessionId or label"
            )));
        }
    }
    Ok(())
}

/// `sessions.resolve`: a key from a key, a session id or a label (indexed lookups), within
/// `agentId` and `spawnedBy` when given. `includeGlobal` / `includeUnknown` change nothing:
/// every session of this gateway is an agent's direct session (no global or unknown kinds).
fn resolve(core: &Core, p: ResolveParams) -> Result<Value, ErrorShape> {
    refuse_resolve_lookups(&p)?;
    let spawned_ok = |r: &SessionRow| {
        p.spawned_by
            .as_deref()
            .is_none_or(|s| r.spawned_by.as_deref() == Some(s))
    };
    if let Some(k) = &p.key {
        let (key, _) = resolve_key(core, k, p.agent_id.as_deref())?;
        let row = core.row(&key)?;
        let found = row.as_ref().is_some_and(spawned_ok);
        if found || (row.is_none() && p.allow_missing == Some(true)) {
            return result(ResolveResult { ok: true, key });
        }
        return Err(ErrorShape::invalid_request(format!(
            "No session found: {}",
            &**k
        )));
    }
    let agents = agents_for(core, p.agent_id.as_deref());
    let found = match (p.session_id.as_deref(), p.label.as_deref()) {
        (Some(id), _) => core
            .index()
            .session_by_id(id)
            .map_err(unavailable)?
            .filter(|r| agents.contains(&r.agent_id) && spawned_ok(r))
            .ok_or(id),
        (None, Some(label)) => core
            .index()
            .list_sessions(&SessionQuery {
                agent_ids: Some(agents),
                label: Some(label.to_owned()),
                spawned_by: p.spawned_by.as_ref().map(|s| s.to_string()),
                limit: Some(1),
                ..SessionQuery::default()
            })
            .map_err(unavailable)?
            .rows
            .pop()
            .ok_or(label),
        _ => {
            return Err(ErrorShape::invalid_params(
                "sessions.resolve",
                "at root: must have one of key, sessionId, label",
            ));
        }
    };
    match found {
        Ok(row) => result(ResolveResult {
            ok: true,
            key: row.key,
        }),
        Err(want) => Err(ErrorShape::invalid_request(format!(
            "No session found: {want}"
        ))),
    }
}
