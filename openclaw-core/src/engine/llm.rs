//! What the model sees: the conversion of session messages to the user / assistant /
//! toolResult messages providers accept, and the default system prompt.

use std::fmt::Write as _;

use crate::message::{ContentBlock, Message, UserContent, UserMessage};
use crate::tool::Tool;

/// Convert the agent's messages for a provider: shell runs, summaries and custom messages become
/// user messages; messages marked `excludeFromContext` are dropped.
pub fn convert_to_llm(messages: &[Message]) -> Vec<Message> {
    let mut out = Vec::with_capacity(messages.len());
    for m in messages {
        match m {
            Message::User(_) | Message::Assistant(_) | Message::ToolResult(_) => out.push(m.clone()),
            Message::BashExecution(b) => {
                if b.exclude_from_context == Some(true) {
                    continue;
                }
                let mut text = format!("Ran `{}`\n", b.command);
                if b.output.is_empty() {
                    text.push_str("(no output)");
                } else {
                    let _ = write!(text, "```\n{}\n```", b.output.trim_end_matches('\n'));
                }
                if b.cancelled {
                    text.push_str("\n\n(command cancelled)");
                } else if let Some(code) = b.exit_code.filter(|c| *c != 0) {
                    let _ = write!(text, "\n\nCommand exited with code {code}");
                }
                if b.truncated {
                    text.push_str("\n\n[Output truncated]");
                }
                out.push(user(text, b.timestamp));
            }
            Message::Custom(c) => out.push(Message::User(UserMessage {
                content: UserContent::Blocks(c.content.blocks()),
                timestamp: c.timestamp,
            })),
            Message::BranchSummary(s) => out.push(user(
                format!(
                    "The following is a summary of a branch that this conversation came back from:\n\n<summary>\n{}\n</summary>",
                    s.summary
                ),
                s.timestamp,
            )),
            Message::CompactionSummary(s) => out.push(user(
                format!(
                    "The conversation history before this point was compacted into the following summary:\n\n<summary>\n{}\n</summary>",
                    s.summary
                ),
                s.timestamp,
            )),
        }
    }
    out
}

fn user(text: String, timestamp: i64) -> Message {
    Message::User(UserMessage {
        content: UserContent::Blocks(vec![ContentBlock::text(text)]),
        timestamp,
    })
}

/// The default system prompt: the agent's role, its tools and where it works.
pub fn default_system_prompt(cwd: &str, tools: &[std::sync::Arc<dyn Tool>]) -> String {
    let mut s = String::from(
        "You are an expert coding assistant. You help users by reading files, executing \
         commands, editing code, and writing new files.\n\nAvailable tools:\n",
    );
    for t in tools {
        let first = t.description().lines().next().unwrap_or("");
        let _ = writeln!(s, "- {}: {}", t.name(), first);
    }
    s.push_str(
        "\nGuidelines:\n- Read files before editing them.\n- Use edit for precise changes and \
         write for new files or complete rewrites.\n- Be concise in your responses.\n",
    );
    let date = time::OffsetDateTime::now_utc().date();
    let _ = write!(s, "\nCurrent date: {date}\nCurrent working directory: {cwd}");
    s
}
