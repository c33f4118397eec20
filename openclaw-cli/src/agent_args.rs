//! The agent-mode launch flags, spelled as pi spells them, so pi command lines work unchanged:
//! `--mode rpc|json|text`, `-p/--print`, model and session selection, tool allowlists and
//! system-prompt overrides. pi's resource switches (`--no-extensions`, …) are accepted and
//! ignored.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// How the agent talks to its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Interactive text (with `-p`: print the final answer and exit).
    Text,
    /// JSON Lines events for one prompt (with `-p`), then exit.
    Json,
    /// pi's headless JSONL protocol on stdin/stdout.
    Rpc,
}

/// Flags of the agent modes.
#[derive(Debug, Clone, Default, Args)]
pub struct AgentArgs {
    /// Output mode.
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Non-interactive: run the prompt given as arguments and exit.
    #[arg(short = 'p', long)]
    pub print: bool,
    /// Provider name (from openclaw.json / models.json).
    #[arg(long)]
    pub provider: Option<String>,
    /// Model id (or `provider/id`).
    #[arg(long)]
    pub model: Option<String>,
    /// Thinking level: off, minimal, low, medium, high, xhigh.
    #[arg(long)]
    pub thinking: Option<String>,
    /// Keep the session in memory only.
    #[arg(long)]
    pub no_session: bool,
    /// Where session files go.
    #[arg(long, value_name = "DIR")]
    pub session_dir: Option<PathBuf>,
    /// Open (or create) this session file.
    #[arg(long, value_name = "PATH")]
    pub session: Option<PathBuf>,
    /// Continue the most recent session of this directory.
    #[arg(short = 'c', long = "continue")]
    pub continue_session: bool,
    /// Active tools, comma-separated (allowlist).
    #[arg(long, value_delimiter = ',', value_name = "a,b")]
    pub tools: Option<Vec<String>>,
    /// No tools at all.
    #[arg(long)]
    pub no_tools: bool,
    /// Replace the system prompt.
    #[arg(long, value_name = "TEXT")]
    pub system_prompt: Option<String>,
    /// Append to the system prompt.
    #[arg(long, value_name = "TEXT")]
    pub append_system_prompt: Option<String>,
    /// API key for the selected provider (overrides configured credentials).
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,

    /// Load no skills (pi's `--no-skills`).
    #[arg(long)]
    pub no_skills: bool,
    /// Load no prompt templates (pi's `--no-prompt-templates`).
    #[arg(long)]
    pub no_prompt_templates: bool,
    // pi's resource switches: accepted so pi command lines work; openclaw loads none of these.
    #[arg(long, hide = true)]
    pub no_extensions: bool,
    #[arg(long, hide = true)]
    pub no_themes: bool,
    #[arg(long, hide = true)]
    pub no_context_files: bool,
    #[arg(long, hide = true)]
    pub offline: bool,

    /// The prompt (print mode) — words are joined with spaces. Options may come before, between
    /// or after its words, as in pi; everything after `--` is prompt text.
    #[arg(value_name = "PROMPT")]
    pub prompt: Vec<String>,
}

impl AgentArgs {
    /// The effective mode: `--mode`, else text.
    pub fn effective_mode(&self) -> Mode {
        self.mode.unwrap_or(Mode::Text)
    }

    /// The prompt words joined, if any were given.
    pub fn prompt_text(&self) -> Option<String> {
        (!self.prompt.is_empty()).then(|| self.prompt.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: AgentArgs,
    }

    #[test]
    fn parses_pi_command_lines() {
        let t = T::parse_from([
            "openclaw",
            "--mode",
            "rpc",
            "--provider",
            "fake",
            "--model",
            "fake-model",
            "--no-session",
            "--tools",
            "read,bash,ls",
            "--no-extensions",
            "--no-skills",
            "--offline",
            "--thinking",
            "high",
        ]);
        assert_eq!(t.a.effective_mode(), Mode::Rpc);
        assert_eq!(t.a.provider.as_deref(), Some("fake"));
        assert!(t.a.no_session);
        assert_eq!(
            t.a.tools,
            Some(vec!["read".to_string(), "bash".into(), "ls".into()])
        );
        let t = T::parse_from(["openclaw", "--mode", "json", "-p", "say", "hi"]);
        assert!(t.a.print);
        assert_eq!(t.a.prompt_text().as_deref(), Some("say hi"));
        // Options after the prompt are options (pi accepts them anywhere); `--` ends options.
        let t = T::parse_from([
            "openclaw",
            "-p",
            "say",
            "--provider",
            "fake",
            "hi",
            "--model",
            "m",
        ]);
        assert_eq!(t.a.prompt_text().as_deref(), Some("say hi"));
        assert_eq!(t.a.provider.as_deref(), Some("fake"));
        assert_eq!(t.a.model.as_deref(), Some("m"));
        let t = T::parse_from(["openclaw", "-p", "say", "--", "--model", "m"]);
        assert_eq!(t.a.prompt_text().as_deref(), Some("say --model m"));
        assert_eq!(t.a.model, None);
        let t = T::parse_from(["openclaw", "-c", "--session-dir", "/tmp/s"]);
        assert!(t.a.continue_session);
    }
}
