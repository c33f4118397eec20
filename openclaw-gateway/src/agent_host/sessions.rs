//! `sessions.*` and `agents.files.*`: the session index as OpenClaw's session rows, the
//! lifecycle (create, patch, reset with the old transcript archived as `*.reset.<ts>`, delete,
//! compact) and runs addressed by session (`sessions.send` / `steer` / `abort`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use openclaw_core::engine::PromptInput;
use openclaw_core::protocol::ErrorShape;
use serde_json::{Map, Value, json};

use super::Core;
use super::chat::{abort_key, resolve_key};
use super::history::session_messages;
use super::list_filter::ListFilter;
use super::overrides::{RunOptions, attachments_param, check_model, thinking_param};
use super::run::{TurnRequest, ensure_engine, spawn_run};
use super::session_ops::{check_lifecycle, compact_lines};
use crate::backend::CallContext;
use crate::methods::params::Params;
use crate::state::now_ms;

/// An index entry as a `SessionRow`.
fn row(core: &Core, key: &str, entry: &Map<String, Value>) -> Value {
    let mut r = Map::new();
    r.insert("key".into(), json!(key));
    r.insert("kind".into(), json!("direct"));
    let default = core.default_agent();
    let agent = key.split(':').nth(1).unwrap_or(&default);
    r.insert("agentId".into(), json!(agent));
    r.insert("chatType".into(), json!("direct"));
    r.insert("isMain".into(), json!(key.ends_with(":main")));
    for k in [
        "sessionId",
        "label",
        "displayName",
        "updatedAt",
        "lastInteractionAt",
        "model",
        "modelProvider",
        "inputTokens",
        "outputTokens",
        "totalTokens",
        "contextTokens",
        "spawnedBy",
        "lastRunId",
        "thinkingLevel",
        "verboseLevel",
        "archived",
        "pinned",
    ] {
        if let Some(v) = entry.get(k).filter(|v| !v.is_null()) {
            r.insert(k.into(), v.clone());
        }
    }
    if let Some(m) = entry.get("modelOverride").filter(|v| v.is_string()) {
        r.insert("model".into(), m.clone());
    }
    let active = core.live_if_any(key).and_then(|l| l.current_run_id());
    r.insert("hasActiveRun".into(), json!(active.is_some()));
    if let Some(id) = active {
        r.insert("activeRunIds".into(), json!([id]));
        r.insert("status".into(), json!("running"));
    }
    Value::Object(r)
}

/// `derivedTitle` (the first user message) and `lastMessagePreview`, when asked for.
fn add_previews(core: &Core, filter: &ListFilter, (key, agent): (&str, &str), row: &mut Value) {
    if !filter.derived_titles && !filter.last_message {
        return;
    }
    let (_, messages) = session_messages(core, key, agent);
    let texts: Vec<(String, String)> = messages.iter().map(|m| text_of(m)).collect();
    if filter.derived_titles {
        if let Some((_, t)) = texts
            .iter()
            .find(|(r, t)| r == "user" && !t.trim().is_empty())
        {
            row["derivedTitle"] = json!(clip(t.trim(), 60));
        }
    }
    if filter.last_message {
        if let Some((_, t)) = texts.iter().rev().find(|(_, t)| !t.trim().is_empty()) {
            row["lastMessagePreview"] = json!(clip(t.trim(), 120));
        }
    }
}

fn agents_for(core: &Core, agent: Option<&str>) -> Vec<String> {
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

fn text_of(m: &openclaw_core::message::Message) -> (String, String) {
    use openclaw_core::message::Message;
    match m {
        Message::User(u) => ("user".into(), u.content.text()),
        Message::Assistant(a) => ("assistant".into(), a.text()),
        other => (
            serde_json::to_value(other)
                .ok()
                .and_then(|v| v.get("role").and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default(),
            String::new(),
        ),
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        s.chars().take(max).collect::<String>() + "…"
    }
}

fn need_key(core: &Core, p: &Params) -> Result<(String, String), ErrorShape> {
    let key = p.required_str("key")?;
    resolve_key(core, p, key, p.str("agentId")?)
}

fn archive(file: &Path, tag: &str) -> Option<String> {
    if !file.exists() {
        return None;
    }
    let target = PathBuf::from(format!("{}.{tag}.{}", file.display(), now_ms()));
    std::fs::rename(file, &target).ok()?;
    Some(target.display().to_string())
}

pub(crate) async fn call(
    core: &Arc<Core>,
    method: &str,
    params: Option<Value>,
    ctx: &CallContext,
) -> Result<Value, ErrorShape> {
    let p = Params::new(method, params)?;
    match method {
        "sessions.list" => {
            let p = p.closed(&[
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
            ])?;
            let limit = p.uint("limit", 1, u64::MAX)?.map(|n| n as usize);
            let offset = p.uint("offset", 0, u64::MAX)?.unwrap_or(0) as usize;
            let filter = ListFilter::from_params(&p)?;
            let mut rows: Vec<((bool, u64), Value)> = Vec::new();
            for agent in agents_for(core, p.str("agentId")?) {
                for (k, e) in core.store(&agent).list() {
                    let running = core
                        .live_if_any(&k)
                        .is_some_and(|l| l.current_run_id().is_some());
                    if filter.keeps(&k, &e, running) {
                        let mut r = row(core, &k, &e);
                        add_previews(core, &filter, (&k, &agent), &mut r);
                        rows.push((filter.rank(&e, running), r));
                    }
                }
            }
            rows.sort_by_key(|(rank, _)| std::cmp::Reverse(*rank));
            let total = rows.len();
            let sessions: Vec<Value> = rows
                .into_iter()
                .skip(offset)
                .take(limit.unwrap_or(usize::MAX))
                .map(|(_, r)| r)
                .collect();
            let def = core
                .agent(&core.default_agent())
                .and_then(|a| a.model_primary.clone());
            let (prov, model) = match def.as_deref().and_then(|m| m.split_once('/')) {
                Some((p, m)) => (json!(p), json!(m)),
                None => (Value::Null, json!(def)),
            };
            Ok(
                json!({"ts": now_ms(), "path": core.store(&core.default_agent()).path().display().to_string(),
                "count": sessions.len(), "totalCount": total,
                "defaults": {"modelProvider": prov, "model": model, "contextTokens": null},
                "sessions": sessions}),
            )
        }
        "sessions.get" => {
            let p = p.closed(&["key", "agentId", "limit"])?;
            let limit = p.uint("limit", 1, 10_000)?.unwrap_or(200) as usize;
            let (key, agent) = need_key(core, &p)?;
            let (_, messages) = session_messages(core, &key, &agent);
            let skip = messages.len().saturating_sub(limit);
            Ok(json!({"key": key, "messages": messages[skip..]}))
        }
        "sessions.preview" => {
            let p = p.closed(&["keys", "limit", "maxChars"])?;
            let keys = p
                .str_list("keys")?
                .filter(|k| !k.is_empty())
                .ok_or_else(|| p.invalid("at root: must have required property 'keys'"))?;
            let limit = p.uint("limit", 1, 1000)?.unwrap_or(12) as usize;
            let max = p.uint("maxChars", 20, 100_000)?.unwrap_or(240) as usize;
            let previews: Vec<Value> = keys
                .iter()
                .take(64)
                .map(|k| {
                    let (key, agent) = core.canonical_key(k, None);
                    if core.store(&agent).get(&key).is_none() {
                        return json!({"key": k, "status": "missing", "items": []});
                    }
                    let (_, messages) = session_messages(core, &key, &agent);
                    let skip = messages.len().saturating_sub(limit);
                    let items: Vec<Value> = messages[skip..]
                        .iter()
                        .map(|m| text_of(m))
                        .filter(|(_, t)| !t.is_empty())
                        .map(|(role, t)| json!({"role": role, "text": clip(&t, max)}))
                        .collect();
                    let status = if items.is_empty() { "empty" } else { "ok" };
                    json!({"key": k, "status": status, "items": items})
                })
                .collect();
            Ok(json!({"ts": now_ms(), "previews": previews}))
        }
        "sessions.describe" => {
            let p = p.closed(&[
                "key",
                "agentId",
                "includeDerivedTitles",
                "includeLastMessage",
            ])?;
            let (key, agent) = need_key(core, &p)?;
            let session = core.store(&agent).get(&key).map(|e| row(core, &key, &e));
            Ok(json!({"session": session}))
        }
        "sessions.resolve" => {
            let p = p.closed(&[
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
            ])?;
            let allow_missing = p.bool("allowMissing")?.unwrap_or(false);
            if let Some(k) = p.str("key")? {
                let (key, agent) = resolve_key(core, &p, k, p.str("agentId")?)?;
                if core.store(&agent).get(&key).is_some() || allow_missing {
                    return Ok(json!({"ok": true, "key": key}));
                }
                return Err(ErrorShape::invalid_request(format!(
                    "No session found: {k}"
                )));
            }
            let (field, want) = match (p.str("sessionId")?, p.str("label")?) {
                (Some(id), _) => ("sessionId", id),
                (None, Some(l)) => ("label", l),
                _ => return Err(p.invalid("at root: must have one of key, sessionId, label")),
            };
            for agent in agents_for(core, p.str("agentId")?) {
                for (k, e) in core.store(&agent).list() {
                    if e.get(field).and_then(Value::as_str) == Some(want) {
                        return Ok(json!({"ok": true, "key": k}));
                    }
                }
            }
            Err(ErrorShape::invalid_request(format!(
                "No session found: {want}"
            )))
        }
        "sessions.create" => {
            let p = p.closed(&[
                "key",
                "agentId",
                "label",
                "model",
                "parentSessionKey",
                "emitCommandHooks",
                "task",
                "message",
                "idempotencyKey",
            ])?;
            let agent_hint = p.str("agentId")?;
            let raw = match p.str("key")? {
                Some(k) => k.to_owned(),
                None => format!(
                    "agent:{}:session-{}",
                    agent_hint.map_or_else(|| core.default_agent(), str::to_owned),
                    &uuid::Uuid::new_v4().simple().to_string()[..12]
                ),
            };
            let (key, agent) = resolve_key(core, &p, &raw, agent_hint)?;
            if let Some(a) = agent_hint.filter(|a| *a != agent) {
                return Err(ErrorShape::invalid_request(format!(
                    "sessions.create key agent ({agent}) does not match agentId ({a})"
                )));
            }
            let live = core.live_for(&key, &agent);
            {
                let _turn = live.run_lock.lock().await;
                ensure_engine(core, &live)
                    .await
                    .map_err(ErrorShape::unavailable)?;
            }
            let store = core.store(&agent);
            let entry = store.update(&key, true, |e| {
                if let Some(l) = p.str("label").ok().flatten() {
                    e.insert("label".into(), json!(l));
                }
                if let Some(m) = p.str("model").ok().flatten() {
                    e.insert("modelOverride".into(), json!(m));
                }
                if let Some(parent) = p.str("parentSessionKey").ok().flatten() {
                    e.insert("spawnedBy".into(), json!(parent));
                }
            });
            let mut out = json!({"ok": true, "key": key, "sessionId": entry.get("sessionId"),
                "entry": entry});
            if let Some(msg) = p.str("message")?.or(p.str("task")?) {
                let run_id = p
                    .str("idempotencyKey")?
                    .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
                start(core, (&key, &agent), msg, &run_id, ctx, Default::default());
                out["runId"] = json!(run_id);
            }
            Ok(out)
        }
        "sessions.patch" => {
            let p = p.closed(&[
                "key",
                "agentId",
                "label",
                "thinkingLevel",
                "fastMode",
                "verboseLevel",
                "traceLevel",
                "reasoningLevel",
                "responseUsage",
                "elevatedLevel",
                "execHost",
                "execNode",
                "model",
                "sendPolicy",
                "groupActivation",
                "expectedSessionId",
                "archived",
                "pinned",
                "unread",
                "category",
                "icon",
                "color",
                "contextWindow",
            ])?;
            let (key, agent) = need_key(core, &p)?;
            check_lifecycle(core, &p, &key, &agent)?;
            if let Some(Value::String(m)) = p.get("model") {
                check_model(&core.settings().config, &core.state_dir, m)?;
            }
            let store = core.store(&agent);
            if store.get(&key).is_none() {
                return Err(ErrorShape::invalid_request(format!(
                    "session not found: {key}"
                )));
            }
            let mut patch = Map::new();
            for k in [
                "label",
                "thinkingLevel",
                "verboseLevel",
                "reasoningLevel",
                "elevatedLevel",
                "sendPolicy",
                "icon",
                "color",
                "category",
                "pinned",
                "archived",
                "unread",
                "fastMode",
            ] {
                if let Some(v) = p.get(k) {
                    patch.insert(k.into(), v.clone());
                }
            }
            let model = p.get("model").cloned();
            let entry = store.update(&key, true, |e| {
                for (k, v) in patch {
                    if v.is_null() {
                        e.remove(&k);
                    } else {
                        e.insert(k, v);
                    }
                }
                match &model {
                    Some(Value::String(m)) => match m.split_once('/') {
                        Some((prov, id)) => {
                            e.insert("providerOverride".into(), json!(prov));
                            e.insert("modelOverride".into(), json!(id));
                        }
                        None => {
                            e.insert("modelOverride".into(), json!(m));
                        }
                    },
                    Some(Value::Null) => {
                        e.remove("modelOverride");
                        e.remove("providerOverride");
                    }
                    _ => {}
                }
                e.insert("updatedAt".into(), json!(now_ms()));
            });
            if model.is_some() {
                // The next run starts an engine with the new model.
                if let Some(l) = core.live_if_any(&key).filter(|l| l.is_idle()) {
                    l.drop_engine();
                }
            }
            core.session_changed(&key, &agent, "patch", None);
            let model_id = entry.get("modelOverride").or(entry.get("model")).cloned();
            let prov = entry
                .get("providerOverride")
                .or(entry.get("modelProvider"))
                .cloned();
            Ok(
                json!({"ok": true, "path": store.path().display().to_string(), "key": key,
                "entry": entry, "resolved": {"modelProvider": prov, "model": model_id}}),
            )
        }
        "sessions.reset" => {
            let p = p.closed(&["key", "reason", "agentId", "expectedSessionId"])?;
            p.choice("reason", &["new", "reset"])?;
            let (key, agent) = need_key(core, &p)?;
            check_lifecycle(core, &p, &key, &agent)?;
            abort_key(core, &key, None).await?;
            let live = core.live_for(&key, &agent);
            let _turn = live.run_lock.lock().await;
            live.drop_engine();
            let store = core.store(&agent);
            if let Some(file) = store.get(&key).and_then(|e| {
                e.get("sessionFile")
                    .and_then(Value::as_str)
                    .map(PathBuf::from)
            }) {
                archive(&file, "reset");
            }
            store.update(&key, true, |e| {
                e.remove("sessionId");
                e.remove("sessionFile");
                for k in [
                    "inputTokens",
                    "outputTokens",
                    "totalTokens",
                    "contextTokens",
                ] {
                    e.remove(k);
                }
            });
            // A fresh transcript under the same key.
            ensure_engine(core, &live)
                .await
                .map_err(ErrorShape::unavailable)?;
            let entry = store.get(&key).unwrap_or_default();
            core.session_changed(&key, &agent, "reset", None);
            Ok(json!({"ok": true, "key": key, "entry": entry}))
        }
        "sessions.delete" => {
            let p = p.closed(&[
                "key",
                "deleteTranscript",
                "emitLifecycleHooks",
                "agentId",
                "expectedSessionId",
                "expectedLifecycleRevision",
                "expectedSessionUpdatedAt",
                "archivedOnly",
            ])?;
            let delete_transcript = p.bool("deleteTranscript")?.unwrap_or(false);
            let (key, agent) = need_key(core, &p)?;
            check_lifecycle(core, &p, &key, &agent)?;
            if key == format!("agent:{agent}:main") {
                return Err(ErrorShape::invalid_request(format!(
                    "Cannot delete the main session ({key}); use sessions.reset"
                )));
            }
            abort_key(core, &key, None).await?;
            if let Some(live) = core.live_if_any(&key) {
                let _turn = live.run_lock.lock().await;
                live.drop_engine();
            }
            core.forget_live(&key);
            let removed = core.store(&agent).remove(&key);
            let mut archived = Vec::new();
            if let Some(file) = removed
                .as_ref()
                .and_then(|e| e.get("sessionFile").and_then(Value::as_str))
            {
                let file = PathBuf::from(file);
                if delete_transcript {
                    let _ = std::fs::remove_file(&file);
                } else if let Some(a) = archive(&file, "deleted") {
                    archived.push(a);
                }
            }
            core.session_changed(&key, &agent, "delete", None);
            Ok(json!({"ok": true, "key": key, "deleted": removed.is_some(), "archived": archived}))
        }
        "sessions.compact" => {
            let p = p.closed(&["key", "maxLines", "agentId"])?;
            let max_lines = p.uint("maxLines", 1, u64::MAX)?;
            let (key, agent) = need_key(core, &p)?;
            let Some(entry) = core.store(&agent).get(&key) else {
                return Err(ErrorShape::invalid_request(format!(
                    "session not found: {key}"
                )));
            };
            let live = core.live_for(&key, &agent);
            let _turn = live.run_lock.lock().await;
            if let Some(max) = max_lines {
                return compact_lines(core, (&key, &agent), &live, &entry, max as usize);
            }
            let engine = ensure_engine(core, &live)
                .await
                .map_err(ErrorShape::unavailable)?;
            match engine.compact(None).await {
                Ok(r) => {
                    core.store(&agent).update(&key, true, |e| {
                        let n = e
                            .get("compactionCount")
                            .and_then(Value::as_u64)
                            .unwrap_or(0);
                        e.insert("compactionCount".into(), json!(n + 1));
                    });
                    core.session_changed(&key, &agent, "compact", None);
                    Ok(json!({"ok": true, "key": key, "compacted": true, "result": r}))
                }
                Err(e) => {
                    Ok(json!({"ok": true, "key": key, "compacted": false, "reason": e.to_string()}))
                }
            }
        }
        "sessions.send" | "sessions.steer" => {
            let p = p.closed(&[
                "key",
                "message",
                "thinking",
                "attachments",
                "timeoutMs",
                "idempotencyKey",
                "agentId",
            ])?;
            let (key, agent) = need_key(core, &p)?;
            let message = p.required_str("message")?;
            if method == "sessions.steer" {
                if let Some(live) = core.live_if_any(&key) {
                    if let (Some(run_id), Some(engine)) = (live.current_run_id(), live.engine()) {
                        engine
                            .steer(PromptInput::text(message))
                            .map_err(|e| ErrorShape::unavailable(e.to_string()))?;
                        return Ok(json!({"status": "steered", "runId": run_id, "key": key}));
                    }
                }
            }
            let run_id = p
                .str("idempotencyKey")?
                .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
            let options = RunOptions {
                thinking: thinking_param(&p, "thinking")?,
                images: attachments_param(&p)?,
                ..RunOptions::default()
            };
            let timeout = p
                .uint("timeoutMs", 0, u64::MAX)?
                .filter(|t| *t > 0)
                .map(std::time::Duration::from_millis);
            start(
                core,
                (&key, &agent),
                message,
                &run_id,
                ctx,
                (options, timeout),
            );
            Ok(json!({"status": "started", "runId": run_id, "key": key}))
        }
        "sessions.abort" => {
            let p = p.closed(&["key", "runId", "agentId", "clearQueued"])?;
            let run_id = p.str("runId")?;
            let key = match p.str("key")? {
                Some(k) => resolve_key(core, &p, k, p.str("agentId")?)?.0,
                None => {
                    let id = run_id
                        .ok_or_else(|| p.invalid("at root: must have required property 'key'"))?;
                    super::lock(&core.runs)
                        .get(id)
                        .map(|r| r.session_key.to_string())
                        .ok_or_else(|| ErrorShape::invalid_request("agent run was not found"))?
                }
            };
            abort_key(core, &key, run_id).await
        }
        m => Err(ErrorShape::unknown_method(m)),
    }
}

fn start(
    core: &Arc<Core>,
    (key, agent): (&str, &str),
    message: &str,
    run_id: &str,
    ctx: &CallContext,
    (options, timeout): (RunOptions, Option<std::time::Duration>),
) {
    let live = core.live_for(key, agent);
    let mut req = TurnRequest::from_call(ctx, run_id.to_owned(), message.to_owned(), timeout);
    req.options = options;
    spawn_run(core, live, req);
}
