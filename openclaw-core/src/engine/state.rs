//! The engine's mutable state (behind one mutex, never held across an await) and the queues
//! of steering and follow-up messages.

use std::sync::Arc;

use crate::cancel::CancellationToken;
use crate::message::{Message, UserMessage};
use crate::model::{Model, ThinkingLevel};
use crate::session::SessionManager;
use crate::settings::{QueueMode, Settings};
use crate::tool::Tool;

/// A queued steering or follow-up message. `taken` messages have been handed to the run and
/// leave the queue when they are delivered (that is when `queue_update` reports them gone).
pub(crate) struct Queued {
    pub(crate) message: UserMessage,
    pub(crate) text: String,
    pub(crate) taken: bool,
}

pub(crate) struct State {
    pub(crate) session: SessionManager,
    pub(crate) settings: Settings,
    pub(crate) model: Option<Model>,
    pub(crate) thinking: ThinkingLevel,
    /// The agent's context.
    pub(crate) messages: Vec<Message>,
    pub(crate) steering: Vec<Queued>,
    pub(crate) follow_up: Vec<Queued>,
    /// Shell runs recorded while a run was active; added after it ends.
    pub(crate) deferred: Vec<Message>,
    pub(crate) tools: Vec<Arc<dyn Tool>>,
    pub(crate) system_prompt: String,
    pub(crate) streaming: bool,
    pub(crate) compacting: bool,
    pub(crate) run_cancel: Option<CancellationToken>,
    pub(crate) retry_cancel: Option<CancellationToken>,
    pub(crate) bash_cancel: Option<CancellationToken>,
    pub(crate) compaction_cancel: Option<CancellationToken>,
}

impl State {
    pub(crate) fn new(
        session: SessionManager,
        settings: Settings,
        tools: Vec<Arc<dyn Tool>>,
        system_prompt: String,
    ) -> State {
        State {
            session,
            settings,
            model: None,
            thinking: ThinkingLevel::Off,
            messages: Vec::new(),
            steering: Vec::new(),
            follow_up: Vec::new(),
            deferred: Vec::new(),
            tools,
            system_prompt,
            streaming: false,
            compacting: false,
            run_cancel: None,
            retry_cancel: None,
            bash_cancel: None,
            compaction_cancel: None,
        }
    }

    /// The queue texts for `queue_update`.
    pub(crate) fn queue_texts(&self) -> (Vec<String>, Vec<String>) {
        (
            self.steering.iter().map(|q| q.text.clone()).collect(),
            self.follow_up.iter().map(|q| q.text.clone()).collect(),
        )
    }

    /// Hand queued messages to the run: one, or all with [`QueueMode::All`].
    pub(crate) fn take_steering(&mut self) -> Vec<UserMessage> {
        let mode = self.settings.steering_mode();
        take(&mut self.steering, mode)
    }

    pub(crate) fn take_follow_up(&mut self) -> Vec<UserMessage> {
        let mode = self.settings.follow_up_mode();
        take(&mut self.follow_up, mode)
    }

    /// Remove a delivered message from its queue; `true` when one was removed.
    pub(crate) fn remove_delivered(&mut self, message: &UserMessage) -> bool {
        for q in [&mut self.steering, &mut self.follow_up] {
            if let Some(i) = q.iter().position(|x| x.taken && x.message == *message) {
                q.remove(i);
                return true;
            }
        }
        false
    }
}

fn take(queue: &mut [Queued], mode: QueueMode) -> Vec<UserMessage> {
    let mut out = Vec::new();
    for q in queue.iter_mut().filter(|q| !q.taken) {
        q.taken = true;
        out.push(q.message.clone());
        if mode == QueueMode::OneAtATime {
            break;
        }
    }
    out
}
