//! The `ls` tool: a directory's entries, dotfiles included, sorted case-insensitively, with a
//! `/` after directories, limited to 500 entries and 50 KB.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::listing::{LimitHit, listing_output};
use super::path::search_root;
use super::schema::schema_for;
use super::truncate::DEFAULT_MAX_BYTES;
use super::typed::parse_args;
use super::{Tool, ToolCallContext, ToolEnv, ToolError, ToolOutput};

const DEFAULT_LIMIT: usize = 500;

/// Arguments of `ls`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct LsArgs {
    /// Directory to list (default: current directory)
    pub path: Option<String>,
    /// Maximum number of entries to return (default: 500)
    pub limit: Option<f64>,
}

/// The built-in `ls` tool.
pub struct LsTool {
    env: Arc<ToolEnv>,
    description: String,
}

impl LsTool {
    pub fn new(env: Arc<ToolEnv>) -> Self {
        let description = format!(
            "List directory contents. Returns entries sorted alphabetically, with '/' suffix for directories. Includes dotfiles. Output is truncated to {DEFAULT_LIMIT} entries or {}KB (whichever is hit first).",
            DEFAULT_MAX_BYTES / 1024
        );
        LsTool { env, description }
    }
}

#[async_trait]
impl Tool for LsTool {
    fn name(&self) -> &str {
        "ls"
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn parameters(&self) -> Value {
        schema_for::<LsArgs>()
    }
    async fn execute(&self, args: Value, ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        let args: LsArgs = parse_args("ls", args)?;
        if ctx.cancel.is_cancelled() {
            return Err(ToolError::new("Operation aborted"));
        }
        let dir = search_root(args.path.as_deref(), &self.env.cwd);
        let limit = args.limit.map_or(DEFAULT_LIMIT, |l| l.max(0.0) as usize);
        let meta = match tokio::fs::metadata(&dir).await {
            Ok(m) => m,
            Err(_) => {
                return Err(ToolError::new(format!("Path not found: {}", dir.display())));
            }
        };
        if !meta.is_dir() {
            return Err(ToolError::new(format!(
                "Not a directory: {}",
                dir.display()
            )));
        }
        let mut names = Vec::new();
        let mut rd = tokio::fs::read_dir(&dir)
            .await
            .map_err(|e| ToolError::new(format!("Cannot read directory: {e}")))?;
        while let Some(entry) = rd
            .next_entry()
            .await
            .map_err(|e| ToolError::new(format!("Cannot read directory: {e}")))?
        {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
        names.sort_by_cached_key(|n| n.to_lowercase());

        let mut results = Vec::new();
        let mut limit_reached = false;
        for name in names {
            if results.len() >= limit {
                limit_reached = true;
                break;
            }
            // Like pi's statSync: follows symlinks; entries that cannot be stat'ed are skipped.
            match tokio::fs::metadata(dir.join(&name)).await {
                Ok(m) if m.is_dir() => results.push(format!("{name}/")),
                Ok(_) => results.push(name),
                Err(_) => continue,
            }
        }
        if results.is_empty() {
            return Ok(ToolOutput::text("(empty directory)"));
        }
        let limit_hit =
            limit_reached.then(|| LimitHit::count(limit, "entries", "", "entryLimitReached"));
        Ok(listing_output(&results, limit_hit, None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn ls(dir: &std::path::Path, args: Value) -> Result<ToolOutput, ToolError> {
        LsTool::new(Arc::new(ToolEnv::new(dir)))
            .execute(args, ToolCallContext::detached("c"))
            .await
    }

    #[tokio::test]
    async fn sorted_case_insensitively_with_dir_slash_and_dotfiles() {
        let d = tempfile::tempdir().unwrap();
        for f in ["a.txt", ".hidden", "B.md", "c.txt"] {
            std::fs::write(d.path().join(f), "").unwrap();
        }
        std::fs::create_dir(d.path().join("src")).unwrap();
        let out = ls(d.path(), json!({})).await.unwrap();
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"{"content":[{"type":"text","text":".hidden\na.txt\nB.md\nc.txt\nsrc/"}]}"#
        );
        let out = ls(d.path(), json!({"limit": 2})).await.unwrap();
        assert_eq!(
            out.content[0].as_text().unwrap(),
            ".hidden\na.txt\n\n[2 entries limit reached. Use limit=4 for more]"
        );
        assert_eq!(out.details, Some(json!({"entryLimitReached": 2})));
    }

    #[tokio::test]
    async fn errors_and_empty() {
        let d = tempfile::tempdir().unwrap();
        let err = ls(d.path(), json!({"path": "nope"})).await.unwrap_err();
        assert_eq!(
            err.message,
            format!("Path not found: {}/nope", d.path().display())
        );
        std::fs::write(d.path().join("f"), "").unwrap();
        let err = ls(d.path(), json!({"path": "f"})).await.unwrap_err();
        assert_eq!(
            err.message,
            format!("Not a directory: {}/f", d.path().display())
        );
        std::fs::create_dir(d.path().join("e")).unwrap();
        let out = ls(d.path(), json!({"path": "e"})).await.unwrap();
        assert_eq!(out.content[0].as_text(), Some("(empty directory)"));
    }
}
