//! The arguments of `openclaw mcp`: the saved MCP server definitions under `mcp.servers`.

use clap::{Args, Subcommand};

use crate::cli::JsonFlag;

#[derive(Debug, Subcommand)]
pub enum McpCmd {
    /// The saved servers, sorted by name (never connects).
    List {
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Each server's transport, launch and settings, checked without connecting.
    Status {
        /// Timeouts and tool filters too.
        #[arg(long, short)]
        verbose: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Connect to the enabled servers (or one), list their tools and what they advertise.
    Probe {
        /// Only this server.
        name: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Save a server: `--command` (stdio) or `--url` (streamable HTTP). Probed before saving
    /// unless `--no-probe`.
    Add(Box<McpAddArgs>),
    /// Remove a saved server.
    #[command(alias = "unset")]
    Remove { name: String },
}

#[derive(Debug, Args)]
pub struct McpAddArgs {
    /// The server's name (its tools are called `<name>__<tool>`).
    pub name: String,
    /// Executable of a stdio server.
    #[arg(long, conflicts_with = "url")]
    pub command: Option<String>,
    /// One argument of the command (repeat for more).
    #[arg(long = "arg", value_name = "ARG", allow_hyphen_values = true)]
    pub args: Vec<String>,
    /// `KEY=VALUE` for the server's environment (repeat for more).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// Working directory of a stdio server.
    #[arg(long)]
    pub cwd: Option<String>,
    /// URL of a streamable HTTP server.
    #[arg(long)]
    pub url: Option<String>,
    /// `streamable-http` (the default for a URL) or `stdio`.
    #[arg(long)]
    pub transport: Option<String>,
    /// `Name: value` (or `Name=value`) header for an HTTP server (repeat for more).
    #[arg(long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// Only these tools (comma-separated names or `*` globs).
    #[arg(long)]
    pub include: Option<String>,
    /// Never these tools (comma-separated names or `*` globs).
    #[arg(long)]
    pub exclude: Option<String>,
    /// Per-call timeout in seconds (`requestTimeoutMs`).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
    /// Start-up timeout in seconds (`connectionTimeoutMs`).
    #[arg(long, value_name = "SECONDS")]
    pub connect_timeout: Option<u64>,
    /// Save without connecting first.
    #[arg(long)]
    pub no_probe: bool,
    /// Replace a server of that name.
    #[arg(long)]
    pub force: bool,
}
