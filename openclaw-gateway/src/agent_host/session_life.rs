//! `sessions.*` lifecycle, one handler per method: create, patch (typed fields, one row
//! update), reset (the old transcript archived as `*.reset.<ts>`), delete (row removed,
//! transcript archived as `*.deleted.<ts>` or removed), compact, and runs addressed by session
//! (`sessions.send` / `steer` / `abort`).

use std::path::Path;
use std::sync::Arc;

use openclaw_core::engine::PromptInput;
use openclaw_core::protocol::ErrorShape;
use openclaw_core::protocol::params::{Change, NonEmpty, result};
use openclaw_core::protocol::sessions::{
    AbortParams, CompactParams, CreateParams, DeleteParams, PatchParams, ResetParams, SendParams,
};
use openclaw_state::SessionRow;
use serde::Serialize;
use serde_json::Value;

use super::Core;
use super::chat::{Aborted, abort_key, resolve_key};
use super::overrides::{RunOptions, attachments_of, check_model};
use super::run::{TurnRequest, ensure_engine, spawn_run};
use super::session_ops::{Compacted, Guards, check_lifecycle, compact_lines};
use super::store::unavailable;
use crate::backend::CallContext;
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

/// `cron.sessionRetention`: removes up to `limit` isolated cron run sessions last updated
/// before `cutoff_ms`, their transcripts archived (`.deleted.<ts>`); a session with a run in
/// progress stays. Returns how many went.
pub(crate) async fn prune_cron_runs(core: &Arc<Core>, cutoff_ms: u64, limit: usize) -> usize {
    let rows = match core.index().cron_run_sessions_before(cutoff_ms, limit) {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!("cron: session retention sweep failed: {e}");
            return 0;
        }
    };
    let mut pruned = 0;
    for row in rows {
        if let Some(live) = core.live_if_any(&row.key) {
            if live.current_run_id().is_some() {
                continue;
            }
            let _turn = live.run_lock.lock().await;
            live.drop_engine();
            core.forget_live(&row.key);
        }
        match core.index().delete_session(&row.key) {
            Ok(Some(removed)) => {
                if let Some(file) = core.transcript_of(&removed) {
                    archive(&file, "deleted");
                }
                core.session_changed(&row.key, &row.agent_id, "delete", None);
                pruned += 1;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("cron: cannot prune {}: {e}", row.key),
        }
    }
    pruned
}

/// Refuses a hook request: this gateway runs no command or lifecycle hooks.
fn refuse_hooks(name: &str, on: Option<bool>) -> Result<(), ErrorShape> {
    if on == Some(true) {
        return Err(ErrorShape::invalid_request(format!(
            "{name}: no hooks are configured on this gateway"
        )));
    }
    Ok(())
}

/// `sessions.create`'s answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateResult<'a> {
    ok: bool,
    key: &'a str,
    session_id: Option<&'a str>,
    entry: &'a SessionRow,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<String>,
}

/// `sessions.create`: a session with a transcript, optionally starting a run.
pub(crate) async fn create(
    core: &Arc<Core>,
    p: CreateParams,
    ctx: &CallContext,
) -> Result<Value, ErrorShape> {
    refuse_hooks("emitCommandHooks", p.emit_command_hooks)?;
    let agent_hint = p.agent_id.as_deref();
    let raw = match &p.key {
        Some(k) => k.to_string(),
        None => format!(
            "agent:{}:session-{}",
            agent_hint.map_or_else(|| core.default_agent(), str::to_owned),
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ),
    };
    let (key, agent) = resolve_key(core, &raw, agent_hint)?;
    if let Some(a) = agent_hint.filter(|a| *a != agent) {
        return Err(ErrorShape::invalid_request(format!(
            "sessions.create key agent ({agent}) does not match agentId ({a})"
        )));
    }
    let model = p.model.as_ref().map(|m| Change::Set(m.clone()));
    if let Some(m) = &p.model {
        check_model(&core.settings().config, &core.state_dir, m)?;
    }
    let live = core.live_for(&key, &agent);
    {
        let _turn = live.run_lock.lock().await;
        ensure_engine(core, &live)
            .await
            .map_err(ErrorShape::unavailable)?;
    }
    let row = core.update_row(&key, |r| {
        if let Some(l) = &p.label {
            r.label = Some(l.to_string());
        }
        if let Some(m) = &model {
            apply_model(r, m);
        }
        if let Some(parent) = &p.parent_session_key {
            r.spawned_by = Some(parent.to_string());
        }
    })?;
    let run_id = p.message.as_ref().or(p.task.as_ref()).map(|msg| {
        let run_id = p
            .idempotency_key
            .as_ref()
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), |k| k.to_string());
        start(core, (&key, &agent), msg, &run_id, ctx, Default::default());
        run_id
    });
    result(CreateResult {
        ok: true,
        key: &key,
        session_id: row.session_id.as_deref(),
        entry: &row,
        run_id,
    })
}

/// A `sessions.patch` field this gateway cannot carry out unless it is cleared or set to the
/// value that means "nothing to do" (`default`).
fn refuse_text(name: &str, c: &Change<String>, default: &str, why: &str) -> Result<(), ErrorShape> {
    match c.set() {
        Some(v) if v != default => Err(ErrorShape::invalid_request(format!(
            "{name} \"{v}\" is not supported: {why}"
        ))),
        _ => Ok(()),
    }
}

/// Refuses the `sessions.patch` fields that would change nothing here: each is accepted only
/// with the value that is a no-op by definition (or `null`).
fn refuse_unsupported(p: &PatchParams) -> Result<(), ErrorShape> {
    if p.fast_mode.set() == Some(&true) {
        return Err(ErrorShape::invalid_request(
            "fastMode: no model provider of this gateway has a fast mode",
        ));
    }
    let no_channels = "no channels are configured on this gateway";
    refuse_text(
        "verboseLevel",
        &p.verbose_level,
        "off",
        "this gateway sends no tool summaries into the chat (tool events are on the agent stream)",
    )?;
    refuse_text(
        "traceLevel",
        &p.trace_level,
        "off",
        "this gateway keeps no traces",
    )?;
    refuse_text(
        "reasoningLevel",
        &p.reasoning_level,
        "off",
        "reasoning is not sent as separate chat messages by this gateway",
    )?;
    refuse_text(
        "responseUsage",
        &p.response_usage,
        "off",
        "replies carry no usage footer here (usage.status reports usage)",
    )?;
    refuse_text(
        "elevatedLevel",
        &p.elevated_level,
        "off",
        "there is no elevated mode",
    )?;
    refuse_text(
        "execHost",
        &p.exec_host,
        "gateway",
        "commands run on the gateway host",
    )?;
    refuse_text(
        "execNode",
        &p.exec_node,
        "",
        "no nodes are connected to this gateway",
    )?;
    refuse_text("sendPolicy", &p.send_policy, "", no_channels)?;
    refuse_text("groupActivation", &p.group_activation, "", no_channels)?;
    if let Some(w) = p.context_window.set() {
        return Err(ErrorShape::invalid_request(format!(
            "contextWindow {w} is not supported: the model's own context window is used"
        )));
    }
    Ok(())
}

/// `sessions.patch`'s answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PatchResult<'a> {
    ok: bool,
    path: String,
    key: &'a str,
    entry: &'a SessionRow,
    resolved: Resolved,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Resolved {
    model_provider: Option<String>,
    model: Option<String>,
}

/// Writes the patch's fields into the row.
fn apply_patch(r: &mut SessionRow, p: &PatchParams) {
    let m = &mut r.meta;
    p.label.apply(&mut r.label);
    match &p.thinking_level {
        Change::Keep => {}
        Change::Clear => m.thinking_level = None,
        Change::Set(l) => m.thinking_level = Some(l.as_str().to_owned()),
    }
    p.verbose_level.apply(&mut m.verbose_level);
    p.reasoning_level.apply(&mut m.reasoning_level);
    p.elevated_level.apply(&mut m.elevated_level);
    p.send_policy.apply(&mut m.send_policy);
    p.fast_mode.apply(&mut m.fast_mode);
    p.icon.apply(&mut m.icon);
    p.color.apply(&mut m.color);
    p.category.apply(&mut m.category);
    p.pinned.apply(&mut m.pinned);
    p.archived.apply(&mut m.archived);
    p.unread.apply(&mut m.unread);
    apply_model(r, &p.model);
    r.updated_at = now_ms();
}

/// `sessions.patch`: typed fields applied to the row in one update; the model and thinking
/// level apply to the session's next run, fields with nothing to act on are refused.
pub(crate) fn patch(core: &Arc<Core>, p: PatchParams) -> Result<Value, ErrorShape> {
    refuse_unsupported(&p)?;
    let (key, agent) = resolve_key(core, &p.key, p.agent_id.as_deref())?;
    let guards = Guards {
        session_id: p.expected_session_id.as_deref(),
        ..Guards::default()
    };
    check_lifecycle(core, &guards, &key)?;
    if let Some(m) = p.model.set() {
        check_model(&core.settings().config, &core.state_dir, m)?;
    }
    let row = core.update_row(&key, |r| apply_patch(r, &p))?;
    if !p.model.is_keep() {
        // The next run starts an engine with the new model.
        if let Some(l) = core.live_if_any(&key).filter(|l| l.is_idle()) {
            l.drop_engine();
        }
    }
    core.session_changed(&key, &agent, "patch", None);
    let m = &row.meta;
    result(PatchResult {
        ok: true,
        path: core.index().location(),
        key: &key,
        entry: &row,
        resolved: Resolved {
            model_provider: m.provider_override.clone().or(m.model_provider.clone()),
            model: m.model_override.clone().or(m.model.clone()),
        },
    })
}

fn apply_model(r: &mut SessionRow, model: &Change<NonEmpty>) {
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
            None => r.meta.model_override = Some(m.to_string()),
        },
    }
}

/// An answer carrying the session's row (`sessions.reset`).
#[derive(Serialize)]
struct EntryResult<'a> {
    ok: bool,
    key: &'a str,
    entry: Option<&'a SessionRow>,
}

/// `sessions.reset`: a fresh transcript under the same key, the old one archived (`reason`
/// `new` and `reset` do the same here, as in OpenClaw without hooks).
pub(crate) async fn reset(core: &Arc<Core>, p: ResetParams) -> Result<Value, ErrorShape> {
    let (key, agent) = resolve_key(core, &p.key, p.agent_id.as_deref())?;
    let guards = Guards {
        session_id: p.expected_session_id.as_deref(),
        ..Guards::default()
    };
    check_lifecycle(core, &guards, &key)?;
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
    let entry = core.row(&key)?;
    core.session_changed(&key, &agent, "reset", None);
    result(EntryResult {
        ok: true,
        key: &key,
        entry: entry.as_ref(),
    })
}

/// `sessions.delete`'s answer.
#[derive(Serialize)]
struct DeleteResult<'a> {
    ok: bool,
    key: &'a str,
    deleted: bool,
    archived: Vec<String>,
}

/// `sessions.delete`: the row removed, its transcript archived (or removed).
pub(crate) async fn delete(core: &Arc<Core>, p: DeleteParams) -> Result<Value, ErrorShape> {
    refuse_hooks("emitLifecycleHooks", p.emit_lifecycle_hooks)?;
    let (key, agent) = resolve_key(core, &p.key, p.agent_id.as_deref())?;
    let guards = Guards {
        session_id: p.expected_session_id.as_deref(),
        lifecycle_revision: p.expected_lifecycle_revision.is_some(),
        updated_at: p.expected_session_updated_at.map(|a| a.get()),
        archived_only: p.archived_only == Some(true),
    };
    check_lifecycle(core, &guards, &key)?;
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
        if p.delete_transcript == Some(true) {
            if let Err(e) = std::fs::remove_file(&file) {
                tracing::warn!("cannot remove {}: {e}", file.display());
            }
        } else if let Some(a) = archive(&file, "deleted") {
            archived.push(a);
        }
    }
    core.session_changed(&key, &agent, "delete", None);
    result(DeleteResult {
        ok: true,
        key: &key,
        deleted: removed.is_some(),
        archived,
    })
}

/// `sessions.compact`: summarises the older part of the conversation.
pub(crate) async fn compact(core: &Arc<Core>, p: CompactParams) -> Result<Value, ErrorShape> {
    let (key, agent) = resolve_key(core, &p.key, p.agent_id.as_deref())?;
    let row = core.existing_row(&key)?;
    let live = core.live_for(&key, &agent);
    let _turn = live.run_lock.lock().await;
    if let Some(max) = p.max_lines {
        return compact_lines(core, (&key, &agent), &live, &row, max.usize());
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
            result(Compacted {
                ok: true,
                key: &key,
                compacted: true,
                result: Some(r),
                ..Compacted::default()
            })
        }
        Err(e) => result(Compacted::not(&key, e.to_string())),
    }
}

/// `sessions.send` / `sessions.steer`'s answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SendResult<'a> {
    status: &'static str,
    run_id: String,
    key: &'a str,
}

/// `sessions.send` / `sessions.steer`: a run on the session (steering a running one).
pub(crate) fn send(
    core: &Arc<Core>,
    p: SendParams,
    method: &str,
    ctx: &CallContext,
) -> Result<Value, ErrorShape> {
    let (key, agent) = resolve_key(core, &p.key, p.agent_id.as_deref())?;
    let options = RunOptions {
        thinking: p.thinking,
        images: attachments_of(method, p.attachments.as_deref())?,
        ..RunOptions::default()
    };
    if method == "sessions.steer" {
        if let Some(live) = core.live_if_any(&key) {
            if let (Some(run_id), Some(engine)) = (live.current_run_id(), live.engine()) {
                let input = PromptInput {
                    text: p.message.to_string(),
                    images: options.images.clone(),
                    ..Default::default()
                };
                engine
                    .steer(input)
                    .map_err(|e| ErrorShape::unavailable(e.to_string()))?;
                let (status, key) = ("steered", &key);
                return result(SendResult {
                    status,
                    run_id,
                    key,
                });
            }
        }
    }
    let run_id = p
        .idempotency_key
        .as_ref()
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), |k| k.to_string());
    let timeout = p
        .timeout_ms
        .map(|t| t.get())
        .filter(|t| *t > 0)
        .map(std::time::Duration::from_millis);
    start(
        core,
        (&key, &agent),
        &p.message,
        &run_id,
        ctx,
        (options, timeout),
    );
    result(SendResult {
        status: "started",
        run_id,
        key: &key,
    })
}

/// `sessions.abort`: the runs on a key (`clearQueued: false` keeps the queued ones and stops
/// only the running one), or one run.
pub(crate) async fn abort(core: &Arc<Core>, p: AbortParams) -> Result<Value, ErrorShape> {
    let run_id = p.run_id.as_deref();
    let key = match &p.key {
        Some(k) => resolve_key(core, k, p.agent_id.as_deref())?.0,
        None => {
            let id = run_id.ok_or_else(|| {
                ErrorShape::invalid_params(
                    "sessions.abort",
                    "at root: must have required property 'key'",
                )
            })?;
            super::lock(&core.runs)
                .get(id)
                .map(|r| r.session_key.to_string())
                .ok_or_else(|| ErrorShape::invalid_request("agent run was not found"))?
        }
    };
    if run_id.is_none() && p.clear_queued == Some(false) {
        let running = core.live_if_any(&key).and_then(|l| l.current_run_id());
        return match running {
            Some(id) => abort_key(core, &key, Some(&id)).await,
            None => result(Aborted {
                ok: true,
                aborted: false,
                run_ids: Vec::new(),
            }),
        };
    }
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
