//! The composer: the multi-line input at the bottom of the screen, with persistent history and
//! large-paste placeholders.
//!
//! The composer owns only its text and cursor; key routing (what Enter means while the agent
//! streams, popups) lives in [`crate::app`].

use std::path::PathBuf;

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthStr;

/// Pastes longer than this many characters (or lines) are shown as one placeholder.
const LARGE_PASTE_CHARS: usize = 1000;
const LARGE_PASTE_LINES: usize = 10;
const HISTORY_LIMIT: usize = 500;

/// Persistent input history: one JSON string per line in a file under the state dir.
#[derive(Debug, Default)]
pub struct InputHistory {
    path: Option<PathBuf>,
    entries: Vec<String>,
    /// Position while browsing (`None` = editing a fresh line).
    pos: Option<usize>,
    draft: String,
}

impl InputHistory {
    /// Loads history from `path` (missing or unreadable files give an empty history).
    pub fn load(path: Option<PathBuf>) -> Self {
        let entries = path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|s| {
                s.lines()
                    .filter_map(|l| serde_json::from_str::<String>(l).ok())
                    .collect()
            })
            .unwrap_or_default();
        InputHistory {
            path,
            entries,
            pos: None,
            draft: String::new(),
        }
    }

    /// Records a sent input (skipping repeats) and appends it to the file.
    pub fn push(&mut self, text: &str) {
        self.pos = None;
        if text.trim().is_empty() || self.entries.last().is_some_and(|l| l == text) {
            return;
        }
        self.entries.push(text.to_string());
        if self.entries.len() > HISTORY_LIMIT {
            let drop = self.entries.len() - HISTORY_LIMIT;
            self.entries.drain(..drop);
        }
        if let Some(path) = &self.path {
            if let Some(dir) = path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let body: String = self
                .entries
                .iter()
                .filter_map(|e| serde_json::to_string(e).ok())
                .map(|l| l + "\n")
                .collect();
            let _ = std::fs::write(path, body);
        }
    }

    fn prev(&mut self, current: &str) -> Option<String> {
        let next = match self.pos {
            None if self.entries.is_empty() => return None,
            None => {
                self.draft = current.to_string();
                self.entries.len() - 1
            }
            Some(0) => return None,
            Some(p) => p - 1,
        };
        self.pos = Some(next);
        self.entries.get(next).cloned()
    }

    fn next(&mut self) -> Option<String> {
        let p = self.pos?;
        if p + 1 >= self.entries.len() {
            self.pos = None;
            return Some(std::mem::take(&mut self.draft));
        }
        self.pos = Some(p + 1);
        self.entries.get(p + 1).cloned()
    }

    /// All entries, oldest first.
    pub fn entries(&self) -> &[String] {
        &self.entries
    }
}

/// The input being written.
#[derive(Debug, Default)]
pub struct Composer {
    text: String,
    cursor: usize,
    pastes: Vec<(String, String)>,
    /// Input history (Up/Down on the first/last line).
    pub history: InputHistory,
}

impl Composer {
    /// An empty composer using `history`.
    pub fn new(history: InputHistory) -> Self {
        Composer {
            history,
            ..Default::default()
        }
    }

    /// The raw text (with paste placeholders).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether nothing is typed.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Replaces the whole text, cursor at the end.
    pub fn set_text(&mut self, text: &str) {
        self.text = text.to_string();
        self.cursor = self.text.len();
    }

    /// Empties the composer and returns its text with pastes expanded, recording it in history.
    pub fn take(&mut self) -> String {
        let mut text = std::mem::take(&mut self.text);
        self.cursor = 0;
        for (label, body) in self.pastes.drain(..) {
            text = text.replacen(&label, &body, 1);
        }
        self.history.push(&text);
        text
    }

    /// Clears the text without recording it.
    pub fn clear(&mut self) {
        self.text.clear();
        self.pastes.clear();
        self.cursor = 0;
    }

    /// Inserts a character at the cursor.
    pub fn insert_char(&mut self, c: char) {
        self.text.insert(self.cursor, c);
        self.cursor += c.len_utf8();
    }

    /// Inserts text at the cursor.
    pub fn insert_str(&mut self, s: &str) {
        self.text.insert_str(self.cursor, s);
        self.cursor += s.len();
    }

    /// Inserts pasted text; large pastes become a `[Pasted text #n +N lines]` placeholder that
    /// expands when the message is sent.
    pub fn paste(&mut self, s: &str) {
        let s = s.replace("\r\n", "\n").replace('\r', "\n");
        let lines = s.lines().count();
        if s.chars().count() > LARGE_PASTE_CHARS || lines > LARGE_PASTE_LINES {
            let label = format!("[Pasted text #{} +{lines} lines]", self.pastes.len() + 1);
            self.insert_str(&label);
            self.pastes.push((label, s));
        } else {
            self.insert_str(&s);
        }
    }

    fn prev_boundary(&self) -> usize {
        self.text[..self.cursor]
            .char_indices()
            .next_back()
            .map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self) -> usize {
        self.text[self.cursor..]
            .chars()
            .next()
            .map_or(self.cursor, |c| self.cursor + c.len_utf8())
    }

    /// Deletes the character before the cursor (a whole paste placeholder at once).
    pub fn backspace(&mut self) {
        if let Some(i) = self
            .pastes
            .iter()
            .position(|(l, _)| self.text[..self.cursor].ends_with(l.as_str()))
        {
            let (label, _) = self.pastes.remove(i);
            let start = self.cursor - label.len();
            self.text.replace_range(start..self.cursor, "");
            self.cursor = start;
            return;
        }
        let start = self.prev_boundary();
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
    }

    /// Deletes the character under the cursor.
    pub fn delete(&mut self) {
        let end = self.next_boundary();
        self.text.replace_range(self.cursor..end, "");
    }

    /// Deletes the word before the cursor.
    pub fn delete_word(&mut self) {
        let before = &self.text[..self.cursor];
        let trimmed = before.trim_end();
        let start = trimmed.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
    }

    /// Deletes from the start of the line to the cursor.
    pub fn kill_to_line_start(&mut self) {
        let start = self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1);
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
    }

    pub fn left(&mut self) {
        self.cursor = self.prev_boundary();
    }

    pub fn right(&mut self) {
        self.cursor = self.next_boundary();
    }

    pub fn home(&mut self) {
        self.cursor = self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1);
    }

    pub fn end(&mut self) {
        self.cursor = self.text[self.cursor..]
            .find('\n')
            .map_or(self.text.len(), |i| self.cursor + i);
    }

    /// Up: previous line, or the previous history entry from the first line.
    pub fn up(&mut self) {
        let line_start = self.text[..self.cursor].rfind('\n');
        match line_start {
            None => {
                if let Some(h) = self.history.prev(&self.text) {
                    self.set_text(&h);
                }
            }
            Some(ls) => {
                let col = self.cursor - ls - 1;
                let prev_start = self.text[..ls].rfind('\n').map_or(0, |i| i + 1);
                self.cursor = clamp_col(&self.text, prev_start, ls, col);
            }
        }
    }

    /// Down: next line, or the next history entry from the last line.
    pub fn down(&mut self) {
        match self.text[self.cursor..].find('\n') {
            None => {
                if let Some(h) = self.history.next() {
                    self.set_text(&h);
                }
            }
            Some(off) => {
                let line_start = self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1);
                let col = self.cursor - line_start;
                let next_start = self.cursor + off + 1;
                let next_end = self.text[next_start..]
                    .find('\n')
                    .map_or(self.text.len(), |i| next_start + i);
                self.cursor = clamp_col(&self.text, next_start, next_end, col);
            }
        }
    }

    /// The word being typed at the cursor (after the last whitespace).
    pub fn current_token(&self) -> &str {
        let before = &self.text[..self.cursor];
        let start = before.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        &before[start..]
    }

    /// Replaces the word at the cursor with `with`.
    pub fn replace_token(&mut self, with: &str) {
        let start = self.cursor - self.current_token().len();
        self.text.replace_range(start..self.cursor, with);
        self.cursor = start + with.len();
    }

    /// Rows at `width` (prompt included) and the cursor's (column, row).
    pub fn render(&self, width: u16, placeholder: &str) -> (Vec<Line<'static>>, (u16, u16)) {
        let width = width.max(4) as usize;
        let prompt = Span::styled(
            "› ",
            Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD),
        );
        if self.text.is_empty() {
            let line = Line::from(vec![
                prompt,
                Span::styled(
                    placeholder.to_string(),
                    Style::default().fg(Color::DarkGray),
                ),
            ]);
            return (vec![line], (2, 0));
        }
        // Hard-wrap by columns so the cursor maps exactly onto rows.
        let mut rows: Vec<Line<'static>> = Vec::new();
        let mut row = String::new();
        let mut col = 2usize;
        let inner = width.saturating_sub(2).max(1);
        let mut cursor = (2u16, 0u16);
        let mut idx = 0usize;
        for ch in self.text.chars() {
            if idx == self.cursor {
                cursor = (col as u16, rows.len() as u16);
            }
            idx += ch.len_utf8();
            if ch == '\n' {
                rows.push(Line::from(std::mem::take(&mut row)));
                col = 2;
                continue;
            }
            let cw = UnicodeWidthStr::width(ch.encode_utf8(&mut [0; 4]) as &str);
            if col - 2 + cw > inner {
                rows.push(Line::from(std::mem::take(&mut row)));
                col = 2;
            }
            row.push(ch);
            col += cw;
        }
        if idx == self.cursor {
            if col - 2 >= inner {
                rows.push(Line::from(std::mem::take(&mut row)));
                col = 2;
            }
            cursor = (col as u16, rows.len() as u16);
        }
        rows.push(Line::from(row));
        let rows = rows
            .into_iter()
            .enumerate()
            .map(|(i, l)| {
                let lead = if i == 0 {
                    prompt.clone()
                } else {
                    Span::raw("  ")
                };
                let mut spans = vec![lead];
                spans.extend(l.spans);
                Line::from(spans)
            })
            .collect();
        (rows, cursor)
    }
}

fn clamp_col(text: &str, start: usize, end: usize, col: usize) -> usize {
    let mut pos = start;
    for (i, _) in text[start..end].char_indices() {
        if i > col {
            break;
        }
        pos = start + i;
    }
    if col >= end - start { end } else { pos }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_persists_across_composers() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hist");
        let mut c = Composer::new(InputHistory::load(Some(path.clone())));
        c.insert_str("first\nline two");
        assert_eq!(c.take(), "first\nline two");
        c.insert_str("second");
        c.take();
        let mut c2 = Composer::new(InputHistory::load(Some(path)));
        c2.up();
        assert_eq!(c2.text(), "second");
        c2.up();
        assert_eq!(c2.text(), "first\nline two");
        c2.down();
        c2.down();
        assert_eq!(c2.text(), "");
    }

    #[test]
    fn large_paste_is_a_placeholder_until_sent() {
        let mut c = Composer::default();
        let big: String = (0..20).map(|i| format!("line {i}\n")).collect();
        c.insert_str("see ");
        c.paste(&big);
        assert_eq!(c.text(), "see [Pasted text #1 +20 lines]");
        assert_eq!(c.take(), format!("see {big}"));
    }

    #[test]
    fn cursor_moves_between_lines_and_tokens_replace() {
        let mut c = Composer::default();
        c.insert_str("ab\ncdef @sr");
        assert_eq!(c.current_token(), "@sr");
        c.replace_token("@src/main.rs ");
        assert_eq!(c.text(), "ab\ncdef @src/main.rs ");
        c.home();
        c.right();
        c.up();
        c.insert_char('X');
        assert_eq!(c.text(), "aXb\ncdef @src/main.rs ");
    }
}
