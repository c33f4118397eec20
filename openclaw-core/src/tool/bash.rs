//! The `bash` tool: runs a command through [`super::shell::run_shell`] in the tool's working
//! directory, under the environment's default timeout and resource limits (`tools.exec`),
//! streams throttled partial results (the truncated tail of the output so far), tail-truncates
//! the final output (full output, up to a cap, kept in a temp file while results point at it),
//! and reports a non-zero exit, an abort or a timeout as a tool error with pi's texts.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::read::js_num;
use super::schema::schema_for;
use super::shell::{ShellCommand, run_shell};
use super::spill::OutputCollector;
use super::truncate::{
    DEFAULT_MAX_BYTES, DEFAULT_MAX_LINES, Limits, TruncatedBy, TruncationResult, format_size,
    truncate_tail,
};
use super::typed::parse_args;
use super::{Tool, ToolCallContext, ToolEnv, ToolError, ToolOutput};
use crate::message::ContentBlock;

const UPDATE_INTERVAL: Duration = Duration::from_millis(100);

/// Arguments of `bash`.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
pub struct BashArgs {
    /// Bash command to execute
    pub command: String,
    /// Timeout in seconds (optional; the configured default applies otherwise)
    pub timeout: Option<f64>,
}

/// The built-in `bash` tool.
pub struct BashTool {
    env: Arc<ToolEnv>,
    description: String,
}

impl BashTool {
    pub fn new(env: Arc<ToolEnv>) -> Self {
        let description = format!(
            "Execute a bash command in the current working directory. Returns stdout and stderr. Output is truncated to last {DEFAULT_MAX_LINES} lines or {}KB (whichever is hit first). If truncated, full output is saved to a temp file. Optionally provide a timeout in seconds.",
            DEFAULT_MAX_BYTES / 1024
        );
        BashTool { env, description }
    }
}

struct Stream {
    collector: OutputCollector,
    dirty: bool,
    last_emit: Option<Instant>,
}

fn partial(collector: &OutputCollector) -> ToolOutput {
    let t = truncate_tail(&collector.text(), Limits::default());
    let mut details = Map::new();
    if t.truncated {
        details.insert("truncation".into(), json!(t));
    }
    if let Some(p) = collector.full_output_path() {
        details.insert("fullOutputPath".into(), json!(p.to_string_lossy()));
    }
    ToolOutput {
        content: vec![ContentBlock::text(t.content)],
        details: Some(Value::Object(details)),
    }
}

/// The output text with pi's truncation notice, and the details to attach.
fn final_text(
    t: &TruncationResult,
    last_line_bytes: usize,
    full_path: Option<&str>,
) -> (String, Option<Value>) {
    let mut text = t.content.clone();
    if !t.truncated {
        return (text, None);
    }
    let path = full_path.unwrap_or("");
    let end = t.total_lines;
    let start = end + 1 - t.output_lines.max(1);
    if t.last_line_partial {
        text.push_str(&format!(
            "\n\n[Showing last {} of line {end} (line is {}). Full output: {path}]",
            format_size(t.output_bytes),
            format_size(last_line_bytes)
        ));
    } else if t.truncated_by == Some(TruncatedBy::Lines) {
        text.push_str(&format!(
            "\n\n[Showing lines {start}-{end} of {}. Full output: {path}]",
            t.total_lines
        ));
    } else {
        text.push_str(&format!(
            "\n\n[Showing lines {start}-{end} of {} ({} limit). Full output: {path}]",
            t.total_lines,
            format_size(DEFAULT_MAX_BYTES)
        ));
    }
    let mut details = Map::new();
    details.insert("truncation".into(), json!(t));
    if let Some(p) = full_path {
        details.insert("fullOutputPath".into(), json!(p));
    }
    (text, Some(Value::Object(details)))
}

#[async_trait]
impl Tool for BashTool {
    fn name(&self) -> &str {
        "bash"
    }
    fn description(&self) -> &str {
        &self.description
    }
    fn parameters(&self) -> Value {
        schema_for::<BashArgs>()
    }
    async fn execute(&self, args: Value, ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        let args: BashArgs = parse_args("bash", args)?;
        let timeout = args
            .timeout
            .filter(|t| *t > 0.0 && t.is_finite())
            .or_else(|| self.env.exec.default_timeout.map(|d| d.as_secs_f64()));
        let cmd = ShellCommand {
            command: args.command.clone(),
            cwd: self.env.cwd.clone(),
            shell: self.env.shell_path.clone(),
            command_prefix: self.env.shell_command_prefix.clone(),
            bin_dir: self.env.bin_dir.clone(),
            timeout: timeout.map(Duration::from_secs_f64),
            limits: self.env.exec.limits,
            target: self.env.exec_target.clone(),
            env: self.env.extra_env.clone(),
        };
        (ctx.on_update)(ToolOutput::default());
        let stream = Arc::new(Mutex::new(Stream {
            collector: OutputCollector::new(self.env.exec.output_file_max_bytes),
            dirty: false,
            last_emit: None,
        }));
        let emit = |s: &mut Stream| {
            s.dirty = false;
            s.last_emit = Some(Instant::now());
            (ctx.on_update)(partial(&s.collector));
        };
        let run = run_shell(&cmd, &ctx.cancel, |chunk| {
            if let Ok(mut s) = stream.lock() {
                s.collector.push(chunk);
                if s.last_emit.is_none_or(|t| t.elapsed() >= UPDATE_INTERVAL) {
                    emit(&mut s);
                } else {
                    s.dirty = true;
                }
            }
        });
        let flusher = async {
            let mut tick = tokio::time::interval(UPDATE_INTERVAL);
            loop {
                tick.tick().await;
                if let Ok(mut s) = stream.lock() {
                    if s.dirty {
                        emit(&mut s);
                    }
                }
            }
        };
        let outcome = tokio::select! {
            r = run => r,
            _ = flusher => unreachable_flusher(),
        };
        let mut s = stream
            .lock()
            .map_err(|_| ToolError::new("bash output lock poisoned"))?;
        if s.dirty {
            emit(&mut s);
        }
        let outcome = outcome.map_err(|e| ToolError::new(e.to_string()))?;
        let all = s.collector.text();
        let last_line_bytes = all.rsplit('\n').next().map_or(0, str::len);
        let t = truncate_tail(&all, Limits::default());
        if t.truncated {
            s.collector.ensure_spill_file();
            s.collector.keep(&self.env.spill);
        }
        s.collector.finish();
        let full = s
            .collector
            .full_output_path()
            .map(|p| p.to_string_lossy().into_owned());
        let (mut text, details) = final_text(&t, last_line_bytes, full.as_deref());
        if s.collector.spill_capped() {
            let cap = format_size(self.env.exec.output_file_max_bytes as usize);
            text.push_str(&format!(
                "\n[The full output file stops at its first {cap}]"
            ));
        }
        if outcome.cancelled || outcome.timed_out {
            let mut msg = text;
            if !msg.is_empty() {
                msg.push_str("\n\n");
            }
            if outcome.cancelled {
                msg.push_str("Command aborted");
            } else {
                let secs = timeout.map(js_num).unwrap_or_default();
                msg.push_str(&format!("Command timed out after {secs} seconds"));
            }
            return Err(ToolError::new(msg));
        }
        let text = if text.is_empty() {
            "(no output)".to_string()
        } else {
            text
        };
        match outcome.exit_code {
            Some(code) if code != 0 => Err(ToolError::new(format!(
                "{text}\n\nCommand exited with code {code}"
            ))),
            _ => Ok(ToolOutput {
                content: vec![ContentBlock::text(text)],
                details,
            }),
        }
    }
}

/// The flusher loops forever; this only satisfies the type checker.
fn unreachable_flusher() -> std::io::Result<super::shell::ShellOutcome> {
    Err(std::io::Error::other("update flusher stopped"))
}

#[cfg(test)]
#[path = "bash_tests.rs"]
mod tests;
