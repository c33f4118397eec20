//! The cron store: jobs (`cron_jobs`: the job as OpenClaw's 9.6 JSON, plus the columns the
//! scheduler and lists filter on) and their run history (`cron_runs`), including the receipt
//! of a run that has started and not finished (`status = 'running'`).
//!
//! Exactly-once rests on two transactions: [`CronStore::begin_cron_run`] writes the job's new
//! state (its next run advanced, `runningAtMs` set) and the `running` receipt together, before
//! the run starts; [`CronStore::finish_cron_run`] writes the finished entry and the job's state
//! (or removes the job) together. A receipt still `running` when the gateway starts belongs to
//! a run the old process never finished: it is settled as `interrupted`, never run again.
//! History is pruned per job by count and by bytes after each finished entry.

use openclaw_core::protocol::cron::{CronJob, CronRunLogEntry};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use crate::{SqliteStore, StateError, StateResult};

/// How much history a job keeps (OpenClaw: `keepLines` 2000, `maxBytes` 2,000,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLogLimits {
    pub max_entries: u64,
    pub max_bytes: u64,
}

impl Default for RunLogLimits {
    fn default() -> Self {
        Self {
            max_entries: 2_000,
            max_bytes: 2_000_000,
        }
    }
}

/// A run that started and has not finished (as stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningReceipt {
    pub job_id: String,
    pub run_id: String,
    pub started_at_ms: u64,
}

/// Which entries `cron.runs` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunQuery {
    pub job_id: Option<String>,
    pub run_id: Option<String>,
    /// `ok`, `error`, `skipped` (any when empty).
    pub statuses: Vec<String>,
    pub delivery_statuses: Vec<String>,
    /// Case-insensitive text inside the entry.
    pub text: Option<String>,
    pub newest_first: bool,
    pub offset: u64,
    pub limit: u64,
}

/// A page of entries and how many match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunPage {
    pub entries: Vec<CronRunLogEntry>,
    pub total: u64,
}

/// The cron part of the state store.
pub trait CronStore: Send + Sync {
    /// Every job, in creation order.
    fn cron_jobs(&self) -> StateResult<Vec<CronJob>>;
    /// The job `id`.
    fn cron_job(&self, id: &str) -> StateResult<Option<CronJob>>;
    /// Inserts `job` or replaces the job with its id.
    fn put_cron_job(&self, job: &CronJob) -> StateResult<()>;
    /// Removes the job (its history stays, pruned as usual); false when there was none.
    fn delete_cron_job(&self, id: &str) -> StateResult<bool>;
    /// Records that `run_id` started: `job` (its state already advanced) and a `running`
    /// receipt, in one transaction. Fails when the receipt exists (a run id starts once).
    fn begin_cron_run(&self, job: &CronJob, run_id: &str, started_at_ms: u64) -> StateResult<()>;
    /// Records a finished run, skip or error: the entry (replacing its `running` receipt if
    /// any) and the job's new state, or its removal when `job` is `None`, in one transaction.
    fn finish_cron_run(
        &self,
        job_id: &str,
        job: Option<&CronJob>,
        entry: &CronRunLogEntry,
        limits: RunLogLimits,
    ) -> StateResult<()>;
    /// Runs that started and never finished.
    fn running_cron_runs(&self) -> StateResult<Vec<RunningReceipt>>;
    /// A page of finished entries.
    fn cron_runs(&self, q: &RunQuery) -> StateResult<RunPage>;
    /// Imports OpenClaw's cron files once: unless `source` is recorded in `imports`, inserts
    /// the jobs whose id is not taken yet (a job already here wins) and the history entries of
    /// the jobs it inserted, and records `source`, in one transaction. Returns (jobs, entries)
    /// inserted, or `None` when `source` was imported before.
    fn import_cron(
        &self,
        source: &str,
        jobs: &[CronJob],
        entries: &[CronRunLogEntry],
        limits: RunLogLimits,
    ) -> StateResult<Option<(usize, usize)>>;
}

fn bad(key: &str, e: impl std::fmt::Display) -> StateError {
    StateError::BadRow {
        key: key.to_owned(),
        reason: e.to_string(),
    }
}

fn job_json(job: &CronJob) -> StateResult<String> {
    serde_json::to_string(job).map_err(|e| bad(&job.id, e))
}

fn put_job(tx: &Transaction<'_>, job: &CronJob) -> StateResult<()> {
    tx.execute(
        "INSERT INTO cron_jobs (id, agent_id, name, enabled, next_run_at, created_at, \
         updated_at, job) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
         ON CONFLICT (id) DO UPDATE SET agent_id = ?2, name = ?3, enabled = ?4, \
         next_run_at = ?5, updated_at = ?7, job = ?8",
        params![
            job.id,
            job.agent_id,
            job.name,
            job.enabled,
            job.state.next_run_at_ms.map(|n| n as i64),
            job.created_at_ms as i64,
            job.updated_at_ms as i64,
            job_json(job)?,
        ],
    )?;
    Ok(())
}

fn parse_job(id: &str, text: &str) -> StateResult<CronJob> {
    serde_json::from_str(text).map_err(|e| bad(id, format!("cron job: {e}")))
}

/// Drops `job_id`'s oldest finished entries beyond the count and byte limits.
fn prune(tx: &Transaction<'_>, job_id: &str, limits: RunLogLimits) -> StateResult<()> {
    tx.execute(
        "DELETE FROM cron_runs WHERE seq IN (
            SELECT seq FROM (
                SELECT seq,
                       ROW_NUMBER() OVER (ORDER BY seq DESC) AS n,
                       SUM(bytes) OVER (ORDER BY seq DESC) AS acc
                FROM cron_runs WHERE job_id = ?1 AND status <> 'running'
            ) WHERE n > ?2 OR acc > ?3
        )",
        params![job_id, limits.max_entries as i64, limits.max_bytes as i64],
    )?;
    Ok(())
}

impl CronStore for SqliteStore {
    fn cron_jobs(&self) -> StateResult<Vec<CronJob>> {
        let conn = self.conn();
        let mut stmt = conn.prepare("SELECT id, job FROM cron_jobs ORDER BY created_at, id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|r| {
            let (id, text) = r?;
            parse_job(&id, &text)
        })
        .collect()
    }

    fn cron_job(&self, id: &str) -> StateResult<Option<CronJob>> {
        let conn = self.conn();
        let text: Option<String> = conn
            .query_row("SELECT job FROM cron_jobs WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        text.map(|t| parse_job(id, &t)).transpose()
    }

    fn put_cron_job(&self, job: &CronJob) -> StateResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        put_job(&tx, job)?;
        tx.commit()?;
        Ok(())
    }

    fn delete_cron_job(&self, id: &str) -> StateResult<bool> {
        let conn = self.conn();
        Ok(conn.execute("DELETE FROM cron_jobs WHERE id = ?1", [id])? == 1)
    }

    fn begin_cron_run(&self, job: &CronJob, run_id: &str, started_at_ms: u64) -> StateResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        put_job(&tx, job)?;
        tx.execute(
            "INSERT INTO cron_runs (job_id, run_id, status, started_at, ts, bytes) \
             VALUES (?1, ?2, 'running', ?3, ?3, 0)",
            params![job.id, run_id, started_at_ms as i64],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn finish_cron_run(
        &self,
        job_id: &str,
        job: Option<&CronJob>,
        entry: &CronRunLogEntry,
        limits: RunLogLimits,
    ) -> StateResult<()> {
        let text = serde_json::to_string(entry).map_err(|e| bad(job_id, e))?;
        let status = entry.status.map(|s| s.as_str()).unwrap_or("error");
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let args = params![
            job_id,
            entry.run_id,
            status,
            entry.run_at_ms.map(|n| n as i64),
            entry.ts as i64,
            entry.delivery_status,
            text.len() as i64,
            text,
        ];
        let replaced = match &entry.run_id {
            Some(_) => tx.execute(
                "UPDATE cron_runs SET status = ?3, started_at = COALESCE(?4, started_at), \
                 ts = ?5, delivery_status = ?6, bytes = ?7, entry = ?8 \
                 WHERE run_id = ?2 AND job_id = ?1 AND status = 'running'",
                args,
            )?,
            None => 0,
        };
        if replaced == 0 {
            tx.execute(
                "INSERT INTO cron_runs (job_id, run_id, status, started_at, ts, \
                 delivery_status, bytes, entry) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                args,
            )?;
        }
        match job {
            Some(j) => put_job(&tx, j)?,
            None => {
                tx.execute("DELETE FROM cron_jobs WHERE id = ?1", [job_id])?;
            }
        }
        prune(&tx, job_id, limits)?;
        tx.commit()?;
        Ok(())
    }

    fn import_cron(
        &self,
        source: &str,
        jobs: &[CronJob],
        entries: &[CronRunLogEntry],
        limits: RunLogLimits,
    ) -> StateResult<Option<(usize, usize)>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let done: Option<i64> = tx
            .query_row("SELECT 1 FROM imports WHERE path = ?1", [source], |r| {
                r.get(0)
            })
            .optional()?;
        if done.is_some() {
            return Ok(None);
        }
        let mut added = std::collections::HashSet::new();
        for job in jobs {
            let taken: Option<i64> = tx
                .query_row("SELECT 1 FROM cron_jobs WHERE id = ?1", [&job.id], |r| {
                    r.get(0)
                })
                .optional()?;
            if taken.is_none() {
                put_job(&tx, job)?;
                added.insert(job.id.clone());
            }
        }
        let mut n = 0;
        for e in entries.iter().filter(|e| added.contains(&e.job_id)) {
            let text = serde_json::to_string(e).map_err(|err| bad(&e.job_id, err))?;
            let status = e.status.map(|s| s.as_str()).unwrap_or("error");
            // A run id seen twice keeps its first entry.
            n += tx.execute(
                "INSERT OR IGNORE INTO cron_runs (job_id, run_id, status, started_at, ts, \
                 delivery_status, bytes, entry) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    e.job_id,
                    e.run_id,
                    status,
                    e.run_at_ms.map(|n| n as i64),
                    e.ts as i64,
                    e.delivery_status,
                    text.len() as i64,
                    text,
                ],
            )?;
        }
        for id in &added {
            prune(&tx, id, limits)?;
        }
        tx.execute(
            "INSERT INTO imports (path, imported_at, entries) VALUES (?1, ?2, ?3)",
            params![source, crate::now_ms() as i64, added.len() as i64],
        )?;
        tx.commit()?;
        Ok(Some((added.len(), n)))
    }

    fn running_cron_runs(&self) -> StateResult<Vec<RunningReceipt>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT job_id, run_id, started_at FROM cron_runs WHERE status = 'running' \
             ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(RunningReceipt {
                job_id: r.get(0)?,
                run_id: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                started_at_ms: r.get::<_, Option<i64>>(2)?.unwrap_or(0).max(0) as u64,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn cron_runs(&self, q: &RunQuery) -> StateResult<RunPage> {
        let conn = self.conn();
        let statuses = serde_json::to_string(&q.statuses).map_err(|e| bad("cron.runs", e))?;
        let deliveries =
            serde_json::to_string(&q.delivery_statuses).map_err(|e| bad("cron.runs", e))?;
        let filter = "status <> 'running' \
             AND (?1 IS NULL OR job_id = ?1) AND (?2 IS NULL OR run_id = ?2) \
             AND (?3 = '[]' OR status IN (SELECT value FROM json_each(?3))) \
             AND (?4 = '[]' OR delivery_status IN (SELECT value FROM json_each(?4))) \
             AND (?5 IS NULL OR instr(lower(entry), lower(?5)) > 0)";
        let args = params![q.job_id, q.run_id, statuses, deliveries, q.text];
        let total: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM cron_runs WHERE {filter}"),
            args,
            |r| r.get(0),
        )?;
        let dir = if q.newest_first { "DESC" } else { "ASC" };
        let mut stmt = conn.prepare(&format!(
            "SELECT job_id, entry FROM cron_runs WHERE {filter} ORDER BY seq {dir} \
             LIMIT ?6 OFFSET ?7"
        ))?;
        let rows = stmt.query_map(
            params![
                q.job_id,
                q.run_id,
                statuses,
                deliveries,
                q.text,
                q.limit as i64,
                q.offset as i64
            ],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)),
        )?;
        let mut entries = Vec::new();
        for row in rows {
            let (job_id, text) = row?;
            let text = text.unwrap_or_default();
            entries.push(
                serde_json::from_str(&text).map_err(|e| bad(&job_id, format!("run entry: {e}")))?,
            );
        }
        Ok(RunPage {
            entries,
            total: total.max(0) as u64,
        })
    }
}
