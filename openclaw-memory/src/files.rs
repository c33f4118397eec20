//! The workspace's memory files: which files are memory (`MEMORY.md`, `USER.md`, `DREAMS.md`
//! and Markdown under `memory/`, as OpenClaw's `isMemoryPath`), finding them without following
//! symlinks, and `memory_get`'s bounded line-range read that refuses anything else.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::Serialize;

/// Files found per agent; more are reported, not indexed.
pub const MAX_FILES: usize = 50_000;
/// Larger files are reported, not indexed.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Directory depth under `memory/`.
const MAX_DEPTH: usize = 16;
/// OpenClaw's `memory_get` defaults.
pub const DEFAULT_READ_LINES: usize = 120;
pub const DEFAULT_READ_MAX_CHARS: usize = 12_000;

/// Whether the workspace-relative `rel` (with `/`) names a memory file.
pub fn is_memory_path(rel: &str) -> bool {
    let top = matches!(rel, "MEMORY.md" | "USER.md") || rel.eq_ignore_ascii_case("dreams.md");
    top || (rel.starts_with("memory/") && rel.ends_with(".md"))
}

/// A memory file found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundFile {
    pub rel: String,
    pub abs: PathBuf,
    pub size: u64,
    pub mtime_ms: u64,
}

/// What a scan found.
#[derive(Debug, Default)]
pub struct Scan {
    pub files: Vec<FoundFile>,
    /// Paths that could not be listed or examined, with why.
    pub errors: Vec<(String, String)>,
    /// More than [`MAX_FILES`] files: the rest were not looked at.
    pub capped: bool,
}

fn mtime_ms(meta: &fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The memory files of `workspace`, sorted by path. Symlinks are skipped (never followed), as
/// are directories whose name starts with `.`.
pub fn scan(workspace: &Path) -> Scan {
    let mut out = Scan::default();
    for name in ["MEMORY.md", "USER.md", "DREAMS.md"] {
        let abs = workspace.join(name);
        match fs::symlink_metadata(&abs) {
            Ok(m) if m.is_file() => out.files.push(FoundFile {
                rel: name.to_owned(),
                abs,
                size: m.len(),
                mtime_ms: mtime_ms(&m),
            }),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => out.errors.push((name.to_owned(), e.to_string())),
        }
    }
    let dir = workspace.join("memory");
    match fs::symlink_metadata(&dir) {
        Ok(m) if m.is_dir() => walk(&dir, "memory", 0, &mut out),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => out.errors.push(("memory".into(), e.to_string())),
    }
    out.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

fn walk(dir: &Path, rel: &str, depth: usize, out: &mut Scan) {
    if depth > MAX_DEPTH {
        return;
    }
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            out.errors.push((rel.to_owned(), e.to_string()));
            return;
        }
    };
    for entry in entries {
        if out.files.len() >= MAX_FILES {
            out.capped = true;
            return;
        }
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let child_rel = format!("{rel}/{name}");
        // DirEntry::metadata does not follow symlinks.
        let meta = match entry.metadata() {
            Ok(m) => m,
            Err(e) => {
                out.errors.push((child_rel, e.to_string()));
                continue;
            }
        };
        if meta.is_dir() {
            if !name.starts_with('.') {
                walk(&entry.path(), &child_rel, depth + 1, out);
            }
        } else if meta.is_file() && name.ends_with(".md") {
            out.files.push(FoundFile {
                rel: child_rel,
                abs: entry.path(),
                size: meta.len(),
                mtime_ms: mtime_ms(&meta),
            });
        }
    }
}

/// `memory_get`'s answer (OpenClaw's read result).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadResult {
    pub status: &'static str,
    pub text: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<usize>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_from: Option<usize>,
}

/// A read that failed: OpenClaw's `code` and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    pub code: &'static str,
    pub message: String,
}

fn not_allowed() -> ReadError {
    ReadError {
        code: "MEMORY_PATH_NOT_ALLOWED",
        message: "path is not an allowed Markdown memory file".into(),
    }
}

/// The workspace-relative form of `raw`, if it stays inside `workspace` lexically.
fn relative(workspace: &Path, raw: &str) -> Option<String> {
    let p = Path::new(raw);
    let rest = if p.is_absolute() {
        p.strip_prefix(workspace).ok()?
    } else {
        p
    };
    let mut parts: Vec<&str> = Vec::new();
    for c in rest.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Reads lines `from..from+lines` (1-based; defaults 1 and [`DEFAULT_READ_LINES`]) of the
/// memory file `raw`, at most `max_chars` characters. Refuses paths outside the memory files,
/// and any path through a symlink. Only the requested lines are kept in memory.
pub fn read_memory_file(
    workspace: &Path,
    raw: &str,
    from: Option<usize>,
    lines: Option<usize>,
    max_chars: usize,
) -> Result<ReadResult, ReadError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(ReadError {
            code: "MEMORY_READ_FAILED",
            message: "path required".into(),
        });
    }
    let rel = relative(workspace, raw).ok_or_else(not_allowed)?;
    if !is_memory_path(&rel) {
        return Err(not_allowed());
    }
    let mut abs = workspace.to_path_buf();
    for part in rel.split('/') {
        abs.push(part);
        match fs::symlink_metadata(&abs) {
            Ok(m) if m.file_type().is_symlink() => return Err(not_allowed()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ReadResult {
                    status: "not_found",
                    text: String::new(),
                    path: rel,
                    from: None,
                    lines: None,
                    truncated: false,
                    next_from: None,
                });
            }
            Err(e) => return Err(read_failed(&rel, &e)),
        }
    }
    let file = fs::File::open(&abs).map_err(|e| read_failed(&rel, &e))?;
    if !file
        .metadata()
        .map_err(|e| read_failed(&rel, &e))?
        .is_file()
    {
        return Err(not_allowed());
    }
    let start = from.unwrap_or(1).max(1);
    let count = lines.unwrap_or(DEFAULT_READ_LINES).max(1);
    let (selected, more) =
        read_range(file, start, count, max_chars).map_err(|e| read_failed(&rel, &e))?;
    Ok(fit(rel, start, selected, more, max_chars))
}

fn read_failed(rel: &str, e: &std::io::Error) -> ReadError {
    ReadError {
        code: "MEMORY_READ_FAILED",
        message: format!("cannot read {rel}: {e}"),
    }
}

/// The lines `start..start+count` (each cut to `max_chars + 1` bytes) and whether the file
/// has more lines after them.
fn read_range(
    file: fs::File,
    start: usize,
    count: usize,
    max_chars: usize,
) -> std::io::Result<(Vec<String>, bool)> {
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut out = Vec::new();
    let mut line_no = 1usize;
    let mut cur: Vec<u8> = Vec::new();
    let keep = max_chars.saturating_add(4);
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            if !cur.is_empty() && line_no >= start && out.len() < count {
                out.push(String::from_utf8_lossy(&cur).into_owned());
            } else if !cur.is_empty() && line_no >= start {
                return Ok((out, true));
            }
            return Ok((out, false));
        }
        let (chunk, newline) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..i], Some(i)),
            None => (buf, None),
        };
        let wanted = line_no >= start && out.len() < count;
        if line_no >= start && out.len() >= count {
            return Ok((out, true));
        }
        if wanted && cur.len() < keep {
            let room = keep - cur.len();
            cur.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        let used = newline.map_or(buf.len(), |i| i + 1);
        reader.consume(used);
        if newline.is_some() {
            if wanted {
                let mut s = String::from_utf8_lossy(&cur).into_owned();
                if s.ends_with('\r') {
                    s.pop();
                }
                out.push(s);
            }
            cur.clear();
            line_no += 1;
        }
    }
}

/// OpenClaw's `buildMemoryReadResultFromSlice`: whole lines up to `max_chars`, a continuation
/// notice when more remains.
fn fit(
    rel: String,
    start: usize,
    selected: Vec<String>,
    more: bool,
    max_chars: usize,
) -> ReadResult {
    let mut included = 0usize;
    let mut chars = 0usize;
    for line in &selected {
        let next = chars + line.chars().count() + usize::from(included > 0);
        if included > 0 && next > max_chars {
            break;
        }
        included += 1;
        chars = next;
    }
    let hard = chars > max_chars;
    let joined = selected[..included].join("\n");
    let text: String = joined.chars().take(max_chars).collect();
    let cap_truncated = hard || included < selected.len();
    let next_from = (!hard && (more || included < selected.len())).then_some(start + included);
    let truncated = cap_truncated || more;
    let text = if truncated && (!text.is_empty() || hard) {
        let base = match next_from {
            Some(n) => format!("[More content available. Use from={n} to continue.]"),
            None => {
                "[More content available. Requested excerpt exceeded the default maxChars budget.]"
                    .into()
            }
        };
        format!("{text}\n\n{base}")
    } else {
        text
    };
    ReadResult {
        status: "ok",
        text,
        path: rel,
        from: Some(start),
        lines: Some(included),
        truncated,
        next_from,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_paths() {
        assert!(is_memory_path("MEMORY.md"));
        assert!(is_memory_path("memory/2026-12-07.md"));
        assert!(is_memory_path("memory/imports/x.md"));
        assert!(!is_memory_path("memory/x.txt"));
        assert!(!is_memory_path("AGENTS.md"));
        assert!(!is_memory_path("notes/memory/x.md"));
    }

    #[test]
    fn relative_paths_stay_inside() {
        let ws = Path::new("/ws");
        assert_eq!(
            relative(ws, "memory/../MEMORY.md").as_deref(),
            Some("MEMORY.md")
        );
        assert_eq!(
            relative(ws, "/ws/memory/a.md").as_deref(),
            Some("memory/a.md")
        );
        assert_eq!(relative(ws, "../ws/MEMORY.md"), None);
        assert_eq!(relative(ws, "/etc/passwd"), None);
    }
}
