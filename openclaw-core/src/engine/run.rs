//! Runs: accepting prompts (pi's preflight and its "already processing" rule), the steering
//! and follow-up queues, abort, and what follows a run — shell runs recorded meanwhile, and
//! automatic compaction (with one retry after a context overflow). The turn loop and auto-retry
//! themselves are the [`Agent`](crate::agent::Agent)'s.

use std::sync::Arc;

use super::{Engine, EngineError, Inner, PromptInput, StreamingBehavior};
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
    pub async fn prompt(&self, input: PromptInput) -> Result<PromptTicket, EngineError> {
        let inner = self.inner.clone();
        if inner.run_active() {
            return match input.streaming_behavior {
                Some(StreamingBehavior::Steer) => self.steer(input).map(|_| PromptTicket::queued()),
                Some(StreamingBehavior::FollowUp) => {
                    self.follow_up(input).map(|_| PromptTicket::queued())
                }
                None => Err(EngineError::AlreadyProcessing),
            };
        }
        // Between runs (a retry delay, or the bookkeeping after `agent_end`): a new prompt
        // supersedes a pending retry and waits for the rest.
        if *inner.busy.borrow() {
            inner.agent.abort_retry();
            self.wait_until_idle().await;
        }
        let model = inner.agent.model();
        if provider_for_api(&model.api).is_none() {
            return Err(EngineError::UnsupportedApi(model.api));
        }
        if !inner.registry.has_credentials(&model.provider) {
            return Err(EngineError::NoApiKey(model.provider));
        }
        {
            let mut st = inner.lock();
            if st.streaming || st.starting {
                return Err(EngineError::AlreadyProcessing);
            }
            st.starting = true;
        }
        inner.busy.send_replace(true);
        let message = Message::User(UserMessage::new(input.text, input.images));
        Ok(PromptTicket {
            start: Some(Box::new(move || {
                tokio::spawn(drive(inner, vec![message]));
            })),
        })
    }

    /// Queue a steering message: delivered after the current turn's tool calls (or right after
    /// the next prompt's message when idle). Emits `queue_update`.
    pub fn steer(&self, input: PromptInput) -> Result<(), EngineError> {
        self.inner
            .agent
            .steer(Message::User(UserMessage::new(input.text, input.images)));
        Ok(())
    }

    /// Queue a follow-up message: delivered when the agent would otherwise stop. Emits
    /// `queue_update`.
    pub fn follow_up(&self, input: PromptInput) -> Result<(), EngineError> {
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

    /// Cancel a pending automatic retry (emits `auto_retry_end` with "Retry cancelled").
    pub fn abort_retry(&self) {
        self.inner.agent.abort_retry();
    }
}

impl Inner {
    /// A prompt was accepted or a run is streaming.
    fn run_active(&self) -> bool {
        let st = self.lock();
        st.streaming || st.starting
    }
}

/// A run and what follows it.
async fn drive(inner: Arc<Inner>, messages: Vec<Message>) {
    if let Err(e) = inner.agent.prompt(messages).await {
        tracing::warn!("the run could not start: {e}");
    }
    inner.lock().starting = false;
    flush_deferred(&inner);

    let last = inner
        .agent
        .messages()
        .iter()
        .rev()
        .find_map(Message::as_assistant)
        .cloned();
    let aborted = last
        .as_ref()
        .is_some_and(|a| a.stop_reason == StopReason::Aborted);
    let overflow = last.as_ref().is_some_and(|a| {
        a.stop_reason == StopReason::Error
            && a.error_message
                .as_deref()
                .is_some_and(crate::provider::is_context_overflow)
    });
    if !aborted && super::ops::auto_compact(&inner, overflow).await {
        // The context overflowed and was compacted: run once more from the compacted context.
        if let Err(e) = inner.agent.continue_run().await {
            tracing::warn!("cannot retry after compaction: {e}");
        }
        flush_deferred(&inner);
    }
    inner.busy.send_replace(false);
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
