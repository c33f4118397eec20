//! Splitting a Markdown memory file into chunks with 1-based line ranges: a heading starts a
//! new chunk, paragraphs (blank-line separated) are packed up to [`TARGET_CHARS`] (about
//! OpenClaw's 400 tokens), a longer paragraph is cut at line boundaries and a single huge line
//! is cut to [`HARD_CHARS`]. At most [`MAX_CHUNKS_PER_FILE`] chunks per file.

use sha2::{Digest, Sha256};

/// The size a chunk is packed up to (≈ 400 tokens of 4 characters).
pub const TARGET_CHARS: usize = 1600;
/// No chunk's text is longer than this (a longer single line is cut).
pub const HARD_CHARS: usize = 4000;
/// Chunks kept per file; the rest of a longer file is not indexed (the file is marked
/// truncated).
pub const MAX_CHUNKS_PER_FILE: usize = 1000;

/// One chunk of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub start_line: u32,
    pub end_line: u32,
    pub text: String,
}

/// The chunks of `content` and whether some of it was left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chunks {
    pub chunks: Vec<Chunk>,
    pub truncated: bool,
}

/// SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn is_heading(line: &str) -> bool {
    let t = line.trim_start();
    let hashes = t.bytes().take_while(|b| *b == b'#').count();
    (1..=6).contains(&hashes) && t[hashes..].starts_with([' ', '\t'])
        || (hashes > 0 && hashes <= 6 && t.len() == hashes)
}

/// Cuts `s` to at most `max` bytes at a character boundary.
pub fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Cuts `b` to at most `max` bytes.
pub fn cut_bytes(b: &[u8], max: usize) -> &[u8] {
    &b[..b.len().min(max)]
}

struct Builder {
    out: Chunks,
    text: String,
    start: u32,
    end: u32,
}

impl Builder {
    fn flush(&mut self) {
        let text = self.text.trim_end();
        if !text.trim().is_empty() {
            if self.out.chunks.len() >= MAX_CHUNKS_PER_FILE {
                self.out.truncated = true;
            } else {
                self.out.chunks.push(Chunk {
                    start_line: self.start,
                    end_line: self.end,
                    text: text.to_owned(),
                });
            }
        }
        self.text.clear();
    }

    fn push_line(&mut self, n: u32, line: &str) {
        if self.text.is_empty() {
            self.start = n;
        }
        let line = cut(line, HARD_CHARS);
        if !self.text.is_empty() && self.text.len() + line.len() + 1 > HARD_CHARS {
            self.flush();
            self.start = n;
        }
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(line);
        self.end = n;
    }
}

/// Chunks `content` (lines split on `\n`, a trailing `\r` dropped).
pub fn chunk_markdown(content: &str) -> Chunks {
    let mut b = Builder {
        out: Chunks::default(),
        text: String::new(),
        start: 1,
        end: 1,
    };
    let mut paragraph: Vec<(u32, &str)> = Vec::new();
    let mut in_fence = false;
    let lines = content
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l));
    for (i, line) in lines.enumerate() {
        if b.out.truncated {
            break;
        }
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let fence = line.trim_start().starts_with("```") || line.trim_start().starts_with("~~~");
        if fence {
            in_fence = !in_fence;
        }
        let heading = !in_fence && !fence && is_heading(line);
        let blank = !in_fence && line.trim().is_empty();
        if heading || blank {
            place(&mut b, &mut paragraph);
            if heading {
                b.flush();
                b.push_line(n, line);
            }
            continue;
        }
        paragraph.push((n, line));
    }
    place(&mut b, &mut paragraph);
    b.flush();
    b.out
}

/// Adds a finished paragraph to the chunk being built (flushing first when it would not fit).
fn place(b: &mut Builder, paragraph: &mut Vec<(u32, &str)>) {
    if paragraph.is_empty() {
        return;
    }
    let len: usize = paragraph.iter().map(|(_, l)| l.len() + 1).sum();
    if !b.text.is_empty() && b.text.len() + len > TARGET_CHARS {
        b.flush();
    }
    for (n, line) in paragraph.drain(..) {
        if b.text.len() >= TARGET_CHARS {
            b.flush();
        }
        b.push_line(n, line);
    }
    // Keep the blank line between paragraphs of one chunk.
    if !b.text.is_empty() {
        b.text.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_start_chunks_and_ranges_are_lines() {
        let md = "# Title\nintro line\n\n## Dentist\nAppointment on Friday.\nBring forms.\n\n## Car\nService due.\n";
        let c = chunk_markdown(md).chunks;
        assert_eq!(c.len(), 3);
        assert_eq!((c[0].start_line, c[0].end_line), (1, 2));
        assert_eq!((c[1].start_line, c[1].end_line), (4, 6));
        assert!(c[1].text.starts_with("## Dentist") && c[1].text.ends_with("Bring forms."));
        assert_eq!((c[2].start_line, c[2].end_line), (8, 9));
    }

    #[test]
    fn long_files_and_lines_are_bounded() {
        let big: String = (0..50_000)
            .map(|i| format!("line {i} of a long note with more words to fill the chunk\n\n"))
            .collect();
        let out = chunk_markdown(&big);
        assert_eq!(out.chunks.len(), MAX_CHUNKS_PER_FILE);
        assert!(out.truncated);
        assert!(out.chunks.iter().all(|c| c.text.len() <= HARD_CHARS));
        let huge = "é".repeat(10_000);
        let out = chunk_markdown(&huge);
        assert_eq!(out.chunks.len(), 1);
        assert!(out.chunks[0].text.len() <= HARD_CHARS);
    }

    #[test]
    fn fenced_code_is_not_split_at_hash_lines() {
        let md = "intro\n```\n# not a heading\n\nstill code\n```\nafter";
        let c = chunk_markdown(md).chunks;
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!((c[0].start_line, c[0].end_line), (1, 7));
    }
}
