//! The text machinery of `edit`: line endings, BOM, pi's fuzzy normalisation, matching, and the
//! numbered line diff shown in `details.diff`.

use similar::{ChangeTag, TextDiff};
use unicode_normalization::UnicodeNormalization;

/// The line ending a text mostly uses: CRLF if the first newline is preceded by `\r`.
pub fn detect_line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// CRLF and lone CR become LF.
pub fn normalize_to_lf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\r', "\n")
}

/// LF becomes `ending`.
pub fn restore_line_endings(text: &str, ending: &str) -> String {
    if ending == "\r\n" {
        text.replace('\n', "\r\n")
    } else {
        text.to_string()
    }
}

/// Split a leading UTF-8 BOM off.
pub fn strip_bom(text: &str) -> (&str, &str) {
    match text.strip_prefix('\u{FEFF}') {
        Some(rest) => ("\u{FEFF}", rest),
        None => ("", text),
    }
}

/// pi's fuzzy form: NFKC, trailing whitespace dropped per line, smart quotes, Unicode dashes
/// and odd spaces made ASCII.
pub fn normalize_for_fuzzy_match(text: &str) -> String {
    let nfkc: String = text.nfkc().collect();
    let trimmed: Vec<&str> = nfkc.split('\n').map(str::trim_end).collect();
    trimmed
        .join("\n")
        .chars()
        .map(|c| match c {
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' => '"',
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => ' ',
            other => other,
        })
        .collect()
}

/// Where `needle` is in `content`: exact first, then in fuzzy form.
pub struct FoundText {
    pub index: usize,
    pub len: usize,
    pub fuzzy: bool,
}

/// Find `needle` exactly, else in the fuzzy forms of both texts (the index is then into the
/// fuzzy form of `content`).
pub fn fuzzy_find(content: &str, needle: &str) -> Option<FoundText> {
    if let Some(index) = content.find(needle) {
        return Some(FoundText {
            index,
            len: needle.len(),
            fuzzy: false,
        });
    }
    let fc = normalize_for_fuzzy_match(content);
    let fn_ = normalize_for_fuzzy_match(needle);
    fc.find(&fn_).map(|index| FoundText {
        index,
        len: fn_.len(),
        fuzzy: true,
    })
}

/// Non-overlapping occurrences of `needle` in `content`, both in fuzzy form.
pub fn count_fuzzy_occurrences(content: &str, needle: &str) -> usize {
    let n = normalize_for_fuzzy_match(needle);
    if n.is_empty() {
        return 0;
    }
    normalize_for_fuzzy_match(content).matches(&n).count()
}

/// pi's numbered diff: changed lines as `-N text` / `+N text`, up to `context` unchanged lines
/// around each change as ` N text`, skipped runs as `   ...`. Returns the diff and the first
/// changed line (in the new text).
pub fn generate_diff(old: &str, new: &str, context: usize) -> (String, Option<usize>) {
    let diff = TextDiff::from_lines(old, new);
    // Consecutive changes of one kind form a part, as in jsdiff's diffLines.
    let mut parts: Vec<(ChangeTag, Vec<String>)> = Vec::new();
    for change in diff.iter_all_changes() {
        let line = change.value().strip_suffix('\n').unwrap_or(change.value());
        match parts.last_mut() {
            Some((tag, lines)) if *tag == change.tag() => lines.push(line.to_string()),
            _ => parts.push((change.tag(), vec![line.to_string()])),
        }
    }
    let width = old
        .split('\n')
        .count()
        .max(new.split('\n').count())
        .to_string()
        .len();
    let pad = |n: usize| format!("{n:>width$}");
    let blank = " ".repeat(width);
    let mut out: Vec<String> = Vec::new();
    let (mut old_no, mut new_no) = (1usize, 1usize);
    let mut last_was_change = false;
    let mut first_changed = None;
    for (i, (tag, lines)) in parts.iter().enumerate() {
        match tag {
            ChangeTag::Insert | ChangeTag::Delete => {
                first_changed.get_or_insert(new_no);
                for line in lines {
                    if *tag == ChangeTag::Insert {
                        out.push(format!("+{} {line}", pad(new_no)));
                        new_no += 1;
                    } else {
                        out.push(format!("-{} {line}", pad(old_no)));
                        old_no += 1;
                    }
                }
                last_was_change = true;
            }
            ChangeTag::Equal => {
                let next_is_change = parts.get(i + 1).is_some();
                if last_was_change || next_is_change {
                    let mut shown: &[String] = lines;
                    let mut skip_start = 0;
                    let mut skip_end = 0;
                    if !last_was_change {
                        skip_start = lines.len().saturating_sub(context);
                        shown = &lines[skip_start..];
                    }
                    if !next_is_change && shown.len() > context {
                        skip_end = shown.len() - context;
                        shown = &shown[..context];
                    }
                    if skip_start > 0 {
                        out.push(format!(" {blank} ..."));
                        old_no += skip_start;
                        new_no += skip_start;
                    }
                    for line in shown {
                        out.push(format!(" {} {line}", pad(old_no)));
                        old_no += 1;
                        new_no += 1;
                    }
                    if skip_end > 0 {
                        out.push(format!(" {blank} ..."));
                        old_no += skip_end;
                        new_no += skip_end;
                    }
                } else {
                    old_no += lines.len();
                    new_no += lines.len();
                }
                last_was_change = false;
            }
        }
    }
    (out.join("\n"), first_changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_diffs() {
        let old = "def main():\n    pass\n\n\ndef helper():\n    pass\n";
        let new = "def main(argv):\n    pass\n\n\ndef helper():\n    pass\n";
        assert_eq!(
            generate_diff(old, new, 4),
            (
                "-1 def main():\n+1 def main(argv):\n 2     pass\n 3 \n 4 \n 5 def helper():\n   ..."
                    .to_string(),
                Some(1)
            )
        );
        let new2 = "def main(argv):\n    pass\n\n\ndef helper2():\n    pass\n";
        assert_eq!(
            generate_diff(new, new2, 4),
            (
                " 1 def main(argv):\n 2     pass\n 3 \n 4 \n-5 def helper():\n+5 def helper2():\n 6     pass"
                    .to_string(),
                Some(5)
            )
        );
    }

    #[test]
    fn leading_context_is_elided_and_numbers_padded() {
        let old: String = (1..=12).map(|i| format!("l{i}\n")).collect();
        let new = old.replace("l10\n", "L10\n");
        let (d, first) = generate_diff(&old, &new, 4);
        assert_eq!(first, Some(10));
        assert_eq!(
            d,
            "    ...\n  6 l6\n  7 l7\n  8 l8\n  9 l9\n-10 l10\n+10 L10\n 11 l11\n 12 l12"
        );
    }

    #[test]
    fn fuzzy_normalisation() {
        assert_eq!(
            normalize_for_fuzzy_match("a \u{201C}b\u{201D}\u{2014}c\u{00A0}d  \nx"),
            "a \"b\"-c d\nx"
        );
        let f = fuzzy_find("let s = \u{2018}x\u{2019};   \n", "let s = 'x';\n").unwrap();
        assert!(f.fuzzy);
        assert_eq!(f.index, 0);
        assert_eq!(detect_line_ending("a\r\nb\n"), "\r\n");
        assert_eq!(detect_line_ending("a\nb\r\n"), "\n");
    }
}
