//! Reading and writing session files: tolerant line-by-line loading (large files parsed on
//! several threads, entries kept in file order), v1/v2 → v3 migration,
//! append-only writes (one whole line per `write` call) and atomic whole-file rewrites.
//!
//! Plain `std` (`fs`, scoped threads): this module needs no async runtime.

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::entry::{CURRENT_VERSION, SessionEntry, SessionHeader, new_entry_id};

/// Errors of the session store.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot read session file {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write session file {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot list session directory {path}: {source}")]
    List { path: PathBuf, source: io::Error },
    #[error("entry {0} not found in this session")]
    EntryNotFound(String),
    #[error("entry {0} is not a user message, so it cannot be forked from")]
    NotAUserMessage(String),
    #[error("no session files in {0}")]
    NoSessions(PathBuf),
}

/// What [`parse_session`] / [`load_file`] found.
#[derive(Debug, Clone, Default)]
pub struct LoadedSession {
    /// The header, `None` when line 1 is not a valid header (the entries after it are still
    /// loaded).
    pub header: Option<SessionHeader>,
    /// The entries in file order (always v3 after loading).
    pub entries: Vec<SessionEntry>,
    /// One message per skipped line.
    pub warnings: Vec<String>,
    /// The file was an older version and has been migrated in memory (the caller rewrites it).
    pub migrated: bool,
    /// The file's last byte is not a newline (a torn write): the next append must start one.
    pub torn_tail: bool,
}

/// Parse the text of a session file. Never fails: malformed lines are skipped with a warning; a
/// damaged header is reported (`header: None`) and the entries after it are kept.
pub fn parse_session(text: &str) -> LoadedSession {
    let mut out = LoadedSession {
        torn_tail: !text.is_empty() && !text.ends_with('\n'),
        ..LoadedSession::default()
    };
    // A byte-order mark some editors add is not part of the header.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((header_idx, first)) = lines.next() else {
        return out;
    };
    let header = match serde_json::from_str::<SessionHeader>(first) {
        Ok(h) => h,
        Err(e) => {
            // The entries after a damaged header are still the conversation: keep them.
            out.warnings.push(format!(
                "line {}: not a session header ({e}); the entries after it are kept",
                header_idx + 1
            ));
            let body_start = first.as_ptr() as usize - text.as_ptr() as usize + first.len();
            parse_entries(&text[body_start..], header_idx, &mut out);
            return out;
        }
    };
    if header.version >= CURRENT_VERSION {
        // The text after the header line; its first line is the header line's (empty) tail.
        let body_start = first.as_ptr() as usize - text.as_ptr() as usize + first.len();
        parse_entries(&text[body_start..], header_idx, &mut out);
        out.header = Some(header);
        return out;
    }
    // Older versions: migrate at the JSON level, then type the entries.
    let mut values = Vec::new();
    for (n, line) in lines {
        match serde_json::from_str::<Value>(line) {
            Ok(v) if v.get("type").and_then(Value::as_str).is_some() => values.push(v),
            Ok(_) => out
                .warnings
                .push(format!("line {}: skipped: not a session entry", n + 1)),
            Err(e) => out.warnings.push(format!("line {}: skipped: {e}", n + 1)),
        }
    }
    let mut header = header;
    if header.version < 2 {
        migrate_v1_to_v2(&mut values);
    }
    if header.version < 3 {
        migrate_v2_to_v3(&mut values);
    }
    header.version = CURRENT_VERSION;
    for v in values {
        match SessionEntry::from_value(v) {
            Ok(e) => out.entries.push(e),
            Err(e) => out.warnings.push(format!("skipped a migrated entry: {e}")),
        }
    }
    out.header = Some(header);
    out.migrated = true;
    out
}

/// Bodies smaller than this are parsed on the calling thread.
const PARALLEL_MIN_BYTES: usize = 4 << 20;

/// The entries of one piece of a v3 file and its skipped lines (index within the piece).
type Parsed = (Vec<SessionEntry>, Vec<(usize, String)>);

fn parse_piece(piece: &str) -> Parsed {
    let mut entries = Vec::with_capacity(piece.len() / 256);
    let mut skipped = Vec::new();
    for (n, line) in piece.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match SessionEntry::parse(line) {
            Ok(e) => entries.push(e),
            Err(e) => skipped.push((n, format!("skipped: {e}"))),
        }
    }
    (entries, skipped)
}

/// Parse the entry lines of `body` (whose first line is line `first_line` of the file,
/// 0-based) into `out`. Large bodies are cut at line ends into one piece per available core
/// and the pieces parsed in parallel (entries keep file order).
fn parse_entries(body: &str, first_line: usize, out: &mut LoadedSession) {
    // Asking for the core count reads cgroup files: only worth it for a large body.
    let cores = if body.len() >= PARALLEL_MIN_BYTES {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
    } else {
        1
    };
    let pieces = if cores > 1 {
        split_at_lines(body, cores)
    } else {
        vec![body]
    };
    parse_pieces(&pieces, first_line, out);
}

/// Parse consecutive `pieces` of a body (see [`parse_entries`]), all but the first on scoped
/// threads.
fn parse_pieces(pieces: &[&str], first_line: usize, out: &mut LoadedSession) {
    let parsed: Vec<Parsed> = match pieces.split_first() {
        Some((head, rest)) if !rest.is_empty() => std::thread::scope(|scope| {
            let handles: Vec<_> = rest
                .iter()
                .map(|piece| (piece, scope.spawn(move || parse_piece(piece))))
                .collect();
            let mut all = vec![parse_piece(head)];
            for (piece, h) in handles {
                // A panicking parser thread would be a bug; parse that piece here instead.
                all.push(h.join().unwrap_or_else(|_| parse_piece(piece)));
            }
            all
        }),
        Some((head, _)) => vec![parse_piece(head)],
        None => Vec::new(),
    };
    out.entries
        .reserve(parsed.iter().map(|(e, _)| e.len()).sum::<usize>());
    let mut line = first_line;
    for ((entries, skipped), piece) in parsed.into_iter().zip(pieces) {
        out.entries.extend(entries);
        for (n, msg) in skipped {
            out.warnings.push(format!("line {}: {msg}", line + n + 1));
        }
        if pieces.len() > 1 {
            line += piece.bytes().filter(|&b| b == b'\n').count();
        }
    }
}

/// Cut `text` into about `n` pieces, each ending just after a `\n` (the last at the end).
fn split_at_lines(text: &str, n: usize) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut pieces = Vec::with_capacity(n);
    let mut start = 0;
    for i in 1..n {
        let target = (text.len() * i / n).max(start);
        let Some(nl) = bytes[target..].iter().position(|&b| b == b'\n') else {
            break;
        };
        let end = target + nl + 1;
        pieces.push(&text[start..end]);
        start = end;
    }
    pieces.push(&text[start..]);
    pieces
}

/// v1 → v2: give every entry an id, chain the parents in file order, and turn a compaction's
/// `firstKeptEntryIndex` (an index into the file's lines, header = 0) into `firstKeptEntryId`.
fn migrate_v1_to_v2(values: &mut [Value]) {
    let mut taken = HashSet::new();
    let mut ids = Vec::with_capacity(values.len());
    for v in values.iter() {
        let id = match v.get("id").and_then(Value::as_str) {
            Some(id) if !taken.contains(id) => id.to_string(),
            _ => new_entry_id(|c| taken.contains(c)),
        };
        taken.insert(id.clone());
        ids.push(id);
    }
    let mut prev: Option<String> = None;
    for (i, v) in values.iter_mut().enumerate() {
        let Some(o) = v.as_object_mut() else { continue };
        o.insert("id".into(), Value::String(ids[i].clone()));
        o.insert(
            "parentId".into(),
            prev.clone().map_or(Value::Null, Value::String),
        );
        prev = Some(ids[i].clone());
        if o.get("type").and_then(Value::as_str) == Some("compaction") {
            if let Some(idx) = o.remove("firstKeptEntryIndex").and_then(|x| x.as_u64()) {
                // Line `idx` of the file is entry `idx - 1` (line 0 is the header).
                if let Some(target) = (idx as usize).checked_sub(1).and_then(|k| ids.get(k)) {
                    o.insert("firstKeptEntryId".into(), Value::String(target.clone()));
                }
            }
            if !o.contains_key("firstKeptEntryId") {
                o.insert("firstKeptEntryId".into(), Value::String(ids[0].clone()));
            }
        }
    }
}

/// v2 → v3: the message role `hookMessage` became `custom`.
fn migrate_v2_to_v3(values: &mut [Value]) {
    for v in values.iter_mut() {
        if v.get("type").and_then(Value::as_str) != Some("message") {
            continue;
        }
        if let Some(m) = v.get_mut("message").and_then(Value::as_object_mut) {
            if m.get("role").and_then(Value::as_str) == Some("hookMessage") {
                m.insert("role".into(), Value::String("custom".into()));
            }
        }
    }
}

/// Read and parse a session file (see [`parse_session`]); each skipped line is also logged.
pub fn load_file(path: &Path) -> Result<LoadedSession, SessionError> {
    let bytes = fs::read(path).map_err(|source| SessionError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let loaded = parse_session(&text);
    for w in &loaded.warnings {
        tracing::warn!(file = %path.display(), "session file: {w}");
    }
    Ok(loaded)
}

/// The whole file text for a header and entries.
pub fn render(header: &SessionHeader, entries: &[SessionEntry]) -> String {
    let mut out = String::with_capacity(256 * (entries.len() + 1));
    out.push_str(&serde_json::to_string(header).unwrap_or_default());
    out.push('\n');
    for e in entries {
        out.push_str(&e.to_line());
        out.push('\n');
    }
    out
}

/// Replace a file's content atomically (see [`crate::fsutil::atomic_write`]).
pub fn write_atomic(path: &Path, content: &str) -> Result<(), SessionError> {
    crate::fsutil::atomic_write(
        path,
        content.as_bytes(),
        crate::fsutil::Permissions::Default,
    )
    .map_err(|source| SessionError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Append `text` (whole lines, each ending in `\n`) with a single `write` call, then flush.
/// Creates the file (and its directory) when missing.
pub fn append_text(path: &Path, text: &str) -> Result<(), SessionError> {
    let err = |source| SessionError::Write {
        path: path.to_path_buf(),
        source,
    };
    let open = || OpenOptions::new().create(true).append(true).open(path);
    // The directory usually exists: try first, create it only when the open says it is missing.
    let mut f = match open() {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            match path.parent().filter(|d| !d.as_os_str().is_empty()) {
                Some(dir) => {
                    fs::create_dir_all(dir).map_err(err)?;
                    open().map_err(err)?
                }
                None => return Err(err(e)),
            }
        }
        Err(e) => return Err(err(e)),
    };
    f.write_all(text.as_bytes()).map_err(err)?;
    f.flush().map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"type":"session","version":3,"id":"s","timestamp":"2026-11-22T00:00:00.000Z","cwd":"/p"}"#;

    #[test]
    fn malformed_and_torn_lines_are_skipped() {
        let text = format!(
            "{HEADER}\n{}\nnot json\n{}\n{{\"type\":\"message\",\"id\":\"a",
            r#"{"type":"model_change","id":"00000001","parentId":null,"timestamp":"t","provider":"p","modelId":"m"}"#,
            r#"{"type":"session_info","id":"00000002","parentId":"00000001","timestamp":"t","name":"n"}"#,
        );
        let l = parse_session(&text);
        assert_eq!(l.entries.len(), 2);
        assert_eq!(l.warnings.len(), 2);
        assert!(l.torn_tail);
        assert!(!l.migrated);
    }

    #[test]
    fn pieces_parsed_in_parallel_match_one_pass_with_file_line_numbers() {
        let mut text = format!("\n{HEADER}\r\n");
        for i in 0..40 {
            if i % 7 == 3 {
                text.push_str("garbage\n\n");
            }
            text.push_str(&format!(
                r#"{{"type":"session_info","id":"{i:08}","parentId":null,"timestamp":"t","name":"n{i}"}}"#
            ));
            text.push_str(if i % 2 == 0 { "\r\n" } else { "\n" });
        }
        let one = parse_session(&text);
        assert_eq!(one.entries.len(), 40);
        assert_eq!(one.warnings.len(), 6);
        // "garbage" first appears after the header (line 2) and 3 entries: line 6.
        assert_eq!(
            one.warnings[0],
            "line 6: skipped: not valid JSON: expected value at line 1 column 1"
        );
        let body_start = text.find("\r\n").unwrap() + 1;
        let body = &text[body_start..];
        for n in [2, 3, 5, 64] {
            let pieces = split_at_lines(body, n);
            assert_eq!(pieces.concat(), body);
            assert!(pieces[..pieces.len() - 1].iter().all(|p| p.ends_with('\n')));
            let mut out = LoadedSession::default();
            parse_pieces(&pieces, 1, &mut out);
            assert_eq!(out.entries, one.entries, "{n} pieces");
            assert_eq!(out.warnings, one.warnings, "{n} pieces");
        }
    }

    #[test]
    fn a_damaged_header_keeps_the_entries_and_a_bom_is_not_damage() {
        let entry =
            r#"{"type":"session_info","id":"00000002","parentId":null,"timestamp":"t","name":"n"}"#;
        let l = parse_session(&format!("\u{1}{HEADER}\n{entry}\n"));
        assert!(l.header.is_none());
        assert_eq!(l.entries.len(), 1);
        assert_eq!(l.warnings.len(), 1);
        let l = parse_session(&format!("\u{feff}{HEADER}\n{entry}\n"));
        assert_eq!(l.header.unwrap().id, "s");
        assert_eq!(l.entries.len(), 1);
        assert!(parse_session("").header.is_none());
    }
}
