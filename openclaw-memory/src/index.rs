//! [`MemoryIndex`]: one state database's memory index, shared by every agent. Keeps each
//! agent's index in step with its workspace incrementally — a file whose size or mtime changed
//! is re-read (and re-chunked only when its content hash changed), a vanished file dropped, an
//! unreadable one recorded with its error — and embeds new chunks when an embedding endpoint is
//! configured. Indexing only reads the workspace; it never writes there.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use openclaw_state::{MemoryAgentRow, MemoryDb, MemoryFileRow, NewChunk};

use crate::chunk::{chunk_markdown, sha256_hex};
use crate::embed::{BATCH, Embedder, to_blob};
use crate::files::{MAX_FILE_BYTES, scan};

/// Files written per transaction while indexing.
const FILES_PER_TX: usize = 256;
/// Chunks embedded per sync (the rest on the next one).
const MAX_EMBED_PER_SYNC: usize = 8_192;
/// A search re-syncs the agent's files at most this often.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);

/// A failure of the index itself (the database); file problems are reported in
/// [`SyncReport::failed`] instead.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MemoryError(pub String);

impl From<openclaw_state::StateError> for MemoryError {
    fn from(e: openclaw_state::StateError) -> Self {
        MemoryError(format!("the memory index failed: {e}"))
    }
}

/// What one sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub files: usize,
    pub indexed: usize,
    pub unchanged: usize,
    pub removed: usize,
    /// Files that could not be indexed, with why (also kept in the index for `status`).
    pub failed: Vec<(String, String)>,
    /// Files cut at the per-file chunk bound.
    pub truncated: Vec<String>,
    /// Chunks embedded by this sync.
    pub embedded: usize,
    /// Why embeddings were not (all) made, when they were not.
    pub embed_note: Option<String>,
    /// More memory files than the scan bound.
    pub capped: bool,
}

/// The memory index of a state dir.
pub struct MemoryIndex {
    state_dir: PathBuf,
    db: Mutex<Option<MemoryDb>>,
    synced: Mutex<HashMap<String, Instant>>,
    sync_interval: Duration,
}

impl MemoryIndex {
    /// An index over `<state_dir>/state.sqlite`, opened on first use.
    pub fn new(state_dir: &Path) -> Arc<Self> {
        Self::with_sync_interval(state_dir, SYNC_INTERVAL)
    }

    /// An index whose searches re-sync at most every `interval` (benches measure searches
    /// alone with a long one).
    pub fn with_sync_interval(state_dir: &Path, interval: Duration) -> Arc<Self> {
        Arc::new(MemoryIndex {
            state_dir: state_dir.to_path_buf(),
            db: Mutex::new(None),
            synced: Mutex::new(HashMap::new()),
            sync_interval: interval,
        })
    }

    /// The state dir.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// Runs `f` with the database (opening it first), on the calling thread.
    pub fn with_db<T>(
        &self,
        f: impl FnOnce(&mut MemoryDb) -> Result<T, MemoryError>,
    ) -> Result<T, MemoryError> {
        let mut guard: MutexGuard<'_, Option<MemoryDb>> =
            self.db.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(MemoryDb::open(&self.state_dir)?);
        }
        match guard.as_mut() {
            Some(db) => f(db),
            None => Err(MemoryError("the memory index is not open".into())),
        }
    }

    /// Brings `agent_id`'s index in step with `workspace` (everything again with `force`),
    /// then embeds chunks without a vector when `embedder` is given.
    pub async fn sync(
        self: &Arc<Self>,
        agent_id: &str,
        workspace: &Path,
        force: bool,
        embedder: Option<&Embedder>,
    ) -> Result<SyncReport, MemoryError> {
        let me = self.clone();
        let (agent, ws) = (agent_id.to_owned(), workspace.to_path_buf());
        let mut report = tokio::task::spawn_blocking(move || {
            me.with_db(|db| sync_files(db, &agent, &ws, force))
        })
        .await
        .map_err(|e| MemoryError(format!("the memory sync stopped: {e}")))??;
        if let Some(embedder) = embedder {
            let (done, note) = self.embed_missing(agent_id, embedder).await;
            report.embedded = done;
            report.embed_note = note;
        }
        let row = MemoryAgentRow {
            workspace: workspace.display().to_string(),
            synced_at: openclaw_state::now_ms(),
            embed_note: report.embed_note.clone(),
        };
        let me = self.clone();
        let agent = agent_id.to_owned();
        tokio::task::spawn_blocking(move || {
            me.with_db(|db| db.put_agent(&agent, &row).map_err(Into::into))
        })
        .await
        .map_err(|e| MemoryError(format!("the memory sync stopped: {e}")))??;
        openclaw_core::sync::lock(&self.synced).insert(agent_id.to_owned(), Instant::now());
        Ok(report)
    }

    /// Syncs unless this process synced `agent_id` less than the sync interval
    /// ([`SYNC_INTERVAL`] by default) ago.
    pub async fn sync_if_stale(
        self: &Arc<Self>,
        agent_id: &str,
        workspace: &Path,
        embedder: Option<&Embedder>,
    ) -> Result<Option<SyncReport>, MemoryError> {
        let fresh = openclaw_core::sync::lock(&self.synced)
            .get(agent_id)
            .is_some_and(|t| t.elapsed() < self.sync_interval);
        if fresh {
            return Ok(None);
        }
        self.sync(agent_id, workspace, false, embedder)
            .await
            .map(Some)
    }

    /// Embeds up to [`MAX_EMBED_PER_SYNC`] chunks lacking a vector of the embedder's model.
    /// Returns how many were embedded and, on failure, why it stopped (never an error: the
    /// keyword index is complete without vectors).
    async fn embed_missing(
        self: &Arc<Self>,
        agent_id: &str,
        embedder: &Embedder,
    ) -> (usize, Option<String>) {
        let mut done = 0usize;
        let model = embedder.model().to_owned();
        while done < MAX_EMBED_PER_SYNC {
            let me = self.clone();
            let (agent, m) = (agent_id.to_owned(), model.clone());
            let batch = tokio::task::spawn_blocking(move || {
                me.with_db(|db| db.missing_vectors(&agent, &m, BATCH).map_err(Into::into))
            })
            .await;
            let batch = match batch {
                Ok(Ok(b)) => b,
                Ok(Err(e)) => return (done, Some(e.to_string())),
                Err(e) => return (done, Some(e.to_string())),
            };
            if batch.is_empty() {
                return (done, None);
            }
            let texts: Vec<&str> = batch.iter().map(|(_, t)| t.as_str()).collect();
            let vectors = match embedder.embed(&texts).await {
                Ok(v) => v,
                Err(e) => return (done, Some(format!("{e}; keyword search still works"))),
            };
            let rows: Vec<(i64, Vec<u8>)> = batch
                .iter()
                .zip(vectors)
                .map(|((id, _), v)| (*id, to_blob(&v)))
                .collect();
            let n = rows.len();
            let me = self.clone();
            let m = model.clone();
            let stored = tokio::task::spawn_blocking(move || {
                me.with_db(|db| db.set_vectors(&m, &rows).map_err(Into::into))
            })
            .await;
            match stored {
                Ok(Ok(())) => done += n,
                Ok(Err(e)) => return (done, Some(e.to_string())),
                Err(e) => return (done, Some(e.to_string())),
            }
        }
        (
            done,
            Some(format!("{done} chunks embedded; the rest on the next sync")),
        )
    }
}

/// Reads one found file into its row and chunks (an unreadable file: a row with its error).
fn index_file(f: &crate::files::FoundFile) -> (MemoryFileRow, Vec<NewChunk>) {
    let mut row = MemoryFileRow {
        path: f.rel.clone(),
        size: f.size,
        mtime_ms: f.mtime_ms,
        hash: String::new(),
        chunks: 0,
        truncated: false,
        error: None,
    };
    if f.size > MAX_FILE_BYTES {
        row.error = Some(format!(
            "{} bytes, over the {} MiB bound: not indexed",
            f.size,
            MAX_FILE_BYTES / (1024 * 1024)
        ));
        return (row, Vec::new());
    }
    let bytes = match read_bounded(&f.abs) {
        Ok(b) => b,
        Err(e) => {
            row.error = Some(format!("cannot read: {e}"));
            return (row, Vec::new());
        }
    };
    row.hash = sha256_hex(&bytes);
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            row.error = Some(format!(
                "not valid UTF-8 (at byte {}): not indexed",
                e.valid_up_to()
            ));
            return (row, Vec::new());
        }
    };
    let out = chunk_markdown(text);
    row.truncated = out.truncated;
    row.chunks = u32::try_from(out.chunks.len()).unwrap_or(u32::MAX);
    let chunks = out
        .chunks
        .into_iter()
        .map(|c| NewChunk {
            start_line: c.start_line,
            end_line: c.end_line,
            hash: sha256_hex(c.text.as_bytes()),
            text: c.text,
        })
        .collect();
    (row, chunks)
}

/// Reads at most [`MAX_FILE_BYTES`] + 1 bytes (the file may have grown since it was listed).
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut out = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut out)?;
    if out.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other(
            "grew over the size bound while being read",
        ));
    }
    Ok(out)
}

/// The file part of a sync (blocking).
pub fn sync_files(
    db: &mut MemoryDb,
    agent_id: &str,
    workspace: &Path,
    force: bool,
) -> Result<SyncReport, MemoryError> {
    if force {
        db.clear(agent_id)?;
    }
    let found = scan(workspace);
    let known = db.files(agent_id)?;
    let mut report = SyncReport {
        files: found.files.len(),
        capped: found.capped,
        ..SyncReport::default()
    };
    let mut batch: Vec<(MemoryFileRow, Vec<NewChunk>)> = Vec::new();
    let now = openclaw_state::now_ms();
    for f in &found.files {
        let old = known.get(&f.rel);
        let same_stat =
            old.is_some_and(|o| o.size == f.size && o.mtime_ms == f.mtime_ms && o.error.is_none());
        if same_stat {
            report.unchanged += 1;
            if old.is_some_and(|o| o.truncated) {
                report.truncated.push(f.rel.clone());
            }
            continue;
        }
        let (row, chunks) = index_file(f);
        if let Some(e) = &row.error {
            report.failed.push((row.path.clone(), e.clone()));
        }
        if row.truncated {
            report.truncated.push(row.path.clone());
        }
        report.indexed += 1;
        batch.push((row, chunks));
        if batch.len() >= FILES_PER_TX {
            db.apply(agent_id, &batch, &[], now)?;
            batch.clear();
        }
    }
    // A file is gone when it was not found, unless its directory could not be listed.
    let seen: HashSet<&str> = found.files.iter().map(|f| f.rel.as_str()).collect();
    let blind: Vec<String> = found.errors.iter().map(|(p, _)| format!("{p}/")).collect();
    let removed: Vec<String> = known
        .keys()
        .filter(|p| !seen.contains(p.as_str()))
        .filter(|p| !found.capped && !blind.iter().any(|b| p.starts_with(b.as_str())))
        .filter(|p| !found.errors.iter().any(|(e, _)| e == *p))
        .cloned()
        .collect();
    report.removed = removed.len();
    db.apply(agent_id, &batch, &removed, now)?;
    for (p, e) in found.errors {
        report.failed.push((p, e));
    }
    Ok(report)
}
