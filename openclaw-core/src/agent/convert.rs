//! Turning the agent's context into what a model is sent.
//!
//! [`convert_to_llm`] maps every role onto the three a provider understands (pi's
//! `convertToLlm`): user, assistant and toolResult pass through; a `bashExecution` the user ran
//! becomes a user text message (unless `excludeFromContext`); a `custom` message becomes a user
//! message; compaction and branch summaries become user messages in fixed framing text.
//!
//! [`prepare_for_provider`] then removes what must not be replayed (pi-ai does this in every
//! provider): assistant messages that failed or were aborted, the tool results answering them,
//! and tool calls left without a result get a synthetic error result so that every call is
//! answered.

use std::collections::HashSet;
use std::sync::Arc;

use crate::message::{
    BashExecutionMessage, ContentBlock, Message, StopReason, ToolResultMessage, UserContent,
    UserMessage,
};

/// Framing of a compaction summary (the summary goes between the two parts).
pub const COMPACTION_SUMMARY_PREFIX: &str = "The conversation history before this point was compacted into the following summary:\n\n<summary>\n";
/// See [`COMPACTION_SUMMARY_PREFIX`].
pub const COMPACTION_SUMMARY_SUFFIX: &str = "\n</summary>";
/// Framing of a branch summary.
pub const BRANCH_SUMMARY_PREFIX: &str =
    "The following is a summary of a branch that this conversation came back from:\n\n<summary>\n";
/// See [`BRANCH_SUMMARY_PREFIX`].
pub const BRANCH_SUMMARY_SUFFIX: &str = "</summary>";
/// Replaces image blocks when images are blocked.
pub const IMAGE_BLOCKED_TEXT: &str = "Image reading is disabled.";
/// The text of the synthetic result given to a tool call that has none.
pub const MISSING_TOOL_RESULT_TEXT: &str = "No result provided";

/// Conversion switches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConvertOptions {
    /// Replace every image block with [`IMAGE_BLOCKED_TEXT`].
    pub block_images: bool,
}

/// The text a `bashExecution` message shows the model: `` Ran `cmd` `` then the output fenced
/// (or `(no output)`), then a cancellation or non-zero exit note and a truncation note.
pub fn bash_execution_to_text(m: &BashExecutionMessage) -> String {
    let mut text = format!("Ran `{}`\n", m.command);
    if m.output.is_empty() {
        text.push_str("(no output)");
    } else {
        text.push_str(&format!("```\n{}\n```", m.output));
    }
    if m.cancelled {
        text.push_str("\n\n(command cancelled)");
    } else if let Some(code) = m.exit_code.filter(|c| *c != 0) {
        text.push_str(&format!("\n\nCommand exited with code {code}"));
    }
    if m.truncated {
        if let Some(path) = &m.full_output_path {
            text.push_str(&format!("\n\n[Output truncated. Full output: {path}]"));
        }
    }
    text
}

fn user_text(text: String, timestamp: i64) -> Message {
    Message::User(UserMessage {
        content: UserContent::Blocks(vec![ContentBlock::text(text)]),
        timestamp,
    })
}

/// Map the context onto user / assistant / toolResult messages.
pub fn convert_to_llm(messages: &[Arc<Message>]) -> Vec<Arc<Message>> {
    convert_to_llm_with(messages, &ConvertOptions::default())
}

/// [`convert_to_llm`] with options. Messages the conversion leaves as they are are shared with
/// the input, not copied.
pub fn convert_to_llm_with(
    messages: &[Arc<Message>],
    options: &ConvertOptions,
) -> Vec<Arc<Message>> {
    let mut out = Vec::with_capacity(messages.len());
    for m in messages {
        let converted = match &**m {
            Message::User(_) | Message::Assistant(_) | Message::ToolResult(_) => {
                if options.block_images && has_images(m) {
                    Arc::new(block_images(Message::clone(m)))
                } else {
                    m.clone()
                }
            }
            Message::BashExecution(b) => {
                if b.exclude_from_context == Some(true) {
                    continue;
                }
                Arc::new(user_text(bash_execution_to_text(b), b.timestamp))
            }
            Message::Custom(c) => {
                let m = Message::User(UserMessage {
                    content: UserContent::Blocks(c.content.blocks()),
                    timestamp: c.timestamp,
                });
                Arc::new(if options.block_images {
                    block_images(m)
                } else {
                    m
                })
            }
            Message::BranchSummary(b) => Arc::new(user_text(
                format!(
                    "{BRANCH_SUMMARY_PREFIX}{}{BRANCH_SUMMARY_SUFFIX}",
                    b.summary
                ),
                b.timestamp,
            )),
            Message::CompactionSummary(c) => Arc::new(user_text(
                format!(
                    "{COMPACTION_SUMMARY_PREFIX}{}{COMPACTION_SUMMARY_SUFFIX}",
                    c.summary
                ),
                c.timestamp,
            )),
        };
        out.push(converted);
    }
    out
}

/// Whether a user or tool result message holds an image block.
fn has_images(m: &Message) -> bool {
    let blocks: &[ContentBlock] = match m {
        Message::User(u) => match &u.content {
            UserContent::Blocks(b) => b,
            UserContent::Text(_) => &[],
        },
        Message::ToolResult(t) => &t.content,
        _ => &[],
    };
    blocks.iter().any(|b| matches!(b, ContentBlock::Image(_)))
}

fn replace_images(blocks: &mut [ContentBlock]) {
    for b in blocks.iter_mut() {
        if matches!(b, ContentBlock::Image(_)) {
            *b = ContentBlock::text(IMAGE_BLOCKED_TEXT);
        }
    }
}

fn block_images(mut m: Message) -> Message {
    match &mut m {
        Message::User(u) => {
            if let UserContent::Blocks(blocks) = &mut u.content {
                replace_images(blocks);
            }
        }
        Message::ToolResult(t) => replace_images(&mut t.content),
        _ => {}
    }
    m
}

/// Drop failed/aborted assistant turns (and their tool results) and answer orphaned tool
/// calls with a synthetic error result, so the provider gets a well-formed conversation.
pub fn prepare_for_provider(messages: Vec<Arc<Message>>) -> Vec<Arc<Message>> {
    let mut dropped_calls: HashSet<String> = HashSet::new();
    let mut out: Vec<Arc<Message>> = Vec::with_capacity(messages.len());
    // Tool calls of the last kept assistant message still waiting for a result.
    let mut open: Vec<(String, String)> = Vec::new();
    let close_open = |out: &mut Vec<Arc<Message>>, open: &mut Vec<(String, String)>, ts: i64| {
        for (id, name) in open.drain(..) {
            out.push(Arc::new(Message::ToolResult(ToolResultMessage {
                tool_call_id: id,
                tool_name: name,
                content: vec![ContentBlock::text(MISSING_TOOL_RESULT_TEXT)],
                details: None,
                is_error: true,
                timestamp: ts,
            })));
        }
    };
    for m in messages {
        match &*m {
            Message::Assistant(a)
                if matches!(a.stop_reason, StopReason::Error | StopReason::Aborted) =>
            {
                dropped_calls.extend(a.tool_calls().map(|c| c.id.clone()));
                continue;
            }
            Message::ToolResult(t) => {
                if dropped_calls.contains(&t.tool_call_id) {
                    continue;
                }
                open.retain(|(id, _)| *id != t.tool_call_id);
            }
            other => {
                close_open(&mut out, &mut open, other.timestamp());
                if let Message::Assistant(a) = other {
                    open = a
                        .tool_calls()
                        .map(|c| (c.id.clone(), c.name.clone()))
                        .collect();
                }
            }
        }
        out.push(m);
    }
    let ts = out.last().map(|m| m.timestamp()).unwrap_or_default();
    close_open(&mut out, &mut open, ts);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{
        AssistantMessage, BranchSummaryMessage, CompactionSummaryMessage, CustomMessage, ToolCall,
    };

    fn bash(output: &str, exit: Option<i32>, cancelled: bool, exclude: Option<bool>) -> Message {
        Message::BashExecution(BashExecutionMessage {
            command: "ls".into(),
            output: output.into(),
            exit_code: exit,
            cancelled,
            truncated: true,
            full_output_path: Some("/tmp/out.log".into()),
            exclude_from_context: exclude,
            timestamp: 7,
        })
    }

    fn text_of(m: &Message) -> String {
        match m {
            Message::User(u) => u.content.text(),
            other => panic!("expected user, got {}", other.role()),
        }
    }

    #[test]
    fn roles_are_mapped() {
        let msgs = vec![
            bash("a\n", Some(2), false, None),
            bash("", None, true, None),
            bash("x", Some(0), false, Some(true)),
            Message::Custom(CustomMessage {
                custom_type: "note".into(),
                content: UserContent::Text("custom text".into()),
                display: true,
                details: None,
                timestamp: 1,
            }),
            Message::CompactionSummary(CompactionSummaryMessage {
                summary: "S".into(),
                tokens_before: 5,
                timestamp: 2,
            }),
            Message::BranchSummary(BranchSummaryMessage {
                summary: "B".into(),
                from_id: "x".into(),
                timestamp: 3,
            }),
        ];
        let msgs: Vec<Arc<Message>> = msgs.into_iter().map(Arc::new).collect();
        let out = convert_to_llm(&msgs);
        assert_eq!(out.len(), 5);
        assert_eq!(
            text_of(&out[0]),
            "Ran `ls`\n```\na\n\n```\n\nCommand exited with code 2\n\n[Output truncated. Full output: /tmp/out.log]"
        );
        assert!(text_of(&out[1]).starts_with("Ran `ls`\n(no output)\n\n(command cancelled)"));
        assert_eq!(text_of(&out[2]), "custom text");
        assert_eq!(
            text_of(&out[3]),
            "The conversation history before this point was compacted into the following summary:\n\n<summary>\nS\n</summary>"
        );
        assert!(text_of(&out[4]).ends_with("<summary>\nB</summary>"));
    }

    #[test]
    fn failed_turns_are_dropped_and_orphans_answered() {
        let call = |id: &str| ToolCall {
            id: id.into(),
            name: "read".into(),
            arguments: serde_json::json!({}),
            thought_signature: None,
        };
        let mut failed = AssistantMessage::empty("a", "p", "m");
        failed.stop_reason = StopReason::Aborted;
        failed.content = vec![ContentBlock::ToolCall(Box::new(call("c1")))];
        let result = |id: &str| {
            Message::ToolResult(ToolResultMessage {
                tool_call_id: id.into(),
                tool_name: "read".into(),
                content: vec![ContentBlock::text("r")],
                details: None,
                is_error: false,
                timestamp: 1,
            })
        };
        let mut ok = AssistantMessage::empty("a", "p", "m");
        ok.stop_reason = StopReason::ToolUse;
        ok.content = vec![
            ContentBlock::ToolCall(Box::new(call("c2"))),
            ContentBlock::ToolCall(Box::new(call("c3"))),
        ];
        let out = prepare_for_provider(vec![
            Message::User(UserMessage::new("hi", vec![])).into(),
            Message::Assistant(failed).into(),
            result("c1").into(),
            Message::Assistant(ok).into(),
            result("c2").into(),
            Message::User(UserMessage::new("next", vec![])).into(),
        ]);
        let roles: Vec<_> = out.iter().map(|m| m.role()).collect();
        assert_eq!(
            roles,
            ["user", "assistant", "toolResult", "toolResult", "user"]
        );
        match &*out[3] {
            Message::ToolResult(t) => {
                assert_eq!(t.tool_call_id, "c3");
                assert!(t.is_error);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn images_can_be_blocked() {
        let m = Message::User(UserMessage::new(
            "look",
            vec![crate::message::ImageContent {
                data: "AAAA".into(),
                mime_type: "image/png".into(),
            }],
        ));
        let out = convert_to_llm_with(&[m.into()], &ConvertOptions { block_images: true });
        assert_eq!(text_of(&out[0]), "look\nImage reading is disabled.");
    }
}
