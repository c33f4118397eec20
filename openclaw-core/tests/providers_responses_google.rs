//! openai-responses and google-generative-ai against the loopback SSE server.

#![cfg(feature = "tokio")]

mod providers_common;

use std::time::Duration;

use openclaw_core::message::{ContentBlock, StopReason};
use openclaw_core::model::ThinkingLevel;
use openclaw_core::provider::google::GoogleGenerativeAi;
use openclaw_core::provider::openai_responses::OpenAiResponses;
use openclaw_core::provider::{StreamEvent, TokenCounts};
use openclaw_core::testing::sse_server::{Reply, SseServer, split_every};
use pretty_assertions::assert_eq;
use providers_common::*;

fn ev(name: &str, data: &str) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

fn responses_body() -> String {
    [
        ev("response.created", r#"{"type":"response.created","response":{"id":"resp_1","status":"in_progress"}}"#),
        ev("response.output_item.added", r#"{"type":"response.output_item.added","output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[]}}"#),
        ev("response.reasoning_summary_text.delta", r#"{"type":"response.reasoning_summary_text.delta","output_index":0,"delta":"Plan…"}"#),
        ev("response.output_item.done", r#"{"type":"response.output_item.done","output_index":0,"item":{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"Plan…"}]}}"#),
        ev("response.output_item.added", r#"{"type":"response.output_item.added","output_index":1,"item":{"type":"message","id":"msg_1","role":"assistant","content":[]}}"#),
        ev("response.output_text.delta", r#"{"type":"response.output_text.delta","output_index":1,"delta":"Olá "}"#),
        ev("response.output_text.delta", r#"{"type":"response.output_text.delta","output_index":1,"delta":"mundo"}"#),
        ev("response.output_item.done", r#"{"type":"response.output_item.done","output_index":1,"item":{"type":"message","id":"msg_1"}}"#),
        ev("response.output_item.added", r#"{"type":"response.output_item.added","output_index":2,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"read","arguments":""}}"#),
        ev("response.output_item.added", r#"{"type":"response.output_item.added","output_index":3,"item":{"type":"function_call","id":"fc_2","call_id":"call_2","name":"ls","arguments":""}}"#),
        ev("response.function_call_arguments.delta", r#"{"type":"response.function_call_arguments.delta","output_index":2,"delta":"{\"path\":"}"#),
        ev("response.function_call_arguments.delta", r#"{"type":"response.function_call_arguments.delta","output_index":3,"delta":"{}"}"#),
        ev("response.function_call_arguments.delta", r#"{"type":"response.function_call_arguments.delta","output_index":2,"delta":"\"a\"}"}"#),
        ev("response.output_item.done", r#"{"type":"response.output_item.done","output_index":2,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"read","arguments":"{\"path\":\"a\"}"}}"#),
        ev("response.output_item.done", r#"{"type":"response.output_item.done","output_index":3,"item":{"type":"function_call","id":"fc_2","call_id":"call_2","name":"ls","arguments":"{}"}}"#),
        ev("response.completed", r#"{"type":"response.completed","response":{"id":"resp_1","status":"completed","usage":{"input_tokens":20,"output_tokens":9,"total_tokens":29,"input_tokens_details":{"cached_tokens":5}}}}"#),
    ]
    .concat()
}

#[tokio::test]
async fn responses_reasoning_text_and_two_parallel_calls() {
    let server = SseServer::start(vec![Reply::sse(split_every(
        responses_body().as_bytes(),
        9,
    ))])
    .await
    .unwrap();
    let mut m = model("openai-responses", &format!("{}/v1", server.url()));
    m.reasoning = true;
    let mut opts = options();
    opts.thinking = ThinkingLevel::Low;
    let (events, msg) = run(&OpenAiResponses, &m, &context("hi"), &opts).await;
    assert_eq!(events[0], StreamEvent::ResponseId("resp_1".into()));
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Done {
            reason: StopReason::ToolUse
        })
    );
    assert!(events.contains(&StreamEvent::Usage(TokenCounts {
        input: 15,
        output: 9,
        cache_read: 5,
        cache_write: 0
    })));
    assert_eq!(msg.text(), "Olá mundo");
    assert!(matches!(&msg.content[0], ContentBlock::Thinking(t) if t.thinking == "Plan…"));
    let calls: Vec<_> = msg.tool_calls().collect();
    assert_eq!(calls[0].id, "call_1|fc_1");
    assert_eq!(calls[0].arguments, serde_json::json!({"path": "a"}));
    assert_eq!(calls[1].name, "ls");
    let req = &server.requests()[0];
    assert_eq!(req.path, "/v1/responses");
    let body = req.json();
    assert_eq!(
        body["reasoning"],
        serde_json::json!({"effort": "low", "summary": "auto"})
    );
    assert_eq!(body["input"][0]["role"], "developer");
}

#[tokio::test]
async fn responses_429_then_error_text() {
    let server = SseServer::start(vec![Reply::json(
        429,
        r#"{"error":{"message":"Rate limit reached","type":"requests"}}"#,
    )])
    .await
    .unwrap();
    let m = model("openai-responses", &server.url());
    let (events, _) = run(&OpenAiResponses, &m, &context("hi"), &options()).await;
    assert_eq!(
        events,
        vec![StreamEvent::Error {
            reason: StopReason::Error,
            message: "429 Rate limit reached".into()
        }]
    );
}

fn gemini_body() -> String {
    [
        r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"thinking ","thought":true}]}}],"responseId":"g1"}"#,
        r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Grüß","thoughtSignature":"s1"}]}}],"responseId":"g1"}"#,
        r#"{"candidates":[{"content":{"role":"model","parts":[{"text":" dich"}]}}]}"#,
        r#"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"read","args":{"path":"a"}},"thoughtSignature":"s2"},{"functionCall":{"name":"ls","args":{}}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":4,"thoughtsTokenCount":3,"cachedContentTokenCount":2}}"#,
    ]
    .iter()
    .map(|d| format!("data: {d}\r\n\r\n"))
    .collect()
}

#[tokio::test]
async fn gemini_thoughts_text_and_whole_function_calls() {
    let server = SseServer::start(vec![Reply::sse(split_every(gemini_body().as_bytes(), 4))])
        .await
        .unwrap();
    let mut m = model("google-generative-ai", &server.url());
    m.id = "gemini-2.5-pro".into();
    m.reasoning = true;
    let mut opts = options();
    opts.thinking = ThinkingLevel::High;
    let (events, msg) = run(&GoogleGenerativeAi, &m, &context("hi"), &opts).await;
    assert_eq!(
        events[..6],
        [
            StreamEvent::ResponseId("g1".into()),
            StreamEvent::ThinkingStart { index: 0 },
            StreamEvent::ThinkingDelta {
                index: 0,
                delta: "thinking ".into()
            },
            StreamEvent::ThinkingEnd {
                index: 0,
                signature: None,
                redacted: false
            },
            StreamEvent::TextStart { index: 1 },
            StreamEvent::TextDelta {
                index: 1,
                delta: "Grüß".into()
            },
        ]
    );
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Done {
            reason: StopReason::ToolUse
        })
    );
    assert_eq!(msg.text(), "Grüß dich");
    match &msg.content[1] {
        ContentBlock::Text(t) => assert_eq!(t.text_signature.as_deref(), Some("s1")),
        other => panic!("{other:?}"),
    }
    let calls: Vec<_> = msg.tool_calls().collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].arguments, serde_json::json!({"path": "a"}));
    assert_eq!(calls[0].thought_signature.as_deref(), Some("s2"));
    assert_eq!(msg.usage.input, 10);
    assert_eq!(msg.usage.output, 7);
    let req = &server.requests()[0];
    assert_eq!(
        req.path,
        "/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    );
    assert_eq!(req.headers["x-goog-api-key"], "test-key");
    assert_eq!(
        req.json()["generationConfig"]["thinkingConfig"]["thinkingBudget"],
        32768
    );
}

#[tokio::test]
async fn gemini_closed_mid_stream_and_abort() {
    let partial: String = gemini_body()
        .lines()
        .take(2)
        .map(|l| format!("{l}\n"))
        .collect();
    let server = SseServer::start(vec![Reply::sse([partial.clone()])])
        .await
        .unwrap();
    let m = model("google-generative-ai", &server.url());
    let (events, msg) = run(&GoogleGenerativeAi, &m, &context("hi"), &options()).await;
    assert!(matches!(
        events.last(),
        Some(StreamEvent::Error {
            reason: StopReason::Error,
            ..
        })
    ));
    assert_eq!(msg.stop_reason, StopReason::Error);

    let server = SseServer::start(vec![Reply::Sse {
        chunks: vec![partial.into_bytes()],
        delay: Duration::ZERO,
        hold_open: true,
    }])
    .await
    .unwrap();
    let m = model("google-generative-ai", &server.url());
    let opts = options();
    let cancel = opts.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        cancel.cancel();
    });
    let (events, _) = run(&GoogleGenerativeAi, &m, &context("hi"), &opts).await;
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Error {
            reason: StopReason::Aborted,
            message: "Request was aborted".into()
        })
    );
    assert!(server.wait_disconnect(Duration::from_secs(5)).await);
}
