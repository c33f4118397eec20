//! The `read` tool: a text file's lines (1-based `offset`/`limit`, head-truncated to 2000 lines
//! or 50 KB with pi's continuation hints), or an image (PNG, JPEG, GIF, WebP by content) as a
//! text note plus an image block, scaled down to fit 2000x2000 when larger.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine;
use serde_json::{Value, json};

use super::image::fit_image;
use super::path::{node_io_error, resolve_read_path};
use super::schema::schema_for;
use super::truncate::{
    DEFAULT_MAX_BYTES, DEFAULT_MAX_LINES, Limits, TruncatedBy, format_size, truncate_head,
};
use super::typed::parse_args;
use super::{Tool, ToolCallContext, ToolEnv, ToolError, ToolOutput};
use crate::message::{ContentBlock, ImageContent};

/// Arguments of `read`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct ReadArgs {
    /// Path to the file to read (relative or absolute)
    pub path: String,
    /// Line number to start reading from (1-indexed)
    pub offset: Option<f64>,
    /// Maximum number of lines to read
    pub limit: Option<f64>,
}

/// The built-in `read` tool.
pub struct ReadTool {
    env: Arc<ToolEnv>,
    description: String,
}

impl ReadTool {
    pub fn new(env: Arc<ToolEnv>) -> Self {
        let description = format!(
            "Read the contents of a file. Supports text files and images (jpg, png, gif, webp). Images are sent as attachments. For text files, output is truncated to {DEFAULT_MAX_LINES} lines or {}KB (whichever is hit first). Use offset/limit for large files. When you need the full file, continue with offset until complete.",
            DEFAULT_MAX_BYTES / 1024
        );
        ReadTool { env, description }
    }
}

/// The MIME type of a supported image, from its first bytes.
pub fn sniff_image_mime(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

#[async_trait]
impl Tool for ReadTool {
    fn name(&self) -> &str {
        "read"
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn parameters(&self) -> Value {
        schema_for::<ReadArgs>()
    }
    async fn execute(&self, args: Value, ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        let args: ReadArgs = parse_args("read", args)?;
        if ctx.cancel.is_cancelled() {
            return Err(ToolError::new("Operation aborted"));
        }
        let abs = resolve_read_path(&args.path, &self.env.cwd);
        if let Err(e) = tokio::fs::metadata(&abs).await {
            return Err(ToolError::new(node_io_error(&e, "access", &abs)));
        }
        let bytes = tokio::fs::read(&abs)
            .await
            .map_err(|e| ToolError::new(node_io_error(&e, "read", &abs)))?;
        if ctx.cancel.is_cancelled() {
            return Err(ToolError::new("Operation aborted"));
        }
        if let Some(mime) = sniff_image_mime(&bytes[..bytes.len().min(16)]) {
            let auto_resize = self.env.auto_resize_images;
            return tokio::task::spawn_blocking(move || image_output(&bytes, mime, auto_resize))
                .await
                .map_err(|e| ToolError::new(format!("Could not process image: {e}")));
        }
        read_text(&String::from_utf8_lossy(&bytes), &args)
    }
}

fn image_output(bytes: &[u8], mime: &str, auto_resize: bool) -> ToolOutput {
    let (data, mime, note) = if auto_resize {
        let fitted = fit_image(bytes, mime);
        let note = fitted.dimension_note();
        (fitted.bytes, fitted.mime_type, note)
    } else {
        (bytes.to_vec(), mime.to_string(), None)
    };
    let mut text = format!("Read image file [{mime}]");
    if let Some(n) = note {
        text.push('\n');
        text.push_str(&n);
    }
    ToolOutput {
        content: vec![
            ContentBlock::text(text),
            ContentBlock::Image(ImageContent {
                data: base64::engine::general_purpose::STANDARD.encode(&data),
                mime_type: mime,
            }),
        ],
        details: None,
    }
}

/// A JS-style number for messages (`2`, `2.5`).
pub(crate) fn js_num(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn read_text(text: &str, args: &ReadArgs) -> Result<ToolOutput, ToolError> {
    let lines: Vec<&str> = text.split('\n').collect();
    let total = lines.len();
    // pi: `offset ? max(0, offset - 1) : 0`
    let start = match args.offset {
        Some(o) if o != 0.0 && !o.is_nan() => (o - 1.0).max(0.0).floor() as usize,
        _ => 0,
    };
    if start >= total {
        let shown = args.offset.map(js_num).unwrap_or_default();
        return Err(ToolError::new(format!(
            "Offset {shown} is beyond end of file ({total} lines total)"
        )));
    }
    let start_display = start + 1;
    let (selected, user_limited) = match args.limit {
        Some(l) => {
            let end = (start as f64 + l.max(0.0)).min(total as f64) as usize;
            let end = end.max(start);
            (lines[start..end].join("\n"), Some(end - start))
        }
        None => (lines[start..].join("\n"), None),
    };
    let t = truncate_head(&selected, Limits::default());
    let mut details = None;
    let out = if t.first_line_exceeds_limit {
        details = Some(json!({ "truncation": t }));
        format!(
            "[Line {start_display} is {}, exceeds {} limit. Use bash: sed -n '{start_display}p' {} | head -c {DEFAULT_MAX_BYTES}]",
            format_size(lines[start].len()),
            format_size(DEFAULT_MAX_BYTES),
            args.path
        )
    } else if t.truncated {
        let end_display = start_display + t.output_lines - 1;
        let next = end_display + 1;
        let notice = if t.truncated_by == Some(TruncatedBy::Lines) {
            format!(
                "[Showing lines {start_display}-{end_display} of {total}. Use offset={next} to continue.]"
            )
        } else {
            format!(
                "[Showing lines {start_display}-{end_display} of {total} ({} limit). Use offset={next} to continue.]",
                format_size(DEFAULT_MAX_BYTES)
            )
        };
        let s = format!("{}\n\n{notice}", t.content);
        details = Some(json!({ "truncation": t }));
        s
    } else if let Some(n) = user_limited.filter(|n| start + n < total) {
        let remaining = total - (start + n);
        format!(
            "{}\n\n[{remaining} more lines in file. Use offset={} to continue.]",
            t.content,
            start + n + 1
        )
    } else {
        t.content
    };
    Ok(ToolOutput {
        content: vec![ContentBlock::text(out)],
        details,
    })
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
