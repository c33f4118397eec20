//! Tool execution for one assistant message, in pi's order: every call is started and
//! prepared (looked up, arguments validated) in call order — a call that fails preparation ends
//! at once — then the prepared calls run concurrently, and their results come back in call
//! order.

use std::sync::Arc;

use futures::future::join_all;
use serde_json::{Value, json};

use super::Inner;
use crate::cancel::CancellationToken;
use crate::event::{AgentEvent, ToolOutput};
use crate::message::{ContentBlock, ToolCall, ToolResultMessage, now_ms};
use crate::tool::{Tool, ToolCallContext, validate_arguments};

enum Prepared {
    Ready(Arc<dyn Tool>, Value),
    Failed(ToolOutput),
}

/// Run the calls; returns one result message per call, in call order.
pub(crate) async fn execute(
    inner: &Arc<Inner>,
    tools: &[Arc<dyn Tool>],
    calls: Vec<ToolCall>,
    cancel: &CancellationToken,
) -> Vec<ToolResultMessage> {
    let mut prepared = Vec::with_capacity(calls.len());
    for call in &calls {
        inner.emit(&AgentEvent::ToolExecutionStart {
            tool_call_id: call.id.clone(),
            tool_name: call.name.clone(),
            args: call.arguments.clone(),
        });
        let p = match tools.iter().find(|t| t.name() == call.name) {
            None => Prepared::Failed(error_output(format!("Tool {} not found", call.name))),
            Some(tool) => match validate_arguments(&call.name, &tool.parameters(), &call.arguments) {
                Ok(args) => Prepared::Ready(tool.clone(), args),
                Err(message) => Prepared::Failed(error_output(message)),
            },
        };
        if let Prepared::Failed(output) = &p {
            inner.emit(&AgentEvent::ToolExecutionEnd {
                tool_call_id: call.id.clone(),
                tool_name: call.name.clone(),
                result: output.clone(),
                is_error: true,
            });
        }
        prepared.push(p);
    }

    let runs = calls.iter().zip(prepared).map(|(call, p)| {
        let inner = inner.clone();
        let cancel = cancel.clone();
        async move {
            match p {
                Prepared::Failed(output) => (output, true),
                Prepared::Ready(tool, args) => run_call(&inner, tool, call, args, cancel).await,
            }
        }
    });
    let outcomes = join_all(runs).await;

    calls
        .into_iter()
        .zip(outcomes)
        .map(|(call, (output, is_error))| ToolResultMessage {
            tool_call_id: call.id,
            tool_name: call.name,
            content: output.content,
            details: output.details,
            is_error,
            timestamp: now_ms(),
        })
        .collect()
}

async fn run_call(
    inner: &Arc<Inner>,
    tool: Arc<dyn Tool>,
    call: &ToolCall,
    args: Value,
    cancel: CancellationToken,
) -> (ToolOutput, bool) {
    let updates = {
        let inner = inner.clone();
        let id = call.id.clone();
        let name = call.name.clone();
        let raw_args = call.arguments.clone();
        Arc::new(move |partial: ToolOutput| {
            inner.emit(&AgentEvent::ToolExecutionUpdate {
                tool_call_id: id.clone(),
                tool_name: name.clone(),
                args: raw_args.clone(),
                partial_result: partial,
            });
        })
    };
    let ctx = ToolCallContext {
        call_id: call.id.clone(),
        cancel,
        on_update: updates,
    };
    let (output, is_error) = match tool.execute(args, ctx).await {
        Ok(output) => (output, false),
        Err(e) => (
            ToolOutput {
                content: vec![ContentBlock::text(e.message)],
                details: Some(e.details.unwrap_or_else(|| json!({}))),
            },
            true,
        ),
    };
    inner.emit(&AgentEvent::ToolExecutionEnd {
        tool_call_id: call.id.clone(),
        tool_name: call.name.clone(),
        result: output.clone(),
        is_error,
    });
    (output, is_error)
}

fn error_output(message: String) -> ToolOutput {
    ToolOutput {
        content: vec![ContentBlock::text(message)],
        details: Some(json!({})),
    }
}
