//! The `edit` tool: one or more exact (else fuzzy) text replacements in a file, each unique and
//! matched against the original content, without overlaps; CRLF endings and a BOM survive.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Value, json};

use super::edit_diff::{
    count_fuzzy_occurrences, detect_line_ending, fuzzy_find, generate_diff,
    normalize_for_fuzzy_match, normalize_to_lf, restore_line_endings, strip_bom,
};
use super::path::{node_io_error, resolve_to_cwd};
use super::schema::schema_for;
use super::typed::parse_args;
use super::{Tool, ToolCallContext, ToolEnv, ToolError, ToolOutput};
use crate::message::ContentBlock;

// One replacement (no doc comment: it would become the item schema's description).
#[allow(missing_docs)]
#[derive(Debug, Clone, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EditItem {
    /// Exact text for one targeted replacement. It must be unique in the original file and must not overlap with any other edits[].oldText in the same call.
    pub old_text: String,
    /// Replacement text for this targeted edit.
    pub new_text: String,
}

/// Arguments of `edit`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct EditArgs {
    /// Path to the file to edit (relative or absolute)
    pub path: String,
    /// One or more targeted replacements. Each edit is matched against the original file, not incrementally. Do not include overlapping or nested edits. If two changes touch the same block or nearby lines, merge them into one edit instead.
    pub edits: Vec<EditItem>,
}

/// The built-in `edit` tool.
pub struct EditTool {
    env: Arc<ToolEnv>,
}

impl EditTool {
    pub fn new(env: Arc<ToolEnv>) -> Self {
        EditTool { env }
    }
}

/// Fold the legacy top-level `oldText`/`newText` into `edits` (appended last).
pub fn fold_legacy_edit(args: Value) -> Value {
    let Value::Object(mut map) = args else {
        return args;
    };
    let (Some(Value::String(_)), Some(Value::String(_))) = (map.get("oldText"), map.get("newText"))
    else {
        return Value::Object(map);
    };
    let old = map.shift_remove("oldText").unwrap_or_default();
    let new = map.shift_remove("newText").unwrap_or_default();
    let mut edits = match map.shift_remove("edits") {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    edits.push(json!({"oldText": old, "newText": new}));
    map.insert("edits".into(), Value::Array(edits));
    Value::Object(map)
}

struct Matched {
    edit: usize,
    index: usize,
    len: usize,
    new_text: String,
}

/// Apply `edits` to LF-normalised `content`; returns (base content, new content), the base
/// being the fuzzy form when any edit needed fuzzy matching.
pub fn apply_edits(
    content: &str,
    edits: &[EditItem],
    path: &str,
) -> Result<(String, String), String> {
    let n = edits.len();
    let edits: Vec<(String, String)> = edits
        .iter()
        .map(|e| (normalize_to_lf(&e.old_text), normalize_to_lf(&e.new_text)))
        .collect();
    for (i, (old, _)) in edits.iter().enumerate() {
        if old.is_empty() {
            return Err(if n == 1 {
                format!("oldText must not be empty in {path}.")
            } else {
                format!("edits[{i}].oldText must not be empty in {path}.")
            });
        }
    }
    let any_fuzzy = edits
        .iter()
        .any(|(old, _)| fuzzy_find(content, old).is_some_and(|f| f.fuzzy));
    let base = if any_fuzzy {
        normalize_for_fuzzy_match(content)
    } else {
        content.to_string()
    };
    let mut matched = Vec::new();
    for (i, (old, new)) in edits.iter().enumerate() {
        let Some(found) = fuzzy_find(&base, old) else {
            return Err(if n == 1 {
                format!(
                    "Could not find the exact text in {path}. The old text must match exactly including all whitespace and newlines."
                )
            } else {
                format!(
                    "Could not find edits[{i}] in {path}. The oldText must match exactly including all whitespace and newlines."
                )
            });
        };
        let occurrences = count_fuzzy_occurrences(&base, old);
        if occurrences > 1 {
            return Err(if n == 1 {
                format!(
                    "Found {occurrences} occurrences of the text in {path}. The text must be unique. Please provide more context to make it unique."
                )
            } else {
                format!(
                    "Found {occurrences} occurrences of edits[{i}] in {path}. Each oldText must be unique. Please provide more context to make it unique."
                )
            });
        }
        matched.push(Matched {
            edit: i,
            index: found.index,
            len: found.len,
            new_text: new.clone(),
        });
    }
    matched.sort_by_key(|m| m.index);
    for pair in matched.windows(2) {
        if pair[0].index + pair[0].len > pair[1].index {
            return Err(format!(
                "edits[{}] and edits[{}] overlap in {path}. Merge them into one edit or target disjoint regions.",
                pair[0].edit, pair[1].edit
            ));
        }
    }
    let mut result = base.clone();
    for m in matched.iter().rev() {
        result.replace_range(m.index..m.index + m.len, &m.new_text);
    }
    if result == base {
        return Err(if n == 1 {
            format!(
                "No changes made to {path}. The replacement produced identical content. This might indicate an issue with special characters or the text not existing as expected."
            )
        } else {
            format!("No changes made to {path}. The replacements produced identical content.")
        });
    }
    Ok((base, result))
}

#[async_trait]
impl Tool for EditTool {
    fn name(&self) -> &str {
        "edit"
    }
    fn description(&self) -> &str {
        "Edit a single file using exact text replacement. Every edits[].oldText must match a unique, non-overlapping region of the original file. If two changes affect the same block or nearby lines, merge them into one edit instead of emitting overlapping edits. Do not include large unchanged regions just to connect distant changes."
    }
    fn parameters(&self) -> Value {
        schema_for::<EditArgs>()
    }
    fn prepare_arguments(&self, args: Value) -> Value {
        fold_legacy_edit(args)
    }
    async fn execute(&self, args: Value, ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        let args: EditArgs = parse_args("edit", fold_legacy_edit(args))?;
        if ctx.cancel.is_cancelled() {
            return Err(ToolError::new("Operation aborted"));
        }
        if args.edits.is_empty() {
            return Err(ToolError::new(
                "Edit tool input is invalid. edits must contain at least one replacement.",
            ));
        }
        let abs = resolve_to_cwd(&args.path, &self.env.cwd);
        let writable = tokio::fs::metadata(&abs)
            .await
            .is_ok_and(|m| m.is_file() && !m.permissions().readonly());
        if !writable {
            return Err(ToolError::new(format!("File not found: {}", args.path)));
        }
        let bytes = tokio::fs::read(&abs)
            .await
            .map_err(|e| ToolError::new(node_io_error(&e, "open", &abs)))?;
        let raw = String::from_utf8_lossy(&bytes);
        let (bom, text) = strip_bom(&raw);
        let ending = detect_line_ending(text);
        let normalized = normalize_to_lf(text);
        let (base, new) =
            apply_edits(&normalized, &args.edits, &args.path).map_err(ToolError::new)?;
        if ctx.cancel.is_cancelled() {
            return Err(ToolError::new("Operation aborted"));
        }
        let final_text = format!("{bom}{}", restore_line_endings(&new, ending));
        tokio::fs::write(&abs, final_text.as_bytes())
            .await
            .map_err(|e| ToolError::new(node_io_error(&e, "open", &abs)))?;
        let (diff, first) = generate_diff(&base, &new, 4);
        let mut details = serde_json::Map::new();
        details.insert("diff".into(), Value::String(diff));
        if let Some(f) = first {
            details.insert("firstChangedLine".into(), json!(f));
        }
        Ok(ToolOutput {
            content: vec![ContentBlock::text(format!(
                "Successfully replaced {} block(s) in {}.",
                args.edits.len(),
                args.path
            ))],
            details: Some(Value::Object(details)),
        })
    }
}

#[cfg(test)]
#[path = "edit_tests.rs"]
mod tests;
