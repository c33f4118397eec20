//! Output truncation shared by the tools: pi's limits (2000 lines, 50 KB) applied from the head
//! (`read`, `grep`, `find`, `ls`) or from the tail (`bash`), never cutting inside a line except
//! the tail of a single line longer than the byte limit. Also pi's size formatting and the
//! 500-character line cap used by `grep`.

use serde::{Deserialize, Serialize};

/// Default line limit.
pub const DEFAULT_MAX_LINES: usize = 2000;
/// Default byte limit (50 KB).
pub const DEFAULT_MAX_BYTES: usize = 50 * 1024;
/// Longest grep line shown, in UTF-16 units as pi counts them.
pub const GREP_MAX_LINE_LENGTH: usize = 500;
/// pi's "no line limit" (`Number.MAX_SAFE_INTEGER`).
pub const NO_LINE_LIMIT: usize = 9_007_199_254_740_991;

/// Which limit cut the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TruncatedBy {
    Lines,
    Bytes,
}

/// The outcome of a truncation, serialised as pi's `details.truncation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TruncationResult {
    pub content: String,
    pub truncated: bool,
    pub truncated_by: Option<TruncatedBy>,
    pub total_lines: usize,
    pub total_bytes: usize,
    pub output_lines: usize,
    pub output_bytes: usize,
    pub last_line_partial: bool,
    pub first_line_exceeds_limit: bool,
    pub max_lines: usize,
    pub max_bytes: usize,
}

/// Line and byte limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_lines: usize,
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_lines: DEFAULT_MAX_LINES,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

impl Limits {
    /// The byte limit only (what grep, find and ls use).
    pub fn bytes_only() -> Self {
        Limits {
            max_lines: NO_LINE_LIMIT,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

/// `NB`, `N.NKB` or `N.NMB`, as pi prints sizes.
pub fn format_size(bytes: usize) -> String {
    if bytes < 1024 {
        format!("{bytes}B")
    } else if bytes < 1024 * 1024 {
        format!("{:.1}KB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1}MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

fn untouched(content: &str, total_lines: usize, limits: Limits) -> TruncationResult {
    TruncationResult {
        content: content.to_string(),
        truncated: false,
        truncated_by: None,
        total_lines,
        total_bytes: content.len(),
        output_lines: total_lines,
        output_bytes: content.len(),
        last_line_partial: false,
        first_line_exceeds_limit: false,
        max_lines: limits.max_lines,
        max_bytes: limits.max_bytes,
    }
}

/// Keep the first lines that fit both limits. A first line over the byte limit gives empty
/// content with `first_line_exceeds_limit`.
pub fn truncate_head(content: &str, limits: Limits) -> TruncationResult {
    let lines: Vec<&str> = content.split('\n').collect();
    let total_lines = lines.len();
    let total_bytes = content.len();
    if total_lines <= limits.max_lines && total_bytes <= limits.max_bytes {
        return untouched(content, total_lines, limits);
    }
    let mut result = TruncationResult {
        content: String::new(),
        truncated: true,
        truncated_by: Some(TruncatedBy::Bytes),
        total_lines,
        total_bytes,
        output_lines: 0,
        output_bytes: 0,
        last_line_partial: false,
        first_line_exceeds_limit: false,
        max_lines: limits.max_lines,
        max_bytes: limits.max_bytes,
    };
    if lines[0].len() > limits.max_bytes {
        result.first_line_exceeds_limit = true;
        return result;
    }
    let mut kept = 0usize;
    let mut bytes = 0usize;
    let mut by = TruncatedBy::Lines;
    for (i, line) in lines.iter().take(limits.max_lines).enumerate() {
        let cost = line.len() + usize::from(i > 0);
        if bytes + cost > limits.max_bytes {
            by = TruncatedBy::Bytes;
            break;
        }
        bytes += cost;
        kept += 1;
    }
    if kept >= limits.max_lines && bytes <= limits.max_bytes {
        by = TruncatedBy::Lines;
    }
    let out = lines[..kept].join("\n");
    result.truncated_by = Some(by);
    result.output_lines = kept;
    result.output_bytes = out.len();
    result.content = out;
    result
}

/// Keep the last lines that fit both limits. When even the last line is over the byte limit,
/// its tail is kept (`last_line_partial`), cut at a character boundary.
pub fn truncate_tail(content: &str, limits: Limits) -> TruncationResult {
    let lines: Vec<&str> = content.split('\n').collect();
    let total_lines = lines.len();
    let total_bytes = content.len();
    if total_lines <= limits.max_lines && total_bytes <= limits.max_bytes {
        return untouched(content, total_lines, limits);
    }
    let mut kept: Vec<String> = Vec::new();
    let mut bytes = 0usize;
    let mut by = TruncatedBy::Lines;
    let mut partial = false;
    for line in lines.iter().rev() {
        if kept.len() >= limits.max_lines {
            break;
        }
        let cost = line.len() + usize::from(!kept.is_empty());
        if bytes + cost > limits.max_bytes {
            by = TruncatedBy::Bytes;
            if kept.is_empty() {
                let tail = tail_bytes(line, limits.max_bytes);
                bytes = tail.len();
                kept.push(tail.to_string());
                partial = true;
            }
            break;
        }
        kept.push((*line).to_string());
        bytes += cost;
    }
    if kept.len() >= limits.max_lines && bytes <= limits.max_bytes {
        by = TruncatedBy::Lines;
    }
    kept.reverse();
    let out = kept.join("\n");
    TruncationResult {
        output_lines: kept.len(),
        output_bytes: out.len(),
        content: out,
        truncated: true,
        truncated_by: Some(by),
        total_lines,
        total_bytes,
        last_line_partial: partial,
        first_line_exceeds_limit: false,
        max_lines: limits.max_lines,
        max_bytes: limits.max_bytes,
    }
}

/// The longest suffix of `s` of at most `max` bytes that starts on a character boundary.
fn tail_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// Cap a line at `max` UTF-16 units, appending `... [truncated]`. Returns whether it was cut.
pub fn truncate_line(line: &str, max: usize) -> (String, bool) {
    let mut units = 0usize;
    for (idx, ch) in line.char_indices() {
        units += ch.len_utf16();
        if units > max {
            return (format!("{}... [truncated]", &line[..idx]), true);
        }
    }
    (line.to_string(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(format_size(0), "0B");
        assert_eq!(format_size(1023), "1023B");
        assert_eq!(format_size(1024), "1.0KB");
        assert_eq!(format_size(51_200), "50.0KB");
        assert_eq!(format_size(1536), "1.5KB");
        assert_eq!(format_size(3 * 1024 * 1024 + 104_858), "3.1MB");
    }

    #[test]
    fn exactly_2000_lines_fit_but_a_trailing_newline_makes_2001() {
        let body: Vec<String> = (1..=2000).map(|i| i.to_string()).collect();
        let exact = body.join("\n");
        let r = truncate_head(&exact, Limits::default());
        assert!(!r.truncated);
        assert_eq!(r.output_lines, 2000);

        let with_nl = format!("{exact}\n");
        let r = truncate_head(&with_nl, Limits::default());
        assert!(r.truncated);
        assert_eq!(r.truncated_by, Some(TruncatedBy::Lines));
        assert_eq!(r.total_lines, 2001);
        assert_eq!(r.output_lines, 2000);
        assert_eq!(r.content, exact);
    }

    #[test]
    fn byte_boundary_is_inclusive_and_never_cuts_a_line() {
        // Two lines whose total is exactly 51,200 bytes: untouched.
        let a = "a".repeat(25_599);
        let b = "b".repeat(25_600);
        let exact = format!("{a}\n{b}");
        assert_eq!(exact.len(), DEFAULT_MAX_BYTES);
        assert!(!truncate_head(&exact, Limits::default()).truncated);
        // One byte more: the second line is dropped whole.
        let over = format!("{a}\n{b}b");
        let r = truncate_head(&over, Limits::default());
        assert!(r.truncated);
        assert_eq!(r.truncated_by, Some(TruncatedBy::Bytes));
        assert_eq!(r.content, a);
        assert_eq!(r.output_lines, 1);
        // From the tail, the first line is dropped whole.
        let r = truncate_tail(&over, Limits::default());
        assert_eq!(r.content, format!("{b}b"));
        assert!(!r.last_line_partial);
    }

    #[test]
    fn single_huge_line() {
        let huge = "é".repeat(30_000); // 60,000 bytes
        let r = truncate_head(&huge, Limits::default());
        assert!(r.first_line_exceeds_limit);
        assert_eq!(r.content, "");
        let r = truncate_tail(&format!("x\n{huge}"), Limits::default());
        assert!(r.last_line_partial);
        assert_eq!(r.output_lines, 1);
        assert!(r.content.len() <= DEFAULT_MAX_BYTES);
        assert!(r.content.chars().all(|c| c == 'é'));
        assert_eq!(r.content.len(), DEFAULT_MAX_BYTES);
    }

    #[test]
    fn tail_keeps_last_lines() {
        let text: Vec<String> = (1..=2500).map(|i| format!("l{i}")).collect();
        let r = truncate_tail(&text.join("\n"), Limits::default());
        assert_eq!(r.output_lines, 2000);
        assert!(r.content.starts_with("l501\n"));
        assert!(r.content.ends_with("l2500"));
    }

    #[test]
    fn line_cap_counts_utf16() {
        let (t, cut) = truncate_line(&"x".repeat(500), 500);
        assert!(!cut);
        assert_eq!(t.len(), 500);
        let (t, cut) = truncate_line(&"x".repeat(501), 500);
        assert!(cut);
        assert_eq!(t, format!("{}... [truncated]", "x".repeat(500)));
    }
}
