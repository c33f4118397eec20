//! Reading a session's messages and rendering them as Markdown (HTML comes from
//! openclaw-core's exporter; JSONL is the file itself).

use std::path::Path;
use std::sync::Arc;

use openclaw_core::message::{ContentBlock, Message};
use openclaw_core::session::{SessionEntry, SessionManager};

use crate::error::{CliError, CliResult};

/// The session's name (if any) and the messages of its current branch, root first.
pub fn load_messages(path: &Path) -> CliResult<(Option<String>, Vec<Arc<Message>>)> {
    let mgr = SessionManager::open(path, ".")
        .map_err(|e| CliError::failure(format!("cannot read session {}: {e}", path.display())))?;
    let messages = mgr
        .branch_entries()
        .into_iter()
        .filter_map(|e| match e {
            SessionEntry::Message(m) => Some(m.message.clone()),
            _ => None,
        })
        .collect();
    Ok((mgr.session_name().map(str::to_string), messages))
}

/// One line per message for `sessions show`: role and text (tool calls summarised).
pub fn message_line(m: &Message) -> (String, String) {
    match m {
        Message::User(u) => ("user".into(), u.content.text()),
        Message::Assistant(a) => {
            let mut parts = Vec::new();
            for b in &a.content {
                match b {
                    ContentBlock::Text(t) => parts.push(t.text.clone()),
                    ContentBlock::ToolCall(c) => {
                        parts.push(format!("[{} {}]", c.name, c.arguments))
                    }
                    _ => {}
                }
            }
            ("assistant".into(), parts.join(" "))
        }
        Message::ToolResult(r) => {
            let text: String = r.content.iter().filter_map(ContentBlock::as_text).collect();
            (format!("tool:{}", r.tool_name), text)
        }
        Message::BashExecution(b) => ("bash".into(), format!("$ {}\n{}", b.command, b.output)),
        Message::Custom(c) => (c.custom_type.clone(), c.content.text()),
        Message::BranchSummary(b) => ("branch-summary".into(), b.summary.clone()),
        Message::CompactionSummary(c) => ("compaction".into(), c.summary.clone()),
    }
}

/// The conversation as Markdown.
pub fn to_markdown(title: &str, messages: &[Arc<Message>]) -> String {
    let mut out = format!("# {title}\n\n");
    for m in messages {
        match &**m {
            Message::User(u) => out.push_str(&format!("## User\n\n{}\n\n", u.content.text())),
            Message::Assistant(a) => {
                out.push_str(&format!("## Assistant ({})\n\n", a.model));
                for b in &a.content {
                    match b {
                        ContentBlock::Text(t) => out.push_str(&format!("{}\n\n", t.text)),
                        ContentBlock::Thinking(t) => {
                            let quoted: Vec<String> =
                                t.thinking.lines().map(|l| format!("> {l}")).collect();
                            out.push_str(&format!("{}\n\n", quoted.join("\n")));
                        }
                        ContentBlock::ToolCall(c) => out.push_str(&format!(
                            "**Tool call** `{}`\n\n```json\n{}\n```\n\n",
                            c.name,
                            serde_json::to_string_pretty(&c.arguments).unwrap_or_default()
                        )),
                        ContentBlock::Image(_) => out.push_str("*(image)*\n\n"),
                    }
                }
                if let Some(e) = &a.error_message {
                    out.push_str(&format!("*Error: {e}*\n\n"));
                }
            }
            Message::ToolResult(r) => {
                let text: String = r.content.iter().filter_map(ContentBlock::as_text).collect();
                let label = if r.is_error {
                    "Tool error"
                } else {
                    "Tool result"
                };
                out.push_str(&format!(
                    "**{label}** `{}`\n\n```\n{}\n```\n\n",
                    r.tool_name,
                    text.trim_end()
                ));
            }
            other => {
                let (role, text) = message_line(other);
                out.push_str(&format!("**{role}**\n\n{text}\n\n"));
            }
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The conversation as a self-contained HTML page (one section per message).
pub fn to_html(title: &str, messages: &[Arc<Message>]) -> String {
    let mut body = String::new();
    for m in messages {
        let (role, text) = message_line(m);
        let class = role.split(':').next().unwrap_or("other");
        body.push_str(&format!(
            "<section class=\"msg {class}\"><h2>{}</h2><pre>{}</pre></section>\n",
            escape(&role),
            escape(&text)
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title><style>\
body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}\
pre{{white-space:pre-wrap;font-family:inherit}}.user h2{{color:#0a7}}.assistant h2{{color:#36c}}\
.tool h2{{color:#888}}</style></head><body><h1>{t}</h1>\n{body}</body></html>\n",
        t = escape(title)
    )
}
