//! Listing the sessions of a directory (session pickers, `--continue`, `--resume`).

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::message::Message;

use super::entry::{SessionEntry, SessionHeader};
use super::file::{self, SessionError};

/// What a session picker shows about one file.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSummary {
    pub id: String,
    pub path: PathBuf,
    pub cwd: String,
    /// The name of the last `session_info` entry.
    pub name: Option<String>,
    pub parent_session: Option<String>,
    /// The header's ISO creation time.
    pub created: String,
    /// The file's modification time.
    pub modified: SystemTime,
    /// Number of `message` entries.
    pub message_count: usize,
    /// The text of the first user message (empty when there is none).
    pub first_message: String,
}

/// Whether the file's first line is a session header.
pub fn is_session_file(path: &Path) -> bool {
    let Ok(f) = fs::File::open(path) else {
        return false;
    };
    let mut line = String::new();
    if BufReader::new(f).read_line(&mut line).is_err() {
        return false;
    }
    serde_json::from_str::<SessionHeader>(line.trim_end()).is_ok()
}

fn jsonl_files(dir: &Path) -> Result<Vec<(PathBuf, SystemTime)>, SessionError> {
    let rd = fs::read_dir(dir).map_err(|source| SessionError::List {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for ent in rd.flatten() {
        let p = ent.path();
        if p.extension().is_some_and(|x| x == "jsonl") && p.is_file() {
            let modified = ent
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            out.push((p, modified));
        }
    }
    // Newest first; equal times by name descending (names start with the creation time).
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    Ok(out)
}

/// Every valid session file of `dir`, most recently modified first. Unreadable or invalid
/// files are left out.
pub fn list_sessions(dir: &Path) -> Result<Vec<SessionSummary>, SessionError> {
    let mut out = Vec::new();
    for (path, modified) in jsonl_files(dir)? {
        let Ok(loaded) = file::load_file(&path) else {
            continue;
        };
        let Some(header) = loaded.header else {
            continue;
        };
        let mut name = None;
        let mut message_count = 0;
        let mut first_message = None;
        for e in &loaded.entries {
            match e {
                SessionEntry::Message(m) => {
                    message_count += 1;
                    if first_message.is_none() {
                        if let Message::User(u) = &*m.message {
                            first_message = Some(u.content.text());
                        }
                    }
                }
                SessionEntry::SessionInfo(i) => name = i.name.clone().filter(|n| !n.is_empty()),
                _ => {}
            }
        }
        out.push(SessionSummary {
            id: header.id,
            path,
            cwd: header.cwd,
            name,
            parent_session: header.parent_session,
            created: header.timestamp,
            modified,
            message_count,
            first_message: first_message.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The most recently modified valid session file of `dir` (`--continue`).
pub fn most_recent_session(dir: &Path) -> Option<PathBuf> {
    jsonl_files(dir)
        .ok()?
        .into_iter()
        .map(|(p, _)| p)
        .find(|p| is_session_file(p))
}
