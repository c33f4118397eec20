//! `chat.send`, `chat.history`, `chat.abort`, `chat.inject`, `agent`, `agent.wait` and `send`,
//! with OpenClaw's params (closed objects) and result shapes.

use std::sync::Arc;
use std::time::Duration;

use openclaw_core::message::{AssistantMessage, ContentBlock, Message, StopReason};
use openclaw_core::protocol::ErrorShape;
use openclaw_core::session::SessionManager;
use serde_json::{Value, json};

use super::Core;
use super::live::text_message;
use super::overrides::{RunOptions, attachments_of};
use super::refusals::{refuse_agent, refuse_chat_send};
use super::run::{TurnRequest, ensure_engine, outcome_of, recorded_outcome_of, spawn_run};
use super::runs::{Cached, Outcome};
use super::session_ops::check_session_id;
use crate::backend::CallContext;
use crate::state::now_ms;
use openclaw_core::protocol::chat::{
    AgentParams, ChatAbortParams, ChatSendParams, InjectParams, QueueMode, WaitParams,
};
use openclaw_core::protocol::params::{invalid, parse, result};

/// Resolves a session key and checks its agent exists.
pub(crate) fn resolve_key(
    core: &Core,
    key: &str,
    agent_hint: Option<&str>,
) -> Result<(String, String), ErrorShape> {
    let (key, agent) = core.canonical_key(key, agent_hint);
    if core.agent(&agent).is_none() {
        return Err(ErrorShape::invalid_request(format!(
            "unknown agent id \"{agent}\""
        )));
    }
    Ok((key, agent))
}

fn status_of(o: &Outcome) -> &'static str {
    match o.status {
        "ok" => "ok",
        "aborted" | "timeout" => "aborted",
        _ => "error",
    }
}

pub(crate) async fn chat_send(
    core: &Arc<Core>,
    params: Option<Value>,
    ctx: &CallContext,
) -> Result<Value, ErrorShape> {
    let p: ChatSendParams = parse("chat.send", params)?;
    refuse_chat_send(&p)?;
    let (key, agent) = resolve_key(core, &p.session_key, p.agent_id.as_deref())?;
    if let Some(id) = p.session_id.as_deref() {
        check_session_id(core, &key, Some(id), "sessionId")?;
    }
    let message = p.message;
    let idem = p.idempotency_key.to_string();
    if message.trim() == "/stop" {
        return abort_key(core, &key, None).await;
    }
    if p.suppress_command_interpretation != Some(true) {
        if let Some((cmd, args)) = super::commands::parse(&message) {
            let args = args.to_owned();
            return super::commands::start(core, ctx, (key, agent), (cmd, args), idem);
        }
    }
    let message = if p.suppress_command_interpretation != Some(true) {
        skill_invocation(core, &agent, message).await
    } else {
        message
    };
    let options = RunOptions {
        thinking: p.thinking,
        images: attachments_of("chat.send", p.attachments.as_deref())?,
        ..RunOptions::default()
    };
    if let Some(expected) = p.expected_leaf_entry_id.as_deref() {
        check_leaf(core, &key, expected)?;
    }
    match p.queue_mode {
        // Stop what runs on the session; this message runs next.
        Some(QueueMode::Interrupt) => {
            abort_key(core, &key, None).await?;
        }
        // Into the running turn, when there is one.
        Some(QueueMode::Steer) => {
            if let Some(steered) = steer_running(core, &key, &message, &options)? {
                return Ok(steered);
            }
        }
        Some(QueueMode::Collect) => {
            return Err(ErrorShape::invalid_request(
                "queueMode \"collect\" is not supported by this gateway; use followup (the \
                 message runs after the current run) or steer",
            ));
        }
        // `followup` (and no mode): after the runs already on the session.
        Some(QueueMode::Followup) | None => {}
    }
    let timeout = p.timeout_ms.map(|t| t.get()).filter(|t| *t > 0);
    start_chat_run(core, ctx, (key, agent), (idem, message), (options, timeout))
}

/// `/<skill command> args` or `/skill <name> args`: the message as OpenClaw gives it to the
/// model (read the skill first, then the request); any other message unchanged.
pub(crate) async fn skill_invocation(core: &Arc<Core>, agent: &str, message: String) -> String {
    if !message.trim_start().starts_with('/') {
        return message;
    }
    let Some(entry) = core.agent(agent) else {
        return message;
    };
    let config = core.settings().config.clone();
    let state_dir = core.state_dir.clone();
    let text = message.clone();
    let expanded = tokio::task::spawn_blocking(move || {
        crate::skills::AgentSkills::for_agent(&config, &state_dir, entry).expand_command(&text)
    })
    .await;
    match expanded {
        Ok(Some(text)) => text,
        Ok(None) => message,
        Err(e) => {
            tracing::warn!("skill command: {e}");
            message
        }
    }
}

/// Refuses a send whose `expectedLeafEntryId` is not the session's leaf.
fn check_leaf(core: &Core, key: &str, expected: &str) -> Result<(), ErrorShape> {
    let leaf = current_leaf(core, key)?;
    if leaf.as_deref() == Some(expected) {
        return Ok(());
    }
    Err(ErrorShape::invalid_request(format!(
        "session changed: expected leaf entry {expected}, the session's leaf is {}",
        leaf.as_deref().unwrap_or("(none)")
    )))
}

/// Starts (or finds, by idempotency key) the run of a `chat.send` and answers its ack.
fn start_chat_run(
    core: &Arc<Core>,
    ctx: &CallContext,
    (key, agent): (String, String),
    (idem, message): (String, String),
    (options, timeout): (RunOptions, Option<u64>),
) -> Result<Value, ErrorShape> {
    let dedupe = format!("chat:{idem}");
    match super::lock(&core.runs).claim(&dedupe) {
        Some(Cached::InFlight) => return Ok(json!({"runId": idem, "status": "in_flight"})),
        Some(Cached::Done(answer)) => return answer,
        None => {}
    }
    let ack = json!({"runId": idem, "status": "started"});
    let live = core.live_for(&key, &agent);
    let mut req = TurnRequest::from_call(
        ctx,
        idem.clone(),
        message,
        timeout.map(Duration::from_millis),
    );
    req.options = options;
    let rx = spawn_run(core, live, req);
    let core2 = core.clone();
    tokio::spawn(async move {
        if let Some(o) = outcome_of(rx).await {
            let answer = json!({"runId": idem, "status": status_of(&o)});
            super::lock(&core2.runs).finish(&dedupe, Ok(answer));
        }
    });
    Ok(ack)
}

/// Hands `message` to the run in progress on `key` (delivered after its current tool batch);
/// `None` when nothing runs there.
fn steer_running(
    core: &Core,
    key: &str,
    message: &str,
    options: &RunOptions,
) -> Result<Option<Value>, ErrorShape> {
    let Some(live) = core.live_if_any(key) else {
        return Ok(None);
    };
    let (Some(run_id), Some(engine)) = (live.current_run_id(), live.engine()) else {
        return Ok(None);
    };
    let input = openclaw_core::engine::PromptInput {
        text: message.to_owned(),
        images: options.images.clone(),
        ..Default::default()
    };
    engine
        .steer(input)
        .map_err(|e| ErrorShape::unavailable(e.to_string()))?;
    Ok(Some(json!({"runId": run_id, "status": "steered"})))
}

/// The id of the session's leaf entry: from its live engine, else from its transcript.
fn current_leaf(core: &Core, key: &str) -> Result<Option<String>, ErrorShape> {
    if let Some(engine) = core.live_if_any(key).and_then(|l| l.engine()) {
        return Ok(engine.leaf_id());
    }
    let Some(file) = core.row(key)?.and_then(|r| core.transcript_of(&r)) else {
        return Ok(None);
    };
    if !file.exists() {
        return Ok(None);
    }
    let manager =
        SessionManager::open(&file, "").map_err(|e| ErrorShape::unavailable(e.to_string()))?;
    Ok(manager.leaf_id().map(str::to_owned))
}

/// The answer of `chat.abort`, `sessions.abort` and `/stop`.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Aborted {
    pub ok: bool,
    pub aborted: bool,
    pub run_ids: Vec<String>,
}

/// Aborts the runs (running or queued) on `key`, or just `run_id`.
pub(crate) async fn abort_key(
    core: &Arc<Core>,
    key: &str,
    run_id: Option<&str>,
) -> Result<Value, ErrorShape> {
    let ids: Vec<String> = {
        let runs = super::lock(&core.runs);
        if let Some(id) = run_id {
            if let Some(r) = runs.get(id) {
                if &*r.session_key != key {
                    return Err(ErrorShape::invalid_request(
                        "runId does not match sessionKey",
                    ));
                }
            }
        }
        let ids: Vec<String> = runs
            .unfinished_on(key)
            .into_iter()
            .filter(|id| run_id.is_none_or(|r| r == id))
            .collect();
        for id in &ids {
            if let Some(c) = runs.get(id).and_then(|r| r.cancel.as_ref()) {
                c.cancel();
            }
        }
        ids
    };
    if let Some(live) = core.live_if_any(key) {
        let current = live.current_run_id();
        if current.as_ref().is_some_and(|c| ids.contains(c)) {
            if let Some(engine) = live.engine() {
                engine.abort().await;
            }
        }
    }
    result(Aborted {
        ok: true,
        aborted: !ids.is_empty(),
        run_ids: ids,
    })
}

/// `chat.abort` (`preserveSideRuns` changes nothing: this gateway starts no side runs).
pub(crate) async fn chat_abort(
    core: &Arc<Core>,
    params: Option<Value>,
) -> Result<Value, ErrorShape> {
    let p: ChatAbortParams = parse("chat.abort", params)?;
    let (key, _) = resolve_key(core, &p.session_key, p.agent_id.as_deref())?;
    abort_key(core, &key, p.run_id.as_deref()).await
}

pub(crate) async fn chat_inject(
    core: &Arc<Core>,
    params: Option<Value>,
) -> Result<Value, ErrorShape> {
    let p: InjectParams = parse("chat.inject", params)?;
    if p.label.as_ref().is_some_and(|l| l.chars().count() > 100) {
        return Err(invalid(
            "chat.inject",
            "label",
            "must NOT have more than 100 characters",
        ));
    }
    let message = p.message.to_string();
    let (key, agent) = resolve_key(core, &p.session_key, p.agent_id.as_deref())?;
    let live = core.live_for(&key, &agent);
    let _turn = live.run_lock.lock().await;
    let engine = ensure_engine(core, &live)
        .await
        .map_err(ErrorShape::unavailable)?;
    let state = engine.state();
    let model = engine.agent().model();
    // The transcript is appended to directly; the next run reloads it.
    live.drop_engine();
    let file = state
        .session_file
        .ok_or_else(|| ErrorShape::unavailable("the session has no transcript file"))?;
    let mut manager = SessionManager::open(&file, &engine.cwd().to_string_lossy())
        .map_err(|e| ErrorShape::unavailable(e.to_string()))?;
    let mut msg = AssistantMessage::empty(&model.api, &model.provider, &model.id);
    msg.content = vec![ContentBlock::text(message.clone())];
    msg.stop_reason = StopReason::Stop;
    let ts = msg.timestamp;
    let message_id = manager
        .append_message(Message::Assistant(msg))
        .map_err(|e| ErrorShape::unavailable(e.to_string()))?;
    if let Some(sink) = core.sink() {
        sink.broadcast_run_event(
            "chat",
            json!({"runId": format!("inject-{message_id}"), "sessionKey": key, "agentId": agent,
                "seq": 0, "state": "final", "message": text_message(&message, ts.max(0) as u64)}),
            None,
        );
    }
    Ok(json!({"ok": true, "messageId": message_id}))
}

fn agent_final(run_id: &str, o: &Outcome) -> Result<Value, ErrorShape> {
    let (status, summary) = match o.status {
        "ok" => ("ok", "completed"),
        "aborted" => ("ok", "aborted"),
        "timeout" => ("timeout", "aborted"),
        _ => ("error", "failed"),
    };
    let mut v = json!({
        "runId": run_id,
        "status": status,
        "summary": summary,
        "stopReason": o.stop_reason,
        "result": {
            "payloads": if o.text.is_empty() { json!([]) } else { json!([{"text": o.text, "mediaUrl": null}]) },
            "meta": {
                "durationMs": o.ended_at.saturating_sub(o.started_at),
                "agentMeta": {"sessionId": o.session_id, "provider": o.provider, "model": o.model},
                "stopReason": o.stop_reason,
            },
        },
    });
    if status == "timeout" {
        v["timeoutPhase"] = json!("run");
    }
    if let Some(e) = &o.error {
        v["error"] = json!(e);
        return Err(ErrorShape::unavailable(e.clone()).with_details(v));
    }
    Ok(v)
}

/// The session an `agent` call runs on: `sessionKey`, else the session whose id is
/// `sessionId`, else the agent's main session.
fn agent_session(core: &Core, p: &AgentParams) -> Result<(String, String), ErrorShape> {
    let agent_hint = p.agent_id.as_deref();
    let key = match (&p.session_key, &p.session_id) {
        (Some(k), _) => k.to_string(),
        (None, Some(id)) => core
            .index()
            .session_by_id(id)
            .map_err(super::store::unavailable)?
            .map(|r| r.key)
            .ok_or_else(|| ErrorShape::invalid_request(format!("No session found: {}", &**id)))?,
        (None, None) => format!(
            "agent:{}:main",
            agent_hint.map_or_else(|| core.default_agent(), str::to_owned)
        ),
    };
    let (key, agent) = resolve_key(core, &key, agent_hint)?;
    if let Some(a) = agent_hint.filter(|a| *a != agent) {
        return Err(ErrorShape::invalid_request(format!(
            "sessionKey agent ({agent}) does not match agentId ({a})"
        )));
    }
    if let (Some(_), Some(id)) = (&p.session_key, &p.session_id) {
        check_session_id(core, &key, Some(id), "sessionId")?;
    }
    Ok((key, agent))
}

/// `agent`: a run answered twice (accepted, then final). `disableMessageTool` changes nothing:
/// this gateway has no message tool.
pub(crate) async fn agent(
    core: &Arc<Core>,
    params: Option<Value>,
    ctx: CallContext,
) -> Result<Value, ErrorShape> {
    let p: AgentParams = parse("agent", params)?;
    refuse_agent(&p)?;
    let (key, agent) = agent_session(core, &p)?;
    check_session_id(
        core,
        &key,
        p.expected_existing_session_id.as_deref(),
        "expectedExistingSessionId",
    )?;
    let non_empty = |s: &Option<String>| s.clone().filter(|m| !m.is_empty());
    let options = RunOptions {
        thinking: p.thinking,
        model: non_empty(&p.model),
        provider: non_empty(&p.provider),
        extra_system_prompt: p.extra_system_prompt.clone(),
        images: attachments_of("agent", p.attachments.as_deref())?,
        light_context: None,
    };
    if let Some(label) = &p.label {
        core.set_label(&key, &agent, label)?;
    }
    let idem = p.idempotency_key.to_string();
    let accepted = json!({"runId": idem, "sessionKey": key, "agentId": agent,
        "status": "accepted", "acceptedAt": now_ms()});
    let dedupe = format!("agent:{idem}");
    match super::lock(&core.runs).claim(&dedupe) {
        Some(Cached::InFlight) => return Ok(accepted),
        Some(Cached::Done(answer)) => return answer,
        None => {}
    }
    let live = core.live_for(&key, &agent);
    let timeout = p.timeout.map(|t| t.get()).filter(|t| *t > 0);
    // A leading skill command becomes model instructions, as OpenClaw's generic agent turns do.
    let message = skill_invocation(core, &agent, p.message.to_string()).await;
    let mut req = TurnRequest::from_call(
        &ctx,
        idem.clone(),
        message,
        timeout.map(Duration::from_secs),
    );
    req.options = options;
    let rx = spawn_run(core, live, req);
    let core2 = core.clone();
    tokio::spawn(async move {
        let Some(o) = outcome_of(rx).await else {
            return;
        };
        let answer = agent_final(&idem, &o);
        super::lock(&core2.runs).finish(&dedupe, answer.clone());
        ctx.first_response_sent().await;
        ctx.respond_again(answer);
    });
    Ok(accepted)
}

pub(crate) async fn agent_wait(
    core: &Arc<Core>,
    params: Option<Value>,
) -> Result<Value, ErrorShape> {
    let p: WaitParams = parse("agent.wait", params)?;
    let run_id = p.run_id.to_string();
    let timeout = p.timeout_ms.map_or(30_000, |t| t.get());
    let rx = super::lock(&core.runs).watch(&run_id);
    let Some(rx) = rx else {
        return Err(ErrorShape::invalid_request("agent run was not found"));
    };
    match tokio::time::timeout(Duration::from_millis(timeout), recorded_outcome_of(rx)).await {
        Ok(Some(o)) => Ok(o.wait_payload(&run_id)),
        _ => Ok(json!({"runId": run_id, "status": "timeout"})),
    }
}
