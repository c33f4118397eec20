//! Reading and writing session files: tolerant line-by-line loading, v1/v2 → v3 migration,
//! append-only writes (one whole line per `write` call) and atomic whole-file rewrites.
//!
//! Plain `std::fs`: this module needs no async runtime.

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
    /// The header, `None` when line 1 is not a valid header (the file counts as empty).
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

/// Parse the text of a session file. Never fails: malformed lines are skipped with a warning, a
/// missing or invalid header yields an empty session.
pub fn parse_session(text: &str) -> LoadedSession {
    let mut out = LoadedSession {
        torn_tail: !text.is_empty() && !text.ends_with('\n'),
        ..LoadedSession::default()
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, first)) = lines.next() else {
        return out;
    };
    let header = match serde_json::from_str::<SessionHeader>(first) {
        Ok(h) => h,
        Err(e) => {
            out.warnings.push(format!(
                "line 1 is not a session header ({e}); the file counts as empty"
            ));
            return out;
        }
    };
    if header.version >= CURRENT_VERSION {
        for (n, line) in lines {
            match SessionEntry::parse(line) {
                Ok(e) => out.entries.push(e),
                Err(e) => out.warnings.push(format!("line {}: skipped: {e}", n + 1)),
            }
        }
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

/// v1 → v2: give every entry an id, chain the parents in file order, and turn a compaction's
/// `firstKeptEntryIndex` (an index into the file's lines, header = 0) into `firstKeptEntryId`.
fn migrate_v1_to_v2(values: &mut [Value]) {
    let mut taken = HashSet::new();
    let mut ids = Vec::with_capacity(values.len());
    for v in values.iter() {
        let id = match v.get("id").and_then(Value::as_str) {
            Some(id) if !taken.contains(id) => id.to_string(),
            _ => new_entry_id(&taken),
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

/// Replace a file's content atomically: write a temporary file beside it, sync, rename.
pub fn write_atomic(path: &Path, content: &str) -> Result<(), SessionError> {
    let err = |source| SessionError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            fs::create_dir_all(dir).map_err(err)?;
        }
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "session".into());
    let tmp = path.with_file_name(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(content.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// Append `text` (whole lines, each ending in `\n`) with a single `write` call, then flush.
/// Creates the file (and its directory) when missing.
pub fn append_text(path: &Path, text: &str) -> Result<(), SessionError> {
    let err = |source| SessionError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() && !dir.exists() {
            fs::create_dir_all(dir).map_err(err)?;
        }
    }
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(err)?;
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
    fn a_bad_header_means_an_empty_session() {
        let l = parse_session("{\"type\":\"message\"}\n{\"type\":\"session\"}\n");
        assert!(l.header.is_none());
        assert!(l.entries.is_empty());
        assert!(parse_session("").header.is_none());
    }
}
