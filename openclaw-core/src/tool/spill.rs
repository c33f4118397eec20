//! A command's output: a rolling window of the last chunks (at least 100 KB) in memory and,
//! once the output passes 50 KB, the whole of it — up to a cap — in a temp file
//! `pi-bash-<16 hex>.log` that a truncated tool result points at. The file is removed when the
//! collector is dropped unless a result needs it ([`OutputCollector::keep`]); kept files live
//! in a [`SpillFiles`] set that holds only the newest few and removes the rest, and all of them
//! when the set (the engine's tool environment) goes away.

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::truncate::DEFAULT_MAX_BYTES;

/// How many spill files one tool environment keeps for its results.
pub const KEPT_SPILL_FILES: usize = 8;

/// The spill files a tool environment keeps for the results that point at them.
#[derive(Debug, Clone, Default)]
pub struct SpillFiles(Arc<Mutex<Kept>>);

#[derive(Debug, Default)]
struct Kept(VecDeque<PathBuf>);

impl Drop for Kept {
    fn drop(&mut self) {
        for p in self.0.drain(..) {
            let _ = std::fs::remove_file(p);
        }
    }
}

impl PartialEq for SpillFiles {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl SpillFiles {
    /// Keeps `path`; the oldest file beyond [`KEPT_SPILL_FILES`] is removed.
    pub fn keep(&self, path: PathBuf) {
        let mut kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.0.push_back(path);
        while kept.0.len() > KEPT_SPILL_FILES {
            if let Some(old) = kept.0.pop_front() {
                let _ = std::fs::remove_file(old);
            }
        }
    }

    /// The files kept now, oldest first.
    pub fn paths(&self) -> Vec<PathBuf> {
        let kept = self.0.lock().unwrap_or_else(|p| p.into_inner());
        kept.0.iter().cloned().collect()
    }
}

/// Collects a command's output (see the module doc).
#[derive(Debug)]
pub struct OutputCollector {
    chunks: VecDeque<Vec<u8>>,
    chunk_bytes: usize,
    total_bytes: usize,
    spill: Option<(PathBuf, std::fs::File)>,
    /// Bytes written to the spill file, and where it stops.
    spilled: u64,
    max_file_bytes: u64,
    kept: bool,
}

impl Default for OutputCollector {
    fn default() -> Self {
        Self::new(super::limits::ExecSettings::default().output_file_max_bytes)
    }
}

impl Drop for OutputCollector {
    fn drop(&mut self) {
        if let Some((path, _)) = &self.spill {
            if !self.kept {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

impl OutputCollector {
    /// A collector whose spill file stops at `max_file_bytes` (0: no spill file).
    pub fn new(max_file_bytes: u64) -> Self {
        OutputCollector {
            chunks: VecDeque::new(),
            chunk_bytes: 0,
            total_bytes: 0,
            spill: None,
            spilled: 0,
            max_file_bytes,
            kept: false,
        }
    }

    fn write_spill(&mut self, data: &[u8]) {
        if let Some((_, f)) = &mut self.spill {
            let room = self.max_file_bytes.saturating_sub(self.spilled);
            let n = (data.len() as u64).min(room) as usize;
            if n > 0 && f.write_all(&data[..n]).is_ok() {
                self.spilled += n as u64;
            }
        }
    }

    /// Add a chunk.
    pub fn push(&mut self, data: &[u8]) {
        self.total_bytes += data.len();
        if self.total_bytes > DEFAULT_MAX_BYTES {
            self.ensure_spill_file();
        }
        self.write_spill(data);
        self.chunks.push_back(data.to_vec());
        self.chunk_bytes += data.len();
        while self.chunk_bytes > DEFAULT_MAX_BYTES * 2 && self.chunks.len() > 1 {
            if let Some(old) = self.chunks.pop_front() {
                self.chunk_bytes -= old.len();
            }
        }
    }

    /// Start the temp file (with everything so far) if there is none yet; the output is then
    /// complete in it (up to the cap), since the rolling window only drops chunks after the
    /// file exists.
    pub fn ensure_spill_file(&mut self) -> Option<&Path> {
        if self.spill.is_none() && self.max_file_bytes > 0 {
            let name = format!("pi-bash-{:016x}.log", rand::random::<u64>());
            let path = std::env::temp_dir().join(name);
            if let Ok(f) = std::fs::File::create(&path) {
                self.spill = Some((path, f));
                let chunks = std::mem::take(&mut self.chunks);
                for c in &chunks {
                    self.write_spill(c);
                }
                self.chunks = chunks;
            }
        }
        self.full_output_path()
    }

    /// Every byte seen.
    pub fn total_bytes(&self) -> usize {
        self.total_bytes
    }

    /// Whether the spill file stopped at its cap before the output ended.
    pub fn spill_capped(&self) -> bool {
        self.spill.is_some() && (self.total_bytes as u64) > self.spilled
    }

    /// The rolling window as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        let mut all = Vec::with_capacity(self.chunk_bytes);
        for c in &self.chunks {
            all.extend_from_slice(c);
        }
        String::from_utf8_lossy(&all).into_owned()
    }

    /// The temp file holding the full output, once there is one.
    pub fn full_output_path(&self) -> Option<&Path> {
        self.spill.as_ref().map(|(p, _)| p.as_path())
    }

    /// Flush the temp file.
    pub fn finish(&mut self) {
        if let Some((_, f)) = &mut self.spill {
            let _ = f.flush();
        }
    }

    /// A result points at the spill file: hand it to `files` instead of removing it on drop.
    pub fn keep(&mut self, files: &SpillFiles) {
        if let Some((path, _)) = &self.spill {
            if !self.kept {
                self.kept = true;
                files.keep(path.clone());
            }
        }
    }
}
