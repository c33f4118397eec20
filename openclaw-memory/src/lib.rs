//! OpenClaw's workspace memory: `MEMORY.md` and the daily notes `memory/YYYY-MM-DD.md` made
//! searchable (docs/memory.md has what was researched).
//!
//! - `config`: [`MemorySettings`] from `memory.search` (and OpenClaw's legacy keys);
//! - `files`: which files are memory, finding them, `memory_get`'s safe bounded read;
//! - `chunk`: Markdown into chunks with line ranges;
//! - `index`: [`MemoryIndex`], the incremental index in the state database (openclaw-state's
//!   `MemoryDb`);
//! - `embed`: the OpenAI-compatible `/embeddings` client and the f32 blob format;
//! - `search`: keyword (FTS5 bm25) and hybrid ranking, OpenClaw's result shape;
//! - `tools`: the `memory_search` and `memory_get` tools;
//! - `flush`: the pre-compaction memory flush prompt;
//! - `testing` (feature): a loopback embeddings server with deterministic vectors.

pub mod chunk;
pub mod config;
pub mod embed;
pub mod files;
pub mod flush;
pub mod index;
pub mod search;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tools;

pub use config::{
    EmbeddingEndpoint, MemorySettings, memory_flush_enabled, memory_flush_soft_tokens,
};
pub use embed::{EmbedError, Embedder};
pub use flush::{FlushPlan, flush_plan, flush_plan_now};
pub use index::{MemoryError, MemoryIndex, SyncReport};
pub use search::{SearchHit, SearchRequest, SearchResponse, search};
pub use tools::{MEMORY_GET, MEMORY_SEARCH, MEMORY_TOOL_NAMES, MemoryContext, memory_tools};
