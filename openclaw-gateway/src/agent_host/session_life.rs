//! `sessions.*` lifecycle, one handler per method: create, patch (typed fields, one row
//! update), reset (the old transcript archived as `*.reset.<ts>`), delete (row removed,
//! transcript archived as `*.deleted.<ts>` or removed), compact, and runs addressed by session
//! (`sessions.send` / `steer` / `abort`).

use std::path::Path;
use std::sync::Arc;

use openclaw_core::engine::PromptInput;
use openclaw_core::protocol::ErrorShape;
use openclaw_state::SessionRow;
use serde_json::{Value, json};

use super::Core;
use super::chat::{abort_key, resolve_key};
use super::overrides::{RunOptions, attachments_param, check_model, thinking_param};
use super::run::{TurnRequest, ensure_engine, spawn_run};
use super::session_ops::{check_lifecycle, compact_lines};
use super::sessions::need_key;
use super::store::unavailable;
use crate::backend::CallContext;
use crate::methods::params::Params;
use crate::state::now_ms;

/// Moves `file` aside to `<file>.<tag>.<ts>` (a name never used before) and returns the new
/// name.
pub(crate) fn archive(file: &Path, tag: &str) -> Option<String> {
    if !file.exists() {
        return None;
    }
    match openclaw_core::fsutil::keep_aside(file, tag) {
        Ok(target) => {
            if let Err(e) = std::fs::remove_file(file) {
                tracing::warn!("cannot remove {} after archiving: {e}", file.display());
            }
            Some(target.display().to_string())
        }
        Err(e) => {
            tracing::warn!("cannot archive {}: {e}", file.display());
            None
        }
    }
}

const CREATE_KEYS: &[&str] = &[
    "key",
    "agentId",
    "label",
    "model",
    "parentSessionKey",
    "emitCommandHooks",
    "task",
    "message",
    "idempotencyKey",
];

/// `sessions.create`: a session with a transcript, optionally starting a run.
pub(crate) async fn create(
    core: &Arc<Core>,
    p: Params,
    ctx: &CallContext,
) -> Result<Value, ErrorShape> {
    let p = p.closed(CREATE_KEYS)?;
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
    let label = p.str("label")?.map(str::to_owned);
    let model = p.str("model")?.map(str::to_owned);
    let parent = p.str("parentSessionKey")?.map(str::to_owned);
    let row = core.update_row(&key, |r| {
        if let Some(l) = &label {
            r.label = Some(l.clone());
        }
        if let Some(m) = &model {
            r.meta.model_override = Some(m.clone());
        }
        if let Some(parent) = &parent {
            r.spawned_by = Some(parent.clone());
        }
    })?;
    let mut out = json!({"ok": true, "key": key, "sessionId": row.session_id,
        "entry": row.to_value()});
    if let Some(msg) = p.str("message")?.or(p.str("task")?) {
        let run_id = p
            .str("idempotencyKey")?
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
        start(core, (&key, &agent), msg, &run_id, ctx, Default::default());
        out["runId"] = json!(run_id);
    }
    Ok(out)
}

const PATCH_KEYS: &[&str] = &[
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
];

/// A patch value: absent (keep), `null` (clear) or a value.
enum Change<T> {
    Keep,
    Clear,
    Set(T),
}

impl<T: Clone> Change<T> {
    fn apply(&self, slot: &mut Option<T>) {
        match self {
            Change::Keep => {}
            Change::Clear => *slot = None,
            Change::Set(v) => *slot = Some(v.clone()),
        }
    }
}

fn text_change(p: &Params, key: &str) -> Result<Change<String>, ErrorShape> {
    match p.get(key) {
        None => Ok(Change::Keep),
        Some(Value::Null) => Ok(Change::Clear),
        Some(Value::String(s)) => Ok(Change::Set(s.clone())),
        Some(_) => Err(p.invalid(format!("at /{key}: must be string or null"))),
    }
}

fn flag_change(p: &Params, key: &str) -> Result<Change<bool>, ErrorShape> {
    match p.get(key) {
        None => Ok(Change::Keep),
        Some(Value::Null) => Ok(Change::Clear),
        Some(Value::Bool(b)) => Ok(Change::Set(*b)),
        Some(_) => Err(p.invalid(format!("at /{key}: must be boolean or null"))),
    }
}

/// `sessions.patch`: typed fields applied to the row in one update.
pub(crate) fn patch(core: &Arc<Core>, p: Params) -> Result<Value, ErrorShape> {
    let p = p.closed(PATCH_KEYS)?;
    let (key, agent) = need_key(core, &p)?;
    check_lifecycle(core, &p, &key)?;
    if let Some(Value::String(m)) = p.get("model") {
        check_model(&core.settings().config, &core.state_dir, m)?;
    }
    let texts: Vec<(&str, Change<String>)> = [
        "label",
        "thinkingLevel",
        "verboseLevel",
        "reasoningLevel",
        "elevatedLevel",
        "sendPolicy",
        "icon",
        "color",
        "category",
    ]
    .into_iter()
    .map(|k| text_change(&p, k).map(|c| (k, c)))
    .collect::<Result<_, _>>()?;
    let flags: Vec<(&str, Change<bool>)> = ["pinned", "archived", "unread", "fastMode"]
        .into_iter()
        .map(|k| flag_change(&p, k).map(|c| (k, c)))
        .collect::<Result<_, _>>()?;
    let model = text_change(&p, "model")?;
    let row = core.update_row(&key, |r| {
        for (k, c) in &texts {
            let m = &mut r.meta;
            let slot = match *k {
                "label" => &mut r.label,
                "thinkingLevel" => &mut m.thinking_level,
                "verboseLevel" => &mut m.verbose_level,
                "reasoningLevel" => &mut m.reasoning_level,
                "elevatedLevel" => &mut m.elevated_level,
                "sendPolicy" => &mut m.send_policy,
                "icon" => &mut m.icon,
                "color" => &mut m.color,
                _ => &mut m.category,
            };
            c.apply(slot);
        }
        for (k, c) in &flags {
            let m = &mut r.meta;
            let slot = match *k {
                "pinned" => &mut m.pinned,
                "archived" => &mut m.archived,
                "unread" => &mut m.unread,
                _ => &mut m.fast_mode,
            };
            c.apply(slot);
        }
        apply_model(r, &model);
        r.updated_at = now_ms();
    })?;
    if !matches!(model, Change::Keep) {
        // The next run starts an engine with the new model.
        if let Some(l) = core.live_if_any(&key).filter(|l| l.is_idle()) {
            l.drop_engine();
        }
    }
    core.session_changed(&key, &agent, "patch", None);
    let m = &row.meta;
    let model_id = m.model_override.clone().or(m.model.clone());
    let prov = m.provider_override.clone().or(m.model_provider.clone());
    Ok(
        json!({"ok": true, "path": core.index().location(), "key": key,
        "entry": row.to_value(), "resolved": {"modelProvider": prov, "model": model_id}}),
    )
}

fn apply_model(r: &mut SessionRow, model: &Change<String>) {
    match model {
        Change::Keep => {}
        Change::Clear => {
            r.meta.model_override = None;
            r.meta.provider_override = None;
        }
        Change::Set(m) => match m.split_once('/') {
            Some((prov, id)) => {
                r.meta.provider_override = Some(prov.to_owned());
                r.meta.model_override = Some(id.to_owned());
            }
            None => r.meta.model_override = Some(m.clone()),
        },
    }
}

/// `sessions.reset`: a fresh transcript under the same key, the old one archived.
pub(crate) async fn reset(core: &Arc<Core>, p: Params) -> Result<Value, ErrorShape> {
    let p = p.closed(&["key", "reason", "agentId", "expectedSessionId"])?;
    p.choice("reason", &["new", "reset"])?;
    let (key, agent) = need_key(core, &p)?;
    check_lifecycle(core, &p, &key)?;
    abort_key(core, &key, None).await?;
    let live = core.live_for(&key, &agent);
    let _turn = live.run_lock.lock().await;
    live.drop_engine();
    if let Some(row) = core.row(&key)? {
        if let Some(file) = core.transcript_of(&row) {
            archive(&file, "reset");
        }
        core.update_row(&key, |r| {
            r.session_id = None;
            r.transcript = None;
            let m = &mut r.meta;
            m.input_tokens = None;
            m.output_tokens = None;
            m.total_tokens = None;
            m.context_tokens = None;
        })?;
    }
    // A fresh transcript under the same key.
    ensure_engine(core, &live)
        .await
        .map_err(ErrorShape::unavailable)?;
    let entry = core.row(&key)?.map(|r| r.to_value());
    core.session_changed(&key, &agent, "reset", None);
    Ok(json!({"ok": true, "key": key, "entry": entry}))
}

const DELETE_KEYS: &[&str] = &[
    "key",
    "deleteTranscript",
    "emitLifecycleHooks",
    "agentId",
    "expectedSessionId",
    "expectedLifecycleRevision",
    "expectedSessionUpdatedAt",
    "archivedOnly",
];

/// `sessions.delete`: the row removed, its transcript archived (or removed).
pub(crate) async fn delete(core: &Arc<Core>, p: Params) -> Result<Value, ErrorShape> {
    let p = p.closed(DELETE_KEYS)?;
    let delete_transcript = p.bool("deleteTranscript")?.unwrap_or(false);
    let (key, agent) = need_key(core, &p)?;
    check_lifecycle(core, &p, &key)?;
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
    let removed = core.index().delete_session(&key).map_err(unavailable)?;
    let mut archived = Vec::new();
    if let Some(file) = removed.as_ref().and_then(|r| core.transcript_of(r)) {
        if delete_transcript {
            let _ = std::fs::remove_file(&file);
        } else if let Some(a) = archive(&file, "deleted") {
            archived.push(a);
        }
    }
    core.session_changed(&key, &agent, "delete", None);
    Ok(json!({"ok": true, "key": key, "deleted": removed.is_some(), "archived": archived}))
}

/// `sessions.compact`: summarises the older part of the conversation.
pub(crate) async fn compact(core: &Arc<Core>, p: Params) -> Result<Value, ErrorShape> {
    let p = p.closed(&["key", "maxLines", "agentId"])?;
    let max_lines = p.uint("maxLines", 1, u64::MAX)?;
    let (key, agent) = need_key(core, &p)?;
    let row = core.existing_row(&key)?;
    let live = core.live_for(&key, &agent);
    let _turn = live.run_lock.lock().await;
    if let Some(max) = max_lines {
        return compact_lines(core, (&key, &agent), &live, &row, max as usize);
    }
    let engine = ensure_engine(core, &live)
        .await
        .map_err(ErrorShape::unavailable)?;
    match engine.compact(None).await {
        Ok(r) => {
            core.update_row(&key, |row| {
                let n = row.meta.compaction_count.unwrap_or(0);
                row.meta.compaction_count = Some(n + 1);
            })?;
            core.session_changed(&key, &agent, "compact", None);
            Ok(json!({"ok": true, "key": key, "compacted": true, "result": r}))
        }
        Err(e) => Ok(json!({"ok": true, "key": key, "compacted": false, "reason": e.to_string()})),
    }
}

/// `sessions.send` / `sessions.steer`: a run on the session (steering a running one).
pub(crate) fn send(
    core: &Arc<Core>,
    p: Params,
    method: &str,
    ctx: &CallContext,
) -> Result<Value, ErrorShape> {
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

/// `sessions.abort`: the runs on a key, or one run.
pub(crate) async fn abort(core: &Arc<Core>, p: Params) -> Result<Value, ErrorShape> {
    let p = p.closed(&["key", "runId", "agentId", "clearQueued"])?;
    let run_id = p.str("runId")?;
    let key = match p.str("key")? {
        Some(k) => resolve_key(core, &p, k, p.str("agentId")?)?.0,
        None => {
            let id =
                run_id.ok_or_else(|| p.invalid("at root: must have required property 'key'"))?;
            super::lock(&core.runs)
                .get(id)
                .map(|r| r.session_key.to_string())
                .ok_or_else(|| ErrorShape::invalid_request("agent run was not found"))?
        }
    };
    abort_key(core, &key, run_id).await
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
