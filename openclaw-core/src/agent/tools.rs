//! Executing one assistant message's tool calls.
//!
//! Parallel mode (pi's default): every call gets its `tool_execution_start` in source order
//! and is prepared (looked up, arguments validated); a call that fails preparation gets its
//! `tool_execution_end` right away. The prepared calls then run concurrently, their updates
//! and ends interleaving in completion order; the toolResult messages follow in source order.
//! Sequential mode runs start → end → result message per call.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::FutureExt;
use serde_json::{Value, json};

use super::{Inner, ToolExecution};
use crate::cancel::CancellationToken;
use crate::event::{AgentEvent, ToolOutput};
use crate::message::{AssistantMessage, Message, ToolCall, ToolResultMessage, now_ms};
use crate::tool::{Tool, ToolCallContext};

struct Outcome {
    output: ToolOutput,
    is_error: bool,
}

fn error_outcome(text: String, details: Option<Value>) -> Outcome {
    Outcome {
        output: ToolOutput {
            content: vec![crate::message::ContentBlock::text(text)],
            details: Some(details.unwrap_or_else(|| json!({}))),
        },
        is_error: true,
    }
}

/// Look the tool up and validate the arguments.
fn prepare(
    inner: &Inner,
    call: &ToolCall,
    tools: &[Arc<dyn Tool>],
) -> Result<(Arc<dyn Tool>, Value), Outcome> {
    let Some(tool) = tools.iter().find(|t| t.name() == call.name).cloned() else {
        return Err(error_outcome(format!("Tool {} not found", call.name), None));
    };
    let validator = inner.hooks().validator.clone();
    let args = tool.prepare_arguments(call.arguments.clone());
    match validator(&call.name, &tool.parameters(), &args) {
        Ok(args) => Ok((tool, args)),
        Err(text) => Err(error_outcome(text, None)),
    }
}

fn emit_start(inner: &Inner, call: &ToolCall) {
    inner.emit(AgentEvent::ToolExecutionStart {
        tool_call_id: call.id.clone(),
        tool_name: call.name.clone(),
        args: call.arguments.clone(),
    });
}

fn emit_end(inner: &Inner, call: &ToolCall, outcome: &Outcome) {
    inner.emit(AgentEvent::ToolExecutionEnd {
        tool_call_id: call.id.clone(),
        tool_name: call.name.clone(),
        result: outcome.output.clone(),
        is_error: outcome.is_error,
    });
}

/// Run one prepared call; emits its updates and its `tool_execution_end`.
async fn execute(
    inner: &Arc<Inner>,
    call: &ToolCall,
    tool: Arc<dyn Tool>,
    args: Value,
    cancel: &CancellationToken,
) -> Outcome {
    let finished = Arc::new(AtomicBool::new(false));
    let sink = {
        let inner = inner.clone();
        let finished = finished.clone();
        let (id, name, raw_args) = (call.id.clone(), call.name.clone(), call.arguments.clone());
        Arc::new(move |partial: ToolOutput| {
            // Updates a tool sends after it returned would land after its end: drop them.
            if !finished.load(Ordering::SeqCst) {
                inner.emit(AgentEvent::ToolExecutionUpdate {
                    tool_call_id: id.clone(),
                    tool_name: name.clone(),
                    args: raw_args.clone(),
                    partial_result: partial,
                });
            }
        })
    };
    let ctx = ToolCallContext {
        call_id: call.id.clone(),
        cancel: cancel.child(),
        on_update: sink,
    };
    let result = AssertUnwindSafe(tool.execute(args, ctx))
        .catch_unwind()
        .await;
    finished.store(true, Ordering::SeqCst);
    let outcome = match result {
        Ok(Ok(output)) => Outcome {
            output,
            is_error: false,
        },
        Ok(Err(e)) => error_outcome(e.message, e.details),
        Err(_) => error_outcome(
            format!("Tool {} failed unexpectedly (panicked)", call.name),
            None,
        ),
    };
    emit_end(inner, call, &outcome);
    outcome
}

fn result_message(call: &ToolCall, outcome: Outcome) -> ToolResultMessage {
    ToolResultMessage {
        tool_call_id: call.id.clone(),
        tool_name: call.name.clone(),
        content: outcome.output.content,
        details: outcome.output.details,
        is_error: outcome.is_error,
        timestamp: now_ms(),
    }
}

/// Emits the result's `message_start` / `message_end` and returns the shared message.
fn emit_result(inner: &Inner, result: ToolResultMessage) -> Arc<Message> {
    let m = Arc::new(Message::ToolResult(result));
    inner.emit(AgentEvent::MessageStart { message: m.clone() });
    inner.emit(AgentEvent::MessageEnd { message: m.clone() });
    m
}

/// Execute every tool call of `assistant`; returns the result messages in source order.
pub(super) async fn execute_tool_calls(
    inner: &Arc<Inner>,
    assistant: &AssistantMessage,
    cancel: &CancellationToken,
) -> Vec<Arc<Message>> {
    let calls: Vec<ToolCall> = assistant.tool_calls().cloned().collect();
    let (tools, mode) = {
        let st = inner.state();
        (st.tools.clone(), st.tool_execution)
    };
    let mut results = Vec::with_capacity(calls.len());
    match mode {
        ToolExecution::Sequential => {
            for call in &calls {
                emit_start(inner, call);
                let outcome = match prepare(inner, call, &tools) {
                    Ok((tool, args)) => execute(inner, call, tool, args, cancel).await,
                    Err(outcome) => {
                        emit_end(inner, call, &outcome);
                        outcome
                    }
                };
                results.push(emit_result(inner, result_message(call, outcome)));
            }
        }
        ToolExecution::Parallel => {
            let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(calls.len());
            let mut runnable = Vec::new();
            for (i, call) in calls.iter().enumerate() {
                emit_start(inner, call);
                match prepare(inner, call, &tools) {
                    Ok((tool, args)) => {
                        outcomes.push(None);
                        runnable.push((i, tool, args));
                    }
                    Err(outcome) => {
                        emit_end(inner, call, &outcome);
                        outcomes.push(Some(outcome));
                    }
                }
            }
            let running = runnable.into_iter().map(|(i, tool, args)| {
                let call = &calls[i];
                async move { (i, execute(inner, call, tool, args, cancel).await) }
            });
            for (i, outcome) in futures::future::join_all(running).await {
                outcomes[i] = Some(outcome);
            }
            for (call, outcome) in calls.iter().zip(outcomes) {
                let outcome = outcome.unwrap_or_else(|| {
                    error_outcome(format!("Tool {} produced no result", call.name), None)
                });
                results.push(emit_result(inner, result_message(call, outcome)));
            }
        }
    }
    results
}
