//! Drawing one frame: transcript, working indicator and pending queue, composer, status line,
//! and the open popup.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::App;
use crate::popup::draw_popup;
use crate::transcript::human;
use crate::wrap::{line_width, truncate, wrap_line};

const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const MAX_COMPOSER_ROWS: usize = 10;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame<'_>, app: &mut App) {
    let area = frame.area();
    let width = area.width;

    // Rows under the transcript: working line, pending messages, hint.
    let mut extra: Vec<Line<'static>> = Vec::new();
    if app.streaming {
        let spin = SPINNER[app.tick % SPINNER.len()];
        extra.push(Line::from(vec![
            Span::styled(format!("{spin} "), Style::default().fg(Color::Cyan)),
            Span::styled("Working", Style::default().add_modifier(Modifier::BOLD)),
            Span::styled(
                " · esc to interrupt · enter to steer · alt+enter to queue a follow-up",
                Style::default().fg(Color::DarkGray),
            ),
        ]));
    }
    let dim = Style::default().fg(Color::DarkGray);
    for (label, list) in [
        ("steer", &app.pending_steer),
        ("follow-up", &app.pending_follow_up),
    ] {
        for text in list.iter() {
            let first = text.lines().next().unwrap_or("");
            extra.push(Line::from(vec![
                Span::styled(
                    format!("  ↳ queued {label}: "),
                    Style::default().fg(Color::Yellow),
                ),
                Span::styled(
                    truncate(first, (width as usize).saturating_sub(24).max(4)),
                    dim,
                ),
            ]));
        }
    }
    if let Some(h) = &app.hint {
        extra.push(Line::styled(format!("  {h}"), dim));
    }

    let placeholder = if app.streaming {
        "steer the answer…"
    } else {
        "Ask anything · / for commands · @ for files"
    };
    let (mut crows, mut cursor) = app.composer.render(width, placeholder);
    if crows.len() > MAX_COMPOSER_ROWS {
        let skip = (cursor.1 as usize + 1).saturating_sub(MAX_COMPOSER_ROWS);
        crows = crows
            .into_iter()
            .skip(skip)
            .take(MAX_COMPOSER_ROWS)
            .collect();
        cursor.1 -= skip as u16;
    }
    let composer_h = crows.len() as u16 + 1;
    let [t_area, x_area, c_area, s_area] = Layout::vertical([
        Constraint::Min(1),
        Constraint::Length(extra.len() as u16),
        Constraint::Length(composer_h),
        Constraint::Length(1),
    ])
    .areas(area);

    // Transcript: only the visible rows are copied out of the cells' caches.
    let width_t = width.saturating_sub(1).max(1);
    let height = t_area.height as usize;
    let (total, _) = app.transcript.window(width_t, app.opts, 0, 0);
    if app.scroll > 0 && total > app.last_rows {
        app.scroll += total - app.last_rows;
    }
    app.last_rows = total;
    app.page = height.saturating_sub(2).max(1);
    app.scroll = app.scroll.min(total.saturating_sub(height));
    let (_, visible) = app.transcript.window(width_t, app.opts, height, app.scroll);
    // Short transcripts sit at the top, like a page.
    frame.render_widget(Paragraph::new(visible), t_area);
    if app.scroll > 0 {
        let tag = format!(" ↑ {} more rows · pgdn to follow ", app.scroll);
        let w = tag.chars().count() as u16;
        let r = Rect {
            x: t_area.right().saturating_sub(w),
            y: t_area.bottom().saturating_sub(1),
            width: w.min(width),
            height: 1,
        };
        frame.render_widget(
            Paragraph::new(Span::styled(
                tag,
                Style::default().fg(Color::Black).bg(Color::Yellow),
            )),
            r,
        );
    }

    frame.render_widget(Paragraph::new(extra), x_area);

    let block = Block::default().borders(Borders::TOP).border_style(dim);
    let inner = block.inner(c_area);
    frame.render_widget(block, c_area);
    frame.render_widget(Paragraph::new(crows), inner);
    if app.popup.is_none() || matches!(app.popup, Some(crate::popup::Popup::Completion(_))) {
        frame.set_cursor_position(Position {
            x: inner.x + cursor.0,
            y: inner.y + cursor.1,
        });
    }

    frame.render_widget(Paragraph::new(status_line(app, width as usize)), s_area);

    if let Some(popup) = &app.popup {
        let popup_area = Rect {
            height: t_area.height + x_area.height,
            ..t_area
        };
        draw_popup(frame, popup_area, popup);
    }
}

fn status_line(app: &App, width: usize) -> Line<'static> {
    let dim = Style::default().fg(Color::DarkGray);
    let mut parts: Vec<Span<'static>> = Vec::new();
    let sep = || Span::styled(" · ", Style::default().fg(Color::DarkGray));
    match &app.state.model {
        Some(m) => parts.push(Span::styled(
            format!("{}/{}", m.provider, m.id),
            Style::default().fg(Color::Cyan),
        )),
        None if !app.ready => parts.push(Span::styled("starting…", dim)),
        None => parts.push(Span::styled("no model", Style::default().fg(Color::Yellow))),
    }
    parts.push(sep());
    parts.push(Span::styled(
        format!("thinking {}", app.state.thinking),
        dim,
    ));
    let window = app.state.model.as_ref().map_or(0, |m| m.context_window);
    if window > 0 {
        let pct = (app.totals.context as f64 * 100.0 / window as f64).round() as u64;
        let style = if pct >= 80 {
            Style::default().fg(Color::Yellow)
        } else {
            dim
        };
        parts.push(sep());
        parts.push(Span::styled(format!("ctx {pct}%"), style));
    }
    parts.push(sep());
    parts.push(Span::styled(
        format!("↑{} ↓{}", human(app.totals.input), human(app.totals.output)),
        dim,
    ));
    if app.totals.cost > 0.0 {
        parts.push(sep());
        parts.push(Span::styled(format!("${:.3}", app.totals.cost), dim));
    }
    if let Some(name) = &app.state.session_name {
        parts.push(sep());
        parts.push(Span::styled(
            name.clone(),
            Style::default().add_modifier(Modifier::BOLD),
        ));
    }
    if app.location != "local" && !app.location.is_empty() {
        parts.push(sep());
        parts.push(Span::styled(app.location.clone(), dim));
    }
    let line = Line::from(parts);
    if line_width(&line) <= width {
        line
    } else {
        wrap_line(&line, width, &[], &[])
            .into_iter()
            .next()
            .unwrap_or_default()
    }
}
