//! The pi session file format (v3 JSONL tree), the file store, context building, branching and compaction.
//!
//! - [`entry`] — the header and entry types, byte-compatible with pi 0.73.1.
//! - [`file`] — tolerant loading, v1/v2 migration, append-only and atomic writes.
//! - [`manager`] — [`SessionManager`], one session's tree, leaf, lazy persistence, fork/clone.
//! - [`listing`] — the sessions of a directory and the most recent one (`--continue`).
//! - [`context`] — the model's context from a root→leaf path.
//! - [`compaction`] — token estimates, the threshold, cut points, summarisation.
//! - [`stats`] — `get_session_stats`.
//!
//! Everything here uses `std` only and builds without the `tokio` feature.

pub mod compaction;
pub mod context;
pub mod entry;
mod fast_parse;
pub mod file;
mod index;
pub mod listing;
pub mod manager;
pub mod stats;

pub use compaction::{
    CompactionError, CompactionPreparation, CompactionSettings, SummaryRequest, compact,
    estimate_context_tokens, estimate_tokens, prepare_compaction, should_compact,
};
pub use context::{ContextModel, SessionContext, build_context};
pub use entry::{SessionEntry, SessionHeader};
pub use file::SessionError;
pub use listing::{SessionSummary, list_sessions, most_recent_session};
pub use manager::{ForkMessage, SessionManager, encode_cwd, session_file_name};
pub use stats::{ContextUsage, SessionStats, TokenStats, session_stats};
