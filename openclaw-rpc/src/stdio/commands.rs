//! Command dispatch: pi 0.73.1's catalogue mapped onto the [`Engine`], with pi's response
//! shapes and error texts.

use std::path::PathBuf;

use openclaw_core::engine::{Engine, PromptInput, StreamingBehavior};
use openclaw_core::message::ImageContent;
use openclaw_core::model::ThinkingLevel;
use openclaw_core::settings::QueueMode;
use serde::Serialize;
use serde_json::{Value, json};

use super::output::Output;
use super::wire::{Command, Response, unknown_command};

/// Commands that may take long (they wait for a run, a model call or a process) and therefore
/// run on their own task so later commands are answered meanwhile.
pub fn is_long_running(kind: &str) -> bool {
    matches!(
        kind,
        "bash" | "compact" | "abort" | "new_session" | "switch_session" | "fork" | "clone"
    )
}

/// Handle one command and queue its response (if it has one).
pub async fn dispatch(engine: &Engine, out: &Output, cmd: Command) {
    let id = cmd.id.clone();
    let kind = cmd.kind.clone();
    if kind == "abort_retry" {
        // pi: `auto_retry_end` (emitted by the cancel), then this response, then whatever the
        // released prompt does next.
        let cancel = engine.abort_retry();
        out.send(&Response::ok(id, &kind));
        drop(cancel);
        return;
    }
    if kind == "prompt" {
        match start_prompt(engine, &cmd).await {
            Ok(ticket) => {
                // pi answers before `agent_start`: queue the response, then let the run go.
                out.send(&Response::ok(id, &kind));
                drop(ticket);
            }
            Err(e) => out.send(&Response::error(id, &kind, e)),
        }
        return;
    }
    let result = handle(engine, &cmd).await;
    let response = match result {
        Ok(Reply::None) => Response::ok(id, &kind),
        Ok(Reply::Data(v)) => Response::data(id, &kind, v),
        Ok(Reply::Silent) => return,
        Ok(Reply::Unknown) => unknown_command(&kind),
        Err(e) => Response::error(id, &kind, e),
    };
    out.send(&response);
}

enum Reply {
    /// Success without data.
    None,
    /// Success with data.
    Data(Value),
    /// No response at all (`extension_ui_response`).
    Silent,
    /// Not a command of the catalogue.
    Unknown,
}

fn data<T: Serialize>(v: T) -> Result<Reply, String> {
    serde_json::to_value(v)
        .map(Reply::Data)
        .map_err(|e| e.to_string())
}

async fn handle(engine: &Engine, cmd: &Command) -> Result<Reply, String> {
    let err = |e: openclaw_core::engine::EngineError| e.to_string();
    match cmd.kind.as_str() {
        "steer" => {
            let input = prompt_input(cmd)?;
            engine.steer(input).map_err(err)?;
            Ok(Reply::None)
        }
        "follow_up" => {
            let input = prompt_input(cmd)?;
            engine.follow_up(input).map_err(err)?;
            Ok(Reply::None)
        }
        "abort" => {
            engine.abort().await;
            Ok(Reply::None)
        }
        "new_session" => {
            let parent = cmd.str("parentSession").map(PathBuf::from);
            let cancelled = engine.new_session(parent).await.map_err(err)?;
            Ok(Reply::Data(json!({ "cancelled": cancelled })))
        }
        "get_state" => data(engine.state()),
        "get_messages" => Ok(Reply::Data(json!({ "messages": engine.messages() }))),
        "set_model" => {
            let provider = cmd.require_str("provider")?;
            let model_id = cmd.require_str("modelId")?;
            data(engine.set_model(provider, model_id).map_err(err)?)
        }
        "cycle_model" => data(engine.cycle_model().map_err(err)?),
        "get_available_models" => Ok(Reply::Data(json!({ "models": engine.available_models() }))),
        "set_thinking_level" => {
            let level = cmd.require_str("level")?;
            // pi clamps unknown names to "off".
            engine.set_thinking_level(level.parse().unwrap_or(ThinkingLevel::Off));
            Ok(Reply::None)
        }
        "cycle_thinking_level" => Ok(Reply::Data(match engine.cycle_thinking_level() {
            Some(level) => json!({ "level": level }),
            None => Value::Null,
        })),
        "set_steering_mode" => {
            engine.set_steering_mode(queue_mode(cmd)?);
            Ok(Reply::None)
        }
        "set_follow_up_mode" => {
            engine.set_follow_up_mode(queue_mode(cmd)?);
            Ok(Reply::None)
        }
        "compact" => {
            let instructions = cmd.str("customInstructions").map(String::from);
            data(engine.compact(instructions).await.map_err(err)?)
        }
        "set_auto_compaction" => {
            engine.set_auto_compaction(require_bool(cmd, "enabled")?);
            Ok(Reply::None)
        }
        "set_auto_retry" => {
            engine.set_auto_retry(require_bool(cmd, "enabled")?);
            Ok(Reply::None)
        }
        "bash" => {
            // pi runs the literal word `undefined` when `command` is missing; we do the same so
            // clients see the same (successful, exit 127) result.
            let command = cmd.str("command").unwrap_or("undefined");
            data(engine.bash(command).await.map_err(err)?)
        }
        "abort_bash" => {
            engine.abort_bash();
            Ok(Reply::None)
        }
        "get_session_stats" => data(engine.session_stats()),
        "export_html" => {
            let path = cmd.str("outputPath").map(PathBuf::from);
            let written = engine.export_html(path.as_deref()).map_err(err)?;
            Ok(Reply::Data(json!({ "path": written })))
        }
        "switch_session" => {
            let path = cmd.require_str("sessionPath")?;
            let cancelled = engine
                .switch_session(PathBuf::from(path))
                .await
                .map_err(err)?;
            Ok(Reply::Data(json!({ "cancelled": cancelled })))
        }
        "fork" => {
            let entry_id = cmd.require_str("entryId")?;
            data(engine.fork(entry_id).await.map_err(err)?)
        }
        "clone" => {
            let cancelled = engine.clone_session().await.map_err(err)?;
            Ok(Reply::Data(json!({ "cancelled": cancelled })))
        }
        "get_fork_messages" => Ok(Reply::Data(json!({ "messages": engine.fork_points() }))),
        "get_last_assistant_text" => Ok(Reply::Data(match engine.last_assistant_text() {
            Some(text) => json!({ "text": text }),
            // pi's `{text: undefined}` serialises as `{}`.
            None => json!({}),
        })),
        "set_session_name" => {
            let name = cmd.require_str("name")?;
            engine.set_session_name(name).map_err(err)?;
            Ok(Reply::None)
        }
        // Prompt templates, then skills, as pi lists them (pi's extension commands first: none).
        "get_commands" => Ok(Reply::Data(
            json!({ "commands": engine.skills().rpc_commands() }),
        )),
        "extension_ui_response" => Ok(Reply::Silent),
        _ => Ok(Reply::Unknown),
    }
}

async fn start_prompt(
    engine: &Engine,
    cmd: &Command,
) -> Result<openclaw_core::engine::PromptTicket, String> {
    let mut input = prompt_input(cmd)?;
    input.streaming_behavior = match cmd.str("streamingBehavior") {
        Some("steer") => Some(StreamingBehavior::Steer),
        Some("followUp") => Some(StreamingBehavior::FollowUp),
        _ => None,
    };
    engine.prompt(input).await.map_err(|e| e.to_string())
}

pub(super) fn prompt_input(cmd: &Command) -> Result<PromptInput, String> {
    let text = cmd.require_str("message")?.to_string();
    let images = match cmd.body.get("images") {
        None | Some(Value::Null) => Vec::new(),
        Some(v) => serde_json::from_value::<Vec<ImageContent>>(v.clone())
            .map_err(|e| format!("Invalid field \"images\": {e}"))?,
    };
    Ok(PromptInput {
        text,
        images,
        streaming_behavior: None,
    })
}

pub(super) fn queue_mode(cmd: &Command) -> Result<QueueMode, String> {
    let mode = cmd.require_str("mode")?;
    mode.parse::<QueueMode>().map_err(|_| {
        format!("Invalid field \"mode\": expected \"all\" or \"one-at-a-time\", got \"{mode}\"")
    })
}

pub(super) fn require_bool(cmd: &Command, key: &str) -> Result<bool, String> {
    match cmd.body.get(key) {
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("Invalid field \"{key}\": expected a boolean")),
        None => Err(format!("Missing required field \"{key}\"")),
    }
}
