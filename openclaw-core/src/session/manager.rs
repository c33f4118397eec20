//! The session manager: one session's entry tree, its leaf, and its file.
//!
//! Entries are appended under the current leaf. The file is written lazily like pi: nothing
//! reaches disk until the session holds an assistant message; then header and buffered entries
//! go out in one write, and every later entry is appended as one whole line. An in-memory
//! manager (`--no-session`) never writes. Branching (`branch`, `reset_leaf`,
//! `branch_with_summary`) stays in the file; `fork`/`clone` start a new file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::event::CompactionResult;
use crate::message::{Message, UserContent};
use crate::model::ThinkingLevel;

use super::context::{SessionContext, build_context};
use super::entry::{
    CompactionEntry, CustomEntry, CustomMessageEntry, LabelEntry, MessageEntry, ModelChangeEntry,
    SessionEntry, SessionHeader, SessionInfoEntry, ThinkingLevelChangeEntry, iso_now, new_entry_id,
};
use super::file::{self, SessionError};
use super::index::EntryIndex;

mod branching;

/// A user message that can be forked from (`get_fork_messages`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ForkMessage {
    pub entry_id: String,
    pub text: String,
}

/// One session: header, entries in file order, tree index, leaf and (optional) file.
#[derive(Debug, Clone)]
pub struct SessionManager {
    header: SessionHeader,
    entries: Vec<SessionEntry>,
    index: EntryIndex,
    /// Some id occurs twice (a hand-edited file): the index then holds the last occurrence,
    /// and parent lookups must go through it.
    duplicate_ids: bool,
    leaf: Option<String>,
    labels: HashMap<String, String>,
    session_dir: Option<PathBuf>,
    file: Option<PathBuf>,
    /// The header is on disk.
    header_on_disk: bool,
    /// How many of `entries` (from the start) are on disk.
    on_disk: usize,
    has_assistant: bool,
    /// The file ends without a newline (torn write): start the next append with one.
    torn_tail: bool,
    /// What the first write must do to the file found on disk (a read never writes).
    pending: Pending,
}

/// How the first write treats a file that was opened but cannot simply be appended to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Pending {
    /// Append.
    #[default]
    Append,
    /// An older version, migrated in memory: rewrite it whole.
    Rewrite,
    /// The header is unusable: keep the file aside under a new name, then write a new one.
    SetAside,
}

/// pi's session directory name for a working directory: `--<cwd>--` with one leading `/` or
/// `\` dropped and every `/`, `\`, `:` replaced by `-` (`/tmp/x/work` → `--tmp-x-work--`).
pub fn encode_cwd(cwd: &str) -> String {
    let trimmed = cwd
        .strip_prefix('/')
        .or_else(|| cwd.strip_prefix('\\'))
        .unwrap_or(cwd);
    let body: String = trimmed
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':') {
                '-'
            } else {
                c
            }
        })
        .collect();
    format!("--{body}--")
}

/// The file name of a new session: `<ISO time with ':' and '.' as '-'>_<id>.jsonl`.
pub fn session_file_name(iso_timestamp: &str, session_id: &str) -> String {
    let stamp: String = iso_timestamp
        .chars()
        .map(|c| if c == ':' || c == '.' { '-' } else { c })
        .collect();
    format!("{stamp}_{session_id}.jsonl")
}

/// A new session id (UUIDv7, as pi 0.73).
pub fn new_session_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

impl SessionManager {
    fn blank(header: SessionHeader, session_dir: Option<PathBuf>, file: Option<PathBuf>) -> Self {
        SessionManager {
            header,
            entries: Vec::new(),
            index: EntryIndex::default(),
            duplicate_ids: false,
            leaf: None,
            labels: HashMap::new(),
            session_dir,
            file,
            header_on_disk: false,
            on_disk: 0,
            has_assistant: false,
            torn_tail: false,
            pending: Pending::Append,
        }
    }

    /// A new session whose file will be `<session_dir>/<time>_<id>.jsonl` (written lazily).
    pub fn create(session_dir: impl Into<PathBuf>, cwd: impl Into<String>) -> Self {
        let dir = session_dir.into();
        let header = SessionHeader::new(new_session_id(), cwd, None);
        let path = dir.join(session_file_name(&header.timestamp, &header.id));
        Self::blank(header, Some(dir), Some(path))
    }

    /// A session that is never written (`--no-session`).
    pub fn in_memory(cwd: impl Into<String>) -> Self {
        Self::blank(SessionHeader::new(new_session_id(), cwd, None), None, None)
    }

    /// Open a session file. Opening never writes: malformed lines are skipped with a warning
    /// and the file is left as it is. The first write then appends, or rewrites an older
    /// version (migrated in memory) whole, or — when the header is unusable — keeps the file
    /// aside under a new name (`<file>.damaged.<ts>`) and starts it again with a new header and
    /// the entries that could be read. A missing file becomes a new session at that path.
    pub fn open(path: impl Into<PathBuf>, cwd: &str) -> Result<Self, SessionError> {
        let path = path.into();
        let dir = path.parent().map(Path::to_path_buf);
        if !path.exists() {
            let header = SessionHeader::new(new_session_id(), cwd, None);
            return Ok(Self::blank(header, dir, Some(path)));
        }
        let loaded = file::load_file(&path)?;
        let blank = loaded.header.is_none() && loaded.entries.is_empty();
        let pending = match &loaded.header {
            Some(_) if loaded.migrated => Pending::Rewrite,
            Some(_) => Pending::Append,
            None if blank && loaded.warnings.is_empty() => Pending::Append,
            None => Pending::SetAside,
        };
        let header = loaded
            .header
            .unwrap_or_else(|| SessionHeader::new(new_session_id(), cwd, None));
        let mut m = Self::from_parts(header, loaded.entries, dir, Some(path));
        m.torn_tail = loaded.torn_tail;
        m.pending = pending;
        if pending != Pending::Append || blank {
            m.header_on_disk = false;
            m.on_disk = 0;
        }
        Ok(m)
    }

    /// The most recent session of `session_dir` (`--continue`), or a new one when it has none.
    pub fn continue_recent(
        session_dir: impl Into<PathBuf>,
        cwd: &str,
    ) -> Result<Self, SessionError> {
        let dir = session_dir.into();
        match super::listing::most_recent_session(&dir) {
            Some(path) => Self::open(path, cwd),
            None => Ok(Self::create(dir, cwd)),
        }
    }

    /// A manager over already-parsed entries (file assumed to hold them all).
    pub fn from_parts(
        header: SessionHeader,
        entries: Vec<SessionEntry>,
        session_dir: Option<PathBuf>,
        file: Option<PathBuf>,
    ) -> Self {
        let mut m = Self::blank(header, session_dir, file);
        m.index.reserve(entries.len(), &entries);
        for (i, e) in entries.iter().enumerate() {
            m.duplicate_ids |= m.index.insert(e.id(), i, &entries);
            m.note(e);
        }
        m.leaf = entries.last().map(|e| e.id().to_string());
        m.header_on_disk = m.file.as_ref().is_some_and(|p| p.exists());
        m.on_disk = if m.header_on_disk { entries.len() } else { 0 };
        m.entries = entries;
        m
    }

    fn note(&mut self, e: &SessionEntry) {
        match e {
            SessionEntry::Label(l) => match &l.label {
                Some(text) => {
                    self.labels.insert(l.target_id.clone(), text.clone());
                }
                None => {
                    self.labels.remove(&l.target_id);
                }
            },
            e if e.is_assistant_message() => self.has_assistant = true,
            _ => {}
        }
    }

    /// Start a new, empty session in the same directory (RPC `new_session`); in-memory managers
    /// stay in memory.
    pub fn new_session(&mut self, parent_session: Option<String>) {
        let header = SessionHeader::new(new_session_id(), self.header.cwd.clone(), parent_session);
        let file = match (&self.session_dir, &self.file) {
            (Some(dir), Some(_)) => {
                Some(dir.join(session_file_name(&header.timestamp, &header.id)))
            }
            _ => None,
        };
        *self = Self::blank(header, self.session_dir.clone(), file);
    }

    // ----- accessors -----

    pub fn header(&self) -> &SessionHeader {
        &self.header
    }
    pub fn session_id(&self) -> &str {
        &self.header.id
    }
    pub fn cwd(&self) -> &str {
        &self.header.cwd
    }
    /// The session file (reported even before it exists); `None` in memory.
    pub fn session_file(&self) -> Option<&Path> {
        self.file.as_deref()
    }
    pub fn session_dir(&self) -> Option<&Path> {
        self.session_dir.as_deref()
    }
    /// Whether entries are written to disk at all.
    pub fn is_persisted(&self) -> bool {
        self.file.is_some()
    }
    /// All entries in file order.
    pub fn entries(&self) -> &[SessionEntry] {
        &self.entries
    }
    pub fn entry(&self, id: &str) -> Option<&SessionEntry> {
        self.index
            .get(id, &self.entries)
            .and_then(|i| self.entries.get(i))
    }
    /// The current leaf (`None` before the first entry or after `reset_leaf`).
    pub fn leaf_id(&self) -> Option<&str> {
        self.leaf.as_deref()
    }
    /// The children of `id` (`None`: the roots), in file order.
    pub fn children(&self, id: Option<&str>) -> Vec<&SessionEntry> {
        self.entries
            .iter()
            .filter(|e| e.parent_id() == id)
            .collect()
    }
    /// The label of an entry.
    pub fn label(&self, id: &str) -> Option<&str> {
        self.labels.get(id).map(String::as_str)
    }
    /// The session's name (the last `session_info` entry's).
    pub fn session_name(&self) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find_map(|e| match e {
                SessionEntry::SessionInfo(i) => Some(i.name.as_deref().unwrap_or("")),
                _ => None,
            })
            .filter(|n| !n.is_empty())
    }

    /// The entries from the root to `id` (inclusive).
    pub fn path_to(&self, id: Option<&str>) -> Vec<&SessionEntry> {
        let mut path = Vec::new();
        let mut cur = id.and_then(|i| self.index.get(i, &self.entries));
        while let Some(i) = cur {
            if path.len() > self.entries.len() {
                break; // a cycle in a hand-edited file
            }
            let e = &self.entries[i];
            path.push(e);
            // The parent is usually the entry just before (a linear stretch): no hashing then.
            cur = e.parent_id().and_then(|p| match i.checked_sub(1) {
                Some(prev) if !self.duplicate_ids && self.entries[prev].id() == p => Some(prev),
                _ => self.index.get(p, &self.entries),
            });
        }
        path.reverse();
        path
    }

    /// The entries from the root to the current leaf (pi's `getBranch`).
    pub fn branch_entries(&self) -> Vec<&SessionEntry> {
        self.path_to(self.leaf.as_deref())
    }

    /// The model's context at the current leaf.
    pub fn build_context(&self) -> SessionContext {
        build_context(&self.branch_entries())
    }

    /// The thinking level at the current leaf (default `off`).
    pub fn thinking_level(&self) -> ThinkingLevel {
        self.build_context().thinking_level
    }

    /// The user messages with text, in file order (`get_fork_messages`).
    pub fn fork_messages(&self) -> Vec<ForkMessage> {
        self.entries
            .iter()
            .filter_map(|e| match e {
                SessionEntry::Message(m) => match &*m.message {
                    Message::User(u) => Some((m.id.clone(), u.content.text())),
                    _ => None,
                },
                _ => None,
            })
            .filter(|(_, text)| !text.is_empty())
            .map(|(entry_id, text)| ForkMessage { entry_id, text })
            .collect()
    }

    // ----- appending -----

    /// Append an entry under the current leaf: it gets a fresh id, the leaf as parent and the
    /// current time, becomes the leaf, and is persisted. Returns its id.
    pub fn append(&mut self, mut entry: SessionEntry) -> Result<String, SessionError> {
        let id = new_entry_id(|c| self.index.contains(c, &self.entries));
        entry.set_base(id.clone(), self.leaf.clone(), iso_now());
        self.index.insert(&id, self.entries.len(), &self.entries);
        self.note(&entry);
        self.entries.push(entry);
        self.leaf = Some(id.clone());
        self.persist_last()?;
        Ok(id)
    }

    pub fn append_message(
        &mut self,
        message: impl Into<Arc<Message>>,
    ) -> Result<String, SessionError> {
        self.append(SessionEntry::Message(MessageEntry {
            id: String::new(),
            parent_id: None,
            timestamp: String::new(),
            message: message.into(),
        }))
    }

    pub fn append_model_change(
        &mut self,
        provider: &str,
        model_id: &str,
    ) -> Result<String, SessionError> {
        self.append(SessionEntry::ModelChange(Box::new(ModelChangeEntry {
            id: String::new(),
            parent_id: None,
            timestamp: String::new(),
            provider: provider.to_string(),
            model_id: model_id.to_string(),
        })))
    }

    pub fn append_thinking_level_change(
        &mut self,
        level: ThinkingLevel,
    ) -> Result<String, SessionError> {
        self.append(SessionEntry::ThinkingLevelChange(Box::new(
            ThinkingLevelChangeEntry {
                id: String::new(),
                parent_id: None,
                timestamp: String::new(),
                thinking_level: level.as_str().to_string(),
            },
        )))
    }

    /// Append a compaction entry for a [`CompactionResult`] (`details` as given, `fromHook`).
    pub fn append_compaction(
        &mut self,
        result: &CompactionResult,
        from_hook: bool,
    ) -> Result<String, SessionError> {
        let details = result
            .details
            .as_ref()
            .and_then(|d| serde_json::to_value(d).ok());
        self.append(SessionEntry::Compaction(Box::new(CompactionEntry {
            id: String::new(),
            parent_id: None,
            timestamp: String::new(),
            summary: result.summary.clone(),
            first_kept_entry_id: result.first_kept_entry_id.clone(),
            tokens_before: result.tokens_before,
            details,
            from_hook: Some(from_hook),
        })))
    }

    /// Extension state (`custom`), never part of the model's context.
    pub fn append_custom(
        &mut self,
        custom_type: &str,
        data: Option<Value>,
    ) -> Result<String, SessionError> {
        self.append(SessionEntry::Custom(Box::new(CustomEntry {
            custom_type: custom_type.to_string(),
            data,
            id: String::new(),
            parent_id: None,
            timestamp: String::new(),
        })))
    }

    /// An extension message that reaches the model as user content (`custom_message`).
    pub fn append_custom_message(
        &mut self,
        custom_type: &str,
        content: UserContent,
        display: bool,
        details: Option<Value>,
    ) -> Result<String, SessionError> {
        self.append(SessionEntry::CustomMessage(Box::new(CustomMessageEntry {
            id: String::new(),
            parent_id: None,
            timestamp: String::new(),
            custom_type: custom_type.to_string(),
            content,
            display,
            details,
        })))
    }

    /// Set (or with `None`, clear) the label of an existing entry.
    pub fn append_label(
        &mut self,
        target_id: &str,
        label: Option<&str>,
    ) -> Result<String, SessionError> {
        if !self.index.contains(target_id, &self.entries) {
            return Err(SessionError::EntryNotFound(target_id.to_string()));
        }
        self.append(SessionEntry::Label(Box::new(LabelEntry {
            id: String::new(),
            parent_id: None,
            timestamp: String::new(),
            target_id: target_id.to_string(),
            label: label.map(str::to_string),
        })))
    }

    /// Name the session (`session_info`, the name trimmed).
    pub fn append_session_info(&mut self, name: &str) -> Result<String, SessionError> {
        self.append(SessionEntry::SessionInfo(Box::new(SessionInfoEntry {
            id: String::new(),
            parent_id: None,
            timestamp: String::new(),
            name: Some(name.trim().to_string()),
        })))
    }

    // ----- persistence -----

    /// Write the whole file now (atomic replace), whatever it holds; a file with an unusable
    /// header is kept aside first.
    pub fn rewrite(&mut self) -> Result<(), SessionError> {
        if let Some(path) = &self.file {
            if self.pending == Pending::SetAside && path.exists() {
                let kept = crate::fsutil::keep_aside(path, "damaged").map_err(|source| {
                    SessionError::Write {
                        path: path.clone(),
                        source,
                    }
                })?;
                tracing::warn!(
                    "{}: unusable session header; the file is kept as {} and started again",
                    path.display(),
                    kept.display()
                );
            }
            file::write_atomic(path, &file::render(&self.header, &self.entries))?;
            self.pending = Pending::Append;
            self.header_on_disk = true;
            self.on_disk = self.entries.len();
            self.torn_tail = false;
        }
        Ok(())
    }

    /// Write what is not on disk yet, once the session has an assistant message: the header
    /// and buffered entries on the first flush, afterwards the new entry, in one write call.
    fn persist_last(&mut self) -> Result<(), SessionError> {
        let Some(path) = self.file.clone() else {
            return Ok(());
        };
        if !self.has_assistant || self.on_disk >= self.entries.len() {
            return Ok(());
        }
        if self.pending != Pending::Append {
            return self.rewrite();
        }
        let mut text = String::new();
        if self.torn_tail {
            text.push('\n');
        }
        if !self.header_on_disk {
            text.push_str(&serde_json::to_string(&self.header).unwrap_or_default());
            text.push('\n');
        }
        for e in &self.entries[self.on_disk..] {
            text.push_str(&e.to_line());
            text.push('\n');
        }
        file::append_text(&path, &text)?;
        self.header_on_disk = true;
        self.on_disk = self.entries.len();
        self.torn_tail = false;
        Ok(())
    }
}
