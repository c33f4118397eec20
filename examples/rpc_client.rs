//! Drive `openclaw --mode rpc` from Rust: start the agent as a child process, print its state,
//! send a prompt, stream the reply's text as it arrives, and shut down.
//!
//! ```sh
//! cargo build -p openclaw-cli
//! cargo run --example rpc_client -- ./target/debug/openclaw "Say hello"
//! ```
//!
//! The agent uses the providers configured in `~/.openclaw/openclaw.json` (or
//! `$OPENCLAW_STATE_DIR/openclaw.json`); pass extra agent flags after the prompt, e.g.
//! `--provider fake --model fake-model`.

use openclaw_core::event::{AgentEvent, AssistantMessageEvent};
use openclaw_rpc::client::{RpcClient, SpawnOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let binary = args.next().unwrap_or_else(|| "openclaw".into());
    let prompt = args.next().unwrap_or_else(|| "Say hello".into());
    let extra: Vec<String> = args.collect();

    let options = SpawnOptions::new(binary)
        .args(["--mode", "rpc", "--no-session"])
        .args(extra);
    let client = RpcClient::spawn(options).await?;

    let state = client.get_state().await?;
    eprintln!(
        "model: {} / {}",
        state["model"]["provider"], state["model"]["id"]
    );

    let mut events = client.subscribe();
    client.prompt(&prompt).await?;
    while let Some(event) = events.recv().await {
        match event.agent() {
            Some(AgentEvent::MessageUpdate {
                assistant_message_event: AssistantMessageEvent::TextDelta { delta, .. },
                ..
            }) => print!("{delta}"),
            Some(AgentEvent::AgentEnd { .. }) => break,
            _ => {}
        }
    }
    println!();

    let status = client.shutdown().await?;
    eprintln!("agent exited with {status}");
    Ok(())
}
