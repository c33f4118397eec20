//! Runs: accepting prompts, the steering and follow-up queues, the agent loop (pi's turn
//! structure and event order), abort, and the automatic retry and compaction that follow a run.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use super::{Engine, EngineError, Inner, PromptInput, StreamingBehavior, llm, tools_exec};
use crate::cancel::CancellationToken;
use crate::event::AgentEvent;
use crate::message::{AssistantMessage, Message, StopReason, UserMessage};
use crate::provider::{LlmContext, MessageBuilder, StreamOptions};

/// An accepted prompt. The run starts when the ticket is dropped (or [`PromptTicket::start`]
/// is called), so a front end can acknowledge the prompt before the first event of the run.
#[must_use = "the run starts when the ticket is dropped"]
pub struct PromptTicket {
    start: Option<Box<dyn FnOnce() + Send>>,
}

impl PromptTicket {
    fn queued() -> Self {
        PromptTicket { start: None }
    }

    /// Start the run now.
    pub fn start(self) {}
}

impl Drop for PromptTicket {
    fn drop(&mut self) {
        if let Some(start) = self.start.take() {
            start();
        }
    }
}

impl Engine {
    /// Submit a prompt. When idle, this validates the model and credentials and returns a
    /// ticket that starts the run; while a run is active the prompt is queued according to
    /// `input.streaming_behavior` (an error without one).
    pub async fn prompt(&self, input: PromptInput) -> Result<PromptTicket, EngineError> {
        let inner = self.inner.clone();
        let message = UserMessage::new(input.text.clone(), input.images.clone());
        {
            let mut st = inner.lock();
            if st.streaming {
                drop(st);
                return match input.streaming_behavior {
                    Some(StreamingBehavior::Steer) => self.steer(input).map(|_| PromptTicket::queued()),
                    Some(StreamingBehavior::FollowUp) => {
                        self.follow_up(input).map(|_| PromptTicket::queued())
                    }
                    None => Err(EngineError::AlreadyProcessing),
                };
            }
            let model = st.model.clone().ok_or(EngineError::NoModel)?;
            if inner.catalog.api_key(&model.provider).is_none() {
                return Err(EngineError::NoApiKey(model.provider.clone()));
            }
            if super::catalog::provider_for(&model.api).is_none() {
                return Err(EngineError::UnsupportedApi(model.api.clone()));
            }
            st.streaming = true;
            st.run_cancel = Some(CancellationToken::new());
        }
        inner.busy.send_replace(true);
        Ok(PromptTicket {
            start: Some(Box::new(move || {
                tokio::spawn(drive(inner, vec![Message::User(message)]));
            })),
        })
    }

    /// Queue a steering message: delivered after the current turn (or right after the next
    /// prompt when idle). Emits `queue_update`.
    pub fn steer(&self, input: PromptInput) -> Result<(), EngineError> {
        self.enqueue(input, true);
        Ok(())
    }

    /// Queue a follow-up message: delivered when the agent would otherwise stop. Emits
    /// `queue_update`.
    pub fn follow_up(&self, input: PromptInput) -> Result<(), EngineError> {
        self.enqueue(input, false);
        Ok(())
    }

    fn enqueue(&self, input: PromptInput, steering: bool) {
        let message = UserMessage::new(input.text.clone(), input.images);
        let event = {
            let mut st = self.inner.lock();
            let q = super::state::Queued {
                message,
                text: input.text,
                taken: false,
            };
            if steering {
                st.steering.push(q);
            } else {
                st.follow_up.push(q);
            }
            queue_event(&st)
        };
        self.inner.emit(&event);
    }

    /// Abort the run (and a pending retry), then wait until the engine is idle.
    pub async fn abort(&self) {
        {
            let st = self.inner.lock();
            for t in [&st.run_cancel, &st.retry_cancel, &st.compaction_cancel]
                .into_iter()
                .flatten()
            {
                t.cancel();
            }
        }
        self.wait_until_idle().await;
    }

    /// Cancel a pending automatic retry (emits `auto_retry_end` with "Retry cancelled").
    pub fn abort_retry(&self) {
        if let Some(t) = &self.inner.lock().retry_cancel {
            t.cancel();
        }
    }
}

fn queue_event(st: &super::state::State) -> AgentEvent {
    let (steering, follow_up) = st.queue_texts();
    AgentEvent::QueueUpdate {
        steering,
        follow_up,
    }
}

/// A run plus what follows it: retries of retryable errors, automatic compaction.
async fn drive(inner: Arc<Inner>, first: Vec<Message>) {
    let mut initial = first;
    let mut attempt: u32 = 0;
    let mut overflow_retried = false;
    loop {
        let cancel = inner
            .lock()
            .run_cancel
            .clone()
            .unwrap_or_default();
        run_once(&inner, std::mem::take(&mut initial), &cancel).await;
        flush_deferred(&inner);

        let (last, retry) = {
            let st = inner.lock();
            let last = st.messages.iter().rev().find_map(Message::as_assistant).cloned();
            (last, st.settings.retry())
        };
        let failed = last
            .as_ref()
            .filter(|a| a.stop_reason == StopReason::Error)
            .and_then(|a| a.error_message.clone());
        let overflow = failed
            .as_deref()
            .is_some_and(crate::provider::is_context_overflow);
        match failed {
            Some(error) if !overflow && !cancel.is_cancelled() && retry.enabled && is_retryable(&error) => {
                if attempt >= retry.max_retries {
                    inner.emit(&AgentEvent::AutoRetryEnd {
                        success: false,
                        attempt,
                        final_error: Some(error),
                    });
                    break;
                }
                attempt += 1;
                let delay = retry
                    .base_delay_ms
                    .saturating_mul(1u64 << (attempt - 1).min(30))
                    .min(retry.max_delay_ms);
                let token = CancellationToken::new();
                {
                    let mut st = inner.lock();
                    // The failed reply leaves the context (it stays in the session file).
                    if let Some(i) = st.messages.iter().rposition(|m| m.as_assistant().is_some()) {
                        st.messages.remove(i);
                    }
                    st.retry_cancel = Some(token.clone());
                    st.streaming = false;
                }
                inner.emit(&AgentEvent::AutoRetryStart {
                    attempt,
                    max_attempts: retry.max_retries,
                    delay_ms: delay,
                    error_message: error,
                });
                let cancelled = tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(delay)) => false,
                    _ = token.cancelled() => true,
                };
                let mut st = inner.lock();
                st.retry_cancel = None;
                if cancelled {
                    drop(st);
                    inner.emit(&AgentEvent::AutoRetryEnd {
                        success: false,
                        attempt,
                        final_error: Some("Retry cancelled".into()),
                    });
                    break;
                }
                st.streaming = true;
                st.run_cancel = Some(CancellationToken::new());
                continue;
            }
            _ => {
                if attempt > 0 {
                    let success = last.as_ref().is_some_and(|a| {
                        !matches!(a.stop_reason, StopReason::Error | StopReason::Aborted)
                    });
                    inner.emit(&AgentEvent::AutoRetryEnd {
                        success,
                        attempt,
                        final_error: if success {
                            None
                        } else {
                            last.and_then(|a| a.error_message)
                        },
                    });
                }
                if !cancel.is_cancelled()
                    && super::ops::auto_compact(&inner, overflow).await
                    && !overflow_retried
                {
                    // The context overflowed and was compacted: try the run once more.
                    overflow_retried = true;
                    inner.lock().run_cancel = Some(CancellationToken::new());
                    continue;
                }
                break;
            }
        }
    }
    {
        let mut st = inner.lock();
        st.streaming = false;
        st.run_cancel = None;
    }
    flush_deferred(&inner);
    inner.busy.send_replace(false);
}

/// pi's retryable error patterns.
fn is_retryable(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    [
        "overloaded",
        "rate limit",
        "rate_limit",
        "too many requests",
        "429",
        "500",
        "502",
        "503",
        "504",
        "529",
        "service unavailable",
        "server error",
        "internal error",
        "connection error",
        "connection refused",
        "other side closed",
        "fetch failed",
        "upstream connect",
        "reset before headers",
        "terminated",
        "retry delay",
    ]
    .iter()
    .any(|p| e.contains(p))
}

/// Add shell runs recorded during the run to the context and the session.
fn flush_deferred(inner: &Inner) {
    let mut st = inner.lock();
    if st.streaming || st.deferred.is_empty() {
        return;
    }
    let deferred = std::mem::take(&mut st.deferred);
    for m in deferred {
        if let Err(e) = st.session.append_message(m.clone()) {
            tracing::warn!("cannot append to the session: {e}");
        }
        st.messages.push(m);
    }
}

/// Add a message to the context and the session, with its start and end events.
fn add_message(inner: &Inner, message: Message) {
    inner.emit(&AgentEvent::MessageStart {
        message: message.clone(),
    });
    {
        let mut st = inner.lock();
        if let Err(e) = st.session.append_message(message.clone()) {
            tracing::warn!("cannot append to the session: {e}");
        }
        st.messages.push(message.clone());
    }
    inner.emit(&AgentEvent::MessageEnd { message });
}

/// Deliver queued messages: each leaves its queue (`queue_update`) as it is added.
fn deliver(inner: &Inner, messages: Vec<UserMessage>, new: &mut Vec<Message>) {
    for m in messages {
        let event = {
            let mut st = inner.lock();
            st.remove_delivered(&m).then(|| queue_event(&st))
        };
        if let Some(e) = event {
            inner.emit(&e);
        }
        let msg = Message::User(m);
        add_message(inner, msg.clone());
        new.push(msg);
    }
}

/// One agent run: `agent_start` … `agent_end`.
async fn run_once(inner: &Arc<Inner>, initial: Vec<Message>, cancel: &CancellationToken) {
    inner.emit(&AgentEvent::AgentStart);
    inner.emit(&AgentEvent::TurnStart);
    let mut new_messages = Vec::new();
    for m in initial {
        add_message(inner, m.clone());
        new_messages.push(m);
    }
    let mut pending = inner.lock().take_steering();
    let mut first_turn = true;
    loop {
        let mut more_tools = true;
        while more_tools || !pending.is_empty() {
            if !first_turn {
                inner.emit(&AgentEvent::TurnStart);
            }
            first_turn = false;
            deliver(inner, std::mem::take(&mut pending), &mut new_messages);

            let assistant = stream_assistant(inner, cancel).await;
            let msg = Message::Assistant(assistant.clone());
            new_messages.push(msg.clone());
            if matches!(assistant.stop_reason, StopReason::Error | StopReason::Aborted) {
                inner.emit(&AgentEvent::TurnEnd {
                    message: msg,
                    tool_results: Vec::new(),
                });
                inner.emit(&AgentEvent::AgentEnd {
                    messages: new_messages,
                });
                return;
            }
            let calls: Vec<_> = assistant.tool_calls().cloned().collect();
            more_tools = !calls.is_empty();
            let mut results = Vec::new();
            if more_tools {
                let tools = inner.lock().tools.clone();
                for r in tools_exec::execute(inner, &tools, calls, cancel).await {
                    let m = Message::ToolResult(r);
                    add_message(inner, m.clone());
                    new_messages.push(m.clone());
                    results.push(m);
                }
            }
            inner.emit(&AgentEvent::TurnEnd {
                message: msg,
                tool_results: results,
            });
            pending = inner.lock().take_steering();
        }
        let follow = inner.lock().take_follow_up();
        if follow.is_empty() {
            break;
        }
        pending = follow;
    }
    inner.emit(&AgentEvent::AgentEnd {
        messages: new_messages,
    });
}

/// Stream one assistant message: `message_start`, `message_update`s, `message_end`; the
/// message is added to the context and the session.
async fn stream_assistant(inner: &Arc<Inner>, cancel: &CancellationToken) -> AssistantMessage {
    let (model, context, thinking, session_id) = {
        let st = inner.lock();
        let Some(model) = st.model.clone() else {
            drop(st);
            return finish_without_stream(inner, None, "No model selected".into(), StopReason::Error);
        };
        let context = LlmContext {
            system_prompt: st.system_prompt.clone(),
            messages: llm::convert_to_llm(&st.messages),
            tools: st.tools.iter().map(|t| t.spec()).collect(),
        };
        (model, context, st.thinking, st.session.session_id().to_string())
    };
    if cancel.is_cancelled() {
        return finish_without_stream(
            inner,
            Some(&model),
            "Request was aborted.".into(),
            StopReason::Aborted,
        );
    }
    let Some(provider) = super::catalog::provider_for(&model.api) else {
        return finish_without_stream(
            inner,
            Some(&model),
            format!("Model API \"{}\" is not supported", model.api),
            StopReason::Error,
        );
    };
    let options = StreamOptions {
        api_key: inner.catalog.api_key(&model.provider),
        thinking,
        session_id: Some(session_id),
        cancel: cancel.clone(),
        ..StreamOptions::default()
    };
    let mut builder = MessageBuilder::new(&model);
    inner.emit(&AgentEvent::MessageStart {
        message: Message::Assistant(builder.message().clone()),
    });
    let mut stream = provider.stream(&model, &context, &options);
    while let Some(event) = stream.next().await {
        for update in builder.apply(event) {
            let message = update.partial().clone();
            inner.emit(&AgentEvent::MessageUpdate {
                assistant_message_event: update,
                message,
            });
        }
        if builder.is_finished() {
            break;
        }
    }
    let message = builder.finish();
    let msg = Message::Assistant(message.clone());
    {
        let mut st = inner.lock();
        if let Err(e) = st.session.append_message(msg.clone()) {
            tracing::warn!("cannot append to the session: {e}");
        }
        st.messages.push(msg.clone());
    }
    inner.emit(&AgentEvent::MessageEnd { message: msg });
    message
}

/// An assistant message that never reached the provider (aborted before the request, no
/// model, unsupported API).
fn finish_without_stream(
    inner: &Inner,
    model: Option<&crate::model::Model>,
    error: String,
    reason: StopReason,
) -> AssistantMessage {
    let mut m = match model {
        Some(model) => AssistantMessage::empty(&model.api, &model.provider, &model.id),
        None => AssistantMessage::empty("", "", ""),
    };
    m.stop_reason = reason;
    m.error_message = Some(error);
    let msg = Message::Assistant(m.clone());
    add_message(inner, msg);
    m
}
