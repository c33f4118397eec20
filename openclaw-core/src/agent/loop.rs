//! One run of the loop: turns, model calls, steering and follow-up injection.
//!
//! Mirrors pi's `runLoop`: the run keeps its own copy of the context (seeded from the agent's
//! messages), polls steering at its start and after every turn, polls follow-ups only when it
//! would otherwise stop, and ends at once after an assistant message that failed or was
//! aborted. There is no iteration cap.

use std::sync::Arc;

use futures::StreamExt;
use futures::future::{Either, select};

use super::queue::QueueKind;
use super::{Inner, convert, tools};
use crate::cancel::CancellationToken;
use crate::event::AgentEvent;
use crate::message::{AssistantMessage, Message, StopReason};
use crate::provider::{LlmContext, MessageBuilder, StreamEvent, StreamOptions};

/// What opens a run.
#[derive(Default)]
pub(super) struct RunStart {
    /// Messages shown right after `turn_start` (a prompt, or queued messages for `continue`).
    pub prompts: Vec<(Message, Option<QueueKind>)>,
    /// Do not poll steering before the first model call.
    pub skip_initial_steering: bool,
}

impl RunStart {
    pub fn queued(messages: Vec<Message>, kind: QueueKind, skip_initial_steering: bool) -> Self {
        RunStart {
            prompts: messages.into_iter().map(|m| (m, Some(kind))).collect(),
            skip_initial_steering,
        }
    }
}

/// Text of the message pi produces when a model call starts after an abort.
pub(super) const ABORTED_BEFORE_CALL: &str = "Request was aborted.";
/// Text of a stream cut by an abort.
pub(super) const ABORTED_MID_STREAM: &str = "Request was aborted";

struct Run<'a> {
    inner: &'a Arc<Inner>,
    cancel: &'a CancellationToken,
    context: Vec<Arc<Message>>,
    added: Vec<Arc<Message>>,
}

impl Run<'_> {
    fn inject(&mut self, message: Message, origin: Option<QueueKind>) {
        if let Some(kind) = origin {
            let update = self.inner.queues().delivered(kind, &message);
            self.inner.emit(update);
        }
        let message = Arc::new(message);
        self.inner.emit(AgentEvent::MessageStart {
            message: message.clone(),
        });
        self.inner.emit(AgentEvent::MessageEnd {
            message: message.clone(),
        });
        self.context.push(message.clone());
        self.added.push(message);
    }

    fn poll(&self, kind: QueueKind) -> Vec<(Message, Option<QueueKind>)> {
        self.inner
            .queues()
            .poll(kind)
            .into_iter()
            .map(|m| (m, Some(kind)))
            .collect()
    }
}

/// Run the loop until it stops; returns the messages added (what `agent_end` carries).
pub(super) async fn run(
    inner: &Arc<Inner>,
    start: RunStart,
    cancel: &CancellationToken,
) -> Vec<Arc<Message>> {
    let context = inner.state().messages.clone();
    let mut run = Run {
        inner,
        cancel,
        context,
        added: Vec::new(),
    };
    inner.emit(AgentEvent::AgentStart);
    inner.emit(AgentEvent::TurnStart);
    for (message, origin) in start.prompts {
        run.inject(message, origin);
    }
    let mut pending = if start.skip_initial_steering {
        Vec::new()
    } else {
        run.poll(QueueKind::Steering)
    };
    let mut first_turn = true;
    loop {
        let mut more_tool_calls = true;
        while more_tool_calls || !pending.is_empty() {
            if !first_turn {
                inner.emit(AgentEvent::TurnStart);
            }
            first_turn = false;
            for (message, origin) in std::mem::take(&mut pending) {
                run.inject(message, origin);
            }
            let message = stream_assistant(inner, &run.context, run.cancel).await;
            run.context.push(message.clone());
            run.added.push(message.clone());
            let assistant = message.as_assistant();
            if assistant
                .is_some_and(|a| matches!(a.stop_reason, StopReason::Error | StopReason::Aborted))
            {
                inner.emit(AgentEvent::TurnEnd {
                    message,
                    tool_results: Vec::new(),
                });
                inner.emit(AgentEvent::AgentEnd {
                    messages: run.added.clone(),
                });
                return run.added;
            }
            let mut tool_results = Vec::new();
            more_tool_calls = false;
            if let Some(a) = assistant.filter(|a| a.tool_calls().next().is_some()) {
                more_tool_calls = true;
                tool_results = tools::execute_tool_calls(inner, a, run.cancel).await;
                run.context.extend(tool_results.iter().cloned());
                run.added.extend(tool_results.iter().cloned());
            }
            inner.emit(AgentEvent::TurnEnd {
                message,
                tool_results,
            });
            pending = run.poll(QueueKind::Steering);
        }
        pending = run.poll(QueueKind::FollowUp);
        if pending.is_empty() {
            break;
        }
    }
    inner.emit(AgentEvent::AgentEnd {
        messages: run.added.clone(),
    });
    run.added
}

/// A failed call that never reached a stream: `message_start` and `message_end` carry the
/// final message (pi does the same when a provider fails before its first event).
fn failed_call(
    inner: &Inner,
    mut message: AssistantMessage,
    reason: StopReason,
    text: String,
) -> Arc<Message> {
    message.stop_reason = reason;
    message.error_message = Some(text);
    let m = Arc::new(Message::Assistant(message));
    inner.emit(AgentEvent::MessageStart { message: m.clone() });
    inner.emit(AgentEvent::MessageEnd { message: m.clone() });
    m
}

/// Resolve the provider, stream one assistant message and emit its events; returns it.
async fn stream_assistant(
    inner: &Arc<Inner>,
    context: &[Arc<Message>],
    cancel: &CancellationToken,
) -> Arc<Message> {
    let (model, system_prompt, specs, thinking, session_id, block_images) = {
        let st = inner.state();
        (
            st.model.clone(),
            st.system_prompt.clone(),
            st.tools.iter().map(|t| t.spec()).collect::<Vec<_>>(),
            st.thinking_level,
            st.session_id.clone(),
            st.block_images,
        )
    };
    let empty = AssistantMessage::empty(&model.api, &model.provider, &model.id);
    if cancel.is_cancelled() {
        return failed_call(
            inner,
            empty,
            StopReason::Aborted,
            ABORTED_BEFORE_CALL.into(),
        );
    }
    let resolved = {
        let resolve = inner.resolver.resolve(&model);
        let aborted = cancel.cancelled();
        match select(resolve, Box::pin(aborted)).await {
            Either::Left((Ok(r), _)) => r,
            Either::Left((Err(e), _)) => {
                return failed_call(inner, empty, StopReason::Error, e);
            }
            Either::Right(_) => {
                return failed_call(
                    inner,
                    empty,
                    StopReason::Aborted,
                    ABORTED_BEFORE_CALL.into(),
                );
            }
        }
    };
    let transform = inner.hooks().transform.clone();
    let transformed;
    let source = match &transform {
        Some(t) => {
            transformed = t(context);
            &transformed[..]
        }
        None => context,
    };
    let options = convert::ConvertOptions { block_images };
    let llm_messages =
        convert::prepare_for_provider(convert::convert_to_llm_with(source, &options));
    let llm_context = LlmContext {
        system_prompt,
        messages: llm_messages,
        tools: specs,
    };
    let stream_options = StreamOptions {
        api_key: resolved.api_key.clone(),
        thinking,
        session_id,
        cancel: cancel.clone(),
        ..StreamOptions::default()
    };
    let mut stream = resolved
        .provider
        .stream(&model, &llm_context, &stream_options);
    let mut builder = MessageBuilder::new(&model);
    let mut started = false;
    loop {
        let next = {
            let aborted = Box::pin(cancel.cancelled());
            match select(stream.next(), aborted).await {
                Either::Left((Some(ev), _)) => Some(ev),
                Either::Left((None, _)) => None,
                Either::Right(_) => Some(StreamEvent::Error {
                    reason: StopReason::Aborted,
                    message: ABORTED_MID_STREAM.into(),
                }),
            }
        };
        let Some(event) = next else { break };
        let is_error = matches!(event, StreamEvent::Error { .. });
        if !started && !is_error {
            started = true;
            inner.emit(AgentEvent::MessageStart {
                message: Arc::new(Message::Assistant(builder.message().clone())),
            });
        }
        let updates = if started {
            // The state shares the latest partial message with the builder: let go of it while
            // the builder applies the event, so that the builder extends the message in place
            // instead of copying it (the lock keeps readers from seeing the gap).
            let mut st = inner.state();
            st.stream_partial = None;
            let updates = builder.apply(event);
            st.stream_partial = Some(match updates.last() {
                Some(update) => update.partial().clone(),
                None => builder.snapshot(),
            });
            updates
        } else {
            builder.apply(event)
        };
        for update in updates {
            if started {
                let partial = update.partial().clone();
                inner.emit(AgentEvent::MessageUpdate {
                    assistant_message_event: update,
                    message: partial,
                });
            }
        }
        if builder.is_finished() {
            break;
        }
    }
    drop(stream);
    let message = builder.finish();
    let stop_reason = message.stop_reason;
    let m = Arc::new(Message::Assistant(message));
    if !started {
        inner.emit(AgentEvent::MessageStart { message: m.clone() });
    }
    inner.emit(AgentEvent::MessageEnd { message: m.clone() });
    // pi's session reports a successful retry at the first assistant message that is not an error.
    if stop_reason != StopReason::Error {
        let attempt = std::mem::take(&mut inner.slot().retry_attempt);
        if attempt > 0 {
            inner.emit(AgentEvent::AutoRetryEnd {
                success: true,
                attempt,
                final_error: None,
            });
        }
    }
    m
}
