//! End to end through the agent loop for every wire API: a real [`Agent`] with a real HTTP
//! provider streams from the loopback SSE server; the model asks for the `echo` tool, the
//! agent runs it, sends the result back and the model answers with text. Checks the event
//! sequence, the final messages and what the second request told the model.

#![cfg(feature = "tokio")]

mod agent_support;

use std::sync::Arc;

use agent_support::{EchoTool, Recorder, summarize, text_of};
use openclaw_core::agent::{Agent, AgentOptions, StaticResolver};
use openclaw_core::message::{ContentBlock, Message, StopReason};
use openclaw_core::model::{Model, ModelCost};
use openclaw_core::provider::provider_for_api;
use openclaw_core::testing::sse_server::{Reply, SseServer, split_every};
use openclaw_core::{AgentEvent, Tool};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

fn model(api: &str, base_url: String) -> Model {
    Model {
        id: "fake-model".into(),
        name: "fake-model".into(),
        api: api.into(),
        provider: "fake".into(),
        base_url,
        reasoning: false,
        input: vec!["text".into()],
        cost: ModelCost::default(),
        context_window: 128_000,
        max_tokens: 4096,
        headers: None,
        compat: None,
    }
}

fn ev(name: &str, data: &str) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

fn data(d: &str) -> String {
    format!("data: {d}\n\n")
}

/// Run one prompt against `replies` (cut into 5-byte pieces) and return the recorder, the
/// agent's messages and the requests the server saw.
async fn run(
    api: &str,
    base_suffix: &str,
    replies: [String; 2],
) -> (Recorder, Vec<std::sync::Arc<Message>>, Vec<Value>) {
    let server = SseServer::start(
        replies
            .iter()
            .map(|r| Reply::sse(split_every(r.as_bytes(), 5)))
            .collect(),
    )
    .await
    .unwrap();
    let mut options = AgentOptions::new(model(api, format!("{}{base_suffix}", server.url())));
    options.system_prompt = "You are a test.".into();
    options.tools = vec![Arc::new(EchoTool) as Arc<dyn Tool>];
    let provider = provider_for_api(api).unwrap();
    let agent = Agent::new(
        options,
        Arc::new(StaticResolver::new(provider, Some("test-key".into()))),
    );
    let rec = Recorder::default();
    let sink = rec.0.clone();
    agent.subscribe(Arc::new(move |e: &AgentEvent| {
        sink.lock().unwrap().push(e.clone())
    }));
    // While streaming, the state's stream message is the latest update's partial message.
    let matches = Arc::new(std::sync::Mutex::new((0usize, 0usize)));
    let (seen, observer) = (matches.clone(), agent.clone());
    agent.subscribe(Arc::new(move |e: &AgentEvent| {
        if let AgentEvent::MessageUpdate { message, .. } = e {
            let same = observer.state().stream_message.as_ref() == Some(&**message);
            let mut n = seen.lock().unwrap();
            if same { n.0 += 1 } else { n.1 += 1 }
        }
    }));
    let added = agent.prompt_text("say hi with echo").await.unwrap();
    let (same, different) = *matches.lock().unwrap();
    assert!(
        same >= 5 && different == 0,
        "{same} matching, {different} stale"
    );
    assert_eq!(agent.state().stream_message, None);
    assert_eq!(added.len(), 4, "{:#?}", agent.messages());
    let requests = server.requests().iter().map(|r| r.json()).collect();
    (rec, agent.messages(), requests)
}

/// The expected sequence, with the tool-call and text update runs given per API.
fn expected(call_id: &str, toolcall_updates: &[&str], text_updates: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "agent_start",
        "turn_start",
        "message_start:user:say hi with echo",
        "message_end:user:say hi with echo",
        "message_start:assistant:",
    ]
    .map(String::from)
    .to_vec();
    v.extend(
        toolcall_updates
            .iter()
            .map(|u| format!("message_update:{u}")),
    );
    v.push("message_end:assistant:".into());
    v.push(format!("tool_execution_start:{call_id}"));
    v.push(format!("tool_execution_end:{call_id}"));
    v.extend(
        [
            "message_start:toolResult:hi",
            "message_end:toolResult:hi",
            "turn_end:1",
            "turn_start",
            "message_start:assistant:",
        ]
        .map(String::from),
    );
    v.extend(text_updates.iter().map(|u| format!("message_update:{u}")));
    v.extend(
        [
            "message_end:assistant:Echoed: hi",
            "turn_end:0",
            "agent_end:4",
        ]
        .map(String::from),
    );
    v
}

/// The four messages of the run: user, assistant tool call, tool result, assistant text.
fn check_messages(messages: &[std::sync::Arc<Message>], api: &str, call_id: &str) {
    assert_eq!(messages.len(), 4);
    assert_eq!(text_of(&messages[0]), "say hi with echo");
    let call = messages[1].as_assistant().unwrap();
    assert_eq!(call.api, api);
    assert_eq!(call.stop_reason, StopReason::ToolUse);
    let calls: Vec<_> = call.tool_calls().collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].id, call_id);
    assert_eq!(calls[0].name, "echo");
    assert_eq!(calls[0].arguments, json!({"text": "hi"}));
    let Message::ToolResult(result) = &*messages[2] else {
        panic!("expected a tool result, got {:?}", messages[2]);
    };
    assert_eq!(result.tool_call_id, call_id);
    assert_eq!(result.tool_name, "echo");
    assert!(!result.is_error);
    assert_eq!(result.content, vec![ContentBlock::text("hi")]);
    let answer = messages[3].as_assistant().unwrap();
    assert_eq!(answer.stop_reason, StopReason::Stop);
    assert_eq!(answer.text(), "Echoed: hi");
    assert!(answer.usage.total_tokens > 0);
}

/// The final agent_end event carries the same messages the agent holds.
fn check_agent_end(rec: &Recorder, messages: &[std::sync::Arc<Message>]) {
    let events = rec.events();
    let Some(AgentEvent::AgentEnd { messages: ended }) = events.last() else {
        panic!("no agent_end");
    };
    assert_eq!(ended.as_slice(), messages);
}

#[tokio::test]
async fn openai_completions_tool_call_then_text() {
    let chunk = |delta: &str, finish: &str| {
        data(&format!(
            r#"{{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{{"index":0,"delta":{delta},"finish_reason":{finish}}}]}}"#
        ))
    };
    let usage = data(
        r#"{"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17}}"#,
    );
    let first = [
        chunk(
            r#"{"role":"assistant","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"echo","arguments":""}}]}"#,
            "null",
        ),
        chunk(r#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"text\":"}}]}"#, "null"),
        chunk(r#"{"tool_calls":[{"index":0,"function":{"arguments":"\"hi\"}"}}]}"#, "null"),
        chunk("{}", r#""tool_calls""#),
        usage.clone(),
        data("[DONE]"),
    ]
    .concat();
    let second = [
        chunk(r#"{"role":"assistant","content":"Echoed: "}"#, "null"),
        chunk(r#"{"content":"hi"}"#, "null"),
        chunk("{}", r#""stop""#),
        usage,
        data("[DONE]"),
    ]
    .concat();
    let (rec, messages, requests) = run("openai-completions", "/v1", [first, second]).await;
    assert_eq!(
        rec.summary(),
        expected(
            "call_1",
            &[
                "toolcall_start",
                "toolcall_delta",
                "toolcall_delta",
                "toolcall_delta",
                "toolcall_end"
            ],
            &["text_start", "text_delta", "text_delta", "text_end"],
        )
    );
    check_messages(&messages, "openai-completions", "call_1");
    check_agent_end(&rec, &messages);
    // The second request carries the call and its result in the API's shape.
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["tools"][0]["function"]["name"], "echo");
    let msgs = requests[1]["messages"].as_array().unwrap();
    let call = &msgs[msgs.len() - 2];
    assert_eq!(call["role"], "assistant");
    assert_eq!(call["tool_calls"][0]["id"], "call_1");
    assert_eq!(
        call["tool_calls"][0]["function"]["arguments"],
        r#"{"text":"hi"}"#
    );
    let result = &msgs[msgs.len() - 1];
    assert_eq!(result["role"], "tool");
    assert_eq!(result["tool_call_id"], "call_1");
    assert_eq!(result["content"], "hi");
}

#[tokio::test]
async fn openai_responses_tool_call_then_text() {
    let completed = |id: &str| {
        ev(
            "response.completed",
            &format!(
                r#"{{"type":"response.completed","response":{{"id":"{id}","status":"completed","usage":{{"input_tokens":20,"output_tokens":9,"total_tokens":29}}}}}}"#
            ),
        )
    };
    let first = [
        ev("response.created", r#"{"type":"response.created","response":{"id":"resp_1","status":"in_progress"}}"#),
        ev("response.output_item.added", r#"{"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"echo","arguments":""}}"#),
        ev("response.function_call_arguments.delta", r#"{"type":"response.function_call_arguments.delta","output_index":0,"delta":"{\"text\":"}"#),
        ev("response.function_call_arguments.delta", r#"{"type":"response.function_call_arguments.delta","output_index":0,"delta":"\"hi\"}"}"#),
        ev("response.output_item.done", r#"{"type":"response.output_item.done","output_index":0,"item":{"type":"function_call","id":"fc_1","call_id":"call_1","name":"echo","arguments":"{\"text\":\"hi\"}"}}"#),
        completed("resp_1"),
    ]
    .concat();
    let second = [
        ev("response.created", r#"{"type":"response.created","response":{"id":"resp_2","status":"in_progress"}}"#),
        ev("response.output_item.added", r#"{"type":"response.output_item.added","output_index":0,"item":{"type":"message","id":"msg_2","role":"assistant","content":[]}}"#),
        ev("response.output_text.delta", r#"{"type":"response.output_text.delta","output_index":0,"delta":"Echoed: "}"#),
        ev("response.output_text.delta", r#"{"type":"response.output_text.delta","output_index":0,"delta":"hi"}"#),
        ev("response.output_item.done", r#"{"type":"response.output_item.done","output_index":0,"item":{"type":"message","id":"msg_2"}}"#),
        completed("resp_2"),
    ]
    .concat();
    let (rec, messages, requests) = run("openai-responses", "/v1", [first, second]).await;
    let summary = rec.summary();
    assert_eq!(
        summary,
        expected(
            "call_1|fc_1", // pi joins the call id and the item id
            &[
                "toolcall_start",
                "toolcall_delta",
                "toolcall_delta",
                "toolcall_end"
            ],
            &["text_start", "text_delta", "text_delta", "text_end"],
        )
    );
    check_messages(&messages, "openai-responses", "call_1|fc_1");
    check_agent_end(&rec, &messages);
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["tools"][0]["name"], "echo");
    let input = requests[1]["input"].as_array().unwrap();
    let result = &input[input.len() - 1];
    assert_eq!(result["type"], "function_call_output");
    assert_eq!(result["call_id"], "call_1");
    assert_eq!(result["output"], "hi");
    assert!(
        input.iter().any(|i| i["type"] == "function_call"
            && i["call_id"] == "call_1"
            && i["name"] == "echo")
    );
}

#[tokio::test]
async fn anthropic_messages_tool_call_then_text() {
    let start = |id: &str| {
        ev(
            "message_start",
            &format!(
                r#"{{"type":"message_start","message":{{"id":"{id}","type":"message","role":"assistant","content":[],"usage":{{"input_tokens":10,"output_tokens":1}}}}}}"#
            ),
        )
    };
    let end = |stop: &str| {
        ev(
            "message_delta",
            &format!(
                r#"{{"type":"message_delta","delta":{{"stop_reason":"{stop}"}},"usage":{{"output_tokens":7}}}}"#
            ),
        ) + &ev("message_stop", r#"{"type":"message_stop"}"#)
    };
    let first = [
        start("msg_1"),
        ev("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"call_1","name":"echo","input":{}}}"#),
        ev("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"text\": "}}"#),
        ev("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"\"hi\"}"}}"#),
        ev("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
        end("tool_use"),
    ]
    .concat();
    let second = [
        start("msg_2"),
        ev("content_block_start", r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
        ev("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Echoed: "}}"#),
        ev("content_block_delta", r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}"#),
        ev("content_block_stop", r#"{"type":"content_block_stop","index":0}"#),
        end("end_turn"),
    ]
    .concat();
    let (rec, messages, requests) = run("anthropic-messages", "", [first, second]).await;
    assert_eq!(
        rec.summary(),
        expected(
            "call_1",
            &[
                "toolcall_start",
                "toolcall_delta",
                "toolcall_delta",
                "toolcall_end"
            ],
            &["text_start", "text_delta", "text_delta", "text_end"],
        )
    );
    check_messages(&messages, "anthropic-messages", "call_1");
    check_agent_end(&rec, &messages);
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0]["tools"][0]["name"], "echo");
    let msgs = requests[1]["messages"].as_array().unwrap();
    let call = &msgs[msgs.len() - 2];
    assert_eq!(call["role"], "assistant");
    assert_eq!(call["content"][0]["type"], "tool_use");
    assert_eq!(call["content"][0]["id"], "call_1");
    assert_eq!(call["content"][0]["input"], json!({"text": "hi"}));
    let result = &msgs[msgs.len() - 1];
    assert_eq!(result["role"], "user");
    assert_eq!(result["content"][0]["type"], "tool_result");
    assert_eq!(result["content"][0]["tool_use_id"], "call_1");
}

#[tokio::test]
async fn google_generative_ai_tool_call_then_text() {
    let crlf = |d: &str| format!("data: {d}\r\n\r\n");
    let first = [crlf(
        r#"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"id":"call_1","name":"echo","args":{"text":"hi"}}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":4},"responseId":"g1"}"#,
    )]
    .concat();
    let second = [
        crlf(r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"Echoed: "}]}}],"responseId":"g2"}"#),
        crlf(r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":3}}"#),
    ]
    .concat();
    let (rec, messages, requests) = run("google-generative-ai", "", [first, second]).await;
    let summary = rec.summary();
    assert_eq!(
        summary,
        expected(
            "call_1",
            &["toolcall_start", "toolcall_delta", "toolcall_end"],
            &["text_start", "text_delta", "text_delta", "text_end"],
        ),
        "{summary:#?}"
    );
    check_messages(&messages, "google-generative-ai", "call_1");
    check_agent_end(&rec, &messages);
    assert_eq!(requests.len(), 2);
    let decl = &requests[0]["tools"][0]["functionDeclarations"][0];
    assert_eq!(decl["name"], "echo");
    let contents = requests[1]["contents"].as_array().unwrap();
    let call = &contents[contents.len() - 2];
    assert_eq!(call["role"], "model");
    assert_eq!(call["parts"][0]["functionCall"]["name"], "echo");
    assert_eq!(
        call["parts"][0]["functionCall"]["args"],
        json!({"text": "hi"})
    );
    let result = &contents[contents.len() - 1];
    assert_eq!(result["parts"][0]["functionResponse"]["name"], "echo");
    // Every event the run produced serialises (message_update snapshots included).
    for e in rec.events() {
        serde_json::to_string(&e).unwrap_or_else(|err| panic!("{}: {err}", summarize(&e)));
    }
}
