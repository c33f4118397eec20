//! Running a turn on a session key: wait for the key's run lock (runs on one key are
//! serialised, different keys run in parallel), then for a permit of the run's lane
//! (`lanes`: how many runs execute at once), start the engine if needed, stream the run as
//! events, then record the outcome in the session index and the run table.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use openclaw_core::engine::{Engine, EngineConfig, PromptInput, SessionTarget};
use openclaw_core::exec_policy::{Approver, ExecPolicy, GateContext};
use openclaw_core::message::StopReason;
use openclaw_state::TurnRecord;
use serde_json::{Map, json};
use tokio::sync::watch;

use super::Core;
use super::lanes::Admission;
use super::live::{Live, RunSpec, RunState, text_message};
use super::overrides::{self, RunOptions};
use super::runs::{Outcome, RunResult};
use super::store::started;
use super::workspace;
use crate::approvals::TurnOrigin;
use crate::state::now_ms;

/// The live engine of `live`, started from its transcript (or a new one) when absent. A live
/// engine whose index row was deleted or replaced meanwhile (`openclaw sessions delete` while
/// the gateway runs) is dropped: the next turn starts a new transcript instead of appending
/// to a removed one.
pub(crate) async fn ensure_engine(core: &Arc<Core>, live: &Arc<Live>) -> Result<Engine, String> {
    let row = core.row(&live.key).map_err(|e| e.message)?;
    let generation = core.generation.load(Ordering::Acquire);
    if let Some(e) = live.engine() {
        let same = row
            .as_ref()
            .is_some_and(|r| r.session_id.as_deref() == Some(e.state().session_id.as_str()));
        // Started under an older config: restart it from its transcript (never mid-run).
        let current = live.generation.load(Ordering::Acquire) == generation || e.is_streaming();
        if same && current {
            return Ok(e);
        }
        live.drop_engine();
    }
    let settings = core.settings();
    let agent = settings
        .agent(&live.agent_id)
        .ok_or_else(|| format!("unknown agent id \"{}\"", live.agent_id))?
        .clone();
    let ws = PathBuf::from(&agent.workspace);
    workspace::seed(&ws, &agent.id, settings.skip_bootstrap)
        .map_err(|e| format!("cannot prepare the workspace {}: {e}", ws.display()))?;
    let file = row.as_ref().and_then(|r| core.transcript_of(r));
    let dir = core.sessions_dir(&agent.id);
    let mut cfg = EngineConfig::new(ws.clone());
    cfg.state_dir = core.state_dir.clone();
    // Many engines start from the same config: parse it (and build the model registry) once.
    cfg.reuse_config = true;
    cfg.session = Some(match &file {
        Some(f) => SessionTarget::Open(f.clone()),
        None => SessionTarget::NewIn(dir.clone()),
    });
    let model_override = row.as_ref().and_then(|r| {
        let m = r.meta.model_override.as_deref()?;
        Some(match r.meta.provider_override.as_deref() {
            Some(p) => format!("{p}/{m}"),
            None => m.to_owned(),
        })
    });
    cfg.model = model_override.or(agent.model_primary.clone());
    cfg.exec = Some(agent.exec.clone());
    cfg.exec_target = settings.exec_target(&agent.id, &live.key, &ws);
    let runs = live.current.clone();
    let origin: crate::approvals::TurnOriginOf = Arc::new(move || {
        openclaw_core::sync::lock(&runs)
            .as_ref()
            .map(|r| TurnOrigin {
                run_id: Some(r.run_id.clone()),
                channel: Some(r.channel.to_owned()),
                to: Some(r.session_key.clone()),
            })
            .unwrap_or_default()
    });
    let at = (Some(live.key.as_str()), Some(origin));
    cfg.exec_gate = Some(exec_gate(core, &settings.config, &agent.id, at, &ws)?);
    cfg.tools = settings.tools_for(&agent.id);
    // OpenClaw's places for this agent (workspace, state dir, extra dirs), its allowlist applied.
    let skills =
        crate::skills::AgentSkills::for_agent(&settings.config, &core.state_dir, agent.clone());
    cfg.skills = openclaw_core::engine::SkillSetting::Catalog(Arc::new(skills.catalog));
    let mut extra = core.mcp_tools(&agent.id).await;
    extra.extend(core.memory_tools(&agent.id));
    cfg.extra_tools = openclaw_core::engine::ExtraTools(extra);
    // OpenClaw's pre-compaction memory flush (`agents.defaults.compaction.memoryFlush`), when
    // the agent can write its workspace.
    if openclaw_memory::memory_flush_enabled(&settings.config)
        && !matches!(
            cfg.exec_target,
            openclaw_core::sandbox::ExecTarget::Refuse(_)
        )
    {
        cfg.memory_flush = Some(openclaw_core::engine::MemoryFlush {
            prompt: Arc::new(|| {
                let plan = openclaw_memory::flush_plan_now();
                (plan.prompt, plan.system_prompt)
            }),
            soft_threshold_tokens: openclaw_memory::memory_flush_soft_tokens(&settings.config),
        });
    }
    cfg.append_system_prompt = Some(workspace::project_context(
        &ws,
        settings.per_file_chars,
        settings.total_chars,
    ));
    let (engine, warnings) = Engine::start(cfg).await.map_err(|e| e.to_string())?;
    for w in warnings {
        tracing::warn!("agent {}: {w}", agent.id);
    }
    super::a2a::install(core, live, &engine);
    super::automations::install(core, live, &engine);
    let current = live.current.clone();
    let sub = engine.subscribe(move |event| {
        if let Some(run) = openclaw_core::sync::lock(&current).as_mut() {
            run.on_event(event);
        }
    });
    let state = engine.state();
    let known = row
        .as_ref()
        .is_some_and(|r| file.is_some() && r.session_id.as_deref() == Some(&state.session_id));
    if !known {
        let path = state
            .session_file
            .clone()
            .unwrap_or_else(|| dir.join(format!("{}.jsonl", state.session_id)));
        let rel = openclaw_state::paths::to_relative(&core.state_dir, &path);
        let new_row = started(row, &live.key, &agent.id, &state.session_id, rel);
        core.index()
            .put_session(&new_row)
            .map_err(|e| e.to_string())?;
        core.session_changed(&live.key, &agent.id, "create", None);
    }
    live.set_engine(engine.clone(), sub);
    live.generation.store(generation, Ordering::Release);
    Ok(engine)
}

/// The exec policy gate of an agent's engine: its `tools.exec` policy, the host approvals
/// document, and the gateway's approval clients to ask (each request names the turn `origin`
/// gives at the time).
pub(crate) fn exec_gate(
    core: &Core,
    config: &serde_json::Value,
    agent_id: &str,
    (session_key, origin): (Option<&str>, Option<crate::approvals::TurnOriginOf>),
    workspace: &std::path::Path,
) -> Result<Arc<GateContext>, String> {
    let policy = ExecPolicy::from_config(config, Some(agent_id))?;
    let mut gate = GateContext::new(policy, agent_id, workspace.to_owned());
    gate.approvals_path = Some(openclaw_core::exec_policy::document::path_in(
        &core.state_dir,
    ));
    gate.session_key = session_key.map(str::to_owned);
    gate.approver = core.sink.get().and_then(|s| s.approvals()).map(|a| {
        let approver = crate::approvals::GatewayApprover::new(a);
        let approver = match origin {
            Some(f) => approver.with_origin(f),
            None => approver,
        };
        Arc::new(approver) as Arc<dyn Approver>
    });
    Ok(Arc::new(gate))
}

/// What a caller asks to run.
pub(crate) struct TurnRequest {
    pub spec: RunSpec,
    pub message: String,
    /// The call's overrides and images.
    pub options: RunOptions,
    pub timeout: Option<Duration>,
    /// The call whose first `res` must go out before the run's first event.
    pub gate: Option<crate::backend::CallContext>,
    /// A heartbeat turn: its `ackMaxChars`. A silent acknowledgement is pruned from the
    /// transcript before the key's run lock is released.
    pub heartbeat_ack: Option<usize>,
}

impl TurnRequest {
    /// A user run asked for by a client's call (`chat.send`, `agent`): its events go to that
    /// connection, and its first event waits for the call's first response.
    pub fn from_call(
        ctx: &crate::backend::CallContext,
        run_id: String,
        message: String,
        timeout: Option<Duration>,
    ) -> TurnRequest {
        TurnRequest {
            spec: RunSpec {
                run_id,
                origin: Some(ctx.conn_id().to_owned()),
                channel: super::live::CHANNEL_WEBCHAT,
                admin: ctx.has_scope(openclaw_core::protocol::scopes::Scope::Admin),
                depth: 0,
                chain: Vec::new(),
                tap: None,
            },
            message,
            options: RunOptions::default(),
            timeout,
            gate: Some(ctx.clone()),
            heartbeat_ack: None,
        }
    }
}

/// Runs one turn to its end (waiting for earlier runs on the key first).
pub(crate) async fn execute(core: &Arc<Core>, live: Arc<Live>, req: TurnRequest) -> Outcome {
    if let Some(ctx) = &req.gate {
        ctx.first_response_sent().await;
    }
    let run_id = req.spec.run_id.clone();
    let cancel = {
        let runs = super::lock(&core.runs);
        runs.get(&run_id).and_then(|r| r.cancel.clone())
    };
    live.pending.fetch_add(1, Ordering::AcqRel);
    let outcome = {
        let _turn = live.run_lock.lock().await;
        live.touch();
        let admission = core
            .lanes
            .admit(req.spec.depth, cancel.as_ref(), &core.stop)
            .await;
        let stopped =
            || cancel.as_ref().is_some_and(|c| c.is_cancelled()) || core.stop.is_cancelled();
        match admission {
            Admission::Admitted(permit) if !stopped() => {
                let ack = req.heartbeat_ack;
                let before = ack.map(|_| super::heartbeat_turn::snapshot(core, &live));
                let outcome = turn(core, &live, req).await;
                if let (Some(max), Some(before)) = (ack, before) {
                    super::heartbeat_turn::prune_if_silent(core, &live, before, &outcome, max);
                }
                drop(permit);
                outcome
            }
            _ => aborted_before_start(core, &live, &req),
        }
    };
    live.touch();
    live.pending.fetch_sub(1, Ordering::AcqRel);
    // The table keeps what `agent.wait` reports; the caller gets the whole outcome.
    super::lock(&core.runs).complete(&run_id, outcome.result());
    core.evict();
    outcome
}

fn aborted_before_start(core: &Arc<Core>, live: &Arc<Live>, req: &TurnRequest) -> Outcome {
    let mut run = RunState::new(&req.spec, live, String::new(), core.sink());
    let now = now_ms();
    run.chat_event(
        "aborted",
        Map::from_iter([("stopReason".into(), json!("aborted"))]),
    );
    Outcome {
        status: "aborted",
        text: String::new(),
        stop_reason: "aborted",
        error: None,
        session_id: String::new(),
        provider: None,
        model: None,
        started_at: now,
        ended_at: now,
        usage: None,
    }
}

async fn turn(core: &Arc<Core>, live: &Arc<Live>, req: TurnRequest) -> Outcome {
    let started_at = now_ms();
    // The engine with the session's settings and the call's overrides applied (undone below).
    let engine = match ensure_engine(core, live).await {
        Ok(e) => apply_overrides(core, live, &e, &req).map(|saved| (e, saved)),
        Err(e) => Err(e),
    };
    let session_id = engine
        .as_ref()
        .map(|(e, _)| e.state().session_id)
        .unwrap_or_default();
    {
        let mut run = RunState::new(&req.spec, live, session_id.clone(), core.sink());
        run.agent_event(
            "lifecycle",
            json!({"phase": "start", "startedAt": started_at}),
        );
        if let Ok((e, _)) = &engine {
            let m = e.agent().model();
            run.agent_event(
                "lifecycle",
                json!({"phase": "model", "provider": m.provider, "model": m.id}),
            );
        }
        *openclaw_core::sync::lock(&live.current) = Some(run);
    }
    // The caller's timeout, else the agent's (`timeoutSeconds`, OpenClaw's 600 s by default).
    let timeout = req
        .timeout
        .or_else(|| core.agent(&live.agent_id).and_then(|a| a.run_timeout));
    let (result, used) = match engine {
        Ok((engine, saved)) => {
            let result = drive(&engine, &req, timeout).await;
            // The model the turn ran on, before a call's override is undone.
            let used = engine.agent().model();
            if let Some(saved) = saved {
                overrides::restore(&engine, saved);
            }
            (result, Some(used))
        }
        Err(e) => (Err(e), None),
    };
    let run = openclaw_core::sync::lock(&live.current).take();
    let Some(mut run) = run else {
        return failed(started_at, session_id, "run state lost".into());
    };
    let (model, provider, window) = used
        .map(|m| (Some(m.id), Some(m.provider), Some(m.context_window)))
        .unwrap_or((None, None, None));
    let last = run.last_assistant().cloned();
    let (status, stop_reason, error) = match (&result, &last) {
        (Err(e), _) if e == "timeout" => ("timeout", "timeout", None),
        (Err(e), _) => ("error", "error", Some(e.clone())),
        (Ok(()), Some(a)) => match a.stop_reason {
            StopReason::Aborted => ("aborted", "aborted", None),
            StopReason::Error => (
                "error",
                "error",
                Some(
                    a.error_message
                        .clone()
                        .unwrap_or_else(|| "model error".into()),
                ),
            ),
            StopReason::Length => ("ok", "length", None),
            _ => ("ok", "stop", None),
        },
        (Ok(()), None) => ("ok", "stop", None),
    };
    let text = last.as_ref().map(|a| a.text()).unwrap_or_default();
    let ended_at = now_ms();
    // As OpenClaw orders them: lifecycle end, the last delta (when needed), then the terminal chat event.
    let mut end = json!({"phase": if status == "error" { "error" } else { "end" },
        "startedAt": started_at, "endedAt": ended_at,
        "aborted": status == "aborted" || status == "timeout", "stopReason": stop_reason});
    let timed_out = (status == "timeout").then(|| {
        let secs = timeout.map_or(0, |t| t.as_secs_f64().ceil() as u64);
        format!("agent run timed out after {secs}s")
    });
    if let Some(e) = error.as_ref().or(timed_out.as_ref()) {
        end["error"] = json!(e);
    }
    run.agent_event("lifecycle", end);
    // The terminal event below carries the whole text when there is one; a delta repeating it
    // just before would double the reply's bytes on the wire.
    if text.is_empty() || !matches!(status, "ok" | "aborted" | "timeout") {
        run.flush_delta(true);
    }
    let ts = last
        .as_ref()
        .map_or(ended_at, |a| a.timestamp.max(0) as u64);
    let mut extra = Map::new();
    match status {
        "ok" => {
            extra.insert("stopReason".into(), json!(stop_reason));
            let mut message = text_message(&text, ts);
            // v4 clients match this live reply to its stored copy (chat.history stamps the same).
            message["__openclaw"] = json!({"runId": run.run_id, "idempotencyKey": run.run_id});
            extra.insert("message".into(), message);
            run.chat_event("final", extra);
        }
        "aborted" | "timeout" => {
            if !text.is_empty() {
                extra.insert("message".into(), text_message(&text, ts));
            }
            if let Some(e) = &timed_out {
                extra.insert("errorMessage".into(), json!(e));
            }
            extra.insert("stopReason".into(), json!(stop_reason));
            run.chat_event("aborted", extra);
        }
        _ => {
            extra.insert(
                "errorMessage".into(),
                json!(error.clone().unwrap_or_default()),
            );
            extra.insert("stopReason".into(), json!("error"));
            run.chat_event("error", extra);
        }
    }
    record(
        core,
        live,
        &run,
        last.as_ref(),
        (model.as_deref(), provider.as_deref(), window),
    );
    Outcome {
        status,
        text,
        stop_reason,
        error,
        session_id,
        provider,
        model,
        started_at,
        ended_at,
        usage: last.map(|a| a.usage),
    }
}

fn failed(started_at: u64, session_id: String, error: String) -> Outcome {
    Outcome {
        status: "error",
        text: String::new(),
        stop_reason: "error",
        error: Some(error),
        session_id,
        provider: None,
        model: None,
        started_at,
        ended_at: now_ms(),
        usage: None,
    }
}

/// Applies the session's settings and the call's overrides to the engine; returns what to
/// restore when the turn ends.
fn apply_overrides(
    core: &Arc<Core>,
    live: &Live,
    engine: &Engine,
    req: &TurnRequest,
) -> Result<Option<overrides::Saved>, String> {
    let row = core.row(&live.key).map_err(|e| e.message)?;
    let configured = core
        .agent(&live.agent_id)
        .and_then(|a| a.model_primary.clone());
    overrides::apply(engine, configured.as_deref(), row.as_ref(), &req.options)
}

async fn drive(
    engine: &Engine,
    req: &TurnRequest,
    timeout: Option<Duration>,
) -> Result<(), String> {
    let input = PromptInput {
        text: req.message.clone(),
        images: req.options.images.clone(),
        ..PromptInput::default()
    };
    let ticket = engine.prompt(input).await.map_err(|e| e.to_string())?;
    drop(ticket);
    match timeout {
        Some(t) => {
            if tokio::time::timeout(t, engine.wait_until_idle())
                .await
                .is_err()
            {
                engine.abort().await;
                return Err("timeout".into());
            }
        }
        None => engine.wait_until_idle().await,
    }
    Ok(())
}

fn record(
    core: &Arc<Core>,
    live: &Live,
    run: &RunState,
    last: Option<&openclaw_core::message::AssistantMessage>,
    (model, provider, window): (Option<&str>, Option<&str>, Option<u64>),
) {
    let usage = last.map(|a| &a.usage);
    let turn = TurnRecord {
        at: now_ms(),
        run_id: run.run_id.clone(),
        model: model.map(str::to_owned),
        model_provider: provider.map(str::to_owned),
        input_tokens: usage.map_or(0, |u| u.input),
        output_tokens: usage.map_or(0, |u| u.output),
        total_tokens: usage.map_or(0, |u| u.total_tokens),
        context_tokens: last.and(window),
    };
    // One row update; a row deleted meanwhile stays deleted.
    if let Err(e) = core.index().record_turn(&live.key, &turn) {
        tracing::warn!("cannot record the run {} of {}: {e}", run.run_id, live.key);
    }
    core.session_ended(&live.key, &live.agent_id, &run.run_id);
}

/// A run started by [`spawn_run`]; [`outcome_of`] waits for its whole outcome.
pub(crate) struct RunHandle(tokio::task::JoinHandle<Outcome>);

/// Registers and starts a run in the background.
pub(crate) fn spawn_run(core: &Arc<Core>, live: Arc<Live>, req: TurnRequest) -> RunHandle {
    super::lock(&core.runs).register(&req.spec.run_id, &live.key);
    let core = core.clone();
    RunHandle(tokio::spawn(async move { execute(&core, live, req).await }))
}

/// Waits for the outcome of a [`spawn_run`] run (`None` if its task was lost).
pub(crate) async fn outcome_of(run: RunHandle) -> Option<Outcome> {
    run.0.await.ok()
}

/// Waits for the result the run table records for a run (what `agent.wait` reports).
pub(crate) async fn recorded_outcome_of(
    mut rx: watch::Receiver<Option<RunResult>>,
) -> Option<RunResult> {
    rx.wait_for(Option::is_some)
        .await
        .ok()
        .and_then(|o| o.clone())
}
