//! The output the listing tools (`grep`, `find`, `ls`) share: their lines joined and cut to the
//! byte limit, then one bracketed line of notices (`[100 matches limit reached. … . 50KB limit
//! reached]`), with `details` naming every limit that was hit, as pi reports them.

use serde_json::{Map, Value, json};

use super::truncate::{DEFAULT_MAX_BYTES, Limits, format_size, truncate_head};
use super::{ToolError, ToolOutput};
use crate::cancel::CancellationToken;
use crate::message::ContentBlock;

/// A limit a listing tool hit: the notice shown to the model and its `details` entry.
#[derive(Debug, Clone)]
pub struct LimitHit {
    pub notice: String,
    pub key: &'static str,
    pub value: Value,
}

impl LimitHit {
    /// The result-count limit (`{limit} {what} limit reached. Use limit={2×limit} for more{hint}`),
    /// reported as `details[key] = limit`.
    pub fn count(limit: usize, what: &str, hint: &str, key: &'static str) -> Self {
        LimitHit {
            notice: format!(
                "{limit} {what} limit reached. Use limit={} for more{hint}",
                limit * 2
            ),
            key,
            value: json!(limit),
        }
    }
}

/// `lines` cut to the byte limit, with the notices of `count` (first), the byte limit, and
/// `extra` (last), in that order.
pub fn listing_output(
    lines: &[String],
    count: Option<LimitHit>,
    extra: Option<LimitHit>,
) -> ToolOutput {
    let t = truncate_head(&lines.join("\n"), Limits::bytes_only());
    let mut out = t.content.clone();
    let mut details = Map::new();
    let mut notices = Vec::new();
    let mut add = |hit: LimitHit, details: &mut Map<String, Value>| {
        notices.push(hit.notice);
        details.insert(hit.key.into(), hit.value);
    };
    if let Some(hit) = count {
        add(hit, &mut details);
    }
    if t.truncated {
        let notice = format!("{} limit reached", format_size(DEFAULT_MAX_BYTES));
        add(
            LimitHit {
                notice,
                key: "truncation",
                value: json!(t),
            },
            &mut details,
        );
    }
    if let Some(hit) = extra {
        add(hit, &mut details);
    }
    if !notices.is_empty() {
        out.push_str(&format!("\n\n[{}]", notices.join(". ")));
    }
    ToolOutput {
        content: vec![ContentBlock::text(out)],
        details: (!details.is_empty()).then_some(Value::Object(details)),
    }
}

/// Runs a blocking walk off the async runtime, unless the call was aborted before it started.
pub async fn run_blocking<F>(
    tool: &str,
    cancel: &CancellationToken,
    walk: F,
) -> Result<ToolOutput, ToolError>
where
    F: FnOnce(&CancellationToken) -> Result<ToolOutput, ToolError> + Send + 'static,
{
    if cancel.is_cancelled() {
        return Err(ToolError::new("Operation aborted"));
    }
    let cancel = cancel.clone();
    tokio::task::spawn_blocking(move || walk(&cancel))
        .await
        .map_err(|e| ToolError::new(format!("{tool} failed: {e}")))?
}
