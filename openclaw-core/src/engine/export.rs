//! Export of a session transcript as one self-contained HTML page (inline CSS, no scripts, no
//! external resources): user, assistant, tool and shell messages in order, with thinking and
//! tool calls shown as collapsible blocks.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::message::{ContentBlock, Message, UserContent};

/// Render `messages` as a complete HTML document titled `title`.
pub fn render_html(title: &str, messages: &[Arc<Message>]) -> String {
    let mut body = String::new();
    for m in messages {
        render_message(&mut body, m);
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header><h1>{title}</h1><p class=\"meta\">{count} messages</p></header>\n\
         <main>\n{body}</main>\n</body>\n</html>\n",
        title = escape(title),
        count = messages.len(),
    )
}

const STYLE: &str = "
body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#1d1d1b}
header{padding:1.2rem 2rem;background:#1d1d1b;color:#f6f6f4}
header h1{margin:0;font-size:1.2rem}.meta{margin:.2rem 0 0;opacity:.7}
main{max-width:52rem;margin:1.5rem auto;padding:0 1rem}
.msg{background:#fff;border-radius:8px;padding:.8rem 1rem;margin:0 0 1rem;box-shadow:0 1px 2px #0002}
.role{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;opacity:.6;margin-bottom:.3rem}
.user{border-left:4px solid #2f6fdb}.assistant{border-left:4px solid #2c9a56}
.toolResult,.bashExecution{border-left:4px solid #b07a1f}.error{border-left-color:#c0392b}
.summary{border-left:4px solid #7a4fb0}
pre{white-space:pre-wrap;word-break:break-word;background:#f2f2ef;padding:.6rem;border-radius:6px;margin:.4rem 0}
details{margin:.4rem 0}summary{cursor:pointer;opacity:.8}
.text{white-space:pre-wrap}img{max-width:100%}
";

fn render_message(out: &mut String, m: &Message) {
    match m {
        Message::User(u) => {
            open(out, "user", "user");
            render_user_content(out, &u.content);
        }
        Message::Assistant(a) => {
            let class = if a.error_message.is_some() {
                "assistant error"
            } else {
                "assistant"
            };
            open(out, class, &format!("assistant · {}", a.model));
            render_blocks(out, &a.content);
            if let Some(e) = &a.error_message {
                let _ = write!(out, "<p class=\"text\"><em>{}</em></p>", escape(e));
            }
        }
        Message::ToolResult(t) => {
            let class = if t.is_error {
                "toolResult error"
            } else {
                "toolResult"
            };
            open(out, class, &format!("tool result · {}", t.tool_name));
            render_blocks(out, &t.content);
        }
        Message::BashExecution(b) => {
            open(out, "bashExecution", "shell");
            let _ = write!(
                out,
                "<pre>$ {}</pre><pre>{}</pre>",
                escape(&b.command),
                escape(&b.output)
            );
            if let Some(code) = b.exit_code {
                let _ = write!(out, "<p class=\"meta\">exit code {code}</p>");
            }
        }
        Message::Custom(c) => {
            open(out, "user", &c.custom_type);
            render_user_content(out, &c.content);
        }
        Message::BranchSummary(s) => {
            open(out, "summary", "branch summary");
            let _ = write!(out, "<div class=\"text\">{}</div>", escape(&s.summary));
        }
        Message::CompactionSummary(s) => {
            open(out, "summary", "compaction summary");
            let _ = write!(out, "<div class=\"text\">{}</div>", escape(&s.summary));
        }
    }
    out.push_str("</section>\n");
}

fn open(out: &mut String, class: &str, label: &str) {
    let _ = write!(
        out,
        "<section class=\"msg {class}\"><div class=\"role\">{}</div>",
        escape(label)
    );
}

fn render_user_content(out: &mut String, c: &UserContent) {
    render_blocks(out, &c.blocks());
}

fn render_blocks(out: &mut String, blocks: &[ContentBlock]) {
    for b in blocks {
        match b {
            ContentBlock::Text(t) => {
                let _ = write!(out, "<div class=\"text\">{}</div>", escape(&t.text));
            }
            ContentBlock::Thinking(t) => {
                let _ = write!(
                    out,
                    "<details><summary>thinking</summary><pre>{}</pre></details>",
                    escape(&t.thinking)
                );
            }
            ContentBlock::Image(i) => {
                let _ = write!(
                    out,
                    "<img alt=\"image\" src=\"data:{};base64,{}\">",
                    escape(&i.mime_type),
                    escape(&i.data)
                );
            }
            ContentBlock::ToolCall(c) => {
                let args = serde_json::to_string_pretty(&c.arguments).unwrap_or_default();
                let _ = write!(
                    out,
                    "<details open><summary>call {}</summary><pre>{}</pre></details>",
                    escape(&c.name),
                    escape(&args)
                );
            }
        }
    }
}

/// Escape text for HTML element content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{AssistantMessage, UserMessage};

    #[test]
    fn renders_escaped_transcript() {
        let mut a = AssistantMessage::empty("openai-completions", "fake", "fake-model");
        a.content.push(ContentBlock::text("<b>bold</b> & more"));
        let html = render_html(
            "s<1>",
            &[
                Message::User(UserMessage::new("hi \"there\"", vec![])).into(),
                Message::Assistant(a).into(),
            ],
        );
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>s&lt;1&gt;</title>"));
        assert!(html.contains("hi &quot;there&quot;"));
        assert!(html.contains("&lt;b&gt;bold&lt;/b&gt; &amp; more"));
        assert!(!html.contains("<script"));
    }
}
