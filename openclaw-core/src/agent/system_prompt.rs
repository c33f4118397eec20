//! The coding-assistant system prompt frontends give the agent.
//!
//! Built from: a base prompt (ours, or the `--system-prompt` override), the active tools with
//! one-line descriptions, the `--append-system-prompt` text, the project context files
//! (`AGENTS.md`, else `CLAUDE.md`, from the agent dir and from the filesystem root down to the
//! cwd) and, last, the current date and the working directory.

use std::path::{Path, PathBuf};

/// A context file folded into the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextFile {
    pub path: PathBuf,
    pub content: String,
}

/// The names tried in each directory, first match wins.
pub const CONTEXT_FILE_NAMES: [&str; 2] = ["AGENTS.md", "CLAUDE.md"];

fn context_file_in(dir: &Path) -> Option<ContextFile> {
    CONTEXT_FILE_NAMES.iter().find_map(|name| {
        let path = dir.join(name);
        let content = std::fs::read_to_string(&path).ok()?;
        Some(ContextFile { path, content })
    })
}

/// Context files for `cwd`: the agent dir's first (global instructions), then one per
/// directory from the filesystem root down to `cwd` (outermost first). Unreadable files are
/// skipped.
pub fn load_context_files(cwd: &Path, agent_dir: Option<&Path>) -> Vec<ContextFile> {
    let mut files = Vec::new();
    if let Some(file) = agent_dir.and_then(context_file_in) {
        files.push(file);
    }
    let mut dirs: Vec<&Path> = cwd.ancestors().collect();
    dirs.reverse();
    for dir in dirs {
        if let Some(file) = context_file_in(dir) {
            if !files.iter().any(|f| f.path == file.path) {
                files.push(file);
            }
        }
    }
    files
}

/// A tool as the prompt lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolLine {
    pub name: String,
    /// Shown after the name; only its first line is used.
    pub description: String,
}

impl ToolLine {
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        ToolLine {
            name: name.into(),
            description: description.into(),
        }
    }
}

/// The inputs of [`build_system_prompt`].
#[derive(Debug, Clone, Default)]
pub struct SystemPromptOptions {
    pub cwd: PathBuf,
    pub tools: Vec<ToolLine>,
    /// `--system-prompt`: replaces the base prompt and the tool list.
    pub custom_prompt: Option<String>,
    /// `--append-system-prompt`: added after the base prompt.
    pub append: Option<String>,
    pub context_files: Vec<ContextFile>,
    /// The skills block (`skills::prompt::format_for_prompt`), appended after the context
    /// files when the `read` tool is among `tools` (or a custom prompt is used), as pi does.
    pub skills: String,
    /// The date line's value; today's date (UTC, `YYYY-MM-DD`) when `None`.
    pub date: Option<String>,
}

fn today() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    )
}

const BASE_PROMPT: &str = "You are an expert coding assistant working in the user's project. \
You help by reading files, running commands, editing code and writing new files with the tools below.";

const GUIDELINES: &str = "Guidelines:
- Look before you change: read the relevant files first, and prefer small, exact edits over rewrites.
- Use the tools for facts about the project instead of guessing.
- Keep answers short and concrete; show file paths when you mention files.
- When a command or edit fails, read the error and fix the cause before trying again.";

/// The system prompt for a session in `options.cwd`.
pub fn build_system_prompt(options: &SystemPromptOptions) -> String {
    let mut out = String::new();
    match &options.custom_prompt {
        Some(custom) => out.push_str(custom),
        None => {
            out.push_str(BASE_PROMPT);
            out.push_str("\n\nAvailable tools:\n");
            if options.tools.is_empty() {
                out.push_str("(none)\n");
            }
            for tool in &options.tools {
                let line = tool.description.lines().next().unwrap_or("").trim();
                out.push_str(&format!("- {}: {}\n", tool.name, line));
            }
            out.push('\n');
            out.push_str(GUIDELINES);
        }
    }
    if let Some(append) = options.append.as_deref().filter(|a| !a.is_empty()) {
        out.push_str("\n\n");
        out.push_str(append);
    }
    if !options.context_files.is_empty() {
        out.push_str("\n\n# Project Context\n\nInstructions for this project:\n");
        for file in &options.context_files {
            out.push_str(&format!(
                "\n## {}\n\n{}\n",
                file.path.display(),
                file.content.trim_end()
            ));
        }
    }
    let has_read =
        options.custom_prompt.is_some() || options.tools.iter().any(|t| t.name == "read");
    if has_read {
        out.push_str(&options.skills);
    }
    let date = options.date.clone().unwrap_or_else(today);
    out.push_str(&format!("\nCurrent date: {date}"));
    out.push_str(&format!(
        "\nCurrent working directory: {}",
        options.cwd.display()
    ));
    out
}

/// `--system-prompt` and `--append-system-prompt` accept text or a path to a file holding it
/// (as pi does): the file's content when `value` names a readable file, else `value` itself.
pub fn resolve_prompt_argument(value: &str, cwd: &Path) -> String {
    let path = cwd.join(value);
    match std::fs::read_to_string(&path) {
        Ok(content) if path.is_file() => content,
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_lists_tools_context_date_and_cwd() {
        let root = tempfile::tempdir().unwrap();
        let project = root.path().join("a/b");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(root.path().join("a/AGENTS.md"), "outer rules\n").unwrap();
        std::fs::write(project.join("CLAUDE.md"), "inner rules").unwrap();
        let agent_dir = root.path().join("agent");
        std::fs::create_dir_all(&agent_dir).unwrap();
        std::fs::write(agent_dir.join("AGENTS.md"), "global rules").unwrap();
        let files = load_context_files(&project, Some(&agent_dir));
        let names: Vec<_> = files.iter().map(|f| f.content.trim().to_string()).collect();
        assert_eq!(names, ["global rules", "outer rules", "inner rules"]);

        let prompt = build_system_prompt(&SystemPromptOptions {
            cwd: project.clone(),
            tools: vec![
                ToolLine::new("read", "Read file contents\nMore detail."),
                ToolLine::new("bash", "Run a shell command"),
            ],
            append: Some("Be terse.".into()),
            context_files: files,
            date: Some("2026-11-22".into()),
            ..Default::default()
        });
        assert!(prompt.contains("- read: Read file contents\n- bash: Run a shell command\n"));
        assert!(!prompt.contains("More detail"));
        assert!(prompt.contains("\n\nBe terse."));
        assert!(prompt.contains("outer rules") && prompt.contains("inner rules"));
        assert!(prompt.ends_with(&format!(
            "Current date: 2026-11-22\nCurrent working directory: {}",
            project.display()
        )));
    }

    #[test]
    fn custom_prompt_replaces_the_base() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("sys.txt"), "From a file.").unwrap();
        let custom = resolve_prompt_argument("sys.txt", dir.path());
        assert_eq!(custom, "From a file.");
        assert_eq!(
            resolve_prompt_argument("Just text.", dir.path()),
            "Just text."
        );
        let prompt = build_system_prompt(&SystemPromptOptions {
            cwd: dir.path().to_path_buf(),
            tools: vec![ToolLine::new("read", "Read")],
            custom_prompt: Some(custom),
            date: Some("2026-01-02".into()),
            ..Default::default()
        });
        assert!(prompt.starts_with("From a file.\nCurrent date: 2026-01-02"));
        assert!(!prompt.contains("- read"));
    }
}
