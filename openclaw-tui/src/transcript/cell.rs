//! History cells: one kind per thing the transcript shows, each rendering itself to rows.

use std::cell::RefCell;
use std::rc::Rc;

use openclaw_core::ToolOutput;
use openclaw_core::message::Usage;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use serde_json::Value;

use super::markdown::render_markdown;
use super::tool::render_tool;
use crate::wrap::wrap_line;

/// Display switches that affect every cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct RenderOpts {
    /// Show thinking blocks in full (otherwise one collapsed row).
    pub show_thinking: bool,
    /// Show tool results in full (otherwise the first few rows).
    pub expand_tools: bool,
}

/// How loud a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    Info,
    Warning,
    Error,
}

/// One block of an assistant message, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum AssistantBlock {
    Text(String),
    Thinking(String),
}

/// What a cell holds.
#[derive(Debug, Clone, PartialEq)]
pub enum CellKind {
    /// A prompt the user sent (or a queued steer/follow-up once delivered).
    User { text: String },
    /// An assistant reply; `streaming` while deltas still arrive.
    Assistant {
        blocks: Vec<AssistantBlock>,
        streaming: bool,
        usage: Option<Usage>,
        model: Option<String>,
        error: Option<String>,
        aborted: bool,
    },
    /// A tool call with its (partial or final) result.
    Tool {
        id: String,
        name: String,
        args: Value,
        result: Option<ToolOutput>,
        is_error: bool,
        done: bool,
    },
    /// Status text: retries, compaction, model changes, errors.
    Notice { level: NoticeLevel, text: String },
    /// An exec approval card; `outcome` once answered or expired.
    Approval {
        prompt: crate::backend::ApprovalPrompt,
        outcome: Option<String>,
    },
}

impl CellKind {
    /// An empty streaming assistant cell.
    pub fn assistant() -> Self {
        CellKind::Assistant {
            blocks: Vec::new(),
            streaming: true,
            usage: None,
            model: None,
            error: None,
            aborted: false,
        }
    }
}

/// Rows rendered for (width, revision, options).
type CachedRows = (u16, u64, RenderOpts, Rc<Vec<Line<'static>>>);

/// A transcript entry plus its render cache.
#[derive(Debug)]
pub struct Cell {
    kind: CellKind,
    rev: u64,
    cache: RefCell<Option<CachedRows>>,
}

impl Cell {
    pub(crate) fn new(kind: CellKind) -> Self {
        Cell {
            kind,
            rev: 0,
            cache: RefCell::new(None),
        }
    }

    /// What the cell holds.
    pub fn kind(&self) -> &CellKind {
        &self.kind
    }

    pub(crate) fn kind_mut(&mut self) -> &mut CellKind {
        self.rev += 1;
        &mut self.kind
    }

    /// The cell's rows at `width` (cached until the cell, the width or the options change).
    pub fn rows(&self, width: u16, opts: RenderOpts) -> Rc<Vec<Line<'static>>> {
        if let Some((w, r, o, rows)) = &*self.cache.borrow() {
            if *w == width && *r == self.rev && *o == opts {
                return rows.clone();
            }
        }
        let rows = Rc::new(render_kind(&self.kind, width as usize, opts));
        *self.cache.borrow_mut() = Some((width, self.rev, opts, rows.clone()));
        rows
    }

    /// Plain text of the cell (for /copy).
    pub fn plain_text(&self) -> String {
        match &self.kind {
            CellKind::User { text } => text.clone(),
            CellKind::Assistant { blocks, .. } => blocks
                .iter()
                .filter_map(|b| match b {
                    AssistantBlock::Text(t) => Some(t.as_str()),
                    AssistantBlock::Thinking(_) => None,
                })
                .collect::<Vec<_>>()
                .join("\n"),
            CellKind::Tool { name, args, .. } => format!("{name} {args}"),
            CellKind::Notice { text, .. } => text.clone(),
            CellKind::Approval { prompt, .. } => prompt.command.clone(),
        }
    }
}

fn render_kind(kind: &CellKind, width: usize, opts: RenderOpts) -> Vec<Line<'static>> {
    match kind {
        CellKind::User { text } => {
            let marker = Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD);
            let first = [Span::styled("› ", marker)];
            let rest = [Span::raw("  ")];
            let style = Style::default().add_modifier(Modifier::BOLD);
            // The marker goes on the first row only; later lines hang under it.
            text.trim_end_matches('\n')
                .split('\n')
                .enumerate()
                .flat_map(|(i, l)| {
                    let line = Line::from(Span::styled(l.to_string(), style));
                    let lead: &[Span<'static>] = if i == 0 { &first } else { &rest };
                    wrap_line(&line, width, lead, &rest)
                })
                .collect()
        }
        CellKind::Assistant {
            blocks,
            streaming,
            usage,
            model,
            error,
            aborted,
        } => render_assistant(
            blocks,
            *streaming,
            usage.as_ref(),
            model.as_deref(),
            error.as_deref(),
            *aborted,
            width,
            opts,
        ),
        CellKind::Tool {
            name,
            args,
            result,
            is_error,
            done,
            ..
        } => render_tool(name, args, result.as_ref(), *is_error, *done, width, opts),
        CellKind::Approval { prompt, outcome } => {
            super::approval::render(prompt, outcome.as_deref(), width)
        }
        CellKind::Notice { level, text } => {
            let (mark, style) = match level {
                NoticeLevel::Info => ("• ", Style::default().fg(Color::DarkGray)),
                NoticeLevel::Warning => ("! ", Style::default().fg(Color::Yellow)),
                NoticeLevel::Error => ("✗ ", Style::default().fg(Color::Red)),
            };
            let first = [Span::styled(mark, style)];
            let rest = [Span::raw("  ")];
            text.split('\n')
                .flat_map(|l| {
                    wrap_line(
                        &Line::from(Span::styled(l.to_string(), style)),
                        width,
                        &first,
                        &rest,
                    )
                })
                .collect()
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn render_assistant(
    blocks: &[AssistantBlock],
    streaming: bool,
    usage: Option<&Usage>,
    model: Option<&str>,
    error: Option<&str>,
    aborted: bool,
    width: usize,
    opts: RenderOpts,
) -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = Vec::new();
    let dim = Style::default().fg(Color::DarkGray);
    for block in blocks {
        match block {
            AssistantBlock::Thinking(t) if t.trim().is_empty() => {}
            AssistantBlock::Thinking(t) => {
                if !out.is_empty() {
                    out.push(Line::default());
                }
                let think = dim.add_modifier(Modifier::ITALIC);
                if opts.show_thinking {
                    out.push(Line::styled("▾ Thinking", dim));
                    let bar = [Span::styled("│ ", dim)];
                    for l in render_markdown(t, width.saturating_sub(2), think) {
                        out.extend(wrap_line(&l, width, &bar, &bar));
                    }
                } else {
                    let lines = t.trim().lines().count();
                    let first = t.trim().lines().next().unwrap_or("");
                    let summary = format!(
                        "▸ Thinking ({lines} line{}) {first}",
                        if lines == 1 { "" } else { "s" }
                    );
                    out.push(Line::styled(crate::wrap::truncate(&summary, width), think));
                }
            }
            AssistantBlock::Text(t) => {
                if t.is_empty() {
                    continue;
                }
                if !out.is_empty() {
                    out.push(Line::default());
                }
                out.extend(render_markdown(t, width, Style::default()));
            }
        }
    }
    if streaming && out.is_empty() {
        out.push(Line::styled("…", dim));
    }
    if let Some(err) = error {
        let style = if aborted {
            Style::default().fg(Color::Yellow)
        } else {
            Style::default().fg(Color::Red)
        };
        let mark = if aborted { "⏹ " } else { "✗ " };
        let line = Line::from(Span::styled(err.to_string(), style));
        out.extend(wrap_line(
            &line,
            width,
            &[Span::styled(mark, style)],
            &[Span::raw("  ")],
        ));
    }
    if let (Some(u), false) = (usage, streaming) {
        if u.total_tokens > 0 || u.input > 0 || u.output > 0 {
            let mut s = format!(
                "↑{} ↓{}",
                human(u.input + u.cache_read + u.cache_write),
                human(u.output)
            );
            if u.cache_read > 0 {
                s.push_str(&format!(" (cached {})", human(u.cache_read)));
            }
            if u.cost.total > 0.0 {
                s.push_str(&format!(" · ${:.4}", u.cost.total));
            }
            if let Some(m) = model {
                s.push_str(&format!(" · {m}"));
            }
            out.push(Line::styled(s, dim));
        }
    }
    out
}

/// Token counts the way a status line shows them: 950, 1.2k, 34k, 1.1M.
pub fn human(n: u64) -> String {
    if n < 1000 {
        n.to_string()
    } else if n < 10_000 {
        format!("{:.1}k", n as f64 / 1000.0)
    } else if n < 1_000_000 {
        format!("{}k", n / 1000)
    } else {
        format!("{:.1}M", n as f64 / 1_000_000.0)
    }
}
