//! OpenClaw 2026.5's cron files: `<stateDir>/cron/jobs.json` (`{"version":1,"jobs":[…]}`,
//! each job without its runtime fields), the sidecar `jobs-state.json`
//! (`{"version":1,"jobs":{"<id>":{"updatedAtMs","state"}}}`) and `runs/<jobId>.jsonl` (one
//! run-log entry a line).
//!
//! - [`export`]: the jobs as `jobs.json` (`openclaw cron export`), to keep them in git;
//! - [`read`]: the three files for the one-time import at first start (`CronService::recover`
//!   hands them to `CronStore::import_cron`, which records the import). The files are only
//!   read. Definitions that cannot be read stop the import with an error naming the file
//!   (retried at the next start); a run-log line that cannot be read (say, cut by a crash)
//!   is skipped and counted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use openclaw_core::protocol::cron::{CronJob, CronJobState, CronRunLogEntry};
use serde::Deserialize;
use serde_json::{Value, json};

/// Where OpenClaw keeps the definitions, relative to the state dir (also the import's name).
pub const JOBS_FILE: &str = "cron/jobs.json";

/// `jobs` as OpenClaw's `jobs.json`: `state: {}`, no `updatedAtMs` or `configRevision`.
pub fn export(jobs: &[CronJob]) -> Value {
    let jobs: Vec<Value> = jobs
        .iter()
        .filter_map(|j| serde_json::to_value(j).ok())
        .map(|mut v| {
            if let Some(o) = v.as_object_mut() {
                o.remove("updatedAtMs");
                o.remove("configRevision");
                o.insert("state".into(), json!({}));
            }
            v
        })
        .collect();
    json!({"version": 1, "jobs": jobs})
}

#[derive(Deserialize)]
struct JobsFile {
    jobs: Vec<Value>,
}

#[derive(Deserialize)]
struct StateFile {
    #[serde(default)]
    jobs: HashMap<String, StateEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateEntry {
    updated_at_ms: Option<u64>,
    state: Option<CronJobState>,
}

/// What [`read`] found.
#[derive(Debug, Default)]
pub struct Found {
    pub jobs: Vec<CronJob>,
    pub entries: Vec<CronRunLogEntry>,
    /// Run-log lines skipped because they could not be read.
    pub skipped_lines: usize,
}

fn read_text(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The jobs (with the sidecar's state) and their history under `state_dir`; `None` without
/// `cron/jobs.json`.
pub fn read(state_dir: &Path, now_ms: u64) -> Result<Option<Found>, String> {
    let path = state_dir.join(JOBS_FILE);
    let Some(text) = read_text(&path)? else {
        return Ok(None);
    };
    let file: JobsFile = json5::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let sidecar = path.with_file_name("jobs-state.json");
    let states: HashMap<String, StateEntry> = match read_text(&sidecar)? {
        Some(t) => {
            json5::from_str::<StateFile>(&t)
                .map_err(|e| format!("{}: {e}", sidecar.display()))?
                .jobs
        }
        None => HashMap::new(),
    };
    let mut found = Found::default();
    for (i, mut v) in file.jobs.into_iter().enumerate() {
        let id = v.get("id").and_then(Value::as_str).unwrap_or("").to_owned();
        if id.is_empty() || id.contains(['/', '\\']) {
            return Err(format!("{}: job {i} has no usable id", path.display()));
        }
        let side = states.get(&id);
        if let Some(o) = v.as_object_mut() {
            let created = o
                .get("createdAtMs")
                .and_then(Value::as_u64)
                .unwrap_or(now_ms);
            let updated = side.and_then(|s| s.updated_at_ms).unwrap_or(created);
            o.entry("createdAtMs").or_insert(json!(created));
            o.entry("updatedAtMs").or_insert(json!(updated));
            o.remove("configRevision");
        }
        let mut job: CronJob =
            serde_json::from_value(v).map_err(|e| format!("{}: job {id}: {e}", path.display()))?;
        if let Some(state) = side.and_then(|s| s.state.clone()) {
            job.state = state;
        }
        // A run the old gateway had going has no receipt here: it is not resumed.
        job.state.running_at_ms = None;
        found.jobs.push(job);
    }
    for job in &found.jobs {
        let log = runs_file(state_dir, &job.id);
        let Some(text) = read_text(&log)? else {
            continue;
        };
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match serde_json::from_str::<CronRunLogEntry>(line) {
                Ok(mut e) if e.job_id == job.id => {
                    e.action = "finished".into();
                    found.entries.push(e);
                }
                _ => found.skipped_lines += 1,
            }
        }
    }
    Ok(Some(found))
}

fn runs_file(state_dir: &Path, job_id: &str) -> PathBuf {
    state_dir
        .join("cron")
        .join("runs")
        .join(format!("{job_id}.jsonl"))
}
