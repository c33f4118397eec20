//! The database schema and its versioned migrations. `PRAGMA user_version` holds the version;
//! [`migrate`] applies the missing steps in one transaction, so a database is either at its
//! old version or at the new one. A database from a newer build is refused, never touched.
//!
//! Adding a store is one more entry in [`MIGRATIONS`].

use rusqlite::{Connection, TransactionBehavior};

use crate::StateError;

/// Step `i` takes a database from version `i` to `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // 1: the session index. Columns for what queries filter or sort on; the rest of an
    // entry is `meta`, the JSON of `SessionMeta`. `imports` remembers which OpenClaw
    // `sessions.json` files were imported.
    "CREATE TABLE sessions (
        key         TEXT PRIMARY KEY NOT NULL,
        agent_id    TEXT NOT NULL,
        session_id  TEXT,
        transcript  TEXT,
        started_at  INTEGER,
        updated_at  INTEGER NOT NULL,
        label       TEXT,
        spawned_by  TEXT,
        meta        TEXT NOT NULL DEFAULT '{}'
    ) WITHOUT ROWID;
    CREATE INDEX sessions_by_agent_updated ON sessions (agent_id, updated_at DESC);
    CREATE INDEX sessions_by_updated ON sessions (updated_at DESC);
    CREATE INDEX sessions_by_session_id ON sessions (session_id);
    CREATE INDEX sessions_by_label ON sessions (label) WHERE label IS NOT NULL;
    CREATE TABLE imports (
        path        TEXT PRIMARY KEY NOT NULL,
        imported_at INTEGER NOT NULL,
        entries     INTEGER NOT NULL
    );",
    // 2: per-agent session counts kept by triggers, so `health` and an unfiltered
    // `sessions.list` count in constant time.
    "CREATE TABLE session_counts (
        agent_id TEXT PRIMARY KEY NOT NULL,
        n        INTEGER NOT NULL
    );
    INSERT INTO session_counts (agent_id, n)
        SELECT agent_id, COUNT(*) FROM sessions GROUP BY agent_id;
    CREATE TRIGGER sessions_count_insert AFTER INSERT ON sessions BEGIN
        INSERT INTO session_counts (agent_id, n) VALUES (new.agent_id, 1)
            ON CONFLICT (agent_id) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER sessions_count_delete AFTER DELETE ON sessions BEGIN
        UPDATE session_counts SET n = n - 1 WHERE agent_id = old.agent_id;
    END;
    CREATE TRIGGER sessions_count_move AFTER UPDATE OF agent_id ON sessions
        WHEN old.agent_id <> new.agent_id BEGIN
        UPDATE session_counts SET n = n - 1 WHERE agent_id = old.agent_id;
        INSERT INTO session_counts (agent_id, n) VALUES (new.agent_id, 1)
            ON CONFLICT (agent_id) DO UPDATE SET n = n + 1;
    END;",
    // 3: approvals (exec now; plugin and system-agent later), pending and past. `request` is
    // the JSON of the request as the gateway announced it.
    "CREATE TABLE approvals (
        id           TEXT PRIMARY KEY NOT NULL,
        kind         TEXT NOT NULL,
        status       TEXT NOT NULL,
        decision     TEXT,
        reason       TEXT,
        request      TEXT NOT NULL,
        agent_id     TEXT,
        session_key  TEXT,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        resolved_at  INTEGER,
        resolved_by  TEXT,
        resolver     TEXT
    ) WITHOUT ROWID;
    CREATE INDEX approvals_pending ON approvals (created_at) WHERE status = 'pending';
    CREATE INDEX approvals_by_created ON approvals (created_at DESC, id DESC);",
    // 4: cron jobs and their run history. `job` is the job as OpenClaw's 9.6 JSON; the other
    // columns are what the scheduler and lists read. A `cron_runs` row is a run's receipt
    // while `status = 'running'` (written before the run starts) and its run-log entry
    // (`entry`, the JSON of `CronRunLogEntry`) once finished; `seq` orders a job's history.
    "CREATE TABLE cron_jobs (
        id          TEXT PRIMARY KEY NOT NULL,
        agent_id    TEXT,
        name        TEXT NOT NULL,
        enabled     INTEGER NOT NULL,
        next_run_at INTEGER,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        job         TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX cron_jobs_due ON cron_jobs (next_run_at) WHERE enabled = 1;
    CREATE TABLE cron_runs (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id          TEXT NOT NULL,
        run_id          TEXT,
        status          TEXT NOT NULL,
        started_at      INTEGER,
        ts              INTEGER NOT NULL,
        delivery_status TEXT,
        bytes           INTEGER NOT NULL DEFAULT 0,
        entry           TEXT
    );
    CREATE INDEX cron_runs_by_job ON cron_runs (job_id, seq);
    CREATE UNIQUE INDEX cron_runs_by_run_id ON cron_runs (run_id) WHERE run_id IS NOT NULL;
    CREATE INDEX cron_runs_running ON cron_runs (seq) WHERE status = 'running';",
    // 5: messaging channels. `channel_ingress` is the durable inbound queue: a message is
    // committed here (with the account's cursor in `channel_cursors`, same transaction) before
    // the platform is told it was received; `dedupe_key` drops a redelivered one. `status`
    // moves pending → running (attempts + 1) → replied (the reply text kept) → done, so a
    // crash replays a run at most once and resends only the chunks not recorded in `sent`.
    // DM pairing (`channel_pairing_requests`, one row per sender, kept after approval or
    // dismissal so a stranger is answered at most once per TTL) and the senders it approved
    // (`channel_pairing_allow_entries`); `channel_sends` remembers each `send` by its
    // idempotency key.
    "CREATE TABLE channel_ingress (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        channel     TEXT NOT NULL,
        account_id  TEXT NOT NULL,
        dedupe_key  TEXT NOT NULL,
        status      TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        received_at INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        message     TEXT NOT NULL,
        reply       TEXT,
        sent        TEXT NOT NULL DEFAULT '[]',
        error       TEXT
    );
    CREATE UNIQUE INDEX channel_ingress_dedupe ON channel_ingress (channel, account_id, dedupe_key);
    CREATE INDEX channel_ingress_open ON channel_ingress (id)
        WHERE status IN ('pending', 'running', 'replied');
    CREATE TABLE channel_cursors (
        channel     TEXT NOT NULL,
        account_id  TEXT NOT NULL,
        cursor      TEXT NOT NULL,
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (channel, account_id)
    ) WITHOUT ROWID;
    CREATE TABLE channel_pairing_requests (
        channel      TEXT NOT NULL,
        account_id   TEXT NOT NULL,
        sender_id    TEXT NOT NULL,
        code         TEXT NOT NULL,
        status       TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        expires_at   INTEGER NOT NULL,
        meta         TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (channel, account_id, sender_id)
    ) WITHOUT ROWID;
    CREATE TABLE channel_pairing_allow_entries (
        channel     TEXT NOT NULL,
        account_id  TEXT NOT NULL,
        entry       TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (channel, account_id, entry)
    ) WITHOUT ROWID;
    CREATE TABLE channel_sends (
        idempotency_key TEXT PRIMARY KEY NOT NULL,
        channel         TEXT NOT NULL,
        result          TEXT NOT NULL,
        created_at      INTEGER NOT NULL
    ) WITHOUT ROWID;",
    // 6: heartbeats: per agent, what the cost guard and the `tasks:` block remember and the
    // tokens heartbeats spent (acks are pruned from transcripts, so they are counted here).
    "CREATE TABLE heartbeat_state (
        agent_id   TEXT PRIMARY KEY,
        updated_at INTEGER NOT NULL,
        state      TEXT NOT NULL
    ) WITHOUT ROWID;",
    // 7: the memory index (`memory.rs`): per agent, the workspace's memory files as last
    // indexed (size, mtime, content hash; `error` when one could not be read) and their chunks
    // with line ranges, an FTS5 index over the chunks' text (external content, kept by
    // triggers) and, when embeddings are configured, each chunk's vector as a little-endian
    // f32 blob with the model that made it.
    "CREATE TABLE memory_files (
        agent_id   TEXT NOT NULL,
        path       TEXT NOT NULL,
        size       INTEGER NOT NULL,
        mtime_ms   INTEGER NOT NULL,
        hash       TEXT NOT NULL,
        chunks     INTEGER NOT NULL,
        truncated  INTEGER NOT NULL DEFAULT 0,
        error      TEXT,
        indexed_at INTEGER NOT NULL,
        PRIMARY KEY (agent_id, path)
    ) WITHOUT ROWID;
    CREATE TABLE memory_chunks (
        id         INTEGER PRIMARY KEY,
        agent_id   TEXT NOT NULL,
        path       TEXT NOT NULL,
        start_line INTEGER NOT NULL,
        end_line   INTEGER NOT NULL,
        hash       TEXT NOT NULL,
        text       TEXT NOT NULL,
        model      TEXT,
        embedding  BLOB
    );
    CREATE INDEX memory_chunks_by_file ON memory_chunks (agent_id, path);
    CREATE INDEX memory_chunks_by_model ON memory_chunks (agent_id, model);
    CREATE VIRTUAL TABLE memory_fts USING fts5(
        text, agent_id, content = 'memory_chunks', content_rowid = 'id',
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER memory_chunks_fts_insert AFTER INSERT ON memory_chunks BEGIN
        INSERT INTO memory_fts (rowid, text, agent_id) VALUES (new.id, new.text, new.agent_id);
    END;
    CREATE TRIGGER memory_chunks_fts_delete AFTER DELETE ON memory_chunks BEGIN
        INSERT INTO memory_fts (memory_fts, rowid, text, agent_id)
            VALUES ('delete', old.id, old.text, old.agent_id);
    END;
    CREATE TRIGGER memory_chunks_fts_update AFTER UPDATE OF text, agent_id ON memory_chunks BEGIN
        INSERT INTO memory_fts (memory_fts, rowid, text, agent_id)
            VALUES ('delete', old.id, old.text, old.agent_id);
        INSERT INTO memory_fts (rowid, text, agent_id) VALUES (new.id, new.text, new.agent_id);
    END;
    CREATE TABLE memory_agents (
        agent_id    TEXT PRIMARY KEY NOT NULL,
        workspace   TEXT NOT NULL,
        synced_at   INTEGER NOT NULL,
        embed_note  TEXT
    ) WITHOUT ROWID;",
    // 8: conversation routes: per session key, the channel conversation it last talked in
    // (heartbeat `target: "last"`, cron `channel: "last"`, the automations tool's default
    // delivery).
    "CREATE TABLE conversation_routes (
        session_key TEXT PRIMARY KEY,
        agent_id    TEXT NOT NULL,
        channel     TEXT NOT NULL,
        account_id  TEXT NOT NULL,
        peer        TEXT NOT NULL,
        thread_id   TEXT,
        chat_type   TEXT NOT NULL,
        sender      TEXT,
        updated_at  INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX conversation_routes_agent ON conversation_routes (agent_id, updated_at);",
];

/// The version this build writes.
pub const CURRENT: u32 = MIGRATIONS.len() as u32;

/// The database's version.
pub fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Brings the database to [`CURRENT`] (nothing to do when it is there already).
pub fn migrate(conn: &mut Connection) -> Result<(), StateError> {
    migrate_to(conn, CURRENT)
}

/// Brings the database to `target` (tests build older schemas with it).
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<(), StateError> {
    let found = version(conn)?;
    if found > CURRENT {
        return Err(StateError::TooNew {
            found,
            supported: CURRENT,
        });
    }
    if found >= target {
        return Ok(());
    }
    // IMMEDIATE: two processes opening a new database at once migrate it once.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let found = version(&tx)?;
    for (step, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(target as usize)
        .skip(found as usize)
    {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", step as u32 + 1)?;
    }
    tx.commit()?;
    Ok(())
}
