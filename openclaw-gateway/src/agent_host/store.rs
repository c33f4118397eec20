//! The per-agent session index, `<stateDir>/agents/<agentId>/sessions/sessions.json`: a JSON
//! object mapping each session key to its entry (`sessionId`, `sessionFile`, `updatedAt`,
//! model, token counters, label, …), as OpenClaw 2026.5 kept it. Transcripts (pi-format JSONL,
//! written by the engine's session module) live next to it. Writes are atomic (temporary file
//! and rename); frequent run updates are coalesced and flushed by [`SessionStore::flush`].

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value, json};

/// One agent's session index.
pub struct SessionStore {
    dir: PathBuf,
    path: PathBuf,
    entries: Mutex<Map<String, Value>>,
    dirty: AtomicBool,
}

fn now_ms() -> u64 {
    crate::state::now_ms()
}

impl SessionStore {
    /// Loads `<state_dir>/agents/<agent_id>/sessions/sessions.json` (an unreadable or missing
    /// file is an empty index; a corrupt one is kept aside as `sessions.json.corrupt`).
    pub fn open(state_dir: &Path, agent_id: &str) -> Self {
        let dir = state_dir.join("agents").join(agent_id).join("sessions");
        let path = dir.join("sessions.json");
        let entries = match std::fs::read_to_string(&path) {
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) => m,
                _ => {
                    tracing::warn!("{} is not a JSON object; starting afresh", path.display());
                    let _ = std::fs::rename(&path, dir.join("sessions.json.corrupt"));
                    Map::new()
                }
            },
            Err(_) => Map::new(),
        };
        SessionStore {
            dir,
            path,
            entries: Mutex::new(entries),
            dirty: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Map<String, Value>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The folder holding the index and the transcripts.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The index file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn get(&self, key: &str) -> Option<Map<String, Value>> {
        self.lock().get(key).and_then(Value::as_object).cloned()
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every `(key, entry)`, most recently updated first.
    pub fn list(&self) -> Vec<(String, Map<String, Value>)> {
        let mut rows: Vec<(String, Map<String, Value>)> = self
            .lock()
            .iter()
            .filter_map(|(k, v)| v.as_object().map(|m| (k.clone(), m.clone())))
            .collect();
        rows.sort_by_key(|(_, e)| std::cmp::Reverse(e.get("updatedAt").and_then(Value::as_u64)));
        rows
    }

    /// Changes (or creates) one entry and returns a copy of it. `durable` writes the index
    /// now; otherwise the change is written by the next [`SessionStore::flush`].
    pub fn update(
        &self,
        key: &str,
        durable: bool,
        f: impl FnOnce(&mut Map<String, Value>),
    ) -> Map<String, Value> {
        let mut out = Map::new();
        self.modify(key, durable, |e| {
            f(e);
            out = e.clone();
        });
        out
    }

    /// [`SessionStore::update`] without the copy (a run's bookkeeping on every turn).
    pub fn modify(&self, key: &str, durable: bool, f: impl FnOnce(&mut Map<String, Value>)) {
        let mut entries = self.lock();
        let slot = match entries.get_mut(key) {
            Some(slot) => slot,
            None => entries
                .entry(key.to_owned())
                .or_insert_with(|| Value::Object(Map::new())),
        };
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(entry) = slot else {
            return;
        };
        f(entry);
        if durable {
            self.write(&entries);
        } else {
            self.dirty.store(true, Ordering::Release);
        }
    }

    /// Removes one entry (written now).
    pub fn remove(&self, key: &str) -> Option<Map<String, Value>> {
        let mut entries = self.lock();
        let old = entries.shift_remove(key);
        if old.is_some() {
            self.write(&entries);
        }
        old.and_then(|v| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
    }

    /// Writes pending changes, if any.
    pub fn flush(&self) {
        if self.dirty.swap(false, Ordering::AcqRel) {
            let entries = self.lock();
            self.write(&entries);
        }
    }

    fn write(&self, entries: &Map<String, Value>) {
        self.dirty.store(false, Ordering::Release);
        if let Err(e) = write_atomic(&self.path, entries) {
            tracing::warn!("cannot write {}: {e}", self.path.display());
        }
    }

    /// `{count, recent:[{key, updatedAt, age}]}` (at most 5 recent).
    pub fn summary(&self) -> Value {
        let now = now_ms();
        let rows = self.list();
        let recent: Vec<Value> = rows
            .iter()
            .take(5)
            .map(|(k, e)| {
                let at = e.get("updatedAt").and_then(Value::as_u64);
                json!({"key": k, "updatedAt": at, "age": at.map(|a| now.saturating_sub(a))})
            })
            .collect();
        json!({"count": rows.len(), "recent": recent})
    }
}

fn write_atomic(path: &Path, entries: &Map<String, Value>) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(entries).map_err(std::io::Error::other)?;
    openclaw_core::fsutil::atomic_write(path, &text, openclaw_core::fsutil::Permissions::Default)
}

/// A fresh entry's timestamps (`sessionStartedAt`, `updatedAt`, `lastInteractionAt`).
pub fn stamp_new(entry: &mut Map<String, Value>, session_id: &str, file: &Path) {
    let now = now_ms();
    entry.insert("sessionId".into(), json!(session_id));
    entry.insert("sessionFile".into(), json!(file.display().to_string()));
    entry.insert("sessionStartedAt".into(), json!(now));
    entry.insert("updatedAt".into(), json!(now));
    entry.entry("chatType").or_insert(json!("direct"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_survive_a_reopen_and_flush_coalesces() {
        let dir = tempfile::tempdir().unwrap();
        let store = SessionStore::open(dir.path(), "main");
        store.update("agent:main:main", true, |e| {
            stamp_new(e, "s1", Path::new("/x/s1.jsonl"))
        });
        store.update("agent:main:main", false, |e| {
            e.insert("label".into(), json!("hello"));
        });
        let reread = SessionStore::open(dir.path(), "main");
        assert!(
            reread
                .get("agent:main:main")
                .unwrap()
                .get("label")
                .is_none()
        );
        store.flush();
        let reread = SessionStore::open(dir.path(), "main");
        let e = reread.get("agent:main:main").unwrap();
        assert_eq!(e["label"], "hello");
        assert_eq!(e["sessionId"], "s1");
        assert!(store.remove("agent:main:main").is_some());
        assert!(SessionStore::open(dir.path(), "main").is_empty());
    }
}
