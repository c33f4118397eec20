//! HEARTBEAT.md and the reply contract, as OpenClaw 5.6 reads them (pure functions):
//! whether the checklist is effectively empty, its `tasks:` block and which tasks are due, the
//! digest the cost guard compares, and whether a reply is a silent acknowledgement
//! (`HEARTBEAT_OK` / `NO_REPLY` at its start or end with at most `ackMaxChars` other characters).

use sha2::{Digest, Sha256};

use crate::cron::schedule::parse_duration_ms;

/// The acknowledgement tokens: OpenClaw 5.6's and 9.6's.
pub const ACK_TOKENS: [&str; 2] = ["HEARTBEAT_OK", "NO_REPLY"];

/// OpenClaw's `DEFAULT_HEARTBEAT_ACK_MAX_CHARS`.
pub const DEFAULT_ACK_MAX_CHARS: usize = 300;

/// One entry of the `tasks:` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub name: String,
    /// As written (`30m`, `1h`).
    pub interval: String,
    pub interval_ms: Option<u64>,
    pub prompt: String,
}

/// What a heartbeat reply means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// No text at all (`ok-empty`).
    Empty,
    /// An acknowledgement token with at most `ackMaxChars` around it (`ok-token`).
    Ack,
    /// Something to tell the user: the text with the token stripped.
    Alert(String),
}

impl Reply {
    pub fn is_silent(&self) -> bool {
        !matches!(self, Reply::Alert(_))
    }
}

/// `sha256:<hex>` of the checklist (the cost guard's "has it changed").
pub fn digest(content: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(content.as_bytes())))
}

/// True when the file holds nothing to act on: blank lines, Markdown headings, code fences,
/// empty list items and HTML comments only.
pub fn effectively_empty(content: &str) -> bool {
    let mut in_comment = false;
    for line in content.lines() {
        let t = line.trim();
        if in_comment {
            in_comment = !t.contains("-->");
            continue;
        }
        if t.starts_with("<!--") {
            in_comment = !t.contains("-->");
            continue;
        }
        let heading = t.starts_with('#') && {
            let rest = t.trim_start_matches('#');
            rest.is_empty() || rest.starts_with(char::is_whitespace)
        };
        if t.is_empty() || heading || t.starts_with("```") || empty_list_item(t) {
            continue;
        }
        return false;
    }
    true
}

fn empty_list_item(t: &str) -> bool {
    let Some(rest) = t.strip_prefix(['-', '*', '+']) else {
        return false;
    };
    let rest = rest.trim();
    rest.is_empty() || matches!(rest, "[ ]" | "[x]" | "[X]" | "[]")
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    let quoted = v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')));
    if quoted {
        v[1..v.len() - 1].to_owned()
    } else {
        v.to_owned()
    }
}

/// The `tasks:` block: `- name: …` items with `interval:` and `prompt:` lines. The block ends
/// at the first line that starts at column 0 and is not a list item. Items without a name are
/// ignored.
pub fn tasks(content: &str) -> Vec<Task> {
    let mut out: Vec<Task> = Vec::new();
    let mut in_block = false;
    for line in content.lines() {
        let t = line.trim();
        if !in_block {
            in_block = t == "tasks:" && !line.starts_with(char::is_whitespace);
            continue;
        }
        if t.is_empty() {
            continue;
        }
        if !line.starts_with(char::is_whitespace) && !t.starts_with('-') {
            break;
        }
        let (item, field) = match t.strip_prefix('-') {
            Some(rest) => (true, rest.trim()),
            None => (false, t),
        };
        let Some((key, value)) = field.split_once(':') else {
            continue;
        };
        let value = unquote(value);
        match key.trim() {
            "name" if item => out.push(Task {
                name: value,
                interval: String::new(),
                interval_ms: None,
                prompt: String::new(),
            }),
            "interval" => {
                if let Some(task) = out.last_mut() {
                    task.interval_ms = parse_duration_ms(&value);
                    task.interval = value;
                }
            }
            "prompt" => {
                if let Some(task) = out.last_mut() {
                    task.prompt = value;
                }
            }
            _ => {}
        }
    }
    out.retain(|t| !t.name.is_empty());
    out
}

/// The checklist without its `tasks:` block (OpenClaw passes it along as "additional context").
pub fn directives(content: &str) -> String {
    let mut out = Vec::new();
    let mut in_block = false;
    for line in content.lines() {
        let t = line.trim();
        if !in_block && t == "tasks:" && !line.starts_with(char::is_whitespace) {
            in_block = true;
            continue;
        }
        if in_block {
            let top =
                !t.is_empty() && !line.starts_with(char::is_whitespace) && !t.starts_with('-');
            if !top {
                continue;
            }
            in_block = false;
        }
        out.push(line);
    }
    out.join("\n").trim().to_owned()
}

/// Whether `task` is due at `now_ms` (never run, or its interval has passed; a task without
/// a readable interval is due every beat).
pub fn is_due(task: &Task, last_run_ms: Option<u64>, now_ms: u64) -> bool {
    match (last_run_ms, task.interval_ms) {
        (None, _) | (_, None) => true,
        (Some(last), Some(every)) => now_ms.saturating_sub(last) >= every,
    }
}

/// The prompt of a beat with `due` tasks (OpenClaw's wording).
pub fn tasks_prompt(due: &[&Task], directives: &str) -> String {
    let list: Vec<String> = due
        .iter()
        .map(|t| format!("- {}: {}", t.name, t.prompt))
        .collect();
    let mut p = format!(
        "Run the following periodic tasks (only those due based on their intervals):\n\n{}\n\n\
         After completing all due tasks, reply HEARTBEAT_OK.",
        list.join("\n")
    );
    if !directives.is_empty() {
        p.push_str("\n\nAdditional context from HEARTBEAT.md:\n");
        p.push_str(directives);
    }
    p
}

/// Strips Markdown/HTML emphasis around a token (`**HEARTBEAT_OK**`, `<b>…</b>`).
fn strip_wrappers(t: &str) -> &str {
    t.trim_matches(|c: char| c.is_whitespace() || "*_`~".contains(c))
}

/// Removes ack tokens at the edges of `text` (repeatedly); `None` when there was none.
fn strip_tokens(text: &str) -> Option<String> {
    let mut t = strip_wrappers(text).to_owned();
    let mut stripped = false;
    loop {
        let before = t.len();
        for token in ACK_TOKENS {
            if let Some(rest) = t.strip_prefix(token) {
                t = strip_wrappers(rest.trim_start_matches(['.', '!', ':', ','])).to_owned();
            }
            if let Some(rest) = t.trim_end_matches(['.', '!']).strip_suffix(token) {
                t = strip_wrappers(rest).to_owned();
            }
        }
        if t.len() == before {
            break;
        }
        stripped = true;
    }
    stripped.then_some(t)
}

/// What `text` (a heartbeat turn's final reply) means under the `ack_max_chars` limit.
pub fn classify(text: &str, ack_max_chars: usize) -> Reply {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Reply::Empty;
    }
    match strip_tokens(trimmed) {
        Some(rest) if rest.chars().count() <= ack_max_chars => Reply::Ack,
        Some(rest) => Reply::Alert(rest),
        None => Reply::Alert(trimmed.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_headings_and_empty_items_are_effectively_empty() {
        assert!(effectively_empty(""));
        assert!(effectively_empty(
            "# HEARTBEAT.md\n\n<!-- keep this empty\n to skip -->\n## Checks\n- [ ]\n-\n```\n```\n"
        ));
        assert!(!effectively_empty("# Checks\n- look at the inbox\n"));
        assert!(!effectively_empty("#hashtag is text\n"));
    }

    #[test]
    fn the_tasks_block_is_read_and_directives_keep_the_rest() {
        let md = "# Checks\nBe brief.\n\ntasks:\n  - name: inbox\n    interval: 30m\n    prompt: \"Check the inbox.\"\n  - name: disk\n    interval: 1h\n    prompt: Check disk usage.\n\nAlways answer in English.\n";
        let t = tasks(md);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].name, "inbox");
        assert_eq!(t[0].interval_ms, Some(1_800_000));
        assert_eq!(t[0].prompt, "Check the inbox.");
        assert_eq!(t[1].prompt, "Check disk usage.");
        assert_eq!(
            directives(md),
            "# Checks\nBe brief.\n\nAlways answer in English."
        );
        assert!(tasks("no block here\n").is_empty());
    }

    #[test]
    fn a_task_is_due_once_its_interval_has_passed() {
        let t = &tasks("tasks:\n- name: a\n  interval: 1m\n  prompt: p\n")[0];
        assert!(is_due(t, None, 0));
        assert!(!is_due(t, Some(1_000), 60_999));
        assert!(is_due(t, Some(1_000), 61_000));
    }

    #[test]
    fn acknowledgements_are_silent_within_the_limit() {
        assert_eq!(classify("HEARTBEAT_OK", 300), Reply::Ack);
        assert_eq!(classify("  **HEARTBEAT_OK**  ", 300), Reply::Ack);
        assert_eq!(classify("All quiet. HEARTBEAT_OK", 300), Reply::Ack);
        assert_eq!(classify("NO_REPLY", 300), Reply::Ack);
        assert_eq!(classify("", 300), Reply::Empty);
        let long = format!("HEARTBEAT_OK {}", "x".repeat(301));
        assert_eq!(classify(&long, 300), Reply::Alert("x".repeat(301)));
        assert_eq!(
            classify("Your flight leaves in 2 hours.", 300),
            Reply::Alert("Your flight leaves in 2 hours.".into())
        );
        // The token in the middle of a sentence is not an acknowledgement.
        assert!(!classify("I said HEARTBEAT_OK earlier but the disk is full", 300).is_silent());
    }
}
