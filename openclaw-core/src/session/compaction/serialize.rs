//! The summarisation prompt: the conversation rendered as plain labelled text, so the
//! summarising model reads it as a transcript rather than continuing it.

use crate::message::{ContentBlock, Message, join_text};
use std::sync::Arc;

/// The system prompt of a summarisation call.
pub const SUMMARY_SYSTEM_PROMPT: &str = "You write context checkpoints for a coding assistant. \
You are given a transcript; do not continue it. Reply only with the structured summary that is asked for.";

const SUMMARY_INSTRUCTIONS: &str = "Summarize the conversation above as a checkpoint another assistant can \
continue from. Use these sections:\n\n## Goal\nWhat the user is trying to achieve.\n\n## Constraints & Preferences\n\
Requirements the user stated.\n\n## Progress\n### Done\n### In Progress\n### Blocked\n\n## Key Decisions\n\
Choices made and why.\n\n## Next Steps\nWhat should happen next.\n\n## Critical Context\nFile paths, names, \
errors and data needed to continue.\n\nBe concise and keep exact file paths, function names and error messages.";

const UPDATE_INSTRUCTIONS: &str = "The conversation above continues the work described in <previous-summary>. \
Summarize it by updating that summary: keep what still holds, add the new progress, decisions and context, \
move finished items to Done, and keep the same sections. Keep exact file paths, function names and error messages.";

const TURN_PREFIX_INSTRUCTIONS: &str = "The conversation above is the first part of a turn that was too \
large to keep; its end is kept verbatim. Summarize this prefix briefly: what was asked, what has been done \
so far in this turn, and the context needed to understand the kept part.";

/// Render messages as a transcript: `[User]: …`, `[Assistant]: …`, `[Assistant thinking]: …`,
/// `[Assistant tool calls]: name(key=value, …)`, `[Tool result]: …`, separated by blank lines.
pub fn serialize_conversation(messages: &[Arc<Message>]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for m in messages {
        match &**m {
            Message::User(u) => {
                let t = u.content.text();
                if !t.is_empty() {
                    parts.push(format!("[User]: {t}"));
                }
            }
            Message::Custom(c) => {
                let t = c.content.text();
                if !t.is_empty() {
                    parts.push(format!("[User]: {t}"));
                }
            }
            Message::BashExecution(b) => {
                parts.push(format!("[User ran]: {}\n{}", b.command, b.output));
            }
            Message::BranchSummary(b) => parts.push(format!("[Branch summary]: {}", b.summary)),
            Message::CompactionSummary(c) => {
                parts.push(format!("[Earlier summary]: {}", c.summary))
            }
            Message::ToolResult(r) => {
                let t = join_text(&r.content);
                if !t.is_empty() {
                    parts.push(format!("[Tool result]: {t}"));
                }
            }
            Message::Assistant(a) => {
                let mut thinking = Vec::new();
                let mut text = Vec::new();
                let mut calls = Vec::new();
                for b in &a.content {
                    match b {
                        ContentBlock::Thinking(t) => thinking.push(t.thinking.clone()),
                        ContentBlock::Text(t) => text.push(t.text.clone()),
                        ContentBlock::ToolCall(c) => {
                            let args = c
                                .arguments
                                .as_object()
                                .map(|o| {
                                    o.iter()
                                        .map(|(k, v)| {
                                            format!(
                                                "{k}={}",
                                                serde_json::to_string(v).unwrap_or_default()
                                            )
                                        })
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                })
                                .unwrap_or_default();
                            calls.push(format!("{}({args})", c.name));
                        }
                        ContentBlock::Image(_) => {}
                    }
                }
                if !thinking.is_empty() {
                    parts.push(format!("[Assistant thinking]: {}", thinking.join("\n")));
                }
                if !text.is_empty() {
                    parts.push(format!("[Assistant]: {}", text.join("\n")));
                }
                if !calls.is_empty() {
                    parts.push(format!("[Assistant tool calls]: {}", calls.join("; ")));
                }
            }
        }
    }
    parts.join("\n\n")
}

/// The user message of a summarisation call: the transcript in `<conversation>`, the previous
/// summary (when compacting again) in `<previous-summary>`, then the instructions.
pub fn summary_prompt(
    messages: &[Arc<Message>],
    previous_summary: Option<&str>,
    custom_instructions: Option<&str>,
    turn_prefix: bool,
) -> String {
    let mut p = format!(
        "<conversation>\n{}\n</conversation>\n\n",
        serialize_conversation(messages)
    );
    if let Some(prev) = previous_summary {
        p.push_str(&format!(
            "<previous-summary>\n{prev}\n</previous-summary>\n\n"
        ));
    }
    p.push_str(if turn_prefix {
        TURN_PREFIX_INSTRUCTIONS
    } else if previous_summary.is_some() {
        UPDATE_INSTRUCTIONS
    } else {
        SUMMARY_INSTRUCTIONS
    });
    if let Some(extra) = custom_instructions.filter(|s| !s.trim().is_empty()) {
        p.push_str(&format!("\n\nAdditional focus: {extra}"));
    }
    p
}
