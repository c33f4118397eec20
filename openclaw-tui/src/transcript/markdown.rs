//! Markdown to styled, wrapped screen rows (pulldown-cmark): headings, emphasis, inline code,
//! links, block quotes, nested lists, fenced code with syntax highlighting, rules and tables.
//!
//! Rendering is a pure function of (text, width), re-run whenever either changes; a streaming
//! message is simply re-rendered with its longer text.

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

use super::highlight::highlight;
use crate::wrap::{truncate, wrap_line};

/// Renders `text` as markdown into rows at most `width` columns wide.
pub fn render_markdown(text: &str, width: usize, base: Style) -> Vec<Line<'static>> {
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut r = Renderer {
        width: width.max(8),
        base,
        out: Vec::new(),
        spans: Vec::new(),
        styles: vec![base],
        lists: Vec::new(),
        indents: Vec::new(),
        bullet_w: 0,
        item_first: None,
        quote: 0,
        code: None,
        table: None,
        link: Vec::new(),
    };
    for ev in Parser::new_ext(text, opts) {
        r.event(ev);
    }
    r.flush();
    while r.out.last().is_some_and(|l| l.spans.is_empty()) {
        r.out.pop();
    }
    r.out
}

struct Table {
    rows: Vec<Vec<String>>,
    cell: String,
}

struct Renderer {
    width: usize,
    base: Style,
    out: Vec<Line<'static>>,
    spans: Vec<Span<'static>>,
    styles: Vec<Style>,
    /// One entry per open list: the next number for ordered lists, and the width of the
    /// enclosing items' bullets (the nested list's indent).
    lists: Vec<Option<u64>>,
    indents: Vec<usize>,
    /// Width of the bullet of the innermost open item.
    bullet_w: usize,
    /// The bullet of the item whose first row has not been written yet.
    item_first: Option<String>,
    quote: usize,
    code: Option<(String, String)>,
    table: Option<Table>,
    link: Vec<String>,
}

impl Renderer {
    fn style(&self) -> Style {
        self.styles.last().copied().unwrap_or(self.base)
    }

    fn push_style(&mut self, f: impl FnOnce(Style) -> Style) {
        let s = f(self.style());
        self.styles.push(s);
    }

    fn blank(&mut self) {
        if self.out.last().is_some_and(|l| !l.spans.is_empty()) {
            self.out.push(Line::default());
        }
    }

    fn prefixes(&mut self) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
        let mut first = Vec::new();
        let mut rest = Vec::new();
        if self.quote > 0 {
            let bar = Span::styled(
                "│ ".repeat(self.quote),
                Style::default().fg(Color::DarkGray),
            );
            first.push(bar.clone());
            rest.push(bar);
        }
        if !self.lists.is_empty() {
            let indent = " ".repeat(self.indents.iter().sum());
            match self.item_first.take() {
                Some(bullet) => {
                    let w = bullet.width();
                    first.push(Span::raw(indent.clone()));
                    first.push(Span::styled(bullet, Style::default().fg(Color::Cyan)));
                    rest.push(Span::raw(format!("{indent}{}", " ".repeat(w))));
                }
                None => {
                    let pad = format!("{indent}{}", " ".repeat(self.bullet_w));
                    first.push(Span::raw(pad.clone()));
                    rest.push(Span::raw(pad));
                }
            }
        }
        (first, rest)
    }

    fn flush(&mut self) {
        if self.spans.is_empty() && self.item_first.is_none() {
            return;
        }
        let line = Line::from(std::mem::take(&mut self.spans));
        let (first, rest) = self.prefixes();
        let rows = wrap_line(&line, self.width, &first, &rest);
        self.out.extend(rows);
    }

    fn text(&mut self, t: &str) {
        if let Some(table) = &mut self.table {
            table.cell.push_str(t);
            return;
        }
        if let Some((_, code)) = &mut self.code {
            code.push_str(t);
            return;
        }
        let style = self.style();
        // Soft line structure inside a paragraph: keep hard newlines as row breaks.
        let mut first = true;
        for part in t.split('\n') {
            if !first {
                self.flush();
            }
            first = false;
            if !part.is_empty() {
                self.spans.push(Span::styled(part.to_string(), style));
            }
        }
    }

    fn event(&mut self, ev: Event<'_>) {
        match ev {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(t) => self.text(&t),
            Event::Code(t) => {
                if let Some(table) = &mut self.table {
                    table.cell.push_str(&t);
                } else {
                    let s = self.style().fg(Color::Cyan);
                    self.spans.push(Span::styled(t.to_string(), s));
                }
            }
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => self.flush(),
            Event::Rule => {
                self.flush();
                self.blank();
                let rule = "─".repeat(self.width.min(40));
                self.out
                    .push(Line::styled(rule, Style::default().fg(Color::DarkGray)));
                self.out.push(Line::default());
            }
            Event::TaskListMarker(done) => {
                let mark = if done { "[x] " } else { "[ ] " };
                self.spans
                    .push(Span::styled(mark, Style::default().fg(Color::Cyan)));
            }
            Event::Html(t) | Event::InlineHtml(t) => self.text(&t),
            Event::FootnoteReference(t) => self.text(&format!("[{t}]")),
            Event::InlineMath(t) | Event::DisplayMath(t) => self.text(&t),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph if self.lists.is_empty() => self.blank(),
            Tag::Heading { level, .. } => {
                self.flush();
                self.blank();
                let hashes = match level {
                    HeadingLevel::H1 => "# ",
                    HeadingLevel::H2 => "## ",
                    HeadingLevel::H3 => "### ",
                    _ => "#### ",
                };
                let s = self.style().add_modifier(Modifier::BOLD).fg(Color::Cyan);
                self.spans.push(Span::styled(hashes, s));
                let s = if level == HeadingLevel::H1 {
                    s.add_modifier(Modifier::UNDERLINED)
                } else {
                    s
                };
                self.styles.push(s);
            }
            Tag::BlockQuote(_) => {
                self.flush();
                self.quote += 1;
                self.push_style(|s| s.add_modifier(Modifier::ITALIC));
            }
            Tag::CodeBlock(kind) => {
                self.flush();
                self.blank();
                let lang = match kind {
                    CodeBlockKind::Fenced(l) => l.to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                self.code = Some((lang, String::new()));
            }
            Tag::List(start) => {
                self.flush();
                if self.lists.is_empty() {
                    self.blank();
                }
                self.indents.push(if self.lists.is_empty() {
                    0
                } else {
                    self.bullet_w
                });
                self.lists.push(start);
            }
            Tag::Item => {
                self.flush();
                let bullet = match self.lists.last_mut() {
                    Some(Some(n)) => {
                        let b = format!("{n}. ");
                        *n += 1;
                        b
                    }
                    _ => "• ".to_string(),
                };
                self.bullet_w = bullet.width();
                self.item_first = Some(bullet);
            }
            Tag::Emphasis => self.push_style(|s| s.add_modifier(Modifier::ITALIC)),
            Tag::Strong => self.push_style(|s| s.add_modifier(Modifier::BOLD)),
            Tag::Strikethrough => self.push_style(|s| s.add_modifier(Modifier::CROSSED_OUT)),
            Tag::Link { dest_url, .. } => {
                self.link.push(dest_url.to_string());
                self.push_style(|s| s.fg(Color::Blue).add_modifier(Modifier::UNDERLINED));
            }
            Tag::Table(_) => {
                self.flush();
                self.blank();
                self.table = Some(Table {
                    rows: Vec::new(),
                    cell: String::new(),
                });
            }
            Tag::TableHead | Tag::TableRow => {
                if let Some(t) = &mut self.table {
                    t.rows.push(Vec::new());
                }
            }
            Tag::TableCell => {
                if let Some(t) = &mut self.table {
                    t.cell.clear();
                }
            }
            _ => {}
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph => {
                self.flush();
            }
            TagEnd::Heading(_) => {
                self.flush();
                self.styles.pop();
            }
            TagEnd::BlockQuote(_) => {
                self.flush();
                self.quote = self.quote.saturating_sub(1);
                self.styles.pop();
            }
            TagEnd::CodeBlock => {
                if let Some((lang, code)) = self.code.take() {
                    self.code_block(&lang, &code);
                }
            }
            TagEnd::List(_) => {
                self.flush();
                self.lists.pop();
                self.indents.pop();
                self.bullet_w = 2;
                if self.lists.is_empty() {
                    self.out.push(Line::default());
                }
            }
            TagEnd::Item => self.flush(),
            TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                self.styles.pop();
            }
            TagEnd::Link => {
                self.styles.pop();
                if let Some(url) = self.link.pop() {
                    let already = self.spans.last().is_some_and(|s| s.content == url.as_str());
                    if !already && !url.starts_with('#') {
                        let s = Style::default().fg(Color::DarkGray);
                        self.spans.push(Span::styled(format!(" ({url})"), s));
                    }
                }
            }
            TagEnd::TableCell => {
                if let Some(t) = &mut self.table {
                    let cell = std::mem::take(&mut t.cell);
                    if let Some(row) = t.rows.last_mut() {
                        row.push(cell.trim().to_string());
                    }
                }
            }
            TagEnd::Table => {
                if let Some(t) = self.table.take() {
                    self.table_rows(&t.rows);
                }
            }
            _ => {}
        }
    }

    fn code_block(&mut self, lang: &str, code: &str) {
        let (first, _) = self.prefixes();
        let gutter = Span::styled("  ", Style::default());
        let inner = self
            .width
            .saturating_sub(2 + first.iter().map(|s| s.content.width()).sum::<usize>());
        for spans in highlight(code, lang) {
            let mut prefix = first.clone();
            prefix.push(gutter.clone());
            let line = Line::from(spans);
            // Code keeps its lines; only over-long ones wrap (with no word logic needed).
            let rows = wrap_line(&line, inner + 2 + prefix_width(&first), &prefix, &prefix);
            self.out.extend(rows);
        }
        self.out.push(Line::default());
    }

    fn table_rows(&mut self, rows: &[Vec<String>]) {
        let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
        if cols == 0 {
            return;
        }
        let mut widths = vec![0usize; cols];
        for row in rows {
            for (i, c) in row.iter().enumerate() {
                widths[i] = widths[i].max(c.width());
            }
        }
        let sep = 3 * (cols - 1);
        let avail = self.width.saturating_sub(sep).max(cols);
        while widths.iter().sum::<usize>() > avail {
            let Some((i, _)) = widths.iter().enumerate().max_by_key(|(_, w)| **w) else {
                break;
            };
            if widths[i] <= 3 {
                break;
            }
            widths[i] -= 1;
        }
        let border = Style::default().fg(Color::DarkGray);
        for (ri, row) in rows.iter().enumerate() {
            let mut spans = Vec::new();
            for (ci, w) in widths.iter().enumerate() {
                if ci > 0 {
                    spans.push(Span::styled(" │ ", border));
                }
                let cell = row.get(ci).map(String::as_str).unwrap_or("");
                let text = truncate(cell, *w);
                let pad = w.saturating_sub(text.width());
                let style = if ri == 0 {
                    self.base.add_modifier(Modifier::BOLD)
                } else {
                    self.base
                };
                spans.push(Span::styled(format!("{text}{}", " ".repeat(pad)), style));
            }
            self.out.push(Line::from(spans));
            if ri == 0 {
                let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
                self.out.push(Line::styled(rule.join("─┼─"), border));
            }
        }
        self.out.push(Line::default());
    }
}

fn prefix_width(p: &[Span<'_>]) -> usize {
    p.iter().map(|s| s.content.width()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn lists_headings_and_tables() {
        let md = "# Title\n\nSome *text* here.\n\n- one\n- two\n  1. nested\n\n| a | bb |\n|---|---|\n| 1 | 2 |\n";
        let out = plain(&render_markdown(md, 40, Style::default()));
        assert_eq!(
            out,
            vec![
                "# Title",
                "",
                "Some text here.",
                "",
                "• one",
                "• two",
                "  1. nested",
                "",
                "a │ bb",
                "──┼───",
                "1 │ 2 ",
            ]
        );
    }

    #[test]
    fn unclosed_fence_while_streaming_renders_as_code() {
        let out = plain(&render_markdown(
            "Look:\n\n```rust\nfn a() {}\n",
            40,
            Style::default(),
        ));
        assert_eq!(out, vec!["Look:", "", "  fn a() {}"]);
    }
}
