//! The steering and follow-up queues.
//!
//! Besides the messages themselves the queues keep pi's *display* lists (the texts a
//! `queue_update` event shows): a text enters its list when the message is queued and leaves it
//! when the message is injected into the conversation (just before its `message_start`), so in
//! `all` mode two steers drained together still produce one `queue_update` each.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::event::AgentEvent;
use crate::message::{ContentBlock, Message};

/// How many queued messages one poll delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum QueueMode {
    /// Every queued message at once.
    #[serde(rename = "all")]
    All,
    /// One message per poll (pi's default).
    #[default]
    #[serde(rename = "one-at-a-time")]
    OneAtATime,
}

impl QueueMode {
    /// The wire name (`all`, `one-at-a-time`).
    pub fn as_str(self) -> &'static str {
        match self {
            QueueMode::All => "all",
            QueueMode::OneAtATime => "one-at-a-time",
        }
    }
}

impl std::str::FromStr for QueueMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "all" => Ok(QueueMode::All),
            "one-at-a-time" => Ok(QueueMode::OneAtATime),
            other => Err(format!(
                "invalid queue mode \"{other}\" (expected all or one-at-a-time)"
            )),
        }
    }
}

/// Which queue a message came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueKind {
    Steering,
    FollowUp,
}

/// The text a queued message shows in `queue_update`.
pub fn queue_text(message: &Message) -> String {
    match message {
        Message::User(u) => u.content.text(),
        Message::Custom(c) => c.content.text(),
        Message::Assistant(a) => a.text(),
        Message::ToolResult(t) => t
            .content
            .iter()
            .filter_map(ContentBlock::as_text)
            .collect::<Vec<_>>()
            .join("\n"),
        Message::BashExecution(b) => b.command.clone(),
        Message::BranchSummary(b) => b.summary.clone(),
        Message::CompactionSummary(c) => c.summary.clone(),
    }
}

/// Both queues, with their modes and display lists.
#[derive(Debug, Default)]
pub(crate) struct Queues {
    pub steering: VecDeque<Message>,
    pub follow_up: VecDeque<Message>,
    pub steering_mode: QueueMode,
    pub follow_up_mode: QueueMode,
    shown_steering: Vec<String>,
    shown_follow_up: Vec<String>,
}

impl Queues {
    pub fn push(&mut self, kind: QueueKind, message: Message) {
        let text = queue_text(&message);
        match kind {
            QueueKind::Steering => {
                self.steering.push_back(message);
                self.shown_steering.push(text);
            }
            QueueKind::FollowUp => {
                self.follow_up.push_back(message);
                self.shown_follow_up.push(text);
            }
        }
    }

    /// Take what one poll of `kind` delivers under its mode.
    pub fn poll(&mut self, kind: QueueKind) -> Vec<Message> {
        let (queue, mode) = match kind {
            QueueKind::Steering => (&mut self.steering, self.steering_mode),
            QueueKind::FollowUp => (&mut self.follow_up, self.follow_up_mode),
        };
        match mode {
            QueueMode::All => queue.drain(..).collect(),
            QueueMode::OneAtATime => queue.pop_front().into_iter().collect(),
        }
    }

    /// Forget the display entry of a message that is being injected; returns the event to emit.
    pub fn delivered(&mut self, kind: QueueKind, message: &Message) -> AgentEvent {
        let text = queue_text(message);
        let list = match kind {
            QueueKind::Steering => &mut self.shown_steering,
            QueueKind::FollowUp => &mut self.shown_follow_up,
        };
        if let Some(pos) = list.iter().position(|t| *t == text) {
            list.remove(pos);
        }
        self.update_event()
    }

    /// Empty both queues, returning (steering, follow-up).
    pub fn clear(&mut self) -> (Vec<Message>, Vec<Message>) {
        self.shown_steering.clear();
        self.shown_follow_up.clear();
        (
            self.steering.drain(..).collect(),
            self.follow_up.drain(..).collect(),
        )
    }

    /// The texts currently shown (steering, follow-up).
    pub fn shown(&self) -> (Vec<String>, Vec<String>) {
        (self.shown_steering.clone(), self.shown_follow_up.clone())
    }

    pub fn update_event(&self) -> AgentEvent {
        AgentEvent::QueueUpdate {
            steering: self.shown_steering.clone(),
            follow_up: self.shown_follow_up.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::UserMessage;

    fn user(t: &str) -> Message {
        Message::User(UserMessage::new(t, vec![]))
    }

    #[test]
    fn modes_and_display_lists() {
        let mut q = Queues::default();
        q.push(QueueKind::Steering, user("a"));
        q.push(QueueKind::Steering, user("b"));
        q.push(QueueKind::FollowUp, user("f"));
        let one = q.poll(QueueKind::Steering);
        assert_eq!(one.len(), 1);
        assert_eq!(
            q.delivered(QueueKind::Steering, &one[0]),
            AgentEvent::QueueUpdate {
                steering: vec!["b".into()],
                follow_up: vec!["f".into()]
            }
        );
        q.steering_mode = QueueMode::All;
        q.push(QueueKind::Steering, user("c"));
        assert_eq!(q.poll(QueueKind::Steering).len(), 2);
        assert_eq!(
            "one-at-a-time".parse::<QueueMode>(),
            Ok(QueueMode::OneAtATime)
        );
        assert!("both".parse::<QueueMode>().is_err());
    }
}
