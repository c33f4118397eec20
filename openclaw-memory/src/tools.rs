//! The tools `memory_search` and `memory_get` with OpenClaw 9.6's names, parameter schemas,
//! descriptions and JSON results (the result text is the JSON, `details` the same object).
//! Both only read: the index is synced from the files, the files are never written.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use openclaw_core::tool::{Tool, ToolCallContext, ToolError, ToolOutput, parse_args};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::MemorySettings;
use crate::embed::Embedder;
use crate::files::{DEFAULT_READ_MAX_CHARS, read_memory_file};
use crate::index::MemoryIndex;
use crate::search::{SearchRequest, search};

pub const MEMORY_SEARCH: &str = "memory_search";
pub const MEMORY_GET: &str = "memory_get";
/// The tool names, for catalogues and policy.
pub const MEMORY_TOOL_NAMES: [&str; 2] = [MEMORY_SEARCH, MEMORY_GET];
/// A query's embedding is given up after this (then keyword results only).
const QUERY_EMBED_TIMEOUT: Duration = Duration::from_secs(10);
/// Index-time embedding requests are given up after this.
pub const INDEX_EMBED_TIMEOUT: Duration = Duration::from_secs(60);

const FILES: &str = "MEMORY.md, USER.md, Markdown files recursively under memory/";

/// `memory_search`'s description (OpenClaw's contract, for the files this build indexes).
pub fn search_description() -> String {
    format!(
        "Mandatory recall step: semantically search {FILES} before answering questions about \
         prior work, decisions, dates, people, preferences, or todos. Results carry path and \
         line range (startLine/endLine); use memory_get to read more of a hit. `corpus=memory` \
         (the default) searches the memory files; `corpus=sessions` and `corpus=wiki` are not \
         indexed here and report so. If the response has a warning, tell the user."
    )
}

/// `memory_get`'s description.
pub fn get_description() -> String {
    format!(
        "Safe exact excerpt read from {FILES}. Defaults to a bounded excerpt when lines are \
         omitted and includes truncation/continuation info when more content exists. \
         status=ok means the requested excerpt was read; status=not_found means the file does \
         not exist; status=error means the requested read failed, not that memory is disabled."
    )
}

fn search_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "maxResults": {"type": "integer", "minimum": 1},
            "minScore": {"type": "number"},
            "corpus": {"type": "string", "enum": ["memory", "wiki", "all", "sessions"]}
        },
        "required": ["query"],
        "additionalProperties": false
    })
}

fn get_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "from": {"type": "integer", "minimum": 1},
            "lines": {"type": "integer", "minimum": 1},
            "corpus": {"type": "string", "enum": ["memory", "wiki", "all"]}
        },
        "required": ["path"],
        "additionalProperties": false
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchArgs {
    query: String,
    max_results: Option<usize>,
    min_score: Option<f64>,
    corpus: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetArgs {
    path: String,
    from: Option<usize>,
    lines: Option<usize>,
    corpus: Option<String>,
}

/// What both tools of one agent share.
#[derive(Clone)]
pub struct MemoryContext {
    pub index: Arc<MemoryIndex>,
    pub agent_id: String,
    pub workspace: PathBuf,
    pub settings: MemorySettings,
}

impl MemoryContext {
    fn embedder(&self, timeout: Duration) -> (Option<Embedder>, Option<String>) {
        match &self.settings.embeddings {
            Some(ep) => match Embedder::new(ep.clone(), timeout) {
                Ok(e) => (Some(e), None),
                Err(e) => (None, Some(format!("{e}; keyword results only"))),
            },
            None => (None, None),
        }
    }
}

fn json_output<T: Serialize>(v: &T) -> ToolOutput {
    let value = serde_json::to_value(v).unwrap_or(Value::Null);
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    ToolOutput::text(text).with_details(value)
}

/// OpenClaw's "unavailable" result.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Unavailable {
    results: Vec<Value>,
    disabled: bool,
    unavailable: bool,
    error: String,
    warning: String,
    action: String,
}

struct MemorySearchTool {
    ctx: MemoryContext,
    description: String,
}

#[async_trait]
impl Tool for MemorySearchTool {
    fn name(&self) -> &str {
        MEMORY_SEARCH
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn parameters(&self) -> Value {
        search_schema()
    }
    async fn execute(&self, args: Value, ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        let a: SearchArgs = parse_args(MEMORY_SEARCH, args)?;
        if a.query.trim().is_empty() {
            return Err(ToolError::new("query required"));
        }
        match a.corpus.as_deref() {
            Some("sessions") => {
                return Ok(json_output(&Unavailable {
                    results: Vec::new(),
                    disabled: true,
                    unavailable: true,
                    error: "Session transcript search is not enabled.".into(),
                    warning: "Session transcript search is not enabled.".into(),
                    action: "Search corpus=memory instead.".into(),
                }));
            }
            Some("wiki") => {
                return Ok(json_output(&json!({
                    "results": [],
                    "warning": "wiki corpus is not registered; results do not cover that requested corpus."
                })));
            }
            _ => {}
        }
        let (embedder, embed_err) = self.ctx.embedder(QUERY_EMBED_TIMEOUT);
        let req = SearchRequest {
            agent_id: &self.ctx.agent_id,
            workspace: &self.ctx.workspace,
            query: &a.query,
            max_results: a.max_results,
            min_score: a.min_score,
        };
        let run = search(&self.ctx.index, &self.ctx.settings, embedder.as_ref(), req);
        let out = tokio::select! {
            r = run => r,
            () = ctx.cancel.cancelled() => return Err(ToolError::new("aborted")),
        };
        match out {
            Ok(mut resp) => {
                if let Some(e) = embed_err {
                    resp.warning = Some(match resp.warning {
                        Some(w) => format!("{e} {w}"),
                        None => e,
                    });
                }
                Ok(json_output(&resp))
            }
            Err(e) => Ok(json_output(&Unavailable {
                results: Vec::new(),
                disabled: true,
                unavailable: true,
                error: e.to_string(),
                warning: "Memory search is unavailable because the memory index failed.".into(),
                action: "Run: openclaw memory status, then openclaw memory index --force.".into(),
            })),
        }
    }
}

struct MemoryGetTool {
    ctx: MemoryContext,
    description: String,
}

#[async_trait]
impl Tool for MemoryGetTool {
    fn name(&self) -> &str {
        MEMORY_GET
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn parameters(&self) -> Value {
        get_schema()
    }
    async fn execute(&self, args: Value, _ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        let a: GetArgs = parse_args(MEMORY_GET, args)?;
        if a.corpus.as_deref() == Some("wiki") {
            return Ok(json_output(
                &json!({"status": "not_found", "path": a.path, "text": ""}),
            ));
        }
        let ws = self.ctx.workspace.clone();
        let path = a.path.clone();
        let read = tokio::task::spawn_blocking(move || {
            read_memory_file(&ws, &path, a.from, a.lines, DEFAULT_READ_MAX_CHARS)
        })
        .await
        .map_err(|e| ToolError::new(format!("memory_get stopped: {e}")))?;
        Ok(match read {
            Ok(r) => json_output(&r),
            Err(e) => json_output(&json!({
                "path": a.path.trim(),
                "text": "",
                "status": "error",
                "code": e.code,
                "error": e.message,
            })),
        })
    }
}

/// The two memory tools of one agent (none when memory search is disabled for it).
pub fn memory_tools(ctx: MemoryContext) -> Vec<Arc<dyn Tool>> {
    if !ctx.settings.enabled {
        return Vec::new();
    }
    vec![
        Arc::new(MemorySearchTool {
            ctx: ctx.clone(),
            description: search_description(),
        }),
        Arc::new(MemoryGetTool {
            ctx,
            description: get_description(),
        }),
    ]
}
