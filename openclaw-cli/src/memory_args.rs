//! The arguments of `openclaw memory` (OpenClaw's `status`, `index` and `search`).

use clap::Subcommand;

use crate::cli::JsonFlag;

#[derive(Debug, Subcommand)]
pub enum MemoryCmd {
    /// Each agent's memory index: files, chunks, files that could not be indexed, embeddings.
    Status {
        /// Only this agent (default: every agent).
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        /// Also ask the embedding endpoint for one vector.
        #[arg(long)]
        deep: bool,
        /// Bring the index up to date first.
        #[arg(long)]
        index: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Bring the index up to date with the workspace's memory files (everything again with
    /// `--force`).
    Index {
        /// Only this agent (default: every agent).
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        /// Rebuild from scratch instead of updating what changed.
        #[arg(long)]
        force: bool,
        /// Print provider, model and per-file problems.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Search an agent's memory as `memory_search` does.
    Search {
        /// What to look for.
        query: Option<String>,
        /// What to look for (wins over the positional query).
        #[arg(long = "query", value_name = "TEXT")]
        query_flag: Option<String>,
        /// The agent (default: the default agent).
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        /// At most this many results.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
        max_results: Option<u32>,
        /// Drop results scoring below this.
        #[arg(long, value_name = "N")]
        min_score: Option<f64>,
        #[command(flatten)]
        json: JsonFlag,
    },
}
