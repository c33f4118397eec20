//! One gateway per state dir: [`GatewayLock`] holds an exclusive OS lock (`flock`) on
//! `<stateDir>/gateway.lock` for the gateway's life, and the file says who holds it (pid, and
//! port once bound). The kernel drops the lock when its holder dies, even by `kill -9`, so a
//! stale file never blocks a new gateway; a second live gateway gets [`LockError::Held`] naming
//! the first one's pid and port.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::paths;

/// Who holds the lock, as its file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// Why the lock was not taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{}", held_message(.path, .holder.as_ref()))]
    Held {
        path: PathBuf,
        holder: Option<LockHolder>,
    },
    #[error("cannot lock {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn held_message(path: &Path, holder: Option<&LockHolder>) -> String {
    let who = match holder {
        Some(LockHolder {
            pid,
            port: Some(port),
        }) => format!("pid {pid}, port {port}"),
        Some(LockHolder { pid, port: None }) => format!("pid {pid}, still starting"),
        None => "a process that has not written its pid yet".to_owned(),
    };
    format!(
        "another gateway is already running on this state dir ({who}; lock file {}); stop it \
         first, or give this one another state dir (OPENCLAW_STATE_DIR)",
        path.display()
    )
}

/// The held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct GatewayLock {
    file: File,
    path: PathBuf,
    holder: LockHolder,
}

impl GatewayLock {
    /// Takes the lock of `state_dir` without waiting, and writes this process's pid into it.
    pub fn acquire(state_dir: &Path) -> Result<GatewayLock, LockError> {
        let path = paths::gateway_lock(state_dir);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        openclaw_core::fsutil::create_private_dir(state_dir).map_err(io)?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        if !try_lock(&file).map_err(io)? {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let holder = serde_json::from_str(text.trim()).ok();
            return Err(LockError::Held { path, holder });
        }
        let mut lock = GatewayLock {
            file,
            path: path.clone(),
            holder: LockHolder {
                pid: std::process::id(),
                port: None,
            },
        };
        lock.write().map_err(io)?;
        Ok(lock)
    }

    /// Records the bound port (so a second gateway can say where the first one listens).
    pub fn set_port(&mut self, port: u16) -> std::io::Result<()> {
        self.holder.port = Some(port);
        self.write()
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&mut self) -> std::io::Result<()> {
        let text = serde_json::to_string(&self.holder).map_err(std::io::Error::other)?;
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(text.as_bytes())?;
        self.file.write_all(b"\n")?;
        self.file.sync_data()
    }
}

/// `true` when the exclusive lock was taken, `false` when another process holds it.
#[cfg(unix)]
fn try_lock(file: &File) -> std::io::Result<bool> {
    use rustix::fs::{FlockOperation, flock};
    match flock(file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(true),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Without `flock` there is no OS lock: every gateway starts (documented limitation).
#[cfg(not(unix))]
fn try_lock(_file: &File) -> std::io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_pid_and_port() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = GatewayLock::acquire(dir.path()).unwrap();
        first.set_port(18789).unwrap();
        let err = GatewayLock::acquire(dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("pid {}, port 18789", std::process::id())),
            "{text}"
        );
        drop(first);
        let again = GatewayLock::acquire(dir.path()).unwrap();
        assert_eq!(again.holder.port, None);
    }
}
