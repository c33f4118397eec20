//! openai-completions against the loopback SSE server: exact StreamEvents and final messages.

#![cfg(feature = "tokio")]

mod providers_common;

use std::time::Duration;

use openclaw_core::message::{ContentBlock, StopReason};
use openclaw_core::provider::openai_completions::OpenAiCompletions;
use openclaw_core::provider::{StreamEvent, TokenCounts};
use openclaw_core::testing::sse_server::{Reply, SseServer, split_every};
use pretty_assertions::assert_eq;
use providers_common::*;

fn chunk(delta: &str, finish: &str) -> String {
    format!(
        r#"{{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}]}}"#
    )
}

const USAGE: &str = r#"{"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,"prompt_tokens_details":{"cached_tokens":2},"completion_tokens_details":{"reasoning_tokens":3}}}"#;

#[tokio::test]
async fn text_split_inside_utf8_and_sse_lines_with_usage_only_final_chunk() {
    let body = sse_lines(&[
        &chunk(r#"{"role":"assistant","content":""}"#, "null"),
        &chunk(r#"{"content":"héllo "}"#, "null"),
        &chunk(r#"{"content":"wörld €"}"#, "null"),
        &chunk("{}", r#""stop""#),
        USAGE,
        "[DONE]",
    ]);
    // 3-byte pieces cut through "é", "ö", "€" and every "data:" line.
    let server = SseServer::start(vec![Reply::sse(split_every(body.as_bytes(), 3))])
        .await
        .unwrap();
    let m = model("openai-completions", &format!("{}/v1", server.url()));
    let (events, msg) = run(&OpenAiCompletions, &m, &context("hi"), &options()).await;
    assert_eq!(
        events,
        vec![
            StreamEvent::ResponseId("chatcmpl-1".into()),
            StreamEvent::TextStart { index: 0 },
            StreamEvent::TextDelta {
                index: 0,
                delta: "héllo ".into()
            },
            StreamEvent::TextDelta {
                index: 0,
                delta: "wörld €".into()
            },
            StreamEvent::Usage(TokenCounts {
                input: 10,
                output: 8,
                cache_read: 2,
                cache_write: 0
            }),
            StreamEvent::TextEnd {
                index: 0,
                signature: None
            },
            StreamEvent::Done {
                reason: StopReason::Stop
            },
        ]
    );
    assert_eq!(msg.text(), "héllo wörld €");
    assert_eq!(msg.usage.total_tokens, 20);
    assert_eq!(msg.response_id.as_deref(), Some("chatcmpl-1"));
    let req = &server.requests()[0];
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(req.headers["authorization"], "Bearer test-key");
    let body = req.json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "model",
            "messages",
            "stream",
            "stream_options",
            "store",
            "max_completion_tokens"
        ]
    );
    assert_eq!(
        body["messages"][0],
        serde_json::json!({"role": "system", "content": "You are a test."})
    );
    assert_eq!(
        body["messages"][1],
        serde_json::json!({"role": "user", "content": [{"type": "text", "text": "hi"}]})
    );
}

#[tokio::test]
async fn reasoning_then_text_closes_thinking_at_the_end() {
    let body = sse_lines(&[
        &chunk(r#"{"role":"assistant","content":""}"#, "null"),
        &chunk(r#"{"reasoning_content":"Let me think."}"#, "null"),
        &chunk(r#"{"content":"echo"}"#, "null"),
        &chunk("{}", r#""stop""#),
        "[DONE]",
    ]);
    let server = SseServer::start(vec![Reply::sse([body])]).await.unwrap();
    let m = model("openai-completions", &server.url());
    let (events, msg) = run(&OpenAiCompletions, &m, &context("think"), &options()).await;
    assert_eq!(
        events[1..],
        [
            StreamEvent::ThinkingStart { index: 0 },
            StreamEvent::ThinkingDelta {
                index: 0,
                delta: "Let me think.".into()
            },
            StreamEvent::TextStart { index: 1 },
            StreamEvent::TextDelta {
                index: 1,
                delta: "echo".into()
            },
            StreamEvent::ThinkingEnd {
                index: 0,
                signature: Some("reasoning_content".into()),
                redacted: false
            },
            StreamEvent::TextEnd {
                index: 1,
                signature: None
            },
            StreamEvent::Done {
                reason: StopReason::Stop
            },
        ]
    );
    match &msg.content[0] {
        ContentBlock::Thinking(t) => {
            assert_eq!(t.thinking_signature.as_deref(), Some("reasoning_content"))
        }
        other => panic!("expected thinking, got {other:?}"),
    }
}

#[tokio::test]
async fn two_parallel_tool_calls_with_split_arguments() {
    let body = sse_lines(&[
        &chunk(
            r#"{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"read","arguments":""}}]}"#,
            "null",
        ),
        &chunk(
            r#"{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"bash","arguments":"{\"comm"}}]}"#,
            "null",
        ),
        &chunk(
            r#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\": \"a"}}]}"#,
            "null",
        ),
        &chunk(
            r#"{"tool_calls":[{"index":1,"function":{"arguments":"and\": \"ls\"}"}}]}"#,
            "null",
        ),
        &chunk(
            r#"{"tool_calls":[{"index":0,"function":{"arguments":".txt\"}"}}]}"#,
            "null",
        ),
        &chunk("{}", r#""tool_calls""#),
        "[DONE]",
    ]);
    let server = SseServer::start(vec![Reply::sse(split_every(body.as_bytes(), 7))])
        .await
        .unwrap();
    let m = model("openai-completions", &server.url());
    let (events, msg) = run(&OpenAiCompletions, &m, &context("go"), &options()).await;
    assert_eq!(events.len(), 11);
    assert_eq!(
        events[1],
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_a".into(),
            name: "read".into()
        }
    );
    assert_eq!(
        events[2],
        StreamEvent::ToolCallDelta {
            index: 0,
            delta: String::new()
        }
    );
    assert_eq!(msg.stop_reason, StopReason::ToolUse);
    let calls: Vec<_> = msg.tool_calls().collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].arguments, serde_json::json!({"path": "a.txt"}));
    assert_eq!(calls[1].id, "call_b");
    assert_eq!(calls[1].arguments, serde_json::json!({"command": "ls"}));
}

#[tokio::test]
async fn http_500_with_json_error_body() {
    let server = SseServer::start(vec![Reply::json(
        500,
        r#"{"error":{"message":"internal server error","type":"server_error"}}"#,
    )])
    .await
    .unwrap();
    let m = model("openai-completions", &server.url());
    let (events, msg) = run(&OpenAiCompletions, &m, &context("x"), &options()).await;
    assert_eq!(
        events,
        vec![StreamEvent::Error {
            reason: StopReason::Error,
            message: "500 internal server error".into()
        }]
    );
    assert_eq!(msg.stop_reason, StopReason::Error);
    assert_eq!(
        msg.error_message.as_deref(),
        Some("500 internal server error")
    );
}

#[tokio::test]
async fn connection_closed_mid_stream_is_an_error_keeping_partial_text() {
    let body = sse_lines(&[&chunk(r#"{"content":"partial"}"#, "null")]);
    let server = SseServer::start(vec![Reply::sse([body])]).await.unwrap();
    let m = model("openai-completions", &server.url());
    let (events, msg) = run(&OpenAiCompletions, &m, &context("x"), &options()).await;
    assert!(matches!(
        events.last(),
        Some(StreamEvent::Error { reason: StopReason::Error, message }) if message.contains("connection closed")
    ));
    assert_eq!(msg.stop_reason, StopReason::Error);
    assert_eq!(msg.text(), "partial");
}

#[tokio::test]
async fn abort_mid_stream_closes_the_connection() {
    let body = sse_lines(&[&chunk(r#"{"content":"t0 "}"#, "null")]);
    let server = SseServer::start(vec![Reply::Sse {
        chunks: vec![body.into_bytes()],
        delay: Duration::ZERO,
        hold_open: true,
    }])
    .await
    .unwrap();
    let m = model("openai-completions", &server.url());
    let opts = options();
    let cancel = opts.cancel.clone();
    let mut stream = openclaw_core::Provider::stream(&OpenAiCompletions, &m, &context("x"), &opts);
    use futures::StreamExt;
    let mut seen = Vec::new();
    while let Some(e) = stream.next().await {
        let is_delta = matches!(e, StreamEvent::TextDelta { .. });
        seen.push(e);
        if is_delta {
            cancel.cancel();
        }
    }
    assert_eq!(
        seen.last(),
        Some(&StreamEvent::Error {
            reason: StopReason::Aborted,
            message: "Request was aborted".into()
        })
    );
    drop(stream);
    assert!(
        server.wait_disconnect(Duration::from_secs(5)).await,
        "server never saw the hang-up"
    );
}

#[tokio::test]
async fn connection_refused_is_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let m = model("openai-completions", &url);
    let (events, _) = run(&OpenAiCompletions, &m, &context("x"), &options()).await;
    assert!(matches!(
        &events[..],
        [StreamEvent::Error { reason: StopReason::Error, message }] if message.starts_with("fake: Connection error")
    ));
}
