//! Tools the model can call: the [`Tool`] trait, and (with the `tokio` feature) the built-ins
//! `read`, `write`, `edit`, `bash`, `grep`, `find` and `ls` with pi's semantics and limits.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::cancel::CancellationToken;
pub use crate::event::ToolOutput;

pub mod path;
pub mod schema;
pub mod truncate;
pub mod typed;

#[cfg(feature = "tokio")]
pub mod bash;
#[cfg(feature = "tokio")]
mod edit;
#[cfg(feature = "tokio")]
mod edit_diff;
#[cfg(feature = "tokio")]
mod find;
#[cfg(feature = "tokio")]
mod grep;
#[cfg(feature = "tokio")]
pub mod image;
#[cfg(feature = "tokio")]
pub mod limits;
#[cfg(feature = "tokio")]
mod listing;
#[cfg(feature = "tokio")]
mod ls;
#[cfg(feature = "tokio")]
pub mod proctree;
#[cfg(feature = "tokio")]
mod read;
#[cfg(feature = "tokio")]
mod registry;
#[cfg(feature = "tokio")]
pub mod shell;
#[cfg(feature = "tokio")]
pub mod spill;
#[cfg(feature = "tokio")]
mod walk;
#[cfg(feature = "tokio")]
mod write;

pub use schema::{schema_for, validate_arguments};
pub use typed::{TypedTool, parse_args, typed_tool};

#[cfg(feature = "tokio")]
pub use bash::BashTool;
#[cfg(feature = "tokio")]
pub use edit::EditTool;
#[cfg(feature = "tokio")]
pub use edit_diff::generate_diff;
#[cfg(feature = "tokio")]
pub use find::FindTool;
#[cfg(feature = "tokio")]
pub use grep::GrepTool;
#[cfg(feature = "tokio")]
pub use limits::{ExecConfig, ExecSettings, ShellLimits};
#[cfg(feature = "tokio")]
pub use ls::LsTool;
#[cfg(feature = "tokio")]
pub use read::ReadTool;
#[cfg(feature = "tokio")]
pub use registry::{
    ALL_TOOL_NAMES, DEFAULT_TOOL_NAMES, ToolEnv, all_tools, builtin_tool, builtin_tools,
    default_tools,
};
#[cfg(feature = "tokio")]
pub use shell::{
    BashResult, ExtraEnv, ShellCommand, ShellOutcome, run_rpc_bash, run_shell, sanitize_output,
};
#[cfg(feature = "tokio")]
pub use spill::{OutputCollector, SpillFiles};
#[cfg(feature = "tokio")]
pub use write::WriteTool;

/// Receives a tool's streamed partial results (each one replaces the previous).
pub type UpdateSink = Arc<dyn Fn(ToolOutput) + Send + Sync>;

/// A failed tool call. The message reaches the model as the tool result's text, with
/// `isError: true`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ToolError {
    pub message: String,
    /// Optional structured details (pi sends `{}` when a tool throws).
    pub details: Option<Value>,
}

impl ToolError {
    /// An error with just a message.
    pub fn new(message: impl Into<String>) -> Self {
        ToolError {
            message: message.into(),
            details: None,
        }
    }
}

/// One call of a tool.
#[derive(Clone)]
pub struct ToolCallContext {
    /// The model's id for this call.
    pub call_id: String,
    /// Cancelled when the run is aborted: stop at once, kill child processes.
    pub cancel: CancellationToken,
    /// Where streamed partial results go.
    pub on_update: UpdateSink,
}

impl ToolCallContext {
    /// A context with no update listener, for direct calls and tests.
    pub fn detached(call_id: impl Into<String>) -> Self {
        ToolCallContext {
            call_id: call_id.into(),
            cancel: CancellationToken::new(),
            on_update: Arc::new(|_| {}),
        }
    }
}

/// Where an MCP tool comes from (see [`Tool::mcp_origin`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpOrigin {
    /// The server's name in `mcp.servers`.
    pub server: String,
    /// The tool's name on that server (not the namespaced name the model sees).
    pub tool: String,
}

/// The name, description and JSON-schema parameters a model is shown for a tool.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: Value,
}

/// A tool the agent can call.
#[async_trait]
pub trait Tool: Send + Sync {
    /// The name the model calls it by.
    fn name(&self) -> &str;
    /// What it does, for the model.
    fn description(&self) -> &str;
    /// The JSON schema of its arguments object.
    fn parameters(&self) -> Value;
    /// Rewrite raw model arguments before validation (pi's `prepareArguments`), e.g. to fold a
    /// legacy argument form into the current one. The default keeps them as they are.
    fn prepare_arguments(&self, args: Value) -> Value {
        args
    }
    /// Run the call. `args` has already been validated against [`Tool::parameters`].
    async fn execute(&self, args: Value, ctx: ToolCallContext) -> Result<ToolOutput, ToolError>;

    /// For a tool an MCP server provides: the configured server name and the server's own
    /// tool name, which the exec policy's `mcpTools` grants name. Built-ins answer `None`.
    fn mcp_origin(&self) -> Option<McpOrigin> {
        None
    }

    /// The spec shown to the model.
    fn spec(&self) -> ToolSpec {
        ToolSpec {
            name: self.name().to_string(),
            description: self.description().to_string(),
            parameters: self.parameters(),
        }
    }
}
