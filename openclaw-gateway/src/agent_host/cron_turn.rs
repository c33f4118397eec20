//! A cron run as an agent turn: the scheduler's [`CronTurn`] becomes an ordinary run on the
//! session the job targets (the same lanes, run timeout, exec policy and approvals as a chat
//! turn), with no client connection behind it.

use std::sync::Arc;
use std::time::Duration;

use openclaw_core::model::ThinkingLevel;
use openclaw_core::protocol::cron::SessionTarget;

use super::Core;
use super::live::RunSpec;
use super::overrides::RunOptions;
use super::run::{TurnRequest, outcome_of, spawn_run};
use crate::cron::{CronTurn, CronTurnOutcome};

/// The session key a run of `turn` uses, and its agent.
fn key_of(core: &Core, turn: &CronTurn) -> Result<(String, String), String> {
    let agent = turn
        .agent_id
        .clone()
        .unwrap_or_else(|| core.default_agent());
    if core.agent(&agent).is_none() {
        return Err(format!("unknown agent id \"{agent}\""));
    }
    Ok(match &turn.target {
        SessionTarget::Main => (format!("agent:{agent}:main"), agent),
        SessionTarget::Isolated => (
            format!(
                "agent:{agent}:cron:{}:run:{}",
                turn.job_id,
                uuid::Uuid::new_v4()
            ),
            agent,
        ),
        SessionTarget::Current => match &turn.creating_session_key {
            Some(k) => core.canonical_key(k, Some(&agent)),
            None => return Err("sessionTarget \"current\" needs the job's sessionKey".into()),
        },
        SessionTarget::Session(k) => core.canonical_key(k, Some(&agent)),
    })
}

/// Runs `turn` to its end.
pub(crate) async fn run(core: &Arc<Core>, turn: CronTurn) -> CronTurnOutcome {
    let (key, agent) = match key_of(core, &turn) {
        Ok(k) => k,
        Err(e) => return CronTurnOutcome::failed(e),
    };
    let thinking = match turn.thinking.as_deref() {
        None => None,
        Some(t) => match serde_json::from_value::<ThinkingLevel>(t.into()) {
            Ok(level) => Some(level),
            Err(_) => return CronTurnOutcome::failed(format!("unknown thinking level \"{t}\"")),
        },
    };
    let live = core.live_for(&key, &agent);
    let handle = spawn_run(
        core,
        live,
        TurnRequest {
            spec: RunSpec {
                run_id: turn.run_id.clone(),
                origin: None,
                channel: super::live::CHANNEL_CRON,
                admin: false,
                depth: 0,
                chain: Vec::new(),
                tap: None,
            },
            message: turn.message,
            options: RunOptions {
                thinking,
                model: turn.model,
                light_context: turn.light_context.then(String::new),
                ..RunOptions::default()
            },
            timeout: turn.timeout_seconds.map(Duration::from_secs),
            gate: None,
            heartbeat_ack: None,
        },
    );
    let Some(o) = outcome_of(handle).await else {
        return CronTurnOutcome::failed("the run's task was lost".into());
    };
    CronTurnOutcome {
        ok: o.status == "ok",
        text: o.text,
        error: o
            .error
            .or_else(|| (o.status != "ok").then(|| o.status.to_owned())),
        session_id: Some(o.session_id),
        session_key: Some(key),
        model: o.model,
        provider: o.provider,
        usage: o.usage.map(|u| (u.input, u.output, u.total_tokens)),
    }
}
