//! An MCP server's tool as one of the agent's tools: the namespaced name, the server's
//! description and input schema as they are, and a call that goes to the supervised server.

use std::sync::Arc;

use async_trait::async_trait;
use openclaw_core::tool::{McpOrigin, Tool, ToolCallContext, ToolError, ToolOutput};
use serde_json::Value;

use crate::server::{ListedTool, Server};

/// One MCP tool.
pub struct McpTool {
    server: Arc<Server>,
    /// `<server>__<tool>`, what the model calls.
    name: String,
    tool: String,
    description: String,
    schema: Value,
}

impl McpTool {
    pub fn new(server: Arc<Server>, name: String, listed: &ListedTool) -> McpTool {
        let description = listed
            .description
            .clone()
            .filter(|d| !d.trim().is_empty())
            .or_else(|| listed.title.clone())
            .unwrap_or_else(|| format!("MCP tool {} from server {}", listed.name, server.name));
        McpTool {
            name,
            tool: listed.name.clone(),
            description,
            schema: listed.input_schema.clone(),
            server,
        }
    }

    /// The server's own name for the tool.
    pub fn tool_name(&self) -> &str {
        &self.tool
    }

    pub fn server_name(&self) -> &str {
        &self.server.name
    }
}

#[async_trait]
impl Tool for McpTool {
    fn name(&self) -> &str {
        &self.name
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn parameters(&self) -> Value {
        self.schema.clone()
    }
    fn mcp_origin(&self) -> Option<McpOrigin> {
        Some(McpOrigin {
            server: self.server.name.clone(),
            tool: self.tool.clone(),
        })
    }
    async fn execute(&self, args: Value, ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        // Progress lines become partial results (`details.status: "progress"`), at most one
        // every 200 ms: a server may send them as fast as it likes.
        let sink = ctx.on_update.clone();
        let last = std::sync::Mutex::new(None::<std::time::Instant>);
        let progress: crate::server::ProgressSink = Arc::new(move |line: String| {
            let mut last = openclaw_core::sync::lock(&last);
            if last.is_some_and(|t| t.elapsed() < std::time::Duration::from_millis(200)) {
                return;
            }
            *last = Some(std::time::Instant::now());
            sink(ToolOutput::text(line).with_details(serde_json::json!({"status": "progress"})));
        });
        let result = self
            .server
            .call(&self.tool, args, &ctx.cancel, Some(progress))
            .await
            .map_err(|e| ToolError {
                message: e,
                details: Some(serde_json::json!({
                    "mcpServer": self.server.name,
                    "mcpTool": self.tool,
                    "status": "error",
                })),
            })?;
        crate::content::project(&self.server.name, &self.tool, result)
    }
}
