//! JSON5 parsing with a bound on nesting: the `json5` parser recurses once per `[`/`{`, so a
//! deeply nested file would overflow the stack and abort the process. The text is scanned
//! first (strings and comments skipped as JSON5 lexes them) and refused past
//! [`MAX_JSON5_DEPTH`], like `serde_json`'s own limit for JSON.

use serde_json::Value;

/// The deepest nesting of arrays and objects accepted (`serde_json`'s limit for JSON).
pub const MAX_JSON5_DEPTH: usize = 128;

/// Parses JSON5 text into a JSON value; text nested deeper than [`MAX_JSON5_DEPTH`] is a
/// syntax error at the first bracket past the limit.
pub fn json5_from_str(text: &str) -> Result<Value, json5::Error> {
    match first_too_deep(text.as_bytes()) {
        None => json5::from_str::<Value>(text),
        Some(offset) => {
            let before = &text[..offset];
            let line_start = before.rfind('\n').map_or(0, |i| i + 1);
            Err(json5::Error::Message {
                msg: format!("nested deeper than {MAX_JSON5_DEPTH} levels"),
                location: Some(json5::Location {
                    line: before.matches('\n').count() + 1,
                    column: before[line_start..].chars().count() + 1,
                }),
            })
        }
    }
}

/// The byte offset of the first `[`/`{` nested deeper than the limit, if any.
fn first_too_deep(bytes: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' | b'\'' => i = skip_string(bytes, i + 1, b),
            b'/' if bytes.get(i + 1) == Some(&b'/') => i = skip_line_comment(bytes, i + 2),
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i + 2),
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON5_DEPTH {
                    return Some(i);
                }
                i += 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Past the closing `quote` of a string whose body starts at `i` (escapes skip a byte).
fn skip_string(bytes: &[u8], mut i: usize, quote: u8) -> usize {
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            _ if b == quote => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// To the end of a `//` comment: any JSON5 line terminator (LF, CR, U+2028, U+2029) ends it.
fn skip_line_comment(bytes: &[u8], mut i: usize) -> usize {
    while let Some(&b) = bytes.get(i) {
        match (b, bytes.get(i + 1), bytes.get(i + 2)) {
            (b'\n' | b'\r', _, _) => return i,
            (0xE2, Some(0x80), Some(0xA8 | 0xA9)) => return i,
            _ => i += 1,
        }
    }
    i
}

/// Past the `*/` of a block comment whose body starts at `i`.
fn skip_block_comment(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        if bytes[i..].starts_with(b"*/") {
            return i + 2;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}{}", "{a:[".repeat(depth / 2), "]}".repeat(depth / 2))
    }

    #[test]
    fn deep_nesting_is_a_syntax_error_not_a_stack_overflow() {
        // Before the bound, 64 KiB of brackets aborted the process (found by `cargo fuzz`).
        let text = format!("{}{}", "[".repeat(32_000), "]".repeat(32_000));
        match json5_from_str(&text) {
            Err(json5::Error::Message { msg, location }) => {
                assert_eq!(msg, "nested deeper than 128 levels");
                let at = location.map(|l| (l.line, l.column));
                assert_eq!(at, Some((1, 129)));
            }
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn the_limit_itself_parses() {
        assert!(json5_from_str(&nested(MAX_JSON5_DEPTH)).is_ok());
        assert!(json5_from_str(&nested(MAX_JSON5_DEPTH + 2)).is_err());
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let deep = "[".repeat(200);
        let text = format!(
            "{{a: \"{deep}\", b: '{deep}\\'{deep}', // {deep}\n c: 1 /* {deep} */, d: \"\\\"{deep}\"}}"
        );
        assert!(json5_from_str(&text).is_ok(), "{text}");
    }

    #[test]
    fn a_comment_ended_by_a_carriage_return_does_not_hide_brackets() {
        let text = format!("// c\r{}{}", "[".repeat(200), "]".repeat(200));
        assert!(json5_from_str(&text).is_err());
    }
}
