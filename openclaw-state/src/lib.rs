//! The gateway's durable state, shared by the gateway and the CLI: one SQLite database per state
//! dir (`<stateDir>/state.sqlite`) behind the [`StateStore`] trait, so a server database can
//! replace it without touching callers.
//!
//! - `row`: the typed records (the session index row, a turn's bookkeeping, list queries);
//! - `sqlite`: [`SqliteStore`], the implementation (WAL, `synchronous=NORMAL`, busy timeout,
//!   one short transaction per change);
//! - `schema`: versioned migrations (`PRAGMA user_version`);
//! - `import`: OpenClaw's `agents/<id>/sessions/sessions.json`, imported once, left untouched;
//! - `paths`: where things live, transcript paths relative to the state dir;
//! - `approvals`: [`ApprovalStore`], approvals pending and past (`approval.history`);
//! - `channels`: [`ChannelStore`], the durable inbound queue of the messaging channels, DM
//!   pairing and `send` receipts;
//! - `cron`: [`CronStore`], cron jobs and their run history (receipts of started runs too);
//! - `heartbeat`: [`HeartbeatStore`], per agent heartbeat state (cost guard, task times, tokens);
//! - `memory`: [`MemoryDb`], the memory index (files, chunks, FTS5, vectors) on its own connection;
//! - `lock`: [`GatewayLock`], one gateway per state dir.
//!
//! Transcripts are not here: they stay pi-format JSONL files (openclaw-core's `session`), and a
//! row names its file relative to the state dir.

mod approvals;
mod channels;
mod cron;
mod heartbeat;
mod import;
pub mod lock;
mod memory;
pub mod paths;
mod routes;
mod row;
pub mod schema;
mod sqlite;

use std::path::{Path, PathBuf};

pub use approvals::{ApprovalRow, ApprovalStatus, ApprovalStore, Settlement};
pub use channels::{ChannelStore, IngressRow, IngressStatus, PairingOutcome, PairingRequest};
pub use cron::{CronStore, RunLogLimits, RunPage, RunQuery, RunningReceipt};
pub use heartbeat::{HeartbeatState, HeartbeatStore};
pub use lock::{GatewayLock, LockHolder};
pub use memory::{ChunkHit, MemoryAgentRow, MemoryCounts, MemoryDb, MemoryFileRow, NewChunk};
pub use routes::{ConversationRoute, RouteStore};
pub use row::{
    KindFilter, SessionMeta, SessionOrder, SessionPage, SessionQuery, SessionRow, TurnRecord,
};
pub use sqlite::SqliteStore;

/// What can go wrong with the state store. Every variant names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the state database {path} cannot be used: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the state database failed: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(
        "the state database was written by a newer openclaw (schema {found}; this build knows up \
         to {supported}); it is left untouched"
    )]
    TooNew { found: u32, supported: u32 },
    #[error(
        "cannot import {path}: {reason}; the file is left untouched (fix or move it, then start \
         again)"
    )]
    Import { path: PathBuf, reason: String },
    #[error("a stored session row for {key} is unreadable: {reason}")]
    BadRow { key: String, reason: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// The result of a store call.
pub type StateResult<T> = Result<T, StateError>;

/// The state behind the gateway and the CLI. Every change is written through at once (one
/// short transaction, one row): no caller keeps a copy it could write back later.
pub trait StateStore: Send + Sync {
    /// The state dir the stored transcript paths are relative to.
    fn state_dir(&self) -> &Path;

    /// Where the state lives (shown to users: `sessions.list`'s `path`).
    fn location(&self) -> String;

    /// The row of `key`.
    fn session(&self, key: &str) -> StateResult<Option<SessionRow>>;

    /// The row whose `sessionId` is `session_id` (the most recently updated one).
    fn session_by_id(&self, session_id: &str) -> StateResult<Option<SessionRow>>;

    /// Inserts `row`, or replaces the row with its key.
    fn put_session(&self, row: &SessionRow) -> StateResult<()>;

    /// Changes the row of `key` in one transaction (read, `change`, write; no writer can
    /// slip in between). `None` when there is no such row; nothing is written then.
    fn update_session(
        &self,
        key: &str,
        change: &mut dyn FnMut(&mut SessionRow),
    ) -> StateResult<Option<SessionRow>>;

    /// Removes the row of `key` and returns it.
    fn delete_session(&self, key: &str) -> StateResult<Option<SessionRow>>;

    /// Records a finished turn on `key` (timestamps, model, token counters): one `UPDATE`.
    fn record_turn(&self, key: &str, turn: &TurnRecord) -> StateResult<()>;

    /// A page of rows, newest first, and how many match.
    fn list_sessions(&self, query: &SessionQuery) -> StateResult<SessionPage>;

    /// How many rows `agent_id` has (all agents when `None`), in constant time.
    fn count_sessions(&self, agent_id: Option<&str>) -> StateResult<u64>;

    /// The file a row's transcript path names (see [`paths::resolve`]).
    fn transcript_path(&self, row: &SessionRow) -> Option<PathBuf> {
        row.transcript
            .as_deref()
            .and_then(|t| paths::resolve(self.state_dir(), t))
    }

    /// Up to `limit` isolated cron run sessions (`agent:<id>:cron:<job>:run:<id>`) last
    /// updated before `cutoff_ms`, oldest first (`cron.sessionRetention`).
    fn cron_run_sessions_before(
        &self,
        _cutoff_ms: u64,
        _limit: usize,
    ) -> StateResult<Vec<SessionRow>> {
        Ok(Vec::new())
    }

    /// The conversation routes of this store, when it keeps them.
    fn routes(&self) -> Option<&dyn RouteStore> {
        None
    }
}

/// Milliseconds since the Unix epoch: [`openclaw_core::message::now_ms`], unsigned for stored
/// timestamps (a clock before 1970 reads as 0).
pub fn now_ms() -> u64 {
    u64::try_from(openclaw_core::message::now_ms()).unwrap_or(0)
}
