//! A heartbeat turn on an agent's main session (`agent:<id>:main`), as OpenClaw runs it: not
//! when the session is busy; no `agent`/`chat` events while it runs; and when the reply is a
//! silent acknowledgement (`HEARTBEAT_OK` / `NO_REPLY` within `ackMaxChars`, or nothing) the
//! transcript is cut back to its size before the turn and the session's `updatedAt` restored,
//! so the exchange is neither in history nor in the next turn's context (the live engine is
//! dropped and restarts from the cut transcript). The cut happens under the key's run lock.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Core;
use super::live::{CHANNEL_HEARTBEAT, Live, RunSpec};
use super::overrides::RunOptions;
use super::run::{TurnRequest, outcome_of, spawn_run};
use super::runs::Outcome;
use crate::cron::CronTurnOutcome;
use crate::cron::heartbeat::{HeartbeatTurn, HeartbeatTurnOutcome, checklist};

/// The main session before a heartbeat turn.
pub(crate) struct Snapshot {
    session_id: Option<String>,
    transcript: Option<PathBuf>,
    /// The transcript's size (`None`: it did not exist).
    size: Option<u64>,
    updated_at: Option<u64>,
}

pub(crate) fn snapshot(core: &Arc<Core>, live: &Live) -> Snapshot {
    let row = core.row(&live.key).ok().flatten();
    let transcript = row.as_ref().and_then(|r| core.transcript_of(r));
    let size = transcript
        .as_ref()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.len());
    Snapshot {
        session_id: row.as_ref().and_then(|r| r.session_id.clone()),
        transcript,
        size,
        updated_at: row.map(|r| r.updated_at),
    }
}

/// The length of the first line when it is a session header (what a transcript made by this
/// turn keeps).
fn header_len(path: &PathBuf) -> Option<u64> {
    let file = std::fs::File::open(path).ok()?;
    let mut line = String::new();
    BufReader::new(file).read_line(&mut line).ok()?;
    line.contains("\"type\":\"session\"")
        .then_some(line.len() as u64)
}

/// After the turn, under its run lock: a silent acknowledgement is cut from the transcript.
pub(crate) fn prune_if_silent(
    core: &Arc<Core>,
    live: &Live,
    before: Snapshot,
    outcome: &Outcome,
    ack_max_chars: usize,
) {
    if outcome.status != "ok" || !checklist::classify(&outcome.text, ack_max_chars).is_silent() {
        return;
    }
    let after = snapshot(core, live);
    let Some(path) = after.transcript.clone() else {
        return;
    };
    // The same transcript: back to its old size; a transcript the turn created: its header.
    let keep = if before.session_id.is_some() && before.session_id == after.session_id {
        before.size
    } else {
        header_len(&path)
    };
    let (Some(keep), Some(now)) = (keep, after.size) else {
        return;
    };
    if now > keep {
        let cut = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(keep));
        if let Err(e) = cut {
            tracing::warn!("heartbeat: cannot prune {}: {e}", path.display());
            return;
        }
    }
    // The engine still holds the exchange in memory: the next turn restarts it from the file.
    live.drop_engine();
    if let Some(at) = before.updated_at {
        let _ = core.update_row(&live.key, |r| r.updated_at = at);
    }
}

/// The isolated heartbeat session made fresh: the last beat's engine, row and transcript go
/// (the session exists for one beat), so this beat starts with no conversation history.
async fn fresh(core: &Arc<Core>, live: Arc<Live>, key: &str, agent: &str) -> Arc<Live> {
    {
        let _turn = live.run_lock.lock().await;
        live.drop_engine();
    }
    core.forget_live(key);
    match core.index().delete_session(key) {
        Ok(Some(row)) => {
            if let Some(file) = core.transcript_of(&row) {
                if let Err(e) = std::fs::remove_file(&file) {
                    tracing::warn!("heartbeat: cannot remove {}: {e}", file.display());
                }
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!("heartbeat: cannot reset {key}: {e}"),
    }
    core.live_for(key, agent)
}

fn busy(live: &Live) -> bool {
    live.current_run_id().is_some() || live.pending.load(Ordering::Acquire) > 0
}

/// Runs `turn` on the agent's main session to its end, unless the session is busy.
pub(crate) async fn run(core: &Arc<Core>, turn: HeartbeatTurn) -> HeartbeatTurnOutcome {
    if core.agent(&turn.agent_id).is_none() {
        return HeartbeatTurnOutcome::Ran(CronTurnOutcome::failed(format!(
            "unknown agent id \"{}\"",
            turn.agent_id
        )));
    }
    let key = if turn.isolated_session {
        format!("agent:{}:main:heartbeat", turn.agent_id)
    } else {
        format!("agent:{}:main", turn.agent_id)
    };
    let live = core.live_for(&key, &turn.agent_id);
    if busy(&live) {
        return HeartbeatTurnOutcome::Busy;
    }
    let live = if turn.isolated_session {
        fresh(core, live, &key, &turn.agent_id).await
    } else {
        live
    };
    let light_context = turn.light_context.then(|| {
        core.agent(&turn.agent_id)
            .map(|a| {
                let per_file = core.settings().per_file_chars;
                super::workspace::heartbeat_context(&PathBuf::from(&a.workspace), per_file)
            })
            .unwrap_or_default()
    });
    let handle = spawn_run(
        core,
        live,
        TurnRequest {
            spec: RunSpec {
                run_id: turn.run_id.clone(),
                origin: None,
                channel: CHANNEL_HEARTBEAT,
                admin: false,
                depth: 0,
                chain: Vec::new(),
                tap: None,
            },
            message: turn.message,
            options: RunOptions {
                model: turn.model,
                light_context,
                ..RunOptions::default()
            },
            timeout: turn.timeout_seconds.map(Duration::from_secs),
            gate: None,
            heartbeat_ack: Some(turn.ack_max_chars),
        },
    );
    let Some(o) = outcome_of(handle).await else {
        return HeartbeatTurnOutcome::Ran(CronTurnOutcome::failed(
            "the run's task was lost".into(),
        ));
    };
    HeartbeatTurnOutcome::Ran(CronTurnOutcome {
        ok: o.status == "ok",
        error: o
            .error
            .clone()
            .or_else(|| (o.status != "ok").then(|| o.status.to_owned())),
        text: o.text,
        session_id: Some(o.session_id),
        session_key: Some(key),
        model: o.model,
        provider: o.provider,
        usage: o.usage.map(|u| (u.input, u.output, u.total_tokens)),
    })
}
