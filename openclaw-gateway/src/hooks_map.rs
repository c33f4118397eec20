//! `POST <hooks.path>/<name>`: OpenClaw's hook mappings (`hooks.mappings`, first match wins).
//! A mapping matches the subpath (`match.path`) and the payload's `source` (`match.source`),
//! and turns the request into a `wake` (`textTemplate`) or an agent run (`messageTemplate`,
//! `name`, `agentId`, a static `sessionKey` with `sessionMode: "persistent"`, `model`,
//! `thinking`, `timeoutSeconds`) whose reply is announced to `channel` / `to` (`"last"` by
//! default; nothing with `deliver: false`; the main session when there is no route).
//!
//! Templates: `{{payload.a.b}}` or `{{a.b}}`, `{{items[0].id}}`, `{{headers.x-name}}`,
//! `{{query.k}}`, `{{path}}`, `{{now}}`; missing values are empty, objects JSON. What this
//! gateway does not run — `transform` modules, `forEach`, templated session keys, the `gmail`
//! preset — makes the mapping refused at load, named in the log. The same security as
//! `/wake` and `/agent` applies (header token, body limit, idempotency, rate limit, untrusted
//! markers).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use openclaw_core::protocol::cron::{SessionTarget, WakeMode, WakeParams};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::cron::CronTurn;
use crate::hooks::{
    DEFAULT_RUN_TIMEOUT_SECS, Deliver, Hooks, MAX_HOOK_RUNS, admit, answer, hook_message,
    idempotency_key, refuse, spawn_run,
};
use crate::state::Shared;

/// One `hooks.mappings[]` entry as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Mapping {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, rename = "match")]
    pub matches: Option<Match>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub wake_mode: Option<openclaw_core::protocol::cron::WakeMode>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    pub session_key: Option<String>,
    #[serde(default)]
    pub session_mode: Option<String>,
    #[serde(default)]
    pub message_template: Option<String>,
    #[serde(default)]
    pub text_template: Option<String>,
    #[serde(default)]
    pub deliver: Option<bool>,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub thinking: Option<String>,
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
    #[serde(default)]
    pub for_each: Option<Value>,
    #[serde(default)]
    pub transform: Option<Value>,
    #[serde(default)]
    pub allow_unsafe_external_content: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Match {
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
}

/// The mappings of `hooks`, those this gateway cannot run left out with their reason.
pub(crate) fn load(hooks: &Value) -> (Vec<Mapping>, Vec<String>) {
    let mut out = Vec::new();
    let mut refused = Vec::new();
    let list = hooks
        .get("mappings")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, raw) in list.into_iter().enumerate() {
        let m: Mapping = match serde_json::from_value(raw) {
            Ok(m) => m,
            Err(e) => {
                refused.push(format!("hooks.mappings[{i}] is unreadable: {e}"));
                continue;
            }
        };
        let id = m.id.clone().unwrap_or_else(|| format!("mapping-{i}"));
        let why = if m.transform.is_some() {
            Some("transform modules are not run by this gateway")
        } else if m.for_each.is_some() {
            Some("forEach is not supported by this gateway")
        } else if m.session_key.as_deref().is_some_and(|k| k.contains("{{")) {
            Some("templated session keys are not supported by this gateway")
        } else if m.allow_unsafe_external_content == Some(true) {
            Some("allowUnsafeExternalContent is not supported")
        } else if !matches!(m.action.as_deref(), None | Some("agent") | Some("wake")) {
            Some("action must be \"agent\" or \"wake\"")
        } else {
            None
        };
        match why {
            Some(w) => refused.push(format!("hooks mapping {id} refused: {w}")),
            None => out.push(Mapping { id: Some(id), ..m }),
        }
    }
    let presets = hooks
        .get("presets")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for p in presets {
        refused.push(format!(
            "hooks preset {p} refused: presets (gmail) need forEach, which this gateway does not run"
        ));
    }
    (out, refused)
}

/// The first mapping for subpath `path` and `payload`.
pub(crate) fn find<'a>(
    mappings: &'a [Mapping],
    path: &str,
    payload: &Value,
) -> Option<&'a Mapping> {
    let path = path.trim_matches('/');
    mappings.iter().find(|m| {
        let Some(mt) = &m.matches else { return true };
        mt.path
            .as_deref()
            .is_none_or(|p| p.trim_matches('/') == path)
            && mt
                .source
                .as_deref()
                .is_none_or(|s| payload.get("source").and_then(Value::as_str) == Some(s))
    })
}

/// What a template can read.
pub(crate) struct Context<'a> {
    pub payload: &'a Value,
    pub headers: Map<String, Value>,
    pub query: Map<String, Value>,
    pub path: String,
    pub now: String,
}

/// `template` with its `{{…}}` placeholders filled from `ctx`.
pub(crate) fn render(template: &str, ctx: &Context<'_>) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        out.push_str(&lookup(after[..end].trim(), ctx));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

fn lookup(expr: &str, ctx: &Context<'_>) -> String {
    let (root, path): (Value, &str) = match expr.split_once('.') {
        _ if expr == "path" => return ctx.path.clone(),
        _ if expr == "now" => return ctx.now.clone(),
        Some(("payload", p)) => (ctx.payload.clone(), p),
        Some(("headers", h)) => {
            let v = ctx.headers.get(&h.to_ascii_lowercase()).cloned();
            return v.map(|v| text(&v)).unwrap_or_default();
        }
        Some(("query", q)) => {
            return ctx.query.get(q).map(text).unwrap_or_default();
        }
        _ => (ctx.payload.clone(), expr),
    };
    let mut cur = &root;
    for part in path.split('.') {
        let (key, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            cur = match cur.get(key) {
                Some(v) => v,
                None => return String::new(),
            };
        }
        for idx in indexes.split('[').filter(|s| !s.is_empty()) {
            let n: Option<usize> = idx.trim_end_matches(']').parse().ok();
            cur = match n.and_then(|n| cur.get(n)) {
                Some(v) => v,
                None => return String::new(),
            };
        }
    }
    text(cur)
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `POST <path>/<name>`: the first matching `hooks.mappings` entry (see `hooks_map`).
pub(crate) async fn mapped(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    axum::extract::Path(name): axum::extract::Path<String>,
    req: Request,
) -> Response {
    let headers: serde_json::Map<String, Value> = req
        .headers()
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "authorization" | "x-openclaw-token" | "cookie"))
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), json!(v.to_str().ok()?))))
        .collect();
    let query: serde_json::Map<String, Value> = req
        .uri()
        .query()
        .and_then(|q| reqwest::Url::parse(&format!("http://h/?{q}")).ok())
        .map(|u| {
            u.query_pairs()
                .map(|(k, v)| (k.into_owned(), json!(v)))
                .collect()
        })
        .unwrap_or_default();
    let (hooks, idem, body) = match admit(&shared, remote, req).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(m) = find(&hooks.mappings, &name, &body).cloned() else {
        return refuse(StatusCode::NOT_FOUND, "Not Found");
    };
    let key = idempotency_key(&format!("map:{name}"), idem, &body);
    if let Some(r) = key.as_deref().and_then(|k| hooks.replay(k)) {
        return r;
    }
    let now = jiff::Timestamp::now().to_string();
    let ctx = Context {
        payload: &body,
        headers,
        query,
        path: name.trim_matches('/').to_owned(),
        now,
    };
    let agent_id = match shared.heartbeat.agent_for(m.agent_id.as_deref(), None) {
        Ok(a) => a,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
    };
    if m.action.as_deref() == Some("wake") {
        return wake(&shared, &hooks, key, &m, &ctx, agent_id);
    }
    agent(&shared, &hooks, key, &m, &ctx, agent_id)
}

/// A wake mapping: its `textTemplate` queued as a system event.
fn wake(
    shared: &Arc<Shared>,
    hooks: &Hooks,
    key: Option<String>,
    m: &Mapping,
    ctx: &Context<'_>,
    agent_id: String,
) -> Response {
    let wake_mode = m.wake_mode.unwrap_or(WakeMode::Now);
    let text = render(m.text_template.as_deref().unwrap_or(""), ctx);
    if text.trim().is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "the mapping produced an empty wake text",
        );
    }
    let params = WakeParams {
        mode: wake_mode,
        text,
        session_key: None,
        agent_id: Some(agent_id),
    };
    if let Err(e) = crate::methods::heartbeat::wake_on(&shared.heartbeat, &params) {
        return refuse(StatusCode::BAD_REQUEST, &e);
    }
    let mode = if wake_mode == WakeMode::Now {
        "now"
    } else {
        "next-heartbeat"
    };
    let out = json!({"ok": true, "mode": mode});
    if let Some(k) = key {
        hooks.remember(k, StatusCode::OK, &out);
    }
    answer(StatusCode::OK, out)
}

/// An agent mapping: a run with its `messageTemplate`, answered where it says.
fn agent(
    shared: &Arc<Shared>,
    hooks: &Hooks,
    key: Option<String>,
    m: &Mapping,
    ctx: &Context<'_>,
    agent_id: String,
) -> Response {
    let wake_mode = m.wake_mode.unwrap_or(WakeMode::Now);
    let message = render(m.message_template.as_deref().unwrap_or(""), ctx);
    if message.trim().is_empty() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "the mapping produced an empty message",
        );
    }
    let Ok(permit) = hooks.runs.clone().try_acquire_owned() else {
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("{MAX_HOOK_RUNS} hook runs are already in progress"),
        );
    };
    let id = uuid::Uuid::new_v4().to_string();
    let run_id = format!("hook:{id}");
    let out = json!({"ok": true, "runId": run_id});
    if let Some(earlier) = key.and_then(|k| hooks.claim(k, StatusCode::OK, &out)) {
        return earlier;
    }
    let persistent = m.session_mode.as_deref() == Some("persistent");
    let target = match (&m.session_key, persistent) {
        (Some(k), true) => SessionTarget::Session(k.clone()),
        _ => SessionTarget::Session(format!("hook:{id}")),
    };
    let hook_name = render(m.name.as_deref().unwrap_or("Hook"), ctx);
    let render_opt = |t: &Option<String>| {
        t.as_deref()
            .map(|t| render(t, ctx))
            .filter(|s| !s.trim().is_empty())
    };
    let turn = CronTurn {
        job_id: format!("hook-{id}"),
        run_id: run_id.clone(),
        agent_id: Some(agent_id.clone()),
        target,
        creating_session_key: None,
        message: hook_message(&hook_name, &message),
        model: render_opt(&m.model),
        thinking: render_opt(&m.thinking),
        timeout_seconds: Some(m.timeout_seconds.unwrap_or(DEFAULT_RUN_TIMEOUT_SECS)),
        light_context: false,
    };
    let delivery = if m.deliver == Some(false) {
        Deliver::Off
    } else {
        Deliver::Announce(Box::new(openclaw_core::protocol::cron::CronDelivery {
            mode: openclaw_core::protocol::cron::DeliveryMode::Announce,
            channel: Some(m.channel.clone().unwrap_or_else(|| "last".into())),
            to: render_opt(&m.to),
            ..Default::default()
        }))
    };
    let wake_now = wake_mode == WakeMode::Now;
    spawn_run(
        shared, turn, agent_id, hook_name, wake_now, permit, delivery,
    );
    answer(StatusCode::OK, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(payload: &Value) -> Context<'_> {
        let mut headers = Map::new();
        headers.insert("x-event-type".into(), json!("push"));
        let mut query = Map::new();
        query.insert("kind".into(), json!("ci"));
        Context {
            payload,
            headers,
            query,
            path: "github".into(),
            now: "2026-12-07T00:00:00Z".into(),
        }
    }

    #[test]
    fn templates_read_payload_headers_query_path_and_now() {
        let p = json!({"repo": {"name": "claw"}, "commits": [{"id": "abc"}], "n": 3, "gone": null});
        let c = ctx(&p);
        assert_eq!(
            render(
                "{{payload.repo.name}}/{{commits[0].id}} {{n}} [{{gone}}][{{missing.x}}] {{headers.X-Event-Type}} {{query.kind}} {{path}} {{now}}",
                &c
            ),
            "claw/abc 3 [][] push ci github 2026-12-07T00:00:00Z"
        );
        assert_eq!(render("{{repo}}", &c), r#"{"name":"claw"}"#);
        assert_eq!(render("open {{ never", &c), "open {{ never");
    }

    #[test]
    fn the_first_matching_mapping_wins_and_unsupported_ones_are_refused() {
        let hooks = json!({"mappings": [
            {"match": {"path": "github", "source": "ci"}, "messageTemplate": "a"},
            {"match": {"path": "/github/"}, "messageTemplate": "b"},
            {"transform": {"module": "x.js"}},
            {"sessionKey": "hook:{{id}}"},
        ], "presets": ["gmail"]});
        let (maps, refused) = load(&hooks);
        assert_eq!(maps.len(), 2);
        assert_eq!(refused.len(), 3, "{refused:?}");
        let pick =
            |path: &str, p: Value| find(&maps, path, &p).and_then(|m| m.message_template.clone());
        assert_eq!(
            pick("github", json!({"source": "ci"})).as_deref(),
            Some("a")
        );
        assert_eq!(pick("github", json!({})).as_deref(), Some("b"));
        assert_eq!(pick("gitlab", json!({})), None);
    }
}
