//! The exec approval card: the command, where and for which agent it would run, when the
//! request expires, and the keys that answer it — or, once answered, the outcome.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

use crate::backend::ApprovalPrompt;
use crate::wrap::wrap_line;

/// `HH:MM:SS` (UTC) of a Unix-ms time.
fn clock(ms: u64) -> String {
    let s = ms / 1000;
    format!(
        "{:02}:{:02}:{:02} UTC",
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60
    )
}

pub(super) fn render(
    p: &ApprovalPrompt,
    outcome: Option<&str>,
    width: usize,
) -> Vec<Line<'static>> {
    let accent = Style::default()
        .fg(Color::Yellow)
        .add_modifier(Modifier::BOLD);
    let dim = Style::default().fg(Color::DarkGray);
    let bar = [Span::styled("│ ", accent)];
    let mut out = vec![Line::from(vec![
        Span::styled("╭ ", accent),
        Span::styled("Exec approval needed", accent),
        Span::styled(format!("  id {}", p.id), dim),
    ])];
    let cmd = Line::from(vec![
        Span::styled("$ ", accent),
        Span::styled(
            p.command.clone(),
            Style::default().add_modifier(Modifier::BOLD),
        ),
    ]);
    out.extend(wrap_line(&cmd, width, &bar, &bar));
    let mut facts = Vec::new();
    if let Some(cwd) = &p.cwd {
        facts.push(format!("cwd {cwd}"));
    }
    if let Some(agent) = &p.agent {
        facts.push(format!("agent {agent}"));
    }
    if p.expires_at_ms > 0 {
        facts.push(format!("expires {}", clock(p.expires_at_ms)));
    }
    let facts = Line::from(Span::styled(facts.join(" · "), dim));
    out.extend(wrap_line(&facts, width, &bar, &bar));
    let last = match outcome {
        Some(o) => Line::from(vec![
            Span::styled("╰ ", accent),
            Span::styled(o.to_owned(), Style::default().add_modifier(Modifier::BOLD)),
        ]),
        None => {
            let key = |k: &str, what: &str| {
                vec![
                    Span::styled(format!("[{k}]"), accent),
                    Span::raw(format!(" {what}  ")),
                ]
            };
            let mut spans = vec![Span::styled("╰ ", accent)];
            spans.extend(key("y", "allow once"));
            if p.allow_always {
                spans.extend(key("a", "allow always"));
            } else {
                spans.push(Span::styled("(allow always unavailable)  ", dim));
            }
            spans.extend(key("n", "deny"));
            Line::from(spans)
        }
    };
    out.push(last);
    out
}
