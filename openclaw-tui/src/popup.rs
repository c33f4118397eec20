//! Popups over the bottom of the transcript: completion lists (slash commands, `@path`) and
//! pickers (model, thinking level, session with preview, fork point) plus the help sheet.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use crate::slash::COMMANDS;
use crate::wrap::truncate;

/// What a picker chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickerKind {
    Model,
    Thinking,
    Session,
    Fork,
    Tree,
}

/// One row of a list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Item {
    pub label: String,
    pub detail: String,
    /// What choosing it yields (a model key, a session id, …).
    pub value: String,
    /// Text for the preview pane (sessions).
    pub preview: Option<String>,
}

/// A filterable list the user chooses from.
#[derive(Debug, Clone, PartialEq)]
pub struct Picker {
    pub kind: PickerKind,
    pub title: String,
    pub items: Vec<Item>,
    pub filter: String,
    pub selected: usize,
}

impl Picker {
    /// A picker over `items`, with the first selected.
    pub fn new(kind: PickerKind, title: impl Into<String>, items: Vec<Item>) -> Self {
        Picker {
            kind,
            title: title.into(),
            items,
            filter: String::new(),
            selected: 0,
        }
    }

    /// Items passing the filter (case-insensitive substring of label or detail).
    pub fn visible(&self) -> Vec<&Item> {
        let f = self.filter.to_lowercase();
        self.items
            .iter()
            .filter(|i| {
                f.is_empty()
                    || i.label.to_lowercase().contains(&f)
                    || i.detail.to_lowercase().contains(&f)
            })
            .collect()
    }

    /// The highlighted item.
    pub fn current(&self) -> Option<&Item> {
        self.visible().get(self.selected).copied()
    }

    pub fn up(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    pub fn down(&mut self) {
        let n = self.visible().len();
        if self.selected + 1 < n {
            self.selected += 1;
        }
    }

    pub fn type_char(&mut self, c: char) {
        self.filter.push(c);
        self.selected = 0;
    }

    pub fn backspace(&mut self) {
        self.filter.pop();
        self.selected = 0;
    }
}

/// What the completion list completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    Slash,
    Mention,
}

/// An inline completion list driven by the composer's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub kind: CompletionKind,
    pub items: Vec<Item>,
    pub selected: usize,
}

/// The popup currently shown (at most one).
#[derive(Debug, Clone, PartialEq)]
pub enum Popup {
    Completion(Completion),
    Picker(Picker),
    Help,
}

const MAX_ROWS: usize = 10;

/// Draws `popup` anchored to the bottom of `area` (the transcript area).
pub fn draw_popup(frame: &mut Frame<'_>, area: Rect, popup: &Popup) {
    match popup {
        Popup::Completion(c) => {
            let rows = list_rows(
                &c.items.iter().collect::<Vec<_>>(),
                c.selected,
                area.width.saturating_sub(2) as usize,
            );
            let title = match c.kind {
                CompletionKind::Slash => " commands · tab to complete ",
                CompletionKind::Mention => " files · tab to insert ",
            };
            draw_box(frame, area, title, rows, None);
        }
        Popup::Picker(p) => {
            let visible = p.visible();
            let title = if p.filter.is_empty() {
                format!(
                    " {} · type to filter · enter to choose · esc to close ",
                    p.title
                )
            } else {
                format!(" {} · filter: {} ", p.title, p.filter)
            };
            let preview = if p.kind == PickerKind::Session {
                p.current().and_then(|i| i.preview.clone())
            } else {
                None
            };
            let width = if preview.is_some() && area.width >= 80 {
                area.width / 2
            } else {
                area.width
            };
            let mut rows = list_rows(&visible, p.selected, width.saturating_sub(2) as usize);
            if rows.is_empty() {
                rows.push(Line::styled(
                    "  (nothing matches)",
                    Style::default().fg(Color::DarkGray),
                ));
            }
            draw_box(frame, area, &title, rows, preview);
        }
        Popup::Help => {
            let key = Style::default().fg(Color::Cyan);
            let mut rows: Vec<Line<'static>> = [
                ("enter", "send (while working: steer the current turn)"),
                ("alt+enter", "newline (while working: queue a follow-up)"),
                ("shift+enter / ctrl+j", "newline"),
                ("esc", "abort the running answer"),
                ("ctrl+c ×2", "quit"),
                ("pgup / pgdn / wheel", "scroll the transcript"),
                ("ctrl+t", "show or hide thinking"),
                ("ctrl+o", "expand or collapse tool output"),
                ("@path", "mention a file (fuzzy, tab to insert)"),
            ]
            .into_iter()
            .map(|(k, v)| Line::from(vec![Span::styled(format!("  {k:<22}"), key), Span::raw(v)]))
            .collect();
            rows.push(Line::default());
            for c in COMMANDS {
                rows.push(Line::from(vec![
                    Span::styled(
                        format!("  /{:<21}", format!("{} {}", c.name, c.args).trim_end()),
                        key,
                    ),
                    Span::raw(c.help),
                ]));
            }
            draw_box(frame, area, " help · esc to close ", rows, None);
        }
    }
}

fn list_rows(items: &[&Item], selected: usize, width: usize) -> Vec<Line<'static>> {
    let label_w = items
        .iter()
        .map(|i| i.label.chars().count())
        .max()
        .unwrap_or(0)
        .min(width / 2);
    let start = selected.saturating_sub(MAX_ROWS - 1);
    items
        .iter()
        .enumerate()
        .skip(start)
        .take(MAX_ROWS)
        .map(|(i, item)| {
            let sel = i == selected;
            let marker = if sel { "› " } else { "  " };
            let label = truncate(&item.label, label_w.max(1));
            let pad = label_w.saturating_sub(label.chars().count());
            let style = if sel {
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
            let detail_w = width.saturating_sub(label_w + 4);
            Line::from(vec![
                Span::styled(format!("{marker}{label}{}", " ".repeat(pad)), style),
                Span::raw("  "),
                Span::styled(
                    truncate(&item.detail, detail_w),
                    Style::default().fg(Color::DarkGray),
                ),
            ])
        })
        .collect()
}

fn draw_box(
    frame: &mut Frame<'_>,
    area: Rect,
    title: &str,
    rows: Vec<Line<'static>>,
    preview: Option<String>,
) {
    let height = (rows.len() as u16 + 2).min(area.height).max(3);
    let rect = Rect {
        x: area.x,
        y: area.y + area.height.saturating_sub(height),
        width: area.width,
        height,
    };
    frame.render_widget(Clear, rect);
    let border = Style::default().fg(Color::DarkGray);
    let block = Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(border)
        .title(Span::styled(
            title.to_string(),
            Style::default().fg(Color::Cyan),
        ));
    match preview {
        Some(text) if rect.width >= 80 => {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                    .areas(rect);
            frame.render_widget(Paragraph::new(rows).block(block), left);
            let pblock = Block::bordered()
                .border_type(BorderType::Rounded)
                .border_style(border)
                .title(" preview ");
            frame.render_widget(
                Paragraph::new(text)
                    .wrap(Wrap { trim: false })
                    .block(pblock),
                right,
            );
        }
        _ => frame.render_widget(Paragraph::new(rows).block(block), rect),
    }
}
