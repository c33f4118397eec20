//! The typed RPC client against the real binary and the shared fake LLM: requests by id,
//! events, a run to `agent_end`, the `bash` command, shutdown at EOF.

mod support_cli;

use std::time::Duration;

use openclaw_core::event::AgentEvent;
use openclaw_core::message::Message;
use openclaw_rpc::client::{RpcClient, SpawnOptions};

#[tokio::test]
async fn client_drives_a_conversation() {
    let Some(home) = support_cli::Home::start() else {
        return;
    };
    let cwd = tempfile::tempdir().unwrap();
    let options = SpawnOptions::new(env!("CARGO_BIN_EXE_openclaw"))
        .args([
            "--mode",
            "rpc",
            "--provider",
            "fake",
            "--model",
            "fake-model",
            "--no-session",
        ])
        .cwd(cwd.path())
        .env("HOME", home.path())
        .env("OPENCLAW_STATE_DIR", home.path().join(".openclaw"))
        .env("PI_CODING_AGENT_DIR", home.path().join(".pi/agent"))
        .timeout(Duration::from_secs(20));
    let client = RpcClient::spawn(options).await.unwrap();

    let state = client.get_state().await.unwrap();
    assert_eq!(state["model"]["id"], "fake-model");
    assert_eq!(state["isStreaming"], false);

    let events = client.prompt_and_wait("hello there").await.unwrap();
    let Some(AgentEvent::AgentEnd { messages }) = events.last().and_then(|e| e.agent()) else {
        panic!("the run did not end with agent_end: {events:?}");
    };
    match messages.last().map(|m| &**m) {
        Some(Message::Assistant(a)) => assert_eq!(a.text(), "echo: hello there"),
        other => panic!("unexpected last message {other:?}"),
    }
    assert_eq!(
        client.get_last_assistant_text().await.unwrap().as_deref(),
        Some("echo: hello there")
    );

    let bash = client.bash("echo from-shell; exit 4").await.unwrap();
    assert_eq!(bash["output"], "from-shell\n");
    assert_eq!(bash["exitCode"], 4);
    assert_eq!(client.get_messages().await.unwrap().len(), 3);

    let err = client.set_model("nope", "missing").await.unwrap_err();
    assert!(
        err.to_string().contains("Model not found: nope/missing"),
        "{err}"
    );

    let status = client.shutdown().await.unwrap();
    assert_eq!(status.code(), Some(0));
}
