//! Branching a session: moving the leaf (`branch`, `reset_leaf`, `branch_with_summary`, which
//! stay in the same file) and starting a new file from a path of this one (`fork`, `clone`,
//! `create_branched_session`).

use std::path::PathBuf;

use serde_json::Value;

use super::super::entry::{
    BranchSummaryEntry, LabelEntry, SessionEntry, SessionHeader, iso_now, new_entry_id,
};
use super::super::file::SessionError;
use super::{SessionManager, new_session_id, session_file_name};
use crate::message::Message;

impl SessionManager {
    /// Move the leaf to an existing entry: the next append becomes its child.
    pub fn branch(&mut self, id: &str) -> Result<(), SessionError> {
        if !self.index.contains(id, &self.entries) {
            return Err(SessionError::EntryNotFound(id.to_string()));
        }
        self.leaf = Some(id.to_string());
        Ok(())
    }

    /// Make the next append a new root.
    pub fn reset_leaf(&mut self) {
        self.leaf = None;
    }

    /// Move the leaf to `from` (`None`: before the first entry) and append a `branch_summary`
    /// of the abandoned branch there. Returns the summary entry's id.
    pub fn branch_with_summary(
        &mut self,
        from: Option<&str>,
        summary: &str,
        details: Option<Value>,
        from_hook: Option<bool>,
    ) -> Result<String, SessionError> {
        match from {
            Some(id) => self.branch(id)?,
            None => self.reset_leaf(),
        }
        self.append(SessionEntry::BranchSummary(Box::new(BranchSummaryEntry {
            id: String::new(),
            parent_id: None,
            timestamp: String::new(),
            from_id: from.unwrap_or("root").to_string(),
            summary: summary.to_string(),
            details,
            from_hook,
        })))
    }

    /// RPC `fork {entryId}`: switch to a new session file holding the path up to the parent of
    /// the user message `entry_id` (same entry ids, `parentSession` = this file). Forking from a
    /// root message starts an empty session with `parentSession`. Returns the message's text.
    pub fn fork(&mut self, entry_id: &str) -> Result<String, SessionError> {
        let entry = self
            .entry(entry_id)
            .ok_or_else(|| SessionError::EntryNotFound(entry_id.to_string()))?;
        let (text, parent) = match entry {
            SessionEntry::Message(m) => match &*m.message {
                Message::User(u) => (u.content.text(), m.parent_id.clone()),
                _ => return Err(SessionError::NotAUserMessage(entry_id.to_string())),
            },
            _ => return Err(SessionError::NotAUserMessage(entry_id.to_string())),
        };
        match parent {
            Some(p) => {
                self.create_branched_session(&p)?;
            }
            None => {
                let parent_file = self.parent_session_ref();
                self.new_session(parent_file);
            }
        }
        Ok(text)
    }

    /// RPC `clone`: switch to a new session file holding the current branch.
    pub fn clone_session(&mut self) -> Result<Option<PathBuf>, SessionError> {
        match self.leaf.clone() {
            Some(leaf) => self.create_branched_session(&leaf),
            None => {
                let parent_file = self.parent_session_ref();
                self.new_session(parent_file);
                Ok(self.file.clone())
            }
        }
    }

    fn parent_session_ref(&self) -> Option<String> {
        self.file.as_ref().map(|p| p.to_string_lossy().into_owned())
    }

    /// Switch to a new session holding the root→`leaf_id` path (labels re-created as trailing
    /// `label` entries). The new file is written now if the path holds an assistant message,
    /// otherwise lazily. Returns the new file path (`None` in memory).
    pub fn create_branched_session(
        &mut self,
        leaf_id: &str,
    ) -> Result<Option<PathBuf>, SessionError> {
        if !self.index.contains(leaf_id, &self.entries) {
            return Err(SessionError::EntryNotFound(leaf_id.to_string()));
        }
        let path: Vec<SessionEntry> = self
            .path_to(Some(leaf_id))
            .into_iter()
            .filter(|e| !matches!(e, SessionEntry::Label(_)))
            .cloned()
            .collect();
        let labels: Vec<(String, String)> = path
            .iter()
            .filter_map(|e| {
                self.labels
                    .get(e.id())
                    .map(|l| (e.id().to_string(), l.clone()))
            })
            .collect();
        let parent_file = self.parent_session_ref();
        let header = SessionHeader::new(new_session_id(), self.header.cwd.clone(), parent_file);
        let file = self
            .session_dir
            .as_ref()
            .filter(|_| self.file.is_some())
            .map(|dir| dir.join(session_file_name(&header.timestamp, &header.id)));
        let mut next = Self::blank(header, self.session_dir.clone(), file);
        next.index.reserve(path.len() + labels.len(), &path);
        for (i, e) in path.iter().enumerate() {
            next.duplicate_ids |= next.index.insert(e.id(), i, &path);
        }
        next.leaf = path.last().map(|e| e.id().to_string());
        next.entries = path;
        let notes: Vec<SessionEntry> = next.entries.clone();
        for e in &notes {
            next.note(e);
        }
        for (target, label) in labels {
            let id = new_entry_id(|c| {
                next.index.contains(c, &next.entries) || self.index.contains(c, &self.entries)
            });
            let entry = SessionEntry::Label(Box::new(LabelEntry {
                id: id.clone(),
                parent_id: next.leaf.clone(),
                timestamp: iso_now(),
                target_id: target,
                label: Some(label),
            }));
            next.index.insert(&id, next.entries.len(), &next.entries);
            next.note(&entry);
            next.entries.push(entry);
            next.leaf = Some(id);
        }
        if next.has_assistant {
            next.rewrite()?;
        }
        *self = next;
        Ok(self.file.clone())
    }
}
