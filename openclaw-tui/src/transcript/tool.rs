//! Tool-call cells: a one-line summary of the call, then the result (truncated unless
//! expanded), with edit calls shown as a coloured diff.

use openclaw_core::ToolOutput;
use openclaw_core::message::ContentBlock;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use serde_json::Value;
use similar::{ChangeTag, TextDiff};

use super::cell::RenderOpts;
use crate::wrap::{truncate, wrap_line};

/// Result rows shown while a tool cell is collapsed.
pub const COLLAPSED_ROWS: usize = 5;

fn arg<'a>(args: &'a Value, key: &str) -> Option<&'a str> {
    args.get(key).and_then(Value::as_str)
}

/// The call as one human line: `$ ls -la`, `read src/main.rs`, `edit a.txt`.
pub fn call_summary(name: &str, args: &Value) -> String {
    match name {
        "bash" => format!("$ {}", arg(args, "command").unwrap_or("")),
        "read" | "write" | "edit" | "ls" => {
            let path = arg(args, "path").unwrap_or(".");
            let mut s = format!("{name} {path}");
            if let (Some(o), Some(l)) = (args.get("offset"), args.get("limit")) {
                s.push_str(&format!(" (lines {o}+{l})"));
            } else if let Some(c) = arg(args, "content") {
                s.push_str(&format!(" ({} lines)", c.lines().count()));
            }
            s
        }
        "grep" | "find" => {
            let pattern = arg(args, "pattern").unwrap_or("");
            let path = arg(args, "path").unwrap_or(".");
            format!("{name} {pattern} in {path}")
        }
        _ => {
            let json = serde_json::to_string(args).unwrap_or_default();
            format!("{name} {json}")
        }
    }
}

fn output_text(out: &ToolOutput) -> String {
    let mut s = String::new();
    for b in &out.content {
        match b {
            ContentBlock::Text(t) => s.push_str(&t.text),
            ContentBlock::Image(i) => s.push_str(&format!("[image {}]", i.mime_type)),
            _ => {}
        }
    }
    s
}

/// Renders a tool cell.
pub fn render_tool(
    name: &str,
    args: &Value,
    result: Option<&ToolOutput>,
    is_error: bool,
    done: bool,
    width: usize,
    opts: RenderOpts,
) -> Vec<Line<'static>> {
    let (mark, mark_style) = if !done {
        ("⚙ ", Style::default().fg(Color::Yellow))
    } else if is_error {
        ("✗ ", Style::default().fg(Color::Red))
    } else {
        ("✓ ", Style::default().fg(Color::Green))
    };
    let mut out = Vec::new();
    let header = Line::from(Span::styled(
        call_summary(name, args),
        Style::default().add_modifier(Modifier::BOLD),
    ));
    let hdr_rows = wrap_line(
        &header,
        width,
        &[Span::styled(mark, mark_style)],
        &[Span::raw("  ")],
    );
    out.extend(
        hdr_rows
            .into_iter()
            .take(if opts.expand_tools { usize::MAX } else { 3 }),
    );

    let gutter = [Span::styled("  │ ", Style::default().fg(Color::DarkGray))];
    if name == "edit" && !is_error {
        if let (Some(old), Some(new)) = (arg(args, "oldText"), arg(args, "newText")) {
            let rows = diff_rows(old, new);
            let limit = if opts.expand_tools { usize::MAX } else { 12 };
            let total = rows.len();
            for l in rows.into_iter().take(limit) {
                out.extend(wrap_line(&l, width, &gutter, &gutter));
            }
            if total > limit {
                out.push(more_line(total - limit));
            }
            if done {
                return out;
            }
        }
    }
    let Some(result) = result else {
        return out;
    };
    let text = output_text(result);
    let text = text.trim_end_matches('\n');
    if text.is_empty() {
        if done && !is_error {
            out.push(Line::from(vec![
                gutter[0].clone(),
                Span::styled("(no output)", Style::default().fg(Color::DarkGray)),
            ]));
        }
        return out;
    }
    let style = if is_error {
        Style::default().fg(Color::Red)
    } else {
        Style::default().fg(Color::Gray)
    };
    let lines: Vec<&str> = text.split('\n').collect();
    let limit = if opts.expand_tools {
        usize::MAX
    } else {
        COLLAPSED_ROWS
    };
    let mut shown = 0;
    for l in &lines {
        if shown >= limit {
            break;
        }
        let row = Line::from(Span::styled(l.replace('\t', "    "), style));
        let rows = if opts.expand_tools {
            wrap_line(&row, width, &gutter, &gutter)
        } else {
            let inner = width.saturating_sub(4).max(1);
            vec![Line::from(vec![
                gutter[0].clone(),
                Span::styled(truncate(&l.replace('\t', "    "), inner), style),
            ])]
        };
        out.extend(rows);
        shown += 1;
    }
    if lines.len() > shown {
        out.push(more_line(lines.len() - shown));
    }
    out
}

fn more_line(n: usize) -> Line<'static> {
    Line::styled(
        format!(
            "  … {n} more line{} (ctrl+o to expand)",
            if n == 1 { "" } else { "s" }
        ),
        Style::default().fg(Color::DarkGray),
    )
}

/// A line diff of `old` → `new` with two lines of context, `-`/`+` rows coloured.
pub fn diff_rows(old: &str, new: &str) -> Vec<Line<'static>> {
    let diff = TextDiff::from_lines(old, new);
    let mut out = Vec::new();
    for (i, group) in diff.grouped_ops(2).iter().enumerate() {
        if i > 0 {
            out.push(Line::styled("⋮", Style::default().fg(Color::DarkGray)));
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let text = change.value().trim_end_matches('\n').to_string();
                let (sign, style) = match change.tag() {
                    ChangeTag::Delete => ("-", Style::default().fg(Color::Red)),
                    ChangeTag::Insert => ("+", Style::default().fg(Color::Green)),
                    ChangeTag::Equal => (" ", Style::default().fg(Color::DarkGray)),
                };
                out.push(Line::from(Span::styled(format!("{sign} {text}"), style)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_name_the_call() {
        assert_eq!(
            call_summary("bash", &serde_json::json!({"command": "ls"})),
            "$ ls"
        );
        assert_eq!(
            call_summary("grep", &serde_json::json!({"pattern": "fn", "path": "src"})),
            "grep fn in src"
        );
    }

    #[test]
    fn diff_marks_removed_and_added_lines() {
        let rows = diff_rows("a\nb\nc\n", "a\nB\nc\n");
        let text: Vec<String> = rows
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert_eq!(text, vec!["  a", "- b", "+ B", "  c"]);
    }
}
