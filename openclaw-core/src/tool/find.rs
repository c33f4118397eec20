//! The `find` tool, in-process: files and directories whose name matches a glob (fd's
//! `--glob` semantics, smart case; a pattern with `/` matches the relative path), hidden
//! entries included, `.gitignore` honoured even outside git, up to `limit` results.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use globset::GlobBuilder;
use serde_json::Value;

use super::listing::{LimitHit, listing_output, run_blocking};
use super::path::search_root;
use super::schema::schema_for;
use super::truncate::DEFAULT_MAX_BYTES;
use super::typed::parse_args;
use super::walk::{relative_posix, walker};
use super::{Tool, ToolCallContext, ToolEnv, ToolError, ToolOutput};
use crate::cancel::CancellationToken;

const DEFAULT_LIMIT: usize = 1000;

/// Arguments of `find`.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
pub struct FindArgs {
    /// Glob pattern to match files, e.g. '*.ts', '**/*.json', or 'src/**/*.spec.ts'
    pub pattern: String,
    /// Directory to search in (default: current directory)
    pub path: Option<String>,
    /// Maximum number of results (default: 1000)
    pub limit: Option<f64>,
}

/// The built-in `find` tool.
pub struct FindTool {
    env: Arc<ToolEnv>,
    description: String,
}

impl FindTool {
    pub fn new(env: Arc<ToolEnv>) -> Self {
        let description = format!(
            "Search for files by glob pattern. Returns matching file paths relative to the search directory. Respects .gitignore. Output is truncated to {DEFAULT_LIMIT} results or {}KB (whichever is hit first).",
            DEFAULT_MAX_BYTES / 1024
        );
        FindTool { env, description }
    }
}

#[async_trait]
impl Tool for FindTool {
    fn name(&self) -> &str {
        "find"
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn parameters(&self) -> Value {
        schema_for::<FindArgs>()
    }
    async fn execute(&self, args: Value, ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        let args: FindArgs = parse_args("find", args)?;
        let root = search_root(args.path.as_deref(), &self.env.cwd);
        run_blocking("find", &ctx.cancel, move |cancel| {
            find(&root, &args, cancel)
        })
        .await
    }
}

fn find(root: &Path, args: &FindArgs, cancel: &CancellationToken) -> Result<ToolOutput, ToolError> {
    if !root.exists() {
        return Err(ToolError::new(format!(
            "Path not found: {}",
            root.display()
        )));
    }
    let limit = args.limit.map_or(DEFAULT_LIMIT, |l| l.max(1.0) as usize);
    let by_path = args.pattern.contains('/');
    let pattern = args.pattern.trim_start_matches("./");
    let smart_case = !pattern.chars().any(char::is_uppercase);
    let glob = GlobBuilder::new(pattern)
        .literal_separator(by_path)
        .case_insensitive(smart_case)
        .build()
        .map_err(|e| ToolError::new(e.to_string()))?
        .compile_matcher();
    let mut results = Vec::new();
    for entry in walker(root, false, None) {
        if cancel.is_cancelled() {
            return Err(ToolError::new("Operation aborted"));
        }
        let Ok(entry) = entry else { continue };
        if entry.depth() == 0 {
            continue;
        }
        let rel = relative_posix(root, entry.path());
        let hit = if by_path {
            glob.is_match(&rel)
        } else {
            glob.is_match(entry.file_name())
        };
        if hit {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            results.push(if is_dir { format!("{rel}/") } else { rel });
            if results.len() >= limit {
                break;
            }
        }
    }
    if results.is_empty() {
        return Ok(ToolOutput::text("No files found matching pattern"));
    }
    let limit_hit = (results.len() >= limit).then(|| {
        LimitHit::count(
            limit,
            "results",
            ", or refine pattern",
            "resultLimitReached",
        )
    });
    Ok(listing_output(&results, limit_hit, None))
}

#[cfg(test)]
#[path = "find_tests.rs"]
mod tests;
