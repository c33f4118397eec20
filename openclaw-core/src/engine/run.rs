//! Runs: accepting prompts (pi's preflight and its "already processing" rule), the steering
//! and follow-up queues, abort, and what follows a run — shell runs recorded meanwhile, and
//! automatic compaction (with one retry after a context overflow). The turn loop and auto-retry
//! themselves are the [`Agent`](crate::agent::Agent)'s.

use std::sync::Arc;

use super::{Engine, EngineError, Inner, PromptInput, StreamingBehavior};
use crate::agent::RetryCancel;
use crate::event::AgentEvent;
use crate::message::{Message, StopReason, UserMessage};
use crate::provider::provider_for_api;

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

    /// Start the run now (the same as dropping the ticket).
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
    /// Submit a prompt. When idle, this checks the model and its credentials and returns a
    /// ticket that starts the run; while a run is active the prompt is queued according to
    /// `input.streaming_behavior`, and without one it is refused
    /// ([`EngineError::AlreadyProcessing`]).
    pub async fn prompt(&self, mut input: PromptInput) -> Result<PromptTicket, EngineError> {
        let inner = self.inner.clone();
        // `/skill:name args` and `/template args`, as pi expands them.
        input.text = inner.skills.expand(&input.text);
        if inner.run_active() {
            return match input.streaming_behavior {
                Some(StreamingBehavior::Steer) => self.steer(input).map(|_| PromptTicket::queued()),
                Some(StreamingBehavior::FollowUp) => {
                    self.follow_up(input).map(|_| PromptTicket::queued())
                }
                None => Err(EngineError::AlreadyProcessing),
            };
        }
        // Between runs (a retry wait, or the bookkeeping after `agent_end`) the prompt is
        // accepted at once and runs when the engine is idle. As in pi it does not cancel a
        // pending retry: it runs instead of the retry once the wait elapses, or after
        // `abort_retry` has cancelled it.
        let between_runs = *inner.busy.borrow();
        let model = inner.agent.model();
        if provider_for_api(&model.api).is_none() {
            return Err(EngineError::UnsupportedApi(model.api));
        }
        if !inner.registry.has_credentials(&model.provider) {
            return Err(EngineError::NoApiKey(model.provider));
        }
        {
            let mut st = inner.lock();
            if st.streaming || st.starting || st.waiting {
                return Err(EngineError::AlreadyProcessing);
            }
            if between_runs {
                st.waiting = true;
            } else {
                st.starting = true;
            }
        }
        if between_runs {
            inner.agent.supersede_retry();
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            let mut st = inner.lock();
            st.starting = false;
            st.waiting = false;
            return Err(EngineError::Io(std::io::Error::other(
                "Engine::prompt must be called inside a tokio runtime",
            )));
        };
        if !between_runs {
            inner.busy.send_replace(true);
        }
        let message = Message::User(UserMessage::new(input.text, input.images));
        let engine = self.clone();
        Ok(PromptTicket {
            start: Some(Box::new(move || {
                runtime.spawn(async move {
                    if between_runs {
                        engine.wait_until_idle().await;
                        let mut st = inner.lock();
                        st.waiting = false;
                        st.starting = true;
                        drop(st);
                        inner.busy.send_replace(true);
                    }
                    drive(inner, vec![message]).await;
                });
            })),
        })
    }

    /// Queue a steering message: delivered after the current turn's tool calls (or right after
    /// the next prompt's message when idle). Emits `queue_update`.
    pub fn steer(&self, mut input: PromptInput) -> Result<(), EngineError> {
        input.text = self.inner.skills.expand(&input.text);
        self.inner
            .agent
            .steer(Message::User(UserMessage::new(input.text, input.images)));
        Ok(())
    }

    /// Queue a follow-up message: delivered when the agent would otherwise stop. Emits
    /// `queue_update`.
    pub fn follow_up(&self, mut input: PromptInput) -> Result<(), EngineError> {
        input.text = self.inner.skills.expand(&input.text);
        self.inner
            .agent
            .follow_up(Message::User(UserMessage::new(input.text, input.images)));
        Ok(())
    }

    /// Abort the run, a pending retry and an automatic compaction, then wait until the engine
    /// is idle. A no-op when idle.
    pub async fn abort(&self) {
        if let Some(t) = &self.inner.lock().compaction_cancel {
            t.cancel();
        }
        self.inner.agent.abort().await;
        self.wait_until_idle().await;
    }

    /// Cancel a pending automatic retry: emits `auto_retry_end` with "Retry cancelled" now; the
    /// prompt ends (and a prompt waiting behind the retry starts) when the returned
    /// [`RetryCancel`] is dropped, so a front end can answer before that.
    pub fn abort_retry(&self) -> RetryCancel {
        self.inner.agent.abort_retry()
    }
}

impl Inner {
    /// A prompt was accepted (possibly waiting for the engine to be idle) or a run is streaming.
    fn run_active(&self) -> bool {
        let st = self.lock();
        st.streaming || st.starting || st.waiting
    }
}

/// A run and what follows it.
async fn drive(inner: Arc<Inner>, messages: Vec<Message>) {
    if let Err(e) = inner.agent.prompt(messages).await {
        tracing::warn!("the run could not start: {e}");
    }
    inner.lock().starting = false;
    flush_deferred(&inner);

    let (aborted, overflow) = inner.agent.with_messages(|messages| {
        let last = messages.iter().rev().find_map(|m| m.as_assistant());
        let aborted = last.is_some_and(|a| a.stop_reason == StopReason::Aborted);
        let overflow = last.is_some_and(|a| {
            a.stop_reason == StopReason::Error
                && a.error_message
                    .as_deref()
                    .is_some_and(crate::provider::is_context_overflow)
        });
        (aborted, overflow)
    });
    if !aborted && super::ops::auto_compact(&inner, overflow).await {
        // The context overflowed and was compacted: run once more from the compacted context.
        if let Err(e) = inner.agent.continue_run().await {
            tracing::warn!("cannot retry after compaction: {e}");
        }
        flush_deferred(&inner);
    }
    if !aborted {
        failover(&inner).await;
    }
    inner.busy.send_replace(false);
}

/// Model failover (`agents.defaults.model.fallbacks`): when a run ends on a retryable error that
/// auto-retry could not fix, move to the next model of the configured chain that has
/// credentials — announced with a `model_fallback` event and recorded as a `model_change` entry,
/// never silently — and run again from the same context (with a fresh retry budget).
async fn failover(inner: &Arc<Inner>) {
    loop {
        // Only a failed last reply leads anywhere: look before copying the context.
        let failed = inner.agent.with_messages(|m| match m.last().map(|l| &**l) {
            Some(Message::Assistant(last)) if last.stop_reason == StopReason::Error => {
                Some(last.error_message.clone().unwrap_or_default())
            }
            _ => None,
        });
        let Some(error) = failed else {
            return;
        };
        if !crate::agent::is_retryable_error(&error) || crate::provider::is_context_overflow(&error)
        {
            return;
        }
        let messages = inner.agent.messages();
        let current = inner.agent.model();
        let next = {
            let st = inner.lock();
            let pos = st
                .fallbacks
                .iter()
                .position(|m| m.provider == current.provider && m.id == current.id);
            pos.and_then(|p| {
                st.fallbacks[p + 1..]
                    .iter()
                    .find(|m| inner.registry.has_credentials(&m.provider))
                    .cloned()
            })
        };
        let Some(next) = next else {
            return;
        };
        inner.emit(AgentEvent::ModelFallback {
            from_provider: current.provider.clone(),
            from_model: current.id.clone(),
            to_provider: next.provider.clone(),
            to_model: next.id.clone(),
            error_message: error,
        });
        let level = inner.agent.thinking_level().clamp_to(&next);
        let level_changed = level != inner.agent.thinking_level();
        {
            let mut st = inner.lock();
            let mut record = st.session.append_model_change(&next.provider, &next.id);
            if level_changed && record.is_ok() {
                record = st.session.append_thinking_level_change(level);
            }
            if let Err(e) = record {
                tracing::warn!("cannot record the model change: {e}");
            }
        }
        inner.agent.set_model(next);
        if level_changed {
            inner.agent.set_thinking_level(level);
            inner.emit(AgentEvent::ThinkingLevelChanged { level });
        }
        // The failed reply leaves the context (it stays in the session file), as auto-retry does.
        let mut context = messages;
        context.pop();
        inner.agent.replace_messages(context);
        if let Err(e) = inner.agent.continue_run().await {
            tracing::warn!("cannot continue on the fallback model: {e}");
            return;
        }
        flush_deferred(inner);
    }
}

/// Add shell runs recorded during the run to the context and the session.
pub(super) fn flush_deferred(inner: &Inner) {
    let deferred = {
        let mut st = inner.lock();
        if st.streaming || st.deferred.is_empty() {
            return;
        }
        let deferred = std::mem::take(&mut st.deferred);
        for m in &deferred {
            if let Err(e) = st.session.append_message(m.clone()) {
                tracing::warn!("cannot append to the session: {e}");
            }
        }
        deferred
    };
    for m in deferred {
        inner.agent.append_message(m);
    }
}
