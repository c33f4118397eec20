//! Word wrapping of styled lines at render time.
//!
//! Cells keep their content as logical lines; this module breaks them into screen rows for a
//! given width, so a resize simply re-wraps everything from the in-memory transcript.

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Display width of a styled line.
pub fn line_width(line: &Line<'_>) -> usize {
    line.spans.iter().map(|s| s.content.width()).sum()
}

/// Wraps `line` to `width` columns. The first row starts with `first`, later rows with `rest`
/// (both are prefixes such as a list bullet and its hanging indent). Words longer than a row
/// are broken; whitespace at a break is dropped.
pub fn wrap_line(
    line: &Line<'static>,
    width: usize,
    first: &[Span<'static>],
    rest: &[Span<'static>],
) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut rows: Vec<Line<'static>> = Vec::new();
    let mut cur: Vec<Span<'static>> = first.to_vec();
    let mut cur_w: usize = first.iter().map(|s| s.content.width()).sum();
    let rest_w: usize = rest.iter().map(|s| s.content.width()).sum();
    let mut content_in_row = false;

    // Tokenise into (text, style, is_space) runs.
    let mut tokens: Vec<(String, Style, bool)> = Vec::new();
    for span in &line.spans {
        let style = span.style;
        let mut buf = String::new();
        let mut buf_space = false;
        for ch in span.content.chars() {
            let is_space = ch == ' ';
            if !buf.is_empty() && is_space != buf_space {
                tokens.push((std::mem::take(&mut buf), style, buf_space));
            }
            buf_space = is_space;
            buf.push(ch);
        }
        if !buf.is_empty() {
            tokens.push((buf, style, buf_space));
        }
    }

    let push_row =
        |cur: &mut Vec<Span<'static>>, cur_w: &mut usize, rows: &mut Vec<Line<'static>>| {
            rows.push(Line::from(std::mem::take(cur)).style(line.style));
            *cur = rest.to_vec();
            *cur_w = rest_w;
        };

    for (text, style, is_space) in tokens {
        let w = text.width();
        if is_space {
            if cur_w + w <= width {
                cur.push(Span::styled(text, style));
                cur_w += w;
            } else if content_in_row {
                push_row(&mut cur, &mut cur_w, &mut rows);
                content_in_row = false;
            }
            continue;
        }
        if cur_w + w <= width {
            cur.push(Span::styled(text, style));
            cur_w += w;
            content_in_row = true;
            continue;
        }
        if content_in_row && w <= width.saturating_sub(rest_w) {
            trim_trailing_space(&mut cur);
            push_row(&mut cur, &mut cur_w, &mut rows);
            cur.push(Span::styled(text, style));
            cur_w += w;
            content_in_row = true;
            continue;
        }
        // Break the word character by character.
        let mut piece = String::new();
        for ch in text.chars() {
            let cw = ch.width().unwrap_or(0);
            if cur_w + piece.width() + cw > width && (content_in_row || !piece.is_empty()) {
                if !piece.is_empty() {
                    cur.push(Span::styled(std::mem::take(&mut piece), style));
                }
                push_row(&mut cur, &mut cur_w, &mut rows);
                content_in_row = false;
            }
            piece.push(ch);
        }
        if !piece.is_empty() {
            cur_w += piece.width();
            cur.push(Span::styled(piece, style));
            content_in_row = true;
        }
    }
    trim_trailing_space(&mut cur);
    rows.push(Line::from(cur).style(line.style));
    rows
}

fn trim_trailing_space(spans: &mut Vec<Span<'static>>) {
    loop {
        let n = spans.len();
        let Some(last) = spans.last_mut() else { break };
        let trimmed = last.content.trim_end_matches(' ').to_string();
        if trimmed.is_empty() && n > 1 {
            spans.pop();
            continue;
        }
        if trimmed.len() != last.content.len() {
            last.content = trimmed.into();
        }
        break;
    }
}

/// Cuts `s` to at most `width` columns, adding `…` when something was cut.
pub fn truncate(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 0;
    for ch in s.chars() {
        let cw = ch.width().unwrap_or(0);
        if w + cw + 1 > width {
            break;
        }
        out.push(ch);
        w += cw;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(rows: &[Line<'_>]) -> Vec<String> {
        rows.iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn wraps_at_word_boundaries_with_hanging_indent() {
        let line = Line::from("the quick brown fox jumps over the lazy dog");
        let rows = wrap_line(&line, 16, &[Span::raw("- ")], &[Span::raw("  ")]);
        assert_eq!(
            texts(&rows),
            vec![
                "- the quick",
                "  brown fox",
                "  jumps over the",
                "  lazy dog"
            ]
        );
        assert!(rows.iter().all(|r| line_width(r) <= 16));
    }

    #[test]
    fn breaks_words_longer_than_a_row() {
        let rows = wrap_line(&Line::from("abcdefghijkl"), 5, &[], &[]);
        assert_eq!(texts(&rows), vec!["abcde", "fghij", "kl"]);
    }

    #[test]
    fn truncates_with_ellipsis() {
        assert_eq!(truncate("hello world", 6), "hello…");
        assert_eq!(truncate("hi", 6), "hi");
    }
}
