//! openclaw-rs's MCP client, on the official Rust SDK (`rmcp`): OpenClaw's `mcp.servers`
//! (`config`) — stdio servers (`stdio`: own process group, env filter, stderr into the log)
//! and streamable HTTP servers over `http://` or `https://` (`http`, trusted as `trust` says) — each supervised (`server`: lazy start, crash restart
//! with backoff, call timeouts, cancellation), their tools with OpenClaw's namespaced names
//! (`names`), admitted per agent by the tool policy (`policy`), as agent tools (`tool`) whose results are projected as OpenClaw does (`content`),
//! and the set of a process's servers (`manager`). A crate of its own so the embeddable core
//! carries no MCP SDK; the gateway and the CLI link it.

mod client;
pub mod config;
pub mod content;
mod http;
pub mod manager;
pub mod names;
pub mod policy;
pub mod probe;
pub mod server;
pub mod stdio;
pub mod tool;
mod trust;

/// Where a server's lifecycle lines and stderr go (the gateway: its `logs/gateway.log`). Lines
/// carry no secrets: stderr is the server's own text, capped per line and in rate.
pub type LogSink = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// A sink that hands lines to `tracing` (info level, target `mcp`).
pub fn tracing_sink() -> LogSink {
    std::sync::Arc::new(|line: &str| tracing::info!(target: "mcp", "{line}"))
}

pub use config::{McpConfig, ServerConfig, ToolFilter, TransportKind};
pub use manager::McpManager;
pub use server::{Server, ServerStatus};
pub use tool::McpTool;
