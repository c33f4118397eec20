//! openai-completions and anthropic-messages against the independent fake server
//! `shared/fake_llm.py` (found by walking up from this crate, or via `OPENCLAW_FAKE_LLM`).
//! Skips with a message when python3 or the script is missing.

#![cfg(feature = "tokio")]

mod providers_common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use openclaw_core::message::{ContentBlock, Message, StopReason, TextContent, ToolResultMessage};
use openclaw_core::provider::anthropic::AnthropicMessages;
use openclaw_core::provider::openai_completions::OpenAiCompletions;
use openclaw_core::provider::{LlmContext, Provider};
use openclaw_core::tool::ToolSpec;
use providers_common::*;

fn script() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("OPENCLAW_FAKE_LLM") {
        return Some(PathBuf::from(p));
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .map(|a| a.join("shared/fake_llm.py"))
        .find(|p| p.is_file())
}

struct Fake {
    child: Child,
    url: String,
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn spawn_fake() -> Option<Fake> {
    let Some(path) = script() else {
        eprintln!("SKIP: shared/fake_llm.py not found (set OPENCLAW_FAKE_LLM)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = match Command::new("python3")
        .arg(&path)
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("SKIP: cannot run python3: {e}");
            return None;
        }
    };
    let fake = Fake {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(fake);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fake_llm.py did not start listening on {port}");
}

fn read_tool() -> ToolSpec {
    ToolSpec {
        name: "read".into(),
        description: "Read a file".into(),
        parameters: serde_json::json!({"type": "object", "properties": {"path": {"type": "string"}}}),
    }
}

async fn tool_round_trip(provider: &dyn Provider, api: &str, base_url: String) {
    let m = model(api, &base_url);
    let (_, first) = run(provider, &m, &context("hello world"), &options()).await;
    assert_eq!(
        first.stop_reason,
        StopReason::Stop,
        "{:?}",
        first.error_message
    );
    assert_eq!(first.text(), "echo: hello world");
    assert_eq!(first.usage.input, 10);
    assert_eq!(first.usage.output, 5);
    assert!(first.response_id.is_some());

    let mut ctx = context("call read {\"path\": \"a.txt\"}");
    ctx.tools.push(read_tool());
    let (_, call) = run(provider, &m, &ctx, &options()).await;
    assert_eq!(
        call.stop_reason,
        StopReason::ToolUse,
        "{:?}",
        call.error_message
    );
    let tc = call.tool_calls().next().expect("a tool call").clone();
    assert_eq!(tc.name, "read");
    assert_eq!(tc.arguments, serde_json::json!({"path": "a.txt"}));

    let mut next = LlmContext { ..ctx.clone() };
    next.messages.push(Message::Assistant(call).into());
    next.messages.push(
        Message::ToolResult(ToolResultMessage {
            tool_call_id: tc.id.clone(),
            tool_name: "read".into(),
            content: vec![ContentBlock::Text(TextContent {
                text: "anthropic read\nsecond line".into(),
                text_signature: None,
            })],
            details: None,
            is_error: false,
            timestamp: 0,
        })
        .into(),
    );
    let (_, done) = run(provider, &m, &next, &options()).await;
    assert_eq!(done.text(), "done: anthropic read");

    let (_, think) = run(provider, &m, &context("think about it"), &options()).await;
    assert!(
        matches!(&think.content[0], ContentBlock::Thinking(t) if t.thinking == "Let me think about this.")
    );

    let (_, failed) = run(provider, &m, &context("fail 529"), &options()).await;
    assert_eq!(failed.stop_reason, StopReason::Error);
    assert!(failed.error_message.unwrap_or_default().starts_with("529 "));
}

#[tokio::test]
async fn openai_completions_against_fake_llm() {
    let Some(fake) = spawn_fake().await else {
        return;
    };
    tool_round_trip(
        &OpenAiCompletions,
        "openai-completions",
        format!("{}/v1", fake.url),
    )
    .await;
    let m = model("openai-completions", &format!("{}/v1", fake.url));
    let (_, failed) = run(&OpenAiCompletions, &m, &context("fail 529"), &options()).await;
    assert_eq!(failed.error_message.as_deref(), Some("529 overloaded"));
}

#[tokio::test]
async fn anthropic_messages_against_fake_llm() {
    let Some(fake) = spawn_fake().await else {
        return;
    };
    tool_round_trip(&AnthropicMessages, "anthropic-messages", fake.url.clone()).await;
}
