//! Building the model's context from a session path (pi's `buildSessionContext`).
//!
//! Given the entries from the root to the current leaf, this yields the messages the model sees
//! (a compaction's summary first, then what it kept and what followed), the thinking level of the
//! last `thinking_level_change` (default `off`), and the model of the last `model_change` or
//! assistant message.

use std::sync::Arc;

use crate::message::{
    BranchSummaryMessage, CompactionSummaryMessage, CustomMessage, Message, TimestampMs,
};
use crate::model::ThinkingLevel;

use super::entry::{SessionEntry, ms_from_iso};

/// The model a session path last selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextModel {
    pub provider: String,
    pub model_id: String,
}

/// What a session path gives the agent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionContext {
    /// The messages for the model, oldest first.
    pub messages: Vec<Arc<Message>>,
    /// The last thinking level set on the path (`off` when none).
    pub thinking_level: ThinkingLevel,
    /// The last model chosen (or used by an assistant message) on the path.
    pub model: Option<ContextModel>,
}

fn entry_ms(entry: &SessionEntry) -> TimestampMs {
    ms_from_iso(entry.timestamp()).unwrap_or(0)
}

/// The message an entry contributes to the model's context: `message` entries their message,
/// `custom_message` a `custom` message, `branch_summary` a `branchSummary` message and
/// `compaction` a `compactionSummary` message; other entries nothing.
pub fn entry_message(entry: &SessionEntry) -> Option<Arc<Message>> {
    let built = match entry {
        SessionEntry::Message(e) => return Some(e.message.clone()),
        SessionEntry::CustomMessage(e) => Some(Message::Custom(CustomMessage {
            custom_type: e.custom_type.clone(),
            content: e.content.clone(),
            display: e.display,
            details: e.details.clone(),
            timestamp: entry_ms(entry),
        })),
        SessionEntry::BranchSummary(e) if !e.summary.is_empty() => {
            Some(Message::BranchSummary(BranchSummaryMessage {
                summary: e.summary.clone(),
                from_id: e.from_id.clone(),
                timestamp: entry_ms(entry),
            }))
        }
        SessionEntry::Compaction(e) => Some(Message::CompactionSummary(CompactionSummaryMessage {
            summary: e.summary.clone(),
            tokens_before: e.tokens_before,
            timestamp: entry_ms(entry),
        })),
        _ => None,
    };
    built.map(Arc::new)
}

/// Build the context of a root→leaf path.
pub fn build_context(path: &[&SessionEntry]) -> SessionContext {
    let mut ctx = SessionContext::default();
    let mut compaction_idx = None;
    // Borrowed while walking; one model (and one thinking level) is built at the end.
    let mut model: Option<(&str, &str)> = None;
    let mut thinking: Option<&str> = None;
    for (i, entry) in path.iter().enumerate() {
        match entry {
            SessionEntry::ThinkingLevelChange(e) => thinking = Some(&e.thinking_level),
            SessionEntry::ModelChange(e) => model = Some((&e.provider, &e.model_id)),
            SessionEntry::Message(e) => {
                if let Message::Assistant(a) = &*e.message {
                    model = Some((&a.provider, &a.model));
                }
            }
            SessionEntry::Compaction(_) => compaction_idx = Some(i),
            _ => {}
        }
    }
    if let Some(level) = thinking {
        ctx.thinking_level = level.parse().unwrap_or_default();
    }
    ctx.model = model.map(|(provider, model_id)| ContextModel {
        provider: provider.to_owned(),
        model_id: model_id.to_owned(),
    });
    let contributes = |e: &SessionEntry| !matches!(e, SessionEntry::Compaction(_));
    match compaction_idx {
        Some(ci) => {
            let SessionEntry::Compaction(c) = path[ci] else {
                return ctx;
            };
            ctx.messages.reserve(path.len() + 1 - ci);
            ctx.messages.extend(entry_message(path[ci]));
            let mut kept = false;
            for e in &path[..ci] {
                kept = kept || e.id() == c.first_kept_entry_id;
                if kept && contributes(e) {
                    ctx.messages.extend(entry_message(e));
                }
            }
            for e in &path[ci + 1..] {
                if contributes(e) {
                    ctx.messages.extend(entry_message(e));
                }
            }
        }
        None => {
            ctx.messages.reserve(path.len());
            for e in path {
                ctx.messages.extend(entry_message(e));
            }
        }
    }
    ctx
}
