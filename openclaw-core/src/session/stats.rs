//! Session statistics for RPC `get_session_stats`.
//!
//! Message counts come from the current context; tokens and cost add up every assistant message
//! of the session file (compacted ones too). After a compaction the context size is unknown
//! (`tokens`/`percent` null) until an assistant message answers after it.

use serde::Serialize;
use std::sync::Arc;

use crate::message::{Message, StopReason};

use super::compaction::{estimate_context_tokens, usage_context_tokens};
use super::entry::SessionEntry;
use super::manager::SessionManager;

/// Summed token counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenStats {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub total: u64,
}

/// How full the context window is; `tokens`/`percent` are null right after a compaction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextUsage {
    pub tokens: Option<u64>,
    pub context_window: u64,
    #[serde(serialize_with = "opt_num")]
    pub percent: Option<f64>,
}

fn opt_num<S: serde::Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(x) => crate::num::serialize(x, s),
        None => s.serialize_none(),
    }
}

/// The `get_session_stats` response data.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionStats {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_file: Option<String>,
    pub session_id: String,
    pub user_messages: usize,
    pub assistant_messages: usize,
    pub tool_calls: usize,
    pub tool_results: usize,
    pub total_messages: usize,
    pub tokens: TokenStats,
    #[serde(serialize_with = "crate::num::serialize")]
    pub cost: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_usage: Option<ContextUsage>,
}

/// The context usage of `messages` (the agent's current context) for a model window;
/// `None` when the window is unknown (0).
pub fn context_usage(
    session: &SessionManager,
    messages: &[Arc<Message>],
    context_window: u64,
) -> Option<ContextUsage> {
    if context_window == 0 {
        return None;
    }
    let branch = session.branch_entries();
    if let Some(ci) = branch
        .iter()
        .rposition(|e| matches!(e, SessionEntry::Compaction(_)))
    {
        let answered = branch[ci + 1..]
            .iter()
            .rev()
            .find_map(|e| match e.message() {
                Some(Message::Assistant(a))
                    if !matches!(a.stop_reason, StopReason::Aborted | StopReason::Error) =>
                {
                    Some(usage_context_tokens(&a.usage) > 0)
                }
                _ => None,
            });
        if answered != Some(true) {
            return Some(ContextUsage {
                tokens: None,
                context_window,
                percent: None,
            });
        }
    }
    let tokens = estimate_context_tokens(messages).tokens;
    Some(ContextUsage {
        tokens: Some(tokens),
        context_window,
        percent: Some(tokens as f64 / context_window as f64 * 100.0),
    })
}

/// Statistics of a session whose current context is `messages`.
pub fn session_stats(
    session: &SessionManager,
    messages: &[Arc<Message>],
    context_window: u64,
) -> SessionStats {
    let count = |role: &str| messages.iter().filter(|m| m.role() == role).count();
    let tool_calls = messages
        .iter()
        .filter_map(|m| m.as_assistant())
        .map(|a| a.tool_calls().count())
        .sum();
    let mut tokens = TokenStats::default();
    let mut cost = 0.0;
    for e in session.entries() {
        if let Some(Message::Assistant(a)) = e.message() {
            tokens.input += a.usage.input;
            tokens.output += a.usage.output;
            tokens.cache_read += a.usage.cache_read;
            tokens.cache_write += a.usage.cache_write;
            cost += a.usage.cost.total;
        }
    }
    tokens.total = tokens.input + tokens.output + tokens.cache_read + tokens.cache_write;
    SessionStats {
        session_file: session
            .session_file()
            .map(|p| p.to_string_lossy().into_owned()),
        session_id: session.session_id().to_string(),
        user_messages: count("user"),
        assistant_messages: count("assistant"),
        tool_calls,
        tool_results: count("toolResult"),
        total_messages: messages.len(),
        tokens,
        cost,
        context_usage: context_usage(session, messages, context_window),
    }
}
