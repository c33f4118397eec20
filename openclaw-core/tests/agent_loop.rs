//! The agent loop's event order for text and tool turns, tool-batch semantics and run
//! preconditions, checked against the sequences pi 0.73.1 printed (conformance goldens
//! `prompt_echo`, `tool_two_calls`, `tool_not_enabled`, `tool_read`).

mod agent_support;

use std::sync::Arc;

use agent_support::*;
use futures::executor::block_on;
use openclaw_core::agent::{AgentError, ToolExecution};
use openclaw_core::testing::scripted::{Reply, ScriptedProvider};
use openclaw_core::{AgentEvent, Message};
use serde_json::json;

#[test]
fn text_turn_matches_prompt_echo() {
    let p = ScriptedProvider::new();
    p.push(Reply::chunks(&["echo: ", "hello world"]));
    let (agent, rec) = agent_with(&p, vec![]);
    let added = block_on(agent.prompt_text("hello world")).unwrap();
    assert_eq!(
        rec.summary(),
        [
            "agent_start",
            "turn_start",
            "message_start:user:hello world",
            "message_end:user:hello world",
            "message_start:assistant:",
            "message_update:text_start",
            "message_update:text_delta",
            "message_update:text_delta",
            "message_update:text_end",
            "message_end:assistant:echo: hello world",
            "turn_end:0",
            "agent_end:2",
        ]
    );
    assert_eq!(added.len(), 2);
    // message_start carries the empty message; message_end the final one with usage.
    let events = rec.events();
    let AgentEvent::MessageStart { message } = &events[4] else {
        panic!()
    };
    let start = message.as_assistant().unwrap();
    assert!(
        start.content.is_empty() && start.usage.total_tokens == 0 && start.response_id.is_none()
    );
    let AgentEvent::MessageEnd { message } = &events[9] else {
        panic!()
    };
    let end = message.as_assistant().unwrap();
    assert_eq!(end.usage.total_tokens, 15);
    assert_eq!(end.response_id.as_deref(), Some("resp_scripted"));
    // The context holds the run's messages; the model saw the system prompt and the user text.
    assert_eq!(agent.messages().len(), 2);
    let call = &p.calls()[0];
    assert_eq!(call.context.system_prompt, "You are a test.");
    assert_eq!(call.api_key.as_deref(), Some("test-key"));
    assert_eq!(last_seen(&p, 0), "hello world");
}

#[test]
fn thinking_and_tool_call_updates_are_forwarded() {
    let p = ScriptedProvider::new();
    p.push(Reply::text("hm").with_thinking("let me think"));
    let (agent, rec) = agent_with(&p, vec![]);
    block_on(agent.prompt_text("q")).unwrap();
    let updates: Vec<_> = rec
        .summary()
        .into_iter()
        .filter(|s| s.starts_with("message_update"))
        .collect();
    assert_eq!(
        updates,
        [
            "message_update:thinking_start",
            "message_update:thinking_delta",
            "message_update:thinking_end",
            "message_update:text_start",
            "message_update:text_delta",
            "message_update:text_end",
        ]
    );
}

#[test]
fn parallel_batch_ends_in_completion_order_and_results_in_source_order() {
    let p = ScriptedProvider::new();
    p.push(
        Reply::tool_call("a", "slow", json!({"ms": 150, "label": "first"})).and_tool_call(
            "b",
            "slow",
            json!({"ms": 10, "label": "second"}),
        ),
    );
    p.push(Reply::text("done: second"));
    let (agent, rec) = agent_with(&p, vec![Arc::new(SlowTool)]);
    block_on(agent.prompt_text("go")).unwrap();
    let s = rec.summary();
    assert_eq!(
        without_updates(&s),
        [
            "agent_start",
            "turn_start",
            "message_start:user:go",
            "message_end:user:go",
            "message_start:assistant:",
            "message_end:assistant:",
            "tool_execution_start:a",
            "tool_execution_start:b",
            "tool_execution_end:b",
            "tool_execution_end:a",
            "message_start:toolResult:first",
            "message_end:toolResult:first",
            "message_start:toolResult:second",
            "message_end:toolResult:second",
            "turn_end:2",
            "turn_start",
            "message_start:assistant:",
            "message_end:assistant:done: second",
            "turn_end:0",
            "agent_end:5",
        ]
    );
    // Both tools started before either finished: they really ran concurrently.
    let pos = |x: &str| s.iter().position(|e| e == x).unwrap();
    assert!(pos("tool_execution_update:a") < pos("tool_execution_end:b"));
    assert!(pos("tool_execution_update:b") < pos("tool_execution_end:b"));
    // The second model call saw both results in source order.
    let ctx = &p.calls()[1].context.messages;
    let texts: Vec<_> = ctx.iter().map(|m| text_of(m)).collect();
    assert_eq!(texts, ["go", "", "first", "second"]);
}

#[test]
fn sequential_mode_finishes_each_call_before_the_next() {
    let p = ScriptedProvider::new();
    p.push(
        Reply::tool_call("a", "slow", json!({"ms": 60, "label": "first"})).and_tool_call(
            "b",
            "slow",
            json!({"ms": 1, "label": "second"}),
        ),
    );
    p.push(Reply::text("ok"));
    let (agent, rec) = agent_with(&p, vec![Arc::new(SlowTool)]);
    agent.set_tool_execution(ToolExecution::Sequential);
    block_on(agent.prompt_text("go")).unwrap();
    let s = without_updates(&rec.summary());
    let tools: Vec<_> = s[6..14].to_vec();
    assert_eq!(
        tools,
        [
            "tool_execution_start:a",
            "tool_execution_end:a",
            "message_start:toolResult:first",
            "message_end:toolResult:first",
            "tool_execution_start:b",
            "tool_execution_end:b",
            "message_start:toolResult:second",
            "message_end:toolResult:second",
        ]
    );
}

#[test]
fn unknown_tool_validation_failure_and_tool_error() {
    let p = ScriptedProvider::new();
    p.push(
        Reply::tool_call("call_0_3bb6b2", "ls", json!({}))
            .and_tool_call("v", "echo", json!({"file": "a.txt"}))
            .and_tool_call("f", "echo", json!({"text": "x", "fail": true}))
            .and_tool_call("ok", "echo", json!({"text": "fine"})),
    );
    p.push(Reply::text("done"));
    let (agent, rec) = agent_with(&p, vec![Arc::new(EchoTool)]);
    agent.set_argument_validator(Arc::new(|name: &str, schema, args| {
        let required = schema["required"].as_array().cloned().unwrap_or_default();
        for r in required {
            let key = r.as_str().unwrap_or_default();
            if args.get(key).is_none() {
                return Err(format!(
                    "Validation failed for tool \"{name}\":\n  - {key}: must have required properties {key}\n\nReceived arguments:\n{}",
                    serde_json::to_string_pretty(args).unwrap()
                ));
            }
        }
        Ok(args.clone())
    }));
    block_on(agent.prompt_text("call things")).unwrap();
    let s = without_updates(&rec.summary());
    assert_eq!(
        s[6..14],
        [
            "tool_execution_start:call_0_3bb6b2",
            "tool_execution_end:call_0_3bb6b2:error",
            "tool_execution_start:v",
            "tool_execution_end:v:error",
            "tool_execution_start:f",
            "tool_execution_start:ok",
            "tool_execution_end:f:error",
            "tool_execution_end:ok",
        ]
    );
    let events = rec.events();
    let unknown_end = events
        .iter()
        .find(|e| matches!(e, AgentEvent::ToolExecutionEnd { tool_call_id, .. } if tool_call_id == "call_0_3bb6b2"))
        .unwrap();
    // Byte-identical to pi's line in golden tool_not_enabled.
    assert_eq!(
        serde_json::to_string(unknown_end).unwrap(),
        r#"{"type":"tool_execution_end","toolCallId":"call_0_3bb6b2","toolName":"ls","result":{"content":[{"type":"text","text":"Tool ls not found"}],"details":{}},"isError":true}"#
    );
    let results: Vec<_> = agent
        .messages()
        .into_iter()
        .filter_map(|m| match &*m {
            Message::ToolResult(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), 4);
    assert_eq!(
        text_of(&Message::ToolResult(results[1].clone())),
        "Validation failed for tool \"echo\":\n  - text: must have required properties text\n\nReceived arguments:\n{\n  \"file\": \"a.txt\"\n}"
    );
    assert_eq!(
        text_of(&Message::ToolResult(results[2].clone())),
        "echo failed: x"
    );
    assert_eq!(results[2].details, Some(json!({})));
    assert!(results[2].is_error);
    assert!(!results[3].is_error && results[3].details.is_none());
}

#[test]
fn busy_and_continue_preconditions() {
    let p = ScriptedProvider::new();
    let (agent, _rec) = agent_with(&p, vec![]);
    assert_eq!(
        block_on(agent.continue_run()),
        Err(AgentError::NothingToContinue)
    );
    p.push(Reply::chunks(&["a", "b"]).with_chunk_delay(std::time::Duration::from_millis(30)));
    let second = agent.clone();
    let (first, busy) = block_on(futures::future::join(agent.prompt_text("x"), async {
        futures_timer::Delay::new(std::time::Duration::from_millis(20)).await;
        second.prompt_text("y").await
    }));
    assert!(first.is_ok());
    assert_eq!(busy, Err(AgentError::Busy));
    assert_eq!(
        block_on(agent.continue_run()),
        Err(AgentError::CannotContinueFrom("assistant".into()))
    );
    // Continuing from a user message runs without a new prompt message.
    agent.append_message(Message::User(openclaw_core::message::UserMessage::new(
        "again",
        vec![],
    )));
    p.push(Reply::text("re"));
    let added = block_on(agent.continue_run()).unwrap();
    assert_eq!(added.len(), 1);
    assert_eq!(last_seen(&p, 1), "again");
}

#[test]
fn provider_resolution_failure_ends_the_run_with_an_error_message() {
    let mut options =
        openclaw_core::agent::AgentOptions::new(openclaw_core::testing::scripted::test_model());
    options.retry.enabled = false;
    let agent = openclaw_core::agent::Agent::new(
        options,
        Arc::new(
            |m: &openclaw_core::Model| -> Result<openclaw_core::agent::ResolvedProvider, String> {
                Err(format!("No API key found for {}", m.provider))
            },
        ),
    );
    let added = block_on(agent.prompt_text("hi")).unwrap();
    let a = added[1].as_assistant().unwrap();
    assert_eq!(a.stop_reason, openclaw_core::StopReason::Error);
    assert_eq!(
        a.error_message.as_deref(),
        Some("No API key found for test")
    );
}

#[test]
fn prompt_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let p = ScriptedProvider::new();
    let (agent, _) = agent_with(&p, vec![]);
    let f = agent.prompt_text("x");
    assert_send(&f);
    let a = agent.abort();
    assert_send(&a);
}

/// A finished message is one allocation, shared by its `message_end` event (which the engine
/// appends to the session), the agent's context and every later model request: a long
/// conversation is held once and a run does not copy it.
#[test]
fn messages_are_shared_not_copied() {
    let p = ScriptedProvider::new();
    p.push(Reply::chunks(&["one"]));
    p.push(Reply::chunks(&["two"]));
    let (agent, rec) = agent_with(&p, vec![]);
    block_on(agent.prompt_text("first")).unwrap();
    block_on(agent.prompt_text("second")).unwrap();
    let context = agent.messages();
    assert_eq!(context.len(), 4);
    let ended: Vec<Arc<Message>> = rec
        .events()
        .into_iter()
        .filter_map(|e| match e {
            AgentEvent::MessageEnd { message } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(ended.len(), 4);
    for (held, ended) in context.iter().zip(&ended) {
        assert!(Arc::ptr_eq(held, ended), "{held:?} was copied");
    }
    let second_request = &p.calls()[1].context.messages;
    assert_eq!(second_request.len(), 3);
    for (held, sent) in context.iter().zip(second_request) {
        assert!(
            Arc::ptr_eq(held, sent),
            "{held:?} was copied into the request"
        );
    }
}
