//! Shared helpers of the agent-loop tests: small test tools, an event recorder and event
//! summaries that read like the goldens' sequences.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::future::{Either, select};
use openclaw_core::agent::{Agent, AgentOptions, StaticResolver};
use openclaw_core::testing::scripted::{ScriptedProvider, test_model};
use openclaw_core::{AgentEvent, Message, Tool, ToolCallContext, ToolError, ToolOutput};
use serde_json::{Value, json};

/// Returns `args.text`; fails when `args.fail` is set.
pub struct EchoTool;

#[async_trait]
impl Tool for EchoTool {
    fn name(&self) -> &str {
        "echo"
    }
    fn description(&self) -> &str {
        "Echo the text back"
    }
    fn parameters(&self) -> Value {
        json!({"type":"object","properties":{"text":{"type":"string"}},"required":["text"]})
    }
    async fn execute(&self, args: Value, _ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        let text = args["text"].as_str().unwrap_or_default().to_string();
        if args.get("fail").is_some() {
            return Err(ToolError::new(format!("echo failed: {text}")));
        }
        Ok(ToolOutput::text(text))
    }
}

/// Sleeps `args.ms` milliseconds (cancellable), sending one update first; returns `args.label`.
pub struct SlowTool;

#[async_trait]
impl Tool for SlowTool {
    fn name(&self) -> &str {
        "slow"
    }
    fn description(&self) -> &str {
        "Wait a while"
    }
    fn parameters(&self) -> Value {
        json!({"type":"object","properties":{"ms":{"type":"number"},"label":{"type":"string"}}})
    }
    async fn execute(&self, args: Value, ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        let label = args["label"].as_str().unwrap_or_default().to_string();
        (ctx.on_update)(ToolOutput::text(format!("{label} started")));
        let ms = args["ms"].as_u64().unwrap_or(0);
        let sleep = futures_timer::Delay::new(Duration::from_millis(ms));
        match select(sleep, Box::pin(ctx.cancel.cancelled())).await {
            Either::Left(_) => Ok(ToolOutput::text(label)),
            Either::Right(_) => Err(ToolError::new(format!("{label}\n\n\nCommand aborted"))),
        }
    }
}

/// Records every event.
#[derive(Clone, Default)]
pub struct Recorder(pub Arc<Mutex<Vec<AgentEvent>>>);

impl Recorder {
    pub fn events(&self) -> Vec<AgentEvent> {
        self.0.lock().unwrap().clone()
    }
    pub fn summary(&self) -> Vec<String> {
        self.events().iter().map(summarize).collect()
    }
}

pub fn agent_with(provider: &ScriptedProvider, tools: Vec<Arc<dyn Tool>>) -> (Agent, Recorder) {
    let mut options = AgentOptions::new(test_model());
    options.system_prompt = "You are a test.".into();
    options.tools = tools;
    let resolver = StaticResolver::new(Arc::new(provider.clone()), Some("test-key".into()));
    let agent = Agent::new(options, Arc::new(resolver));
    let rec = Recorder::default();
    let sink = rec.0.clone();
    agent.subscribe(Arc::new(move |e: &AgentEvent| {
        sink.lock().unwrap().push(e.clone())
    }));
    (agent, rec)
}

pub fn text_of(m: &Message) -> String {
    match m {
        Message::User(u) => u.content.text(),
        Message::Assistant(a) => a.text(),
        Message::ToolResult(t) => t
            .content
            .iter()
            .filter_map(|b| b.as_text())
            .collect::<Vec<_>>()
            .join(""),
        other => other.role().to_string(),
    }
}

/// `type[:key fields]`, e.g. `message_start:user:hi`, `message_update:text_delta`,
/// `tool_execution_end:c1:error`, `queue_update:[A]:[]`.
pub fn summarize(e: &AgentEvent) -> String {
    match e {
        AgentEvent::AgentStart => "agent_start".into(),
        AgentEvent::AgentEnd { messages } => format!("agent_end:{}", messages.len()),
        AgentEvent::TurnStart => "turn_start".into(),
        AgentEvent::TurnEnd {
            message,
            tool_results,
        } => format!("turn_end:{}", tool_results.len()).replace(
            "turn_end",
            match message.as_assistant().map(|a| a.stop_reason) {
                Some(openclaw_core::StopReason::Error) => "turn_end(error)",
                Some(openclaw_core::StopReason::Aborted) => "turn_end(aborted)",
                _ => "turn_end",
            },
        ),
        AgentEvent::MessageStart { message } => {
            format!("message_start:{}:{}", message.role(), text_of(message))
        }
        AgentEvent::MessageEnd { message } => {
            format!("message_end:{}:{}", message.role(), text_of(message))
        }
        AgentEvent::MessageUpdate {
            assistant_message_event,
            ..
        } => {
            let v = serde_json::to_value(assistant_message_event).unwrap();
            format!("message_update:{}", v["type"].as_str().unwrap())
        }
        AgentEvent::ToolExecutionStart { tool_call_id, .. } => {
            format!("tool_execution_start:{tool_call_id}")
        }
        AgentEvent::ToolExecutionUpdate { tool_call_id, .. } => {
            format!("tool_execution_update:{tool_call_id}")
        }
        AgentEvent::ToolExecutionEnd {
            tool_call_id,
            is_error,
            ..
        } => format!(
            "tool_execution_end:{tool_call_id}{}",
            if *is_error { ":error" } else { "" }
        ),
        AgentEvent::QueueUpdate {
            steering,
            follow_up,
        } => format!("queue_update:{steering:?}:{follow_up:?}"),
        AgentEvent::AutoRetryStart {
            attempt, delay_ms, ..
        } => format!("auto_retry_start:{attempt}:{delay_ms}"),
        AgentEvent::AutoRetryEnd {
            success,
            attempt,
            final_error,
        } => format!(
            "auto_retry_end:{success}:{attempt}:{}",
            final_error.clone().unwrap_or_default()
        ),
        other => serde_json::to_value(other).unwrap()["type"]
            .as_str()
            .unwrap()
            .to_string(),
    }
}

/// Keep only the summaries that are not `message_update` / `tool_execution_update`.
pub fn without_updates(summary: &[String]) -> Vec<String> {
    summary
        .iter()
        .filter(|s| !s.starts_with("message_update") && !s.starts_with("tool_execution_update"))
        .cloned()
        .collect()
}

/// The text of the last message the model was sent on call `i`.
pub fn last_seen(provider: &ScriptedProvider, i: usize) -> String {
    let calls = provider.calls();
    text_of(calls[i].context.messages.last().unwrap())
}
