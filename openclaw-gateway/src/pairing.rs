//! Device pairing: pending requests from remote devices and the paired list, persisted as
//! `<state>/devices/pending.json` and `<state>/devices/paired.json` (objects keyed by request
//! id and device id).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Map, Value, json};

/// The pairing store.
#[derive(Debug)]
pub struct PairingStore {
    dir: PathBuf,
    lock: Mutex<()>,
}

/// What a pairing decision changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolution {
    pub request_id: String,
    pub device_id: String,
    pub record: Value,
}

/// The map in `path`; a missing file is empty, one that cannot be read or parsed is an error
/// naming it (so no writer replaces it with a map that lost its entries).
fn read_map(path: &Path) -> std::io::Result<Map<String, Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(e) => {
            return Err(std::io::Error::new(
                e.kind(),
                format!("cannot read {}: {e}", path.display()),
            ));
        }
    };
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(invalid(path, "not a JSON object")),
        Err(e) => Err(invalid(path, &e.to_string())),
    }
}

fn invalid(path: &Path, why: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!(
            "{} is unreadable ({why}); it is left as it is",
            path.display()
        ),
    )
}

fn write_map(path: &Path, map: &Map<String, Value>) -> std::io::Result<()> {
    let text = serde_json::to_vec_pretty(map).map_err(std::io::Error::other)?;
    openclaw_core::fsutil::atomic_write(path, &text, openclaw_core::fsutil::Permissions::Private)
}

impl PairingStore {
    pub fn new(state_dir: &Path) -> Self {
        Self {
            dir: state_dir.join("devices"),
            lock: Mutex::new(()),
        }
    }

    fn pending_path(&self) -> PathBuf {
        self.dir.join("pending.json")
    }

    fn paired_path(&self) -> PathBuf {
        self.dir.join("paired.json")
    }

    /// Whether `device_id` is paired (not when the paired list cannot be read).
    pub fn is_paired(&self, device_id: &str) -> bool {
        let _g = self.lock.lock();
        match read_map(&self.paired_path()) {
            Ok(m) => m.contains_key(device_id),
            Err(e) => {
                tracing::warn!("{e}");
                false
            }
        }
    }

    /// Records `device` as paired (loopback auto-approval and approvals).
    pub fn pair(&self, device_id: &str, record: Value) -> std::io::Result<()> {
        let _g = self.lock.lock();
        let mut paired = read_map(&self.paired_path())?;
        paired.insert(device_id.to_owned(), record);
        write_map(&self.paired_path(), &paired)
    }

    /// Adds (or reuses) a pending request for `device_id`; returns the request record and
    /// whether it is new.
    pub fn request(&self, device_id: &str, mut record: Value) -> std::io::Result<(Value, bool)> {
        let _g = self.lock.lock();
        let mut pending = read_map(&self.pending_path())?;
        if let Some(existing) = pending.values().find(|r| r["deviceId"] == device_id) {
            return Ok((existing.clone(), false));
        }
        let request_id = uuid::Uuid::new_v4().to_string();
        record["requestId"] = json!(request_id);
        record["deviceId"] = json!(device_id);
        pending.insert(request_id, record.clone());
        write_map(&self.pending_path(), &pending)?;
        Ok((record, true))
    }

    /// `{pending:[…], paired:[…]}`.
    pub fn list(&self) -> std::io::Result<Value> {
        let _g = self.lock.lock();
        let pending: Vec<Value> = read_map(&self.pending_path())?
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        let paired: Vec<Value> = read_map(&self.paired_path())?
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        Ok(json!({"pending": pending, "paired": paired}))
    }

    /// Approves or rejects a pending request. `None` if there is no such request.
    pub fn resolve(
        &self,
        request_id: &str,
        approve: bool,
        now_ms: u64,
    ) -> std::io::Result<Option<Resolution>> {
        let _g = self.lock.lock();
        let mut pending = read_map(&self.pending_path())?;
        let Some(mut record) = pending.shift_remove(request_id) else {
            return Ok(None);
        };
        let device_id = record["deviceId"].as_str().unwrap_or_default().to_owned();
        write_map(&self.pending_path(), &pending)?;
        if approve {
            record["approvedAtMs"] = json!(now_ms);
            let mut paired = read_map(&self.paired_path())?;
            paired.insert(device_id.clone(), record.clone());
            write_map(&self.paired_path(), &paired)?;
        }
        Ok(Some(Resolution {
            request_id: request_id.to_owned(),
            device_id,
            record,
        }))
    }

    /// Removes a paired device; whether it was paired.
    pub fn remove(&self, device_id: &str) -> std::io::Result<bool> {
        let _g = self.lock.lock();
        let mut paired = read_map(&self.paired_path())?;
        let removed = paired.shift_remove(device_id).is_some();
        if removed {
            write_map(&self.paired_path(), &paired)?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_paired_list_is_an_error_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let store = PairingStore::new(dir.path());
        store.pair("d1", json!({"deviceId": "d1"})).unwrap();
        let path = store.paired_path();
        let damaged = format!("{}\u{1}", std::fs::read_to_string(&path).unwrap());
        std::fs::write(&path, &damaged).unwrap();
        let e = store.pair("d2", json!({"deviceId": "d2"})).unwrap_err();
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
        assert!(store.list().is_err());
        assert!(!store.is_paired("d1"));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), damaged);
    }
}
