//! openai-completions and anthropic-messages against the independent fake server
//! `shared/fake_llm.py` (started by `openclaw_core::testing::prereq`: without python3 or shared/
//! the tests are skipped with the reason on stderr, and fail under `CI=true`).

#![cfg(feature = "tokio")]

mod providers_common;

use openclaw_core::message::{ContentBlock, Message, StopReason, TextContent, ToolResultMessage};
use openclaw_core::provider::anthropic::AnthropicMessages;
use openclaw_core::provider::openai_completions::OpenAiCompletions;
use openclaw_core::provider::{LlmContext, Provider};
use openclaw_core::testing::prereq::FakeLlm;
use openclaw_core::tool::ToolSpec;
use providers_common::*;

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
    let Some(fake) = FakeLlm::start() else {
        return;
    };
    tool_round_trip(
        &OpenAiCompletions,
        "openai-completions",
        format!("{}/v1", fake.url()),
    )
    .await;
    let m = model("openai-completions", &format!("{}/v1", fake.url()));
    let (_, failed) = run(&OpenAiCompletions, &m, &context("fail 529"), &options()).await;
    assert_eq!(failed.error_message.as_deref(), Some("529 overloaded"));
}

#[tokio::test]
async fn anthropic_messages_against_fake_llm() {
    let Some(fake) = FakeLlm::start() else {
        return;
    };
    tool_round_trip(&AnthropicMessages, "anthropic-messages", fake.url()).await;
}
