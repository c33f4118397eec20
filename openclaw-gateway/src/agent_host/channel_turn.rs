//! A channel message as an agent turn: the dispatcher's [`ChannelTurn`] becomes an ordinary run
//! on the conversation's session (OpenClaw's session key for the peer / group and
//! `session.dmScope`), with the same lanes, run timeout, exec policy and approvals as a chat
//! turn; `turnSourceChannel` is the channel. The session row records the origin.
//!
//! A turn that is a slash command goes through `commands::execute`, the path `chat.send` takes,
//! as [`Caller::Channel`]; `/stop` aborts the session's run. `/<skill> args` is expanded as
//! `chat.send` expands it. With a `preview`, the run's reply
//! text is published as it grows (the tap `/v1/*` streams from), for edit-in-place streaming.

use std::sync::Arc;

use openclaw_core::channel::keys::{Conversation, session_key};

use super::Core;
use super::commands::{Caller, Done};
use super::live::RunSpec;
use super::overrides::RunOptions;
use super::run::{TurnRequest, outcome_of, spawn_run};
use super::tap::{TAP_CAPACITY, Tap};
use crate::channels::{ChannelTurn, ChannelTurnOutcome};

/// Runs `turn` to its end.
pub(crate) async fn run(core: &Arc<Core>, turn: ChannelTurn) -> ChannelTurnOutcome {
    let agent = turn
        .agent_id
        .clone()
        .unwrap_or_else(|| core.default_agent());
    if core.agent(&agent).is_none() {
        return ChannelTurnOutcome::failed(format!("unknown agent id \"{agent}\" (bindings)"));
    }
    let conv = Conversation {
        channel: &turn.channel,
        account_id: &turn.account_id,
        chat_type: turn.chat_type,
        peer_id: &turn.peer_id,
        topic_id: turn.topic_id.as_deref(),
    };
    let key = session_key(&agent, &conv, turn.dm_scope);
    record_route(core, &key, &agent, &turn);
    if let Some(text) = turn.command.as_deref()
        && let Some((cmd, args)) = super::commands::parse(text)
    {
        let done = match cmd.name {
            "stop" => Done::Reply(stop(core, &key).await),
            _ => super::commands::execute(core, Caller::Channel, (&key, &agent), cmd, args).await,
        };
        match done {
            Done::Reply(text) => {
                record_origin(core, &key, &turn);
                return ChannelTurnOutcome {
                    ok: true,
                    text,
                    error: None,
                    session_key: Some(key),
                };
            }
            // `/new <text>`: the text runs on the new session.
            Done::ResetThen(_) => {}
        }
    }
    // `/<skill> args` as `chat.send` gives it to the model (the sender's text comes first).
    let message = match turn.command {
        None => super::chat::skill_invocation(core, &agent, turn.message.clone()).await,
        Some(_) => turn.message.clone(),
    };
    let tap = turn.preview.clone().map(publish);
    let live = core.live_for(&key, &agent);
    let handle = spawn_run(
        core,
        live,
        TurnRequest {
            spec: RunSpec {
                run_id: turn.run_id.clone(),
                origin: None,
                channel: super::live::channel_source(&turn.channel),
                admin: false,
                depth: 0,
                chain: Vec::new(),
                tap,
            },
            message,
            options: RunOptions {
                images: turn.images.clone(),
                ..RunOptions::default()
            },
            timeout: None,
            gate: None,
            heartbeat_ack: None,
        },
    );
    let Some(o) = outcome_of(handle).await else {
        return ChannelTurnOutcome::failed("the run's task was lost".into());
    };
    record_origin(core, &key, &turn);
    ChannelTurnOutcome {
        ok: o.status == "ok",
        text: o.text,
        error: o
            .error
            .or_else(|| (o.status != "ok").then(|| o.status.to_owned())),
        session_key: Some(key),
    }
}

/// `/stop`: aborts what runs on the session.
async fn stop(core: &Arc<Core>, key: &str) -> String {
    match super::chat::abort_key(core, key, None).await {
        Ok(v) if v["aborted"] == true => "⚙️ Agent was aborted.".into(),
        Ok(_) => "⚙️ Nothing is running.".into(),
        Err(e) => format!("⚠️ {}", e.message),
    }
}

/// The run's reply text as it grows, published to `preview` (a watch: the run never waits,
/// the reader sees the latest text). A new assistant message (after a tool call) starts over.
fn publish(preview: tokio::sync::watch::Sender<String>) -> tokio::sync::mpsc::Sender<Tap> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(TAP_CAPACITY);
    tokio::spawn(async move {
        while let Some(t) = rx.recv().await {
            match t {
                Tap::Delta(d) => preview.send_modify(|s| s.push_str(&d)),
                Tap::NewMessage => preview.send_modify(String::clear),
            }
        }
    });
    tx
}

fn record_origin(core: &Core, key: &str, turn: &ChannelTurn) {
    let origin = serde_json::to_value(&turn.origin).unwrap_or_default();
    let chat_type = turn.origin.chat_type.to_owned();
    if let Err(e) = core.index().update_session(key, &mut |row| {
        row.meta.extra.insert("origin".into(), origin.clone());
        row.meta.chat_type = Some(chat_type.clone());
    }) {
        tracing::warn!("session {key}: origin not recorded: {e}");
    }
}

/// Records the conversation `key` talks in (heartbeat `target: "last"`, cron `channel:
/// "last"`, the automations tool's default delivery), before the run starts.
fn record_route(core: &Core, key: &str, agent: &str, turn: &ChannelTurn) {
    let Some(routes) = core.state.routes() else {
        return;
    };
    let sender = turn
        .origin
        .from
        .split_once(':')
        .map(|(_, id)| id.to_owned());
    let route = openclaw_state::ConversationRoute {
        channel: turn.channel.clone(),
        account_id: turn.account_id.clone(),
        peer: turn.peer_id.clone(),
        thread_id: turn.topic_id.clone(),
        chat_type: turn.origin.chat_type.to_owned(),
        sender,
        updated_at_ms: crate::state::now_ms(),
    };
    if let Err(e) = routes.record_route(key, agent, &route) {
        tracing::warn!("session {key}: conversation route not recorded: {e}");
    }
}
