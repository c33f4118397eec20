//! JSON Lines framing exactly as pi does it: records end at `\n` only (a trailing `\r` is
//! stripped, U+2028/U+2029 are ordinary characters), a final unterminated line is processed at
//! EOF, and output records are compact JSON followed by `\n`.
//!
//! Input lines are bounded: a line longer than the limit is reported as [`Line::TooLong`] and
//! skipped up to its newline, without buffering it.

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// The default upper bound for one input line (images arrive base64-encoded inside prompts).
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// One input record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A complete line without its terminator (and without a trailing `\r`).
    Text(String),
    /// A line that was not valid UTF-8.
    InvalidUtf8,
    /// A line longer than the limit; its bytes were discarded.
    TooLong { len: usize },
}

/// Reads LF-delimited lines with a size bound.
pub struct LineReader<R> {
    inner: R,
    max: usize,
    buf: Vec<u8>,
}

impl<R: AsyncBufRead + Unpin> LineReader<R> {
    /// A reader that refuses lines longer than `max` bytes.
    pub fn new(inner: R, max: usize) -> Self {
        LineReader {
            inner,
            max,
            buf: Vec::new(),
        }
    }

    /// The next line, or `None` at EOF. IO errors end the stream like EOF does.
    pub async fn next_line(&mut self) -> std::io::Result<Option<Line>> {
        self.buf.clear();
        let mut overflow = 0usize;
        loop {
            let available = self.inner.fill_buf().await?;
            if available.is_empty() {
                // EOF: a final unterminated line still counts.
                if overflow > 0 {
                    return Ok(Some(Line::TooLong { len: overflow }));
                }
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Ok(Some(self.finish_line()));
            }
            let (chunk, found) = match memchr_newline(available) {
                Some(i) => (&available[..i], Some(i + 1)),
                None => (available, None),
            };
            if overflow > 0 || self.buf.len() + chunk.len() > self.max {
                overflow += self.buf.len() + chunk.len();
                self.buf.clear();
            } else {
                self.buf.extend_from_slice(chunk);
            }
            let consumed = found.unwrap_or(available.len());
            self.inner.consume(consumed);
            if found.is_some() {
                if overflow > 0 {
                    return Ok(Some(Line::TooLong { len: overflow }));
                }
                return Ok(Some(self.finish_line()));
            }
        }
    }

    fn finish_line(&mut self) -> Line {
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        match String::from_utf8(std::mem::take(&mut self.buf)) {
            Ok(s) => Line::Text(s),
            Err(_) => Line::InvalidUtf8,
        }
    }
}

fn memchr_newline(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

/// Serialise a record as one output line: compact JSON, U+2028/U+2029 left raw, then `\n`.
pub fn encode_line<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = serde_json::to_vec(value)?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<Line> {
        let mut r = LineReader::new(tokio::io::BufReader::with_capacity(7, input), max);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().await.unwrap() {
            out.push(l);
        }
        out
    }

    #[tokio::test]
    async fn splits_on_lf_only_and_strips_cr() {
        let got = lines("a\r\nb\u{2028}c\n\nlast".as_bytes(), 100).await;
        assert_eq!(
            got,
            vec![
                Line::Text("a".into()),
                Line::Text("b\u{2028}c".into()),
                Line::Text(String::new()),
                Line::Text("last".into())
            ]
        );
    }

    #[tokio::test]
    async fn oversized_lines_are_skipped_and_reading_goes_on() {
        let mut input = vec![b'x'; 50];
        input.extend_from_slice(b"\nok\n");
        let got = lines(&input, 10).await;
        assert_eq!(
            got,
            vec![Line::TooLong { len: 50 }, Line::Text("ok".into())]
        );
    }

    #[tokio::test]
    async fn invalid_utf8_is_reported() {
        let got = lines(b"\xff\xfe\nok", 100).await;
        assert_eq!(got, vec![Line::InvalidUtf8, Line::Text("ok".into())]);
    }

    #[test]
    fn output_keeps_line_separators_raw() {
        let line = encode_line(&serde_json::json!({"t": "a\u{2028}b"})).unwrap();
        assert_eq!(String::from_utf8(line).unwrap(), "{\"t\":\"a\u{2028}b\"}\n");
    }
}
