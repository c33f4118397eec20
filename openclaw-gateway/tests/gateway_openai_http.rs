//! `POST /v1/chat/completions` and `POST /v1/responses` honour or refuse every field: a field
//! the agent endpoint does not act on is a 400 naming it (OpenAI's error shape) and no run
//! starts; what the OpenAI SDK sends by default still works; `usage` is the run's real token
//! count. Over a real gateway on loopback with the in-process fake model.

mod common;

use common::model::{bodies, config_for, start_model};
use common::secure::http;
use common::{Setup, TOKEN, TestGateway};
use serde_json::{Value, json};

async fn gateway(model: &openclaw_core::testing::sse_server::SseServer) -> TestGateway {
    common::start(Setup {
        config: config_for(model),
        engine: true,
        ..Setup::default()
    })
    .await
}

async fn post(tg: &TestGateway, path: &str, body: &Value) -> (u16, String) {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json"
    );
    http(tg.addr, &head, &body.to_string()).await
}

fn user(text: &str) -> Value {
    json!([{"role": "user", "content": text}])
}

#[tokio::test]
async fn unsupported_fields_are_refused_by_name_before_any_run() {
    let model = start_model().await;
    let tg = gateway(&model).await;
    let cases = [
        (
            "/v1/chat/completions",
            json!({"model": "openclaw", "messages": user("x"),
            "tools": [{"type": "function", "function": {"name": "f"}}]}),
            "tools",
        ),
        (
            "/v1/chat/completions",
            json!({"model": "openclaw", "messages": user("x"), "n": 2}),
            "n",
        ),
        (
            "/v1/chat/completions",
            json!({"model": "openclaw", "messages": user("x"),
            "max_tokens": 16}),
            "max_tokens",
        ),
        (
            "/v1/chat/completions",
            json!({"model": "openclaw", "messages": user("x"),
            "response_format": {"type": "json_object"}}),
            "response_format",
        ),
        (
            "/v1/chat/completions",
            json!({"model": "openclaw", "messages": user("x"),
            "surprise": true}),
            "surprise",
        ),
        (
            "/v1/chat/completions",
            json!({"model": "openclaw", "messages": [
            {"role": "tool", "content": "42", "tool_call_id": "c1"}, {"role": "user", "content": "x"}]}),
            "messages[0].role",
        ),
        (
            "/v1/responses",
            json!({"model": "openclaw", "input": "x",
            "instructions": "be terse"}),
            "instructions",
        ),
        (
            "/v1/responses",
            json!({"model": "openclaw", "input": "x",
            "previous_response_id": "resp_1"}),
            "previous_response_id",
        ),
        (
            "/v1/responses",
            json!({"model": "openclaw", "input": "x",
            "max_output_tokens": 16}),
            "max_output_tokens",
        ),
    ];
    for (path, body, field) in cases {
        let (code, out) = post(&tg, path, &body).await;
        assert_eq!(code, 400, "{path} {field}: {out}");
        let err: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(err["error"]["param"], field, "{out}");
        assert_eq!(err["error"]["type"], "invalid_request_error");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!(
                "{field}: not supported by the openclaw agent endpoint ("
            )),
            "{message}"
        );
    }
    assert!(
        bodies(&model).is_empty(),
        "a refused request reached the model"
    );
    // Nulls and values asking for the default are taken, and the turn runs.
    let (code, out) = post(
        &tg,
        "/v1/chat/completions",
        &json!({"model": "openclaw",
        "messages": user("fine"), "n": 1, "temperature": null, "tools": [], "stream": false}),
    )
    .await;
    assert_eq!(code, 200, "{out}");
    assert_eq!(bodies(&model).len(), 1);
}

/// As OpenClaw: `system`/`developer` messages reach the model as system prompt, earlier turns
/// as a history block before the last user message.
#[tokio::test]
async fn system_messages_and_earlier_turns_reach_the_model_as_openclaw_sends_them() {
    let model = start_model().await;
    let tg = gateway(&model).await;
    let (code, out) = post(
        &tg,
        "/v1/chat/completions",
        &json!({"model": "openclaw", "messages": [
            {"role": "system", "content": "SYSTEM-MARK be terse"},
            {"role": "user", "content": "My name is Ada."},
            {"role": "assistant", "content": "Hello Ada."},
            {"role": "user", "content": "What is my name?"}]}),
    )
    .await;
    assert_eq!(code, 200, "{out}");
    let sent = bodies(&model);
    assert_eq!(sent.len(), 1);
    let request = sent[0].to_string();
    assert!(request.contains("SYSTEM-MARK be terse"), "{request}");
    assert!(
        request.contains("[Chat messages since your last reply - for context]\\nUser: My name is Ada.\\nAssistant: Hello Ada.\\n\\n[Current message - respond to this]\\nUser: What is my name?"),
        "{request}"
    );
}

#[tokio::test]
async fn usage_is_the_runs_token_count() {
    let model = start_model().await;
    let tg = gateway(&model).await;
    let (code, out) = post(
        &tg,
        "/v1/chat/completions",
        &json!({"model": "openclaw",
        "messages": user("count")}),
    )
    .await;
    assert_eq!(code, 200, "{out}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(answer["choices"][0]["message"]["content"], "pong");
    assert_eq!(
        answer["usage"],
        json!({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15})
    );
    // Streamed with include_usage: a last chunk with no choices carries it, before [DONE].
    let (code, out) = post(
        &tg,
        "/v1/chat/completions",
        &json!({"model": "openclaw",
        "messages": user("count"), "stream": true,
        "stream_options": {"include_usage": true}}),
    )
    .await;
    assert_eq!(code, 200, "{out}");
    let usage_at = out
        .find("\"choices\":[],")
        .unwrap_or_else(|| panic!("no usage chunk: {out}"));
    assert!(out[usage_at..].contains("\"total_tokens\":15"), "{out}");
    assert!(usage_at < out.find("data: [DONE]").unwrap());
    assert!(out.contains("\"content\":\"pong\""), "{out}");
    // Without it, no usage chunk.
    let (_, out) = post(
        &tg,
        "/v1/chat/completions",
        &json!({"model": "openclaw",
        "messages": user("count"), "stream": true}),
    )
    .await;
    assert!(!out.contains("\"usage\""), "{out}");
    // Responses: in the answer and in response.completed.
    let (code, out) = post(
        &tg,
        "/v1/responses",
        &json!({"model": "openclaw",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "count"}]}]}),
    )
    .await;
    assert_eq!(code, 200, "{out}");
    let answer: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        answer["usage"],
        json!({"input_tokens": 10, "output_tokens": 5, "total_tokens": 15})
    );
    let (_, out) = post(
        &tg,
        "/v1/responses",
        &json!({"model": "openclaw", "input": "count",
        "stream": true}),
    )
    .await;
    let completed = out
        .split("event: response.completed")
        .nth(1)
        .unwrap_or_else(|| panic!("no response.completed: {out}"));
    assert!(completed.contains("\"output_tokens\":5"), "{out}");
}
