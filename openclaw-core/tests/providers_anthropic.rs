//! anthropic-messages against the loopback SSE server: exact StreamEvents and final messages.

#![cfg(feature = "tokio")]

mod providers_common;

use std::time::Duration;

use openclaw_core::message::{ContentBlock, StopReason};
use openclaw_core::model::ThinkingLevel;
use openclaw_core::provider::anthropic::AnthropicMessages;
use openclaw_core::provider::{StreamEvent, TokenCounts};
use openclaw_core::testing::sse_server::{Reply, SseServer, split_every};
use pretty_assertions::assert_eq;
use providers_common::*;

fn ev(name: &str, data: &str) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

fn start(id: &str) -> String {
    ev(
        "message_start",
        &format!(
            r#"{{"type":"message_start","message":{{"id":"{id}","type":"message","role":"assistant","content":[],"usage":{{"input_tokens":10,"output_tokens":1,"cache_read_input_tokens":4,"cache_creation_input_tokens":2}}}}}}"#
        ),
    )
}

fn end(stop: &str) -> String {
    ev(
        "message_delta",
        &format!(
            r#"{{"type":"message_delta","delta":{{"stop_reason":"{stop}"}},"usage":{{"output_tokens":7}}}}"#
        ),
    ) + &ev("message_stop", r#"{"type":"message_stop"}"#)
}

#[tokio::test]
async fn thinking_with_signature_then_text_split_inside_utf8() {
    let body = [
        start("msg_1"),
        ev("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#),
        ev("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm…"}}"#),
        ev("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig"}}"#),
        ev("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
        ev("ping", r#"{"type":"ping"}"#),
        ev("content_block_start", r#"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#),
        ev("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"grüße 🙂"}}"#),
        ev("content_block_stop", r#"{"type":"content_block_stop","index":1}"#),
        end("end_turn"),
    ]
    .concat();
    let server = SseServer::start(vec![Reply::sse(split_every(body.as_bytes(), 5))])
        .await
        .unwrap();
    let mut m = model("anthropic-messages", &server.url());
    m.reasoning = true;
    let mut opts = options();
    opts.thinking = ThinkingLevel::Medium;
    let (events, msg) = run(&AnthropicMessages, &m, &context("think"), &opts).await;
    let usage1 = TokenCounts {
        input: 10,
        output: 1,
        cache_read: 4,
        cache_write: 2,
    };
    let usage2 = TokenCounts {
        output: 7,
        ..usage1
    };
    assert_eq!(
        events,
        vec![
            StreamEvent::ResponseId("msg_1".into()),
            StreamEvent::Usage(usage1),
            StreamEvent::ThinkingStart { index: 0 },
            StreamEvent::ThinkingDelta {
                index: 0,
                delta: "Hmm…".into()
            },
            StreamEvent::ThinkingEnd {
                index: 0,
                signature: Some("sig".into()),
                redacted: false
            },
            StreamEvent::TextStart { index: 1 },
            StreamEvent::TextDelta {
                index: 1,
                delta: "grüße 🙂".into()
            },
            StreamEvent::TextEnd {
                index: 1,
                signature: None
            },
            StreamEvent::Usage(usage2),
            StreamEvent::Done {
                reason: StopReason::Stop
            },
        ]
    );
    assert_eq!(msg.text(), "grüße 🙂");
    assert_eq!(msg.usage.total_tokens, 23);
    let req = &server.requests()[0];
    assert_eq!(req.path, "/v1/messages");
    assert_eq!(req.headers["x-api-key"], "test-key");
    assert_eq!(req.headers["anthropic-version"], "2023-06-01");
    let body = req.json();
    assert_eq!(
        body["thinking"],
        serde_json::json!({"type": "enabled", "budget_tokens": 8192})
    );
    assert_eq!(body["system"][0]["text"], "You are a test.");
    assert_eq!(body["stream"], true);
}

#[tokio::test]
async fn two_tool_calls_with_split_json() {
    let body = [
        start("msg_2"),
        ev("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_a","name":"read","input":{}}}"#),
        ev("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"path\": "}}"#),
        ev("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"a.txt\"}"}}"#),
        ev("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
        ev("content_block_start", r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_b","name":"bash","input":{}}}"#),
        ev("content_block_delta", r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"command\": \"ls\"}"}}"#),
        ev("content_block_stop", r#"{"type":"content_block_stop","index":1}"#),
        end("tool_use"),
    ]
    .concat();
    let server = SseServer::start(vec![Reply::sse(split_every(body.as_bytes(), 11))])
        .await
        .unwrap();
    let m = model("anthropic-messages", &server.url());
    let (events, msg) = run(&AnthropicMessages, &m, &context("go"), &options()).await;
    assert_eq!(
        events[2..5],
        [
            StreamEvent::ToolCallStart {
                index: 0,
                id: "toolu_a".into(),
                name: "read".into()
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                delta: "{\"path\": ".into()
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                delta: "\"a.txt\"}".into()
            },
        ]
    );
    assert_eq!(msg.stop_reason, StopReason::ToolUse);
    let calls: Vec<_> = msg.tool_calls().collect();
    assert_eq!(calls[0].arguments, serde_json::json!({"path": "a.txt"}));
    assert_eq!(calls[1].arguments, serde_json::json!({"command": "ls"}));
    assert!(matches!(msg.content[1], ContentBlock::ToolCall(_)));
}

#[tokio::test]
async fn overloaded_529_keeps_the_sdk_wording() {
    let server = SseServer::start(vec![Reply::json(
        529,
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    )])
    .await
    .unwrap();
    let m = model("anthropic-messages", &server.url());
    let (events, _) = run(&AnthropicMessages, &m, &context("x"), &options()).await;
    assert_eq!(
        events,
        vec![StreamEvent::Error {
            reason: StopReason::Error,
            message:
                r#"529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
                    .into()
        }]
    );
}

#[tokio::test]
async fn mid_stream_error_event_and_abort() {
    let body = [
        start("msg_3"),
        ev(
            "error",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ),
    ]
    .concat();
    let server = SseServer::start(vec![Reply::sse([body])]).await.unwrap();
    let m = model("anthropic-messages", &server.url());
    let (events, _) = run(&AnthropicMessages, &m, &context("x"), &options()).await;
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error {
            reason: StopReason::Error,
            message: "Overloaded".into()
        })
    );

    let held = [
        start("msg_4"),
        ev("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
        ev("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"t0 "}}"#),
    ]
    .concat();
    let server = SseServer::start(vec![Reply::Sse {
        chunks: vec![held.into_bytes()],
        delay: Duration::ZERO,
        hold_open: true,
    }])
    .await
    .unwrap();
    let m = model("anthropic-messages", &server.url());
    let opts = options();
    let cancel = opts.cancel.clone();
    let waiter = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        cancel.cancel();
    });
    let (events, msg) = run(&AnthropicMessages, &m, &context("x"), &opts).await;
    waiter.await.unwrap();
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error {
            reason: StopReason::Aborted,
            message: "Request was aborted".into()
        })
    );
    assert_eq!(msg.stop_reason, StopReason::Aborted);
    assert_eq!(msg.text(), "t0 ");
    assert!(server.wait_disconnect(Duration::from_secs(5)).await);
}
