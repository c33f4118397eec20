//! Slash commands sent through `chat.send` (unless `suppressCommandInterpretation`) or by an
//! admitted channel sender (`channel_turn`): `/new`, `/reset`, `/model`, `/think`, `/compact`,
//! `/status`, `/help`, `/commands`, `/approve` (and `/stop`, which each caller answers itself:
//! it aborts the session's run). A command never reaches the model: it acts on the session
//! and its reply comes back as the run's `chat` `final` event — or, on a channel, as the
//! reply message —, as a model reply would. `/new` and `/reset` followed by text start the new
//! session with that text. The list is what `commands.list` advertises and what Telegram's
//! command menu shows: every command listed here works.

use std::sync::Arc;

use openclaw_core::model::ThinkingLevel;
use openclaw_core::protocol::ErrorShape;
use serde::Serialize;
use serde_json::{Value, json};

use super::Core;
use super::overrides::resolve_model;
use super::run::ensure_engine;
use crate::backend::CallContext;

/// One built-in command.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub category: &'static str,
    /// The argument, when the command takes one: (name, description).
    #[serde(skip)]
    pub arg: Option<(&'static str, &'static str)>,
}

/// The commands `chat.send` carries out.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "help",
        description: "Show available commands.",
        category: "status",
        arg: None,
    },
    CommandSpec {
        name: "commands",
        description: "List all slash commands.",
        category: "status",
        arg: None,
    },
    CommandSpec {
        name: "status",
        description: "Show session and model status.",
        category: "status",
        arg: None,
    },
    CommandSpec {
        name: "new",
        description: "Start a new session.",
        category: "session",
        arg: Some(("message", "First message of the new session")),
    },
    CommandSpec {
        name: "reset",
        description: "Reset the current session.",
        category: "session",
        arg: Some(("message", "First message of the new session")),
    },
    CommandSpec {
        name: "stop",
        description: "Stop the current run.",
        category: "session",
        arg: None,
    },
    CommandSpec {
        name: "compact",
        description: "Compact the session context.",
        category: "session",
        arg: Some(("instructions", "What the summary should focus on")),
    },
    CommandSpec {
        name: "model",
        description: "Show or set the model.",
        category: "options",
        arg: Some(("model", "provider/model")),
    },
    CommandSpec {
        name: "approve",
        description: "Answer a pending exec approval.",
        category: "session",
        arg: Some(("id decision", "allow-once, allow-always or deny")),
    },
    CommandSpec {
        name: "think",
        description: "Set the thinking level.",
        category: "options",
        arg: Some(("level", "off, minimal, low, medium, high, xhigh")),
    },
];

/// A message that is one of [`COMMANDS`]: the command and its argument text.
pub(crate) fn parse(message: &str) -> Option<(&'static CommandSpec, &str)> {
    let text = message.trim();
    let rest = text.strip_prefix('/')?;
    let (name, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    // `/think:high` is accepted as `/think high`.
    let (name, args) = match name.split_once(':') {
        Some((n, a)) if args.is_empty() => (n, a),
        _ => (name, args),
    };
    let name = name.to_ascii_lowercase();
    COMMANDS
        .iter()
        .find(|c| c.name == name)
        .map(|c| (c, args.trim()))
}

/// Answers a `chat.send` that is a command: the `started` ack now, then (once the ack is out)
/// the command's reply as the run's `chat` `final` event — or, for `/new <text>`, a run of
/// the text on the new session. The outcome is cached under the call's idempotency key.
pub(crate) fn start(
    core: &Arc<Core>,
    ctx: &CallContext,
    (key, agent): (String, String),
    (cmd, args): (&'static CommandSpec, String),
    idem: String,
) -> Result<Value, ErrorShape> {
    let dedupe = format!("chat:{idem}");
    match super::lock(&core.runs).claim(&dedupe) {
        Some(super::runs::Cached::InFlight) => {
            return Ok(json!({"runId": idem, "status": "in_flight"}));
        }
        Some(super::runs::Cached::Done(answer)) => return answer,
        None => {}
    }
    let core = core.clone();
    let ctx = ctx.clone();
    let run_id = idem.clone();
    let ack = json!({"runId": idem, "status": "started"});
    tokio::spawn(async move {
        ctx.first_response_sent().await;
        let done = execute(&core, Caller::Operator(&ctx), (&key, &agent), cmd, &args).await;
        let reply = match done {
            Done::Reply(text) => text,
            Done::ResetThen(message) => {
                let live = core.live_for(&key, &agent);
                let mut req = super::run::TurnRequest::from_call(&ctx, run_id, message, None);
                // The ack is already out: the run need not wait for it.
                req.gate = None;
                let run = super::run::spawn_run(&core, live, req);
                let answer = match super::run::outcome_of(run).await {
                    Some(o) if o.status == "ok" => json!({"runId": idem, "status": "ok"}),
                    _ => json!({"runId": idem, "status": "error"}),
                };
                super::lock(&core.runs).finish(&dedupe, Ok(answer));
                return;
            }
        };
        if let Some(sink) = core.sink() {
            let payload = json!({"runId": run_id, "sessionKey": key, "agentId": agent, "seq": 1,
                "state": "final", "stopReason": "stop",
                "message": super::live::text_message(&reply, crate::state::now_ms())});
            sink.broadcast_run_event("chat", payload, Some(ctx.conn_id()));
        }
        super::lock(&core.runs).finish(&dedupe, Ok(json!({"runId": idem, "status": "ok"})));
    });
    Ok(ack)
}

/// What a command did.
pub(crate) enum Done {
    /// Reply with this text.
    Reply(String),
    /// The session was reset: run this message on the new session.
    ResetThen(String),
}

/// Who asked for a command.
#[derive(Clone, Copy)]
pub(crate) enum Caller<'a> {
    /// An operator connection (`chat.send`), with its scopes.
    Operator(&'a CallContext),
    /// A channel sender the account's policy admitted (`dmPolicy`, `allowFrom`, pairing,
    /// group gating). It holds no operator scope: `/approve` is answered by the channel
    /// manager, for the account's approvers only.
    Channel,
}

/// Carries out `cmd` on the session `key` (`/stop` is handled by the caller).
pub(crate) async fn execute(
    core: &Arc<Core>,
    caller: Caller<'_>,
    (key, agent): (&str, &str),
    cmd: &CommandSpec,
    args: &str,
) -> Done {
    let reply = match (cmd.name, caller) {
        ("help" | "commands", _) => help(),
        ("status", _) => status(core, key, agent).await,
        ("new" | "reset", _) => return reset(core, key, args).await,
        ("compact", _) => compact(core, key, agent, args).await,
        ("model", _) => model(core, key, agent, args).await,
        ("think", _) => think(core, key, agent, args).await,
        ("approve", Caller::Operator(ctx)) => approve(ctx, key, args),
        (other, _) => format!("/{other} cannot be used here."),
    };
    Done::Reply(reply)
}

/// `/approve <id> <decision>`: the sender must hold `operator.approvals` (or admin), or the
/// approval must come from this very session (same-chat approval, as OpenClaw).
fn approve(ctx: &CallContext, key: &str, args: &str) -> String {
    use openclaw_core::exec_policy::Decision;
    const USAGE: &str = "Usage: /approve <id> allow-once|allow-always|deny";
    let mut words = args.split_whitespace();
    let (Some(id), Some(decision), None) = (words.next(), words.next(), words.next()) else {
        return USAGE.into();
    };
    let Some(decision) = Decision::parse(decision) else {
        return USAGE.into();
    };
    let Some(approvals) = ctx.events().approvals() else {
        return "Approvals are not available on this gateway.".into();
    };
    let live = match approvals.find(id) {
        Ok(Some(l)) => l,
        Ok(None) => return format!("Unknown or expired approval id: {id}"),
        Err(e) => return e.message,
    };
    let scoped = openclaw_core::protocol::Scope::Approvals.satisfied_by(&ctx.conn.scopes);
    if !scoped && live.info.session_key.as_deref() != Some(key) {
        return format!(
            "Approval {} belongs to another session; answering it needs operator.approvals.",
            live.id
        );
    }
    let by = crate::approvals::Resolver::of(&ctx.conn);
    match approvals.resolve(&live.id, decision, &by) {
        Ok(_) => format!(
            "Approval {} resolved {}: {}",
            live.id,
            decision.as_str(),
            live.info.command
        ),
        Err(e) => e.message,
    }
}

fn help() -> String {
    let mut out = String::from("Commands:\n");
    for c in COMMANDS {
        let arg = c.arg.map(|(a, _)| format!(" [{a}]")).unwrap_or_default();
        out.push_str(&format!("/{}{arg} — {}\n", c.name, c.description));
    }
    out.trim_end().to_owned()
}

async fn reset(core: &Arc<Core>, key: &str, args: &str) -> Done {
    let params = json!({"key": key, "reason": "new"});
    let reset = match openclaw_core::protocol::params::parse("sessions.reset", Some(params)) {
        Ok(p) => super::session_life::reset(core, p).await,
        Err(e) => Err(e),
    };
    match reset {
        Ok(_) if args.is_empty() => Done::Reply("✅ New session started.".into()),
        Ok(_) => Done::ResetThen(args.to_owned()),
        Err(e) => Done::Reply(format!("⚠️ Could not reset the session: {}", e.message)),
    }
}

async fn compact(core: &Arc<Core>, key: &str, agent: &str, args: &str) -> String {
    let live = core.live_for(key, agent);
    let _turn = live.run_lock.lock().await;
    let engine = match ensure_engine(core, &live).await {
        Ok(e) => e,
        Err(e) => return format!("⚠️ Compaction failed: {e}"),
    };
    let instructions = (!args.is_empty()).then(|| args.to_owned());
    match engine.compact(instructions).await {
        Ok(r) => {
            if let Err(e) = core.update_row(key, |r| {
                r.meta.compaction_count = Some(r.meta.compaction_count.unwrap_or(0) + 1);
            }) {
                tracing::warn!("cannot count the compaction of {key}: {}", e.message);
            }
            core.session_changed(key, agent, "compact", None);
            format!(
                "⚙️ Compacted the session ({} tokens before).",
                r.tokens_before
            )
        }
        Err(e) => format!("⚠️ Compaction failed: {e}"),
    }
}

/// The session's current model and level, as `(provider/model, level)`.
async fn current(core: &Arc<Core>, key: &str, agent: &str) -> Result<(String, String), String> {
    let live = core.live_for(key, agent);
    let _turn = live.run_lock.lock().await;
    let engine = ensure_engine(core, &live).await?;
    let row = core.row(key).map_err(|e| e.message)?;
    let configured = core.agent(agent).and_then(|a| a.model_primary);
    super::overrides::apply(
        &engine,
        configured.as_deref(),
        row.as_ref(),
        &Default::default(),
    )?;
    let m = engine.agent().model();
    Ok((m.key(), engine.agent().thinking_level().as_str().to_owned()))
}

async fn model(core: &Arc<Core>, key: &str, agent: &str, args: &str) -> String {
    if args.is_empty() {
        return match current(core, key, agent).await {
            Ok((m, _)) => format!("Current model: {m}"),
            Err(e) => format!("⚠️ {e}"),
        };
    }
    let live = core.live_for(key, agent);
    let _turn = live.run_lock.lock().await;
    let engine = match ensure_engine(core, &live).await {
        Ok(e) => e,
        Err(e) => return format!("⚠️ {e}"),
    };
    match resolve_model(&engine, None, args) {
        Ok(m) => {
            let saved = core.update_row(key, |r| {
                r.meta.provider_override = Some(m.provider.clone());
                r.meta.model_override = Some(m.id.clone());
            });
            if let Err(e) = saved {
                return format!("⚠️ {}", e.message);
            }
            core.session_changed(key, agent, "patch", None);
            format!("Model set to {}.", m.key())
        }
        Err(e) => format!("⚠️ {e}"),
    }
}

async fn think(core: &Arc<Core>, key: &str, agent: &str, args: &str) -> String {
    if args.is_empty() {
        return match current(core, key, agent).await {
            Ok((_, level)) => format!("Current thinking level: {level}."),
            Err(e) => format!("⚠️ {e}"),
        };
    }
    match args.parse::<ThinkingLevel>() {
        Ok(level) => {
            // The session's row exists once its engine has started.
            let live = core.live_for(key, agent);
            let turn = live.run_lock.lock().await;
            if let Err(e) = ensure_engine(core, &live).await {
                return format!("⚠️ {e}");
            }
            drop(turn);
            let saved = core.update_row(key, |r| {
                r.meta.thinking_level = Some(level.as_str().to_owned());
            });
            if let Err(e) = saved {
                return format!("⚠️ {}", e.message);
            }
            core.session_changed(key, agent, "patch", None);
            format!("Thinking level set to {level}.")
        }
        Err(_) => format!(
            "Unrecognized thinking level \"{args}\". Valid levels: off, minimal, low, medium, high, xhigh."
        ),
    }
}

async fn status(core: &Arc<Core>, key: &str, agent: &str) -> String {
    let (model, level) = match current(core, key, agent).await {
        Ok(v) => v,
        Err(e) => return format!("⚠️ {e}"),
    };
    let row = match core.row(key) {
        Ok(r) => r.unwrap_or_default(),
        Err(e) => return format!("⚠️ {}", e.message),
    };
    let session_id = row.session_id.as_deref().unwrap_or("-");
    format!(
        "🦞 OpenClaw {}\n🧠 Model: {model}\n🧮 Tokens: {} in / {} out\n🧵 Session: {key} ({session_id})\n⚙️ Think: {level} · Compactions: {}",
        env!("CARGO_PKG_VERSION"),
        row.meta.input_tokens.unwrap_or(0),
        row.meta.output_tokens.unwrap_or(0),
        row.meta.compaction_count.unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_commands_parse() {
        let (c, a) = parse("  /think high ").unwrap();
        assert_eq!((c.name, a), ("think", "high"));
        let (c, a) = parse("/think:low").unwrap();
        assert_eq!((c.name, a), ("think", "low"));
        let (c, a) = parse("/NEW hello there").unwrap();
        assert_eq!((c.name, a), ("new", "hello there"));
        assert!(parse("/unknown x").is_none());
        assert!(parse("think high").is_none());
        assert!(parse("/").is_none());
    }
}
