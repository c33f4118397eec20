//! One-shot modes: `--mode json -p "prompt"` prints every event of the run as JSON lines (the
//! same lines `--mode rpc` prints), `-p "prompt"` prints the final answer's text.

use openclaw_core::engine::{Engine, PromptInput};
use openclaw_core::message::StopReason;

use crate::stdio::output::Output;

/// Run `prompt` and print its events as JSON lines; returns the exit code.
pub async fn run_json(engine: Engine, prompt: String) -> i32 {
    let out = Output::spawn(crate::stdio::output::stdout_sink());
    let events_out = out.clone();
    let subscription = engine.subscribe(move |event| events_out.send_event(event));
    let code = run_once(&engine, prompt).await;
    drop(subscription);
    out.flush();
    code
}

/// Run `prompt` and print the last assistant message's text; errors go to stderr with exit 1.
pub async fn run_text(engine: Engine, prompt: String) -> i32 {
    let code = run_once(&engine, prompt).await;
    if code != 0 {
        return code;
    }
    let messages = engine.messages();
    let last = messages.iter().rev().find_map(|m| m.as_assistant());
    match last {
        Some(a) if matches!(a.stop_reason, StopReason::Error | StopReason::Aborted) => {
            eprintln!(
                "Error: {}",
                a.error_message.as_deref().unwrap_or("the request failed")
            );
            1
        }
        Some(a) => {
            println!("{}", a.text());
            0
        }
        None => 0,
    }
}

async fn run_once(engine: &Engine, prompt: String) -> i32 {
    match engine.prompt(PromptInput::text(prompt)).await {
        Ok(ticket) => drop(ticket),
        Err(e) => {
            eprintln!("Error: {e}");
            return 1;
        }
    }
    engine.wait_until_idle().await;
    engine.shutdown();
    0
}
