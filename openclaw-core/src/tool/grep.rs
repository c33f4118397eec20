//! The `grep` tool, in-process with ripgrep's crates: regex or literal search over a file or a
//! directory tree (hidden files included, `.gitignore` honoured, optional glob filter), up to
//! `limit` matches, formatted `path:N: text` with `path-N- text` context lines.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use grep_regex::RegexMatcherBuilder;
use grep_searcher::sinks::Lossy;
use grep_searcher::{BinaryDetection, SearcherBuilder};
use ignore::overrides::OverrideBuilder;
use serde_json::Value;

use super::listing::{LimitHit, listing_output, run_blocking};
use super::path::search_root;
use super::schema::schema_for;
use super::truncate::{DEFAULT_MAX_BYTES, GREP_MAX_LINE_LENGTH, truncate_line};
use super::typed::parse_args;
use super::walk::{relative_posix, walker};
use super::{Tool, ToolCallContext, ToolEnv, ToolError, ToolOutput};
use crate::cancel::CancellationToken;

const DEFAULT_LIMIT: usize = 100;

/// Arguments of `grep`.
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrepArgs {
    /// Search pattern (regex or literal string)
    pub pattern: String,
    /// Directory or file to search (default: current directory)
    pub path: Option<String>,
    /// Filter files by glob pattern, e.g. '*.ts' or '**/*.spec.ts'
    pub glob: Option<String>,
    /// Case-insensitive search (default: false)
    pub ignore_case: Option<bool>,
    /// Treat pattern as literal string instead of regex (default: false)
    pub literal: Option<bool>,
    /// Number of lines to show before and after each match (default: 0)
    pub context: Option<f64>,
    /// Maximum number of matches to return (default: 100)
    pub limit: Option<f64>,
}

/// The built-in `grep` tool.
pub struct GrepTool {
    env: Arc<ToolEnv>,
    description: String,
}

impl GrepTool {
    pub fn new(env: Arc<ToolEnv>) -> Self {
        let description = format!(
            "Search file contents for a pattern. Returns matching lines with file paths and line numbers. Respects .gitignore. Output is truncated to {DEFAULT_LIMIT} matches or {}KB (whichever is hit first). Long lines are truncated to {GREP_MAX_LINE_LENGTH} chars.",
            DEFAULT_MAX_BYTES / 1024
        );
        GrepTool { env, description }
    }
}

#[async_trait]
impl Tool for GrepTool {
    fn name(&self) -> &str {
        "grep"
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn parameters(&self) -> Value {
        schema_for::<GrepArgs>()
    }
    async fn execute(&self, args: Value, ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        let args: GrepArgs = parse_args("grep", args)?;
        let root = search_root(args.path.as_deref(), &self.env.cwd);
        run_blocking("grep", &ctx.cancel, move |cancel| {
            grep(&root, &args, cancel)
        })
        .await
    }
}

/// The search itself (blocking).
fn grep(root: &Path, args: &GrepArgs, cancel: &CancellationToken) -> Result<ToolOutput, ToolError> {
    let is_dir = match std::fs::metadata(root) {
        Ok(m) => m.is_dir(),
        Err(_) => {
            return Err(ToolError::new(format!(
                "Path not found: {}",
                root.display()
            )));
        }
    };
    let context = args.context.filter(|c| *c > 0.0).map_or(0, |c| c as usize);
    let limit = args.limit.map_or(DEFAULT_LIMIT, |l| l.max(1.0) as usize);
    let matcher = RegexMatcherBuilder::new()
        .case_insensitive(args.ignore_case.unwrap_or(false))
        .fixed_strings(args.literal.unwrap_or(false))
        .line_terminator(Some(b'\n'))
        .build(&args.pattern)
        .map_err(|e| ToolError::new(e.to_string()))?;
    let overrides = match &args.glob {
        Some(g) => {
            let mut ob = OverrideBuilder::new(if is_dir { root } else { Path::new("/") });
            ob.add(g).map_err(|e| ToolError::new(e.to_string()))?;
            Some(ob.build().map_err(|e| ToolError::new(e.to_string()))?)
        }
        None => None,
    };
    let mut searcher = SearcherBuilder::new()
        .line_number(true)
        .binary_detection(BinaryDetection::quit(0))
        .build();

    let mut matches: Vec<(PathBuf, u64)> = Vec::new();
    'walk: for entry in walker(root, true, overrides) {
        if cancel.is_cancelled() {
            return Err(ToolError::new("Operation aborted"));
        }
        let Ok(entry) = entry else { continue };
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path().to_path_buf();
        let mut hit_limit = false;
        let _ = searcher.search_path(
            &matcher,
            &path,
            Lossy(|lnum, _line| {
                matches.push((path.clone(), lnum));
                if matches.len() >= limit {
                    hit_limit = true;
                    return Ok(false);
                }
                Ok(true)
            }),
        );
        if hit_limit {
            break 'walk;
        }
    }
    if matches.is_empty() {
        return Ok(ToolOutput::text("No matches found"));
    }
    let limit_reached = matches.len() >= limit;

    let mut cache: HashMap<PathBuf, Vec<String>> = HashMap::new();
    let mut lines_truncated = false;
    let mut out_lines: Vec<String> = Vec::new();
    for (path, lnum) in &matches {
        let shown = if is_dir {
            relative_posix(root, path)
        } else {
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let lines = cache.entry(path.clone()).or_insert_with(|| {
            std::fs::read(path)
                .map(|b| {
                    String::from_utf8_lossy(&b)
                        .replace("\r\n", "\n")
                        .replace('\r', "\n")
                        .split('\n')
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        });
        if lines.is_empty() {
            out_lines.push(format!("{shown}:{lnum}: (unable to read file)"));
            continue;
        }
        let n = *lnum as usize;
        let (start, end) = if context > 0 {
            (
                n.saturating_sub(context).max(1),
                (n + context).min(lines.len()),
            )
        } else {
            (n, n)
        };
        for cur in start..=end {
            let text = lines.get(cur - 1).map(String::as_str).unwrap_or("");
            let (text, cut) = truncate_line(&text.replace('\r', ""), GREP_MAX_LINE_LENGTH);
            lines_truncated |= cut;
            if cur == n {
                out_lines.push(format!("{shown}:{cur}: {text}"));
            } else {
                out_lines.push(format!("{shown}-{cur}- {text}"));
            }
        }
    }
    let limit_hit = limit_reached
        .then(|| LimitHit::count(limit, "matches", ", or refine pattern", "matchLimitReached"));
    let long_lines = lines_truncated.then(|| LimitHit {
        notice: format!(
            "Some lines truncated to {GREP_MAX_LINE_LENGTH} chars. Use read tool to see full lines"
        ),
        key: "linesTruncated",
        value: Value::Bool(true),
    });
    Ok(listing_output(&out_lines, limit_hit, long_lines))
}

#[cfg(test)]
#[path = "grep_tests.rs"]
mod tests;
