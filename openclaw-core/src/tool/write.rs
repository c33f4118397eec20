//! The `write` tool: create or overwrite a file, creating parent directories.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::path::{node_io_error, resolve_to_cwd};
use super::schema::schema_for;
use super::typed::parse_args;
use super::{Tool, ToolCallContext, ToolEnv, ToolError, ToolOutput};

/// Arguments of `write`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct WriteArgs {
    /// Path to the file to write (relative or absolute)
    pub path: String,
    /// Content to write to the file
    pub content: String,
}

/// The built-in `write` tool.
pub struct WriteTool {
    env: Arc<ToolEnv>,
}

impl WriteTool {
    pub fn new(env: Arc<ToolEnv>) -> Self {
        WriteTool { env }
    }
}

#[async_trait]
impl Tool for WriteTool {
    fn name(&self) -> &str {
        "write"
    }
    fn description(&self) -> &str {
        "Write content to a file. Creates the file if it doesn't exist, overwrites if it does. Automatically creates parent directories."
    }
    fn parameters(&self) -> Value {
        schema_for::<WriteArgs>()
    }
    async fn execute(&self, args: Value, ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        let args: WriteArgs = parse_args("write", args)?;
        if ctx.cancel.is_cancelled() {
            return Err(ToolError::new("Operation aborted"));
        }
        let abs = resolve_to_cwd(&args.path, &self.env.cwd);
        if let Some(parent) = abs.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| ToolError::new(node_io_error(&e, "mkdir", parent)))?;
        }
        if ctx.cancel.is_cancelled() {
            return Err(ToolError::new("Operation aborted"));
        }
        tokio::fs::write(&abs, args.content.as_bytes())
            .await
            .map_err(|e| ToolError::new(node_io_error(&e, "open", &abs)))?;
        // pi reports the JavaScript string length (UTF-16 units), not bytes.
        let units = args.content.encode_utf16().count();
        Ok(ToolOutput::text(format!(
            "Successfully wrote {units} bytes to {}",
            args.path
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn writes_with_parents_and_reports_utf16_length() {
        let dir = tempfile::tempdir().unwrap();
        let tool = WriteTool::new(Arc::new(ToolEnv::new(dir.path())));
        let out = tool
            .execute(
                json!({"path": "out/new.txt", "content": "fresh\ncontent\n"}),
                ToolCallContext::detached("c"),
            )
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"{"content":[{"type":"text","text":"Successfully wrote 14 bytes to out/new.txt"}]}"#
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out/new.txt")).unwrap(),
            "fresh\ncontent\n"
        );
        // Overwrite; "é😀" is 2 chars... 3 UTF-16 units, 6 bytes.
        let out = tool
            .execute(
                json!({"path": "out/new.txt", "content": "é😀"}),
                ToolCallContext::detached("c"),
            )
            .await
            .unwrap();
        assert_eq!(
            out.content[0].as_text(),
            Some("Successfully wrote 3 bytes to out/new.txt")
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out/new.txt")).unwrap(),
            "é😀"
        );
    }

    #[tokio::test]
    async fn unwritable_path_is_a_tool_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("file"), "x").unwrap();
        let tool = WriteTool::new(Arc::new(ToolEnv::new(dir.path())));
        let err = tool
            .execute(
                json!({"path": "file/sub.txt", "content": "x"}),
                ToolCallContext::detached("c"),
            )
            .await
            .unwrap_err();
        assert!(err.message.contains("file"), "{}", err.message);
    }
}
