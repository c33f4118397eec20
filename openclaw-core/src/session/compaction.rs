//! Compaction: token estimation, the auto-compaction threshold, choosing what to keep, the
//! summarisation request and the resulting `compaction` entry.
//!
//! The rules follow pi 0.73.1: context size is the last successful assistant message's usage
//! plus a chars/4 estimate of what came after it; compaction keeps roughly `keepRecentTokens`
//! of the newest messages, cutting at a turn boundary where it can (a cut inside a turn
//! summarises that turn's prefix separately). The model call goes through a caller-supplied
//! async function (or [`summarize_with_provider`]), so this module needs no runtime.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use serde_json::Value;

use crate::event::{CompactionDetails, CompactionResult};
use crate::message::{ContentBlock, Message, StopReason, Usage};
use crate::model::Model;
use crate::provider::{LlmContext, Provider, StreamEvent, StreamOptions};

use super::context::entry_message;
use super::entry::SessionEntry;

mod serialize;
pub use serialize::{SUMMARY_SYSTEM_PROMPT, serialize_conversation, summary_prompt};

/// Compaction settings (`compaction` in pi's settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactionSettings {
    pub enabled: bool,
    /// Room kept free for the reply; compaction starts above `contextWindow - reserveTokens`.
    pub reserve_tokens: u64,
    /// Roughly how many tokens of recent messages survive a compaction.
    pub keep_recent_tokens: u64,
}

impl Default for CompactionSettings {
    fn default() -> Self {
        CompactionSettings {
            enabled: true,
            reserve_tokens: 16384,
            keep_recent_tokens: 20000,
        }
    }
}

/// Why a compaction could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompactionError {
    #[error("Already compacted")]
    AlreadyCompacted,
    #[error("Nothing to compact (session too small)")]
    NothingToCompact,
    /// The summarisation call failed (the text is the model's or transport's error).
    #[error("{0}")]
    Summarization(String),
}

fn chars(s: &str) -> usize {
    // JavaScript string length: UTF-16 code units.
    s.encode_utf16().count()
}

/// Estimated tokens of one message: characters / 4, rounded up (images count 4800 chars).
pub fn estimate_tokens(message: &Message) -> u64 {
    const IMAGE_CHARS: usize = 4800;
    let blocks_chars = |blocks: &[ContentBlock]| -> usize {
        blocks
            .iter()
            .map(|b| match b {
                ContentBlock::Text(t) => chars(&t.text),
                ContentBlock::Image(_) => IMAGE_CHARS,
                ContentBlock::Thinking(t) => chars(&t.thinking),
                ContentBlock::ToolCall(c) => {
                    chars(&c.name) + chars(&serde_json::to_string(&c.arguments).unwrap_or_default())
                }
            })
            .sum()
    };
    let n = match message {
        Message::User(u) => blocks_chars(&u.content.blocks()),
        Message::Assistant(a) => blocks_chars(&a.content),
        Message::ToolResult(r) => blocks_chars(&r.content),
        Message::Custom(c) => blocks_chars(&c.content.blocks()),
        Message::BashExecution(b) => chars(&b.command) + chars(&b.output),
        Message::BranchSummary(b) => chars(&b.summary),
        Message::CompactionSummary(c) => chars(&c.summary),
    };
    n.div_ceil(4) as u64
}

/// The context size a usage report implies (`totalTokens`, else the sum of its parts).
pub fn usage_context_tokens(usage: &Usage) -> u64 {
    if usage.total_tokens > 0 {
        usage.total_tokens
    } else {
        usage.input + usage.output + usage.cache_read + usage.cache_write
    }
}

/// A context size estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ContextEstimate {
    pub tokens: u64,
    /// From the last usable assistant usage (0 when none).
    pub usage_tokens: u64,
    /// chars/4 estimate of the messages after it.
    pub trailing_tokens: u64,
    /// Index of that assistant message.
    pub last_usage_index: Option<usize>,
}

/// The index and usage of the last assistant message that is neither aborted nor an error.
fn last_usage(messages: &[Arc<Message>]) -> Option<(usize, &Usage)> {
    messages
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, m)| match &**m {
            Message::Assistant(a)
                if !matches!(a.stop_reason, StopReason::Aborted | StopReason::Error) =>
            {
                Some((i, &a.usage))
            }
            _ => None,
        })
}

/// The context size of `messages`: last assistant usage plus estimates of later messages, or
/// the sum of all estimates without any usage.
pub fn estimate_context_tokens(messages: &[Arc<Message>]) -> ContextEstimate {
    match last_usage(messages) {
        None => {
            let t = messages.iter().map(|m| estimate_tokens(m)).sum();
            ContextEstimate {
                tokens: t,
                usage_tokens: 0,
                trailing_tokens: t,
                last_usage_index: None,
            }
        }
        Some((i, usage)) => {
            let u = usage_context_tokens(usage);
            let trailing: u64 = messages[i + 1..].iter().map(|m| estimate_tokens(m)).sum();
            ContextEstimate {
                tokens: u + trailing,
                usage_tokens: u,
                trailing_tokens: trailing,
                last_usage_index: Some(i),
            }
        }
    }
}

/// Whether the context has grown past `context_window - reserve_tokens`.
pub fn should_compact(
    context_tokens: u64,
    context_window: u64,
    settings: &CompactionSettings,
) -> bool {
    settings.enabled && context_tokens > context_window.saturating_sub(settings.reserve_tokens)
}

/// Where a compaction cuts the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CutPoint {
    /// The first entry kept verbatim.
    pub first_kept_entry_index: usize,
    /// When the cut falls inside a turn, where that turn started.
    pub turn_start_index: Option<usize>,
    pub is_split_turn: bool,
}

/// Entries a context may start at: messages other than tool results, custom messages and
/// branch summaries.
fn is_cut_point(e: &SessionEntry) -> bool {
    match e {
        SessionEntry::Message(m) => !matches!(*m.message, Message::ToolResult(_)),
        SessionEntry::BranchSummary(_) | SessionEntry::CustomMessage(_) => true,
        _ => false,
    }
}

/// Where the turn containing `index` started (a user or bash message, branch summary or
/// custom message), searching back to `start`.
fn turn_start(path: &[&SessionEntry], index: usize, start: usize) -> Option<usize> {
    (start..=index).rev().find(|&i| match path[i] {
        SessionEntry::BranchSummary(_) | SessionEntry::CustomMessage(_) => true,
        SessionEntry::Message(m) => {
            matches!(*m.message, Message::User(_) | Message::BashExecution(_))
        }
        _ => false,
    })
}

/// Choose the first kept entry of `path[start..end]` so that roughly `keep_recent_tokens` of
/// the newest messages stay.
pub fn find_cut_point(
    path: &[&SessionEntry],
    start: usize,
    end: usize,
    keep_recent_tokens: u64,
) -> CutPoint {
    let cut_points: Vec<usize> = (start..end).filter(|&i| is_cut_point(path[i])).collect();
    let Some(&first) = cut_points.first() else {
        return CutPoint {
            first_kept_entry_index: start,
            turn_start_index: None,
            is_split_turn: false,
        };
    };
    let mut cut = first;
    let mut acc = 0u64;
    for i in (start..end).rev() {
        let Some(m) = path[i].message() else { continue };
        acc += estimate_tokens(m);
        if acc >= keep_recent_tokens {
            if let Some(&c) = cut_points.iter().find(|&&c| c >= i) {
                cut = c;
            }
            break;
        }
    }
    // Keep the non-message entries (model changes, labels, …) just before the cut with it.
    while cut > start {
        match path[cut - 1] {
            SessionEntry::Compaction(_) | SessionEntry::Message(_) => break,
            _ => cut -= 1,
        }
    }
    let is_user = matches!(path[cut].message(), Some(Message::User(_)));
    let turn_start_index = if is_user {
        None
    } else {
        turn_start(path, cut, start)
    };
    CutPoint {
        first_kept_entry_index: cut,
        turn_start_index,
        is_split_turn: !is_user && turn_start_index.is_some(),
    }
}

/// Files a stretch of conversation read and changed (from read/write/edit tool calls).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileOperations {
    pub read: BTreeSet<String>,
    pub written: BTreeSet<String>,
    pub edited: BTreeSet<String>,
}

impl FileOperations {
    /// Record the file tool calls of an assistant message.
    pub fn add_message(&mut self, message: &Message) {
        let Message::Assistant(a) = message else {
            return;
        };
        for call in a.tool_calls() {
            let Some(path) = call.arguments.get("path").and_then(Value::as_str) else {
                continue;
            };
            let set = match call.name.as_str() {
                "read" => &mut self.read,
                "write" => &mut self.written,
                "edit" => &mut self.edited,
                _ => continue,
            };
            set.insert(path.to_string());
        }
    }

    /// `{readFiles, modifiedFiles}`: modified = written ∪ edited; read = read-only files.
    pub fn details(&self) -> CompactionDetails {
        let modified: BTreeSet<String> = self.written.union(&self.edited).cloned().collect();
        CompactionDetails {
            read_files: self.read.difference(&modified).cloned().collect(),
            modified_files: modified.into_iter().collect(),
        }
    }
}

/// Everything a compaction needs, decided before the model is called.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactionPreparation {
    pub first_kept_entry_id: String,
    pub messages_to_summarize: Vec<Arc<Message>>,
    /// The start of a turn the cut falls into (summarised separately).
    pub turn_prefix_messages: Vec<Arc<Message>>,
    pub is_split_turn: bool,
    pub tokens_before: u64,
    pub previous_summary: Option<String>,
    pub file_ops: FileOperations,
    pub settings: CompactionSettings,
}

/// Decide what a compaction of the root→leaf `path` summarises and keeps. Fails with
/// "Already compacted" when the leaf is a compaction, and "Nothing to compact" when the path
/// is empty.
pub fn prepare_compaction(
    path: &[&SessionEntry],
    settings: &CompactionSettings,
) -> Result<CompactionPreparation, CompactionError> {
    if matches!(path.last(), Some(SessionEntry::Compaction(_))) {
        return Err(CompactionError::AlreadyCompacted);
    }
    let prev = path
        .iter()
        .rposition(|e| matches!(e, SessionEntry::Compaction(_)));
    let start = prev.map_or(0, |p| p + 1);
    let end = path.len();
    let usage_messages: Vec<Arc<Message>> = path[prev.unwrap_or(0)..end]
        .iter()
        .filter_map(|e| entry_message(e))
        .collect();
    let tokens_before = estimate_context_tokens(&usage_messages).tokens;
    let cut = find_cut_point(path, start, end, settings.keep_recent_tokens);
    let first_kept = path
        .get(cut.first_kept_entry_index)
        .map(|e| e.id())
        .filter(|id| !id.is_empty())
        .ok_or(CompactionError::NothingToCompact)?;
    let history_end = match (cut.is_split_turn, cut.turn_start_index) {
        (true, Some(t)) => t,
        _ => cut.first_kept_entry_index,
    };
    let messages_to_summarize: Vec<Arc<Message>> = path[start..history_end.max(start)]
        .iter()
        .filter_map(|e| entry_message(e))
        .collect();
    let turn_prefix_messages: Vec<Arc<Message>> = match (cut.is_split_turn, cut.turn_start_index) {
        (true, Some(t)) => path[t..cut.first_kept_entry_index]
            .iter()
            .filter_map(|e| entry_message(e))
            .collect(),
        _ => Vec::new(),
    };
    let mut file_ops = FileOperations::default();
    let mut previous_summary = None;
    if let Some(SessionEntry::Compaction(c)) = prev.map(|p| path[p]) {
        previous_summary = Some(c.summary.clone());
        if c.from_hook != Some(true) {
            if let Some(d) = &c.details {
                let list = |k: &str| -> Vec<String> {
                    d.get(k)
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|v| v.as_str().map(str::to_string))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                file_ops.read.extend(list("readFiles"));
                file_ops.edited.extend(list("modifiedFiles"));
            }
        }
    }
    for m in messages_to_summarize.iter().chain(&turn_prefix_messages) {
        file_ops.add_message(m);
    }
    Ok(CompactionPreparation {
        first_kept_entry_id: first_kept.to_string(),
        messages_to_summarize,
        turn_prefix_messages,
        is_split_turn: cut.is_split_turn,
        tokens_before,
        previous_summary,
        file_ops,
        settings: *settings,
    })
}

/// One summarisation call: a system prompt and a single user message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRequest {
    pub system_prompt: String,
    pub prompt: String,
    /// `0.8 · reserveTokens`.
    pub max_tokens: u64,
}

/// Run a prepared compaction: ask `summarize` for the summary (twice, concurrently, for a split
/// turn), append the file lists, and return the result to store as a `compaction` entry.
pub async fn compact<F, Fut>(
    prep: &CompactionPreparation,
    custom_instructions: Option<&str>,
    summarize: F,
) -> Result<CompactionResult, CompactionError>
where
    F: Fn(SummaryRequest) -> Fut,
    Fut: Future<Output = Result<String, String>>,
{
    let max_tokens = prep.settings.reserve_tokens * 4 / 5;
    let request =
        |messages: &[Arc<Message>], previous: Option<&str>, turn_prefix: bool| SummaryRequest {
            system_prompt: SUMMARY_SYSTEM_PROMPT.to_string(),
            prompt: summary_prompt(messages, previous, custom_instructions, turn_prefix),
            max_tokens,
        };
    let history = request(
        &prep.messages_to_summarize,
        prep.previous_summary.as_deref(),
        false,
    );
    let mut summary = if prep.is_split_turn && !prep.turn_prefix_messages.is_empty() {
        let prefix = request(&prep.turn_prefix_messages, None, true);
        let (h, p) = futures::join!(summarize(history), summarize(prefix));
        let (h, p) = (
            h.map_err(CompactionError::Summarization)?,
            p.map_err(CompactionError::Summarization)?,
        );
        format!("{h}\n\n---\n\n**Turn Context (split turn):**\n\n{p}")
    } else {
        summarize(history)
            .await
            .map_err(CompactionError::Summarization)?
    };
    let details = prep.file_ops.details();
    if !details.read_files.is_empty() {
        summary.push_str(&format!(
            "\n\n<read-files>\n{}\n</read-files>",
            details.read_files.join("\n")
        ));
    }
    if !details.modified_files.is_empty() {
        summary.push_str(&format!(
            "\n\n<modified-files>\n{}\n</modified-files>",
            details.modified_files.join("\n")
        ));
    }
    Ok(CompactionResult {
        summary,
        first_kept_entry_id: prep.first_kept_entry_id.clone(),
        tokens_before: prep.tokens_before,
        details: Some(details),
    })
}

/// A summarisation function over a [`Provider`]: streams the request and returns the text, or
/// the error the stream ended with.
pub async fn summarize_with_provider(
    provider: &dyn Provider,
    model: &Model,
    options: &StreamOptions,
    request: SummaryRequest,
) -> Result<String, String> {
    let context = LlmContext {
        system_prompt: request.system_prompt,
        messages: vec![Arc::new(Message::User(crate::message::UserMessage::new(
            request.prompt,
            Vec::new(),
        )))],
        tools: Vec::new(),
    };
    let mut opts = options.clone();
    opts.max_tokens = Some(request.max_tokens);
    let mut stream = provider.stream(model, &context, &opts);
    let mut text = String::new();
    while let Some(ev) = stream.next().await {
        match ev {
            StreamEvent::TextDelta { delta, .. } => text.push_str(&delta),
            StreamEvent::Error { message, .. } => return Err(message),
            StreamEvent::Done { .. } => break,
            _ => {}
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests;
