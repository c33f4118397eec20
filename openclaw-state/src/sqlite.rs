//! [`SqliteStore`]: the [`StateStore`] over `<stateDir>/state.sqlite` (rusqlite, bundled SQLite).
//!
//! Settings, chosen for a daemon that must survive `kill -9` and share its file with the CLI:
//! - `journal_mode=WAL`: readers never block the writer, and a crash leaves the last committed
//!   transaction in place;
//! - `synchronous=NORMAL`: with WAL a commit survives a process crash; only a power cut can lose
//!   the last commits (the database stays consistent). The transcripts, which hold the
//!   conversation itself, are the files that matter there, and FULL would fsync on every turn;
//! - `busy_timeout=5s`: the gateway and a CLI command writing at once wait for each other
//!   instead of failing;
//! - one connection behind a mutex, one short transaction per change;
//! - hot statements prepared once (`prepare_cached`), with the query planner's stability
//!   guarantee on so that a bound `LIMIT ?` does not force a re-preparation on every run.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use crate::row::{SessionMeta, SessionOrder, SessionPage, SessionQuery, SessionRow, TurnRecord};
use crate::{StateError, StateResult, StateStore, paths, schema};

/// How long a writer waits for another process's transaction.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Prepared statements kept per connection (the session queries plus the list variants).
const STATEMENT_CACHE: usize = 64;

const COLUMNS: &str =
    "key, agent_id, session_id, transcript, started_at, updated_at, label, spawned_by, meta";

/// The SQLite state store of one state dir.
pub struct SqliteStore {
    state_dir: PathBuf,
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (or creates) the state dir's database, migrates it, and imports OpenClaw's
    /// `sessions.json` files not imported yet. An unreadable database or import file is an
    /// error naming it; nothing is overwritten.
    pub fn open(state_dir: &Path) -> StateResult<Self> {
        openclaw_core::fsutil::create_private_dir(state_dir)?;
        let path = paths::database(state_dir);
        let created = !path.exists();
        let mut conn = Self::connect(&path).map_err(|source| StateError::Open {
            path: path.clone(),
            source,
        })?;
        if created {
            restrict(&path);
        }
        schema::migrate(&mut conn).map_err(|e| match e {
            StateError::Sql(source) => StateError::Open {
                path: path.clone(),
                source,
            },
            other => other,
        })?;
        crate::import::import_all(&mut conn, state_dir)?;
        Ok(SqliteStore {
            state_dir: state_dir.to_path_buf(),
            path,
            conn: Mutex::new(conn),
        })
    }

    /// A connection with the settings of the module docs (no migration).
    pub fn connect(path: &Path) -> rusqlite::Result<Connection> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Every statement on a hot path is prepared once per connection (`prepare_cached`):
        // parsing SQL was an eighth of the gateway's CPU per turn.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        // The query planner's stability guarantee: without it a bound `LIMIT ?` (every page
        // query) marks the statement for re-preparation on each run, so the cache above
        // saved nothing for them (a fifth of the gateway's CPU in `health`).
        conn.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
            true,
        )?;
        // Reading the schema first makes a damaged or foreign file fail here, by name.
        conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!("{}: journal mode is {mode}, not WAL", path.display());
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(conn)
    }

    /// Inserts or replaces many rows in one transaction (imports, benchmarks).
    pub fn put_many(&self, rows: &[SessionRow]) -> StateResult<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for row in rows {
            put(&tx, row)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// SQLite's plan for the page query of `q` (`EXPLAIN QUERY PLAN` details), so tests can
    /// check that a page is read through an index rather than by sorting the table.
    pub fn list_plan(&self, q: &SessionQuery) -> StateResult<Vec<String>> {
        let conn = self.conn();
        let (sql, args) = page_sql(q);
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                r.get::<_, String>(3)
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Owner-only: the index names every conversation.
fn restrict(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Err(e) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            tracing::warn!("cannot make {} owner-only: {e}", path.display());
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// A row from the `COLUMNS` of a query.
fn read_row(r: &Row<'_>) -> rusqlite::Result<(SessionRow, String)> {
    let key: String = r.get(0)?;
    let row = SessionRow {
        key,
        agent_id: r.get(1)?,
        session_id: r.get(2)?,
        transcript: r.get(3)?,
        session_started_at: r.get::<_, Option<i64>>(4)?.map(|n| n.max(0) as u64),
        updated_at: r.get::<_, i64>(5)?.max(0) as u64,
        label: r.get(6)?,
        spawned_by: r.get(7)?,
        meta: SessionMeta::default(),
    };
    Ok((row, r.get(8)?))
}

/// The row with its `meta` parsed (a damaged `meta` is an error naming the key).
fn typed((mut row, meta): (SessionRow, String)) -> StateResult<SessionRow> {
    row.meta = serde_json::from_str(&meta).map_err(|e| StateError::BadRow {
        key: row.key.clone(),
        reason: e.to_string(),
    })?;
    Ok(row)
}

fn meta_json(row: &SessionRow) -> StateResult<String> {
    serde_json::to_string(&row.meta).map_err(|e| StateError::BadRow {
        key: row.key.clone(),
        reason: e.to_string(),
    })
}

fn get(conn: &Connection, key: &str) -> StateResult<Option<SessionRow>> {
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE key = ?1");
    conn.prepare_cached(&sql)?
        .query_row([key], read_row)
        .optional()?
        .map(typed)
        .transpose()
}

fn put(conn: &Connection, row: &SessionRow) -> StateResult<()> {
    let sql = format!(
        "INSERT INTO sessions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (key) DO UPDATE SET agent_id = excluded.agent_id,
           session_id = excluded.session_id, transcript = excluded.transcript,
           started_at = excluded.started_at, updated_at = excluded.updated_at,
           label = excluded.label, spawned_by = excluded.spawned_by, meta = excluded.meta"
    );
    execute_row(conn, &sql, row)?;
    Ok(())
}

/// Inserts `row` unless its key exists (the import never overwrites newer state).
pub(crate) fn insert_new(conn: &Connection, row: &SessionRow) -> StateResult<bool> {
    let sql = format!(
        "INSERT OR IGNORE INTO sessions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    );
    Ok(execute_row(conn, &sql, row)? == 1)
}

/// Runs `sql` with `row`'s columns bound as `?1`…`?9`, in [`COLUMNS`] order; the rows changed.
fn execute_row(conn: &Connection, sql: &str, row: &SessionRow) -> StateResult<usize> {
    Ok(conn.prepare_cached(sql)?.execute(params![
        row.key,
        row.agent_id,
        row.session_id,
        row.transcript,
        row.session_started_at.map(|n| n as i64),
        row.updated_at as i64,
        row.label,
        row.spawned_by,
        meta_json(row)?,
    ])?)
}

/// `?n, ?m, …` for `values`, pushed onto `args`.
fn marks_for(values: &[String], args: &mut Vec<rusqlite::types::Value>) -> String {
    let marks: Vec<String> = values
        .iter()
        .map(|v| {
            args.push(rusqlite::types::Value::Text(v.clone()));
            format!("?{}", args.len())
        })
        .collect();
    marks.join(", ")
}

/// The `ORDER BY` of a query (its keys pushed onto `args`): `updatedAt` alone uses the index.
fn order(q: &SessionQuery, args: &mut Vec<rusqlite::types::Value>) -> String {
    let mut terms = Vec::new();
    if !q.first_keys.is_empty() {
        let marks = marks_for(&q.first_keys, args);
        terms.push(format!("(key IN ({marks})) DESC"));
    }
    if q.order == SessionOrder::LastInteractionAt {
        terms.push("COALESCE(json_extract(meta, '$.lastInteractionAt'), 0) DESC".to_owned());
    }
    terms.push("updated_at DESC, key".to_owned());
    terms.join(", ")
}

/// The `WHERE` clause and parameters of a query.
fn filter(q: &SessionQuery) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value as V;
    let mut clauses = Vec::new();
    let mut args: Vec<V> = Vec::new();
    if let Some(agents) = &q.agent_ids {
        let marks = marks_for(agents, &mut args);
        clauses.push(format!("agent_id IN ({marks})"));
    }
    if let Some(since) = q.updated_since {
        args.push(V::Integer(since as i64));
        clauses.push(format!("updated_at >= ?{}", args.len()));
    }
    if let Some(label) = &q.label {
        args.push(V::Text(label.clone()));
        clauses.push(format!("label = ?{}", args.len()));
    }
    if let Some(parent) = &q.spawned_by {
        args.push(V::Text(parent.clone()));
        clauses.push(format!("spawned_by = ?{}", args.len()));
    }
    if let Some(s) = &q.search {
        let escaped = s
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        args.push(V::Text(format!("%{escaped}%")));
        let n = args.len();
        clauses.push(format!(
            "(key LIKE ?{n} ESCAPE '\\' OR label LIKE ?{n} ESCAPE '\\' \
             OR json_extract(meta, '$.displayName') LIKE ?{n} ESCAPE '\\')"
        ));
    }
    if let Some(archived) = q.archived {
        args.push(V::Integer(archived.into()));
        clauses.push(format!(
            "COALESCE(json_extract(meta, '$.archived'), 0) = ?{}",
            args.len()
        ));
    }
    if let Some(keys) = &q.keys {
        let marks = marks_for(keys, &mut args);
        clauses.push(format!("key IN ({marks})"));
    }
    // The part of a canonical key after `agent:<agentId>:`.
    const REST: &str = "substr(key, length(agent_id) + 8)";
    if q.exclude.subagents {
        clauses.push(format!(
            "spawned_by IS NULL AND substr({REST}, 1, 9) <> 'subagent:'"
        ));
    }
    if q.exclude.cron {
        clauses.push(format!("substr({REST}, 1, 5) <> 'cron:'"));
    }
    if q.exclude.system {
        clauses.push(format!(
            "substr({REST}, 1, 5) <> 'hook:' AND substr({REST}, 1, 9) <> 'heartbeat' \
             AND substr({REST}, 1, 6) <> 'system'"
        ));
    }
    let clause = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    (clause, args)
}

/// The page query of `q` and its parameters.
fn page_sql(q: &SessionQuery) -> (String, Vec<rusqlite::types::Value>) {
    let (clause, mut args) = filter(q);
    let order = order(q, &mut args);
    args.push(rusqlite::types::Value::Integer(
        q.limit.map_or(-1, |l| l.min(i64::MAX as usize) as i64),
    ));
    args.push(rusqlite::types::Value::Integer(
        q.offset.min(i64::MAX as usize) as i64,
    ));
    let sql = format!(
        "SELECT {COLUMNS} FROM sessions {clause} ORDER BY {order} \
         LIMIT ?{} OFFSET ?{}",
        args.len() - 1,
        args.len()
    );
    (sql, args)
}

fn only_agents(q: &SessionQuery) -> bool {
    q.updated_since.is_none()
        && q.label.is_none()
        && q.spawned_by.is_none()
        && q.search.is_none()
        && q.archived.is_none()
        && q.keys.is_none()
        && q.exclude == crate::row::KindFilter::default()
}

fn count(conn: &Connection, agent_id: Option<&str>) -> StateResult<u64> {
    let n: i64 = match agent_id {
        Some(a) => conn
            .prepare_cached("SELECT n FROM session_counts WHERE agent_id = ?1")?
            .query_row([a], |r| r.get(0))
            .optional()?
            .unwrap_or(0),
        None => conn.query_row("SELECT COALESCE(SUM(n), 0) FROM session_counts", [], |r| {
            r.get(0)
        })?,
    };
    Ok(n.max(0) as u64)
}

impl StateStore for SqliteStore {
    fn routes(&self) -> Option<&dyn crate::RouteStore> {
        Some(self)
    }

    fn cron_run_sessions_before(
        &self,
        cutoff_ms: u64,
        limit: usize,
    ) -> StateResult<Vec<SessionRow>> {
        // The range on the `updated_at` index bounds the scan; the key pattern filters it.
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions WHERE updated_at < ?1 \
             AND key GLOB 'agent:*:cron:*:run:*' ORDER BY updated_at LIMIT ?2"
        );
        let conn = self.conn();
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(params![cutoff_ms as i64, limit as i64], read_row)?;
        rows.map(|r| typed(r?)).collect()
    }

    fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn session(&self, key: &str) -> StateResult<Option<SessionRow>> {
        get(&self.conn(), key)
    }

    fn session_by_id(&self, session_id: &str) -> StateResult<Option<SessionRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sessions WHERE session_id = ?1 ORDER BY updated_at DESC LIMIT 1"
        );
        self.conn()
            .prepare_cached(&sql)?
            .query_row([session_id], read_row)
            .optional()?
            .map(typed)
            .transpose()
    }

    fn put_session(&self, row: &SessionRow) -> StateResult<()> {
        put(&self.conn(), row)
    }

    fn update_session(
        &self,
        key: &str,
        change: &mut dyn FnMut(&mut SessionRow),
    ) -> StateResult<Option<SessionRow>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let Some(mut row) = get(&tx, key)? else {
            return Ok(None);
        };
        change(&mut row);
        row.key = key.to_owned();
        put(&tx, &row)?;
        tx.commit()?;
        Ok(Some(row))
    }

    fn delete_session(&self, key: &str) -> StateResult<Option<SessionRow>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let old = get(&tx, key)?;
        if old.is_some() {
            tx.prepare_cached("DELETE FROM sessions WHERE key = ?1")?
                .execute([key])?;
        }
        tx.commit()?;
        Ok(old)
    }

    fn record_turn(&self, key: &str, t: &TurnRecord) -> StateResult<()> {
        // The counters and fields live in `meta`: SQLite's JSON functions change them in
        // place, so a turn is one statement whatever the row holds.
        self.conn()
            .prepare_cached(
                "UPDATE sessions SET updated_at = ?2, meta = json_set(meta,
                '$.lastInteractionAt', ?2,
                '$.lastRunId', ?3,
                '$.model', COALESCE(?4, json_extract(meta, '$.model')),
                '$.modelProvider', COALESCE(?5, json_extract(meta, '$.modelProvider')),
                '$.inputTokens', COALESCE(json_extract(meta, '$.inputTokens'), 0) + ?6,
                '$.outputTokens', COALESCE(json_extract(meta, '$.outputTokens'), 0) + ?7,
                '$.totalTokens', COALESCE(json_extract(meta, '$.totalTokens'), 0) + ?8,
                '$.contextTokens', COALESCE(?9, json_extract(meta, '$.contextTokens')))
             WHERE key = ?1",
            )?
            .execute(params![
                key,
                t.at as i64,
                t.run_id,
                t.model,
                t.model_provider,
                t.input_tokens as i64,
                t.output_tokens as i64,
                t.total_tokens as i64,
                t.context_tokens.map(|n| n as i64),
            ])?;
        Ok(())
    }

    fn list_sessions(&self, q: &SessionQuery) -> StateResult<SessionPage> {
        let conn = self.conn();
        let (clause, args) = filter(q);
        let total = match (&q.agent_ids, only_agents(q)) {
            (None, true) => count(&conn, None)?,
            (Some(agents), true) => {
                let mut n = 0;
                for a in agents {
                    n += count(&conn, Some(a))?;
                }
                n
            }
            _ => {
                let sql = format!("SELECT COUNT(*) FROM sessions {clause}");
                let n: i64 =
                    conn.query_row(&sql, rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
                n.max(0) as u64
            }
        };
        let (sql, args) = page_sql(q);
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), read_row)?
            .map(|r| r.map_err(StateError::from).and_then(typed))
            .collect::<StateResult<Vec<_>>>()?;
        Ok(SessionPage { rows, total })
    }

    fn count_sessions(&self, agent_id: Option<&str>) -> StateResult<u64> {
        count(&self.conn(), agent_id)
    }
}
