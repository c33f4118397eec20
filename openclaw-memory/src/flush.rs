//! The pre-compaction memory flush as OpenClaw 9.6 words it (`memory-core`'s flush plan): a
//! silent turn before auto-compaction asking the agent to append what matters to today's
//! daily note `memory/YYYY-MM-DD.md`, answered with `NO_REPLY` when there is nothing to keep.

/// The reply that means "nothing to say" (OpenClaw's `SILENT_REPLY_TOKEN`).
pub const SILENT_REPLY_TOKEN: &str = "NO_REPLY";

const TARGET_HINT: &str =
    "Store durable memories only in memory/YYYY-MM-DD.md (create memory/ if needed).";
const APPEND_ONLY_HINT: &str = "If memory/YYYY-MM-DD.md already exists, APPEND new content only and do not overwrite existing entries.";
const READ_ONLY_HINT: &str = "Treat workspace bootstrap/reference files such as MEMORY.md, DREAMS.md, SOUL.md, and AGENTS.md as read-only during this flush; never overwrite, replace, or edit them.";

/// A flush turn's texts for one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlushPlan {
    /// The user message of the flush turn.
    pub prompt: String,
    /// Appended to the system prompt for that turn.
    pub system_prompt: String,
    /// `memory/<date>.md`.
    pub relative_path: String,
}

/// The flush plan for `date` (`YYYY-MM-DD`, the user's day) at `time_line` (e.g. `Current
/// time: 2026-12-07 16:10 UTC`).
pub fn flush_plan(date: &str, time_line: &str) -> FlushPlan {
    let prompt = [
        "Pre-compaction memory flush.",
        TARGET_HINT,
        READ_ONLY_HINT,
        APPEND_ONLY_HINT,
        "Do NOT create timestamped variant files (e.g., YYYY-MM-DD-HHMM.md); always use the canonical YYYY-MM-DD.md filename.",
        &format!("If nothing to store, reply with {SILENT_REPLY_TOKEN}."),
    ]
    .join(" ");
    let system = [
        "Pre-compaction memory flush turn.",
        "The session is near auto-compaction; capture durable memories to disk.",
        TARGET_HINT,
        READ_ONLY_HINT,
        APPEND_ONLY_HINT,
        &format!("You may reply, but usually {SILENT_REPLY_TOKEN} is correct."),
    ]
    .join(" ");
    FlushPlan {
        prompt: format!("{}\n{time_line}", prompt.replace("YYYY-MM-DD", date)),
        system_prompt: system.replace("YYYY-MM-DD", date),
        relative_path: format!("memory/{date}.md"),
    }
}

/// Today's plan in UTC.
pub fn flush_plan_now() -> FlushPlan {
    let now = time::OffsetDateTime::now_utc();
    let date = format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    let time_line = format!(
        "Current time: {date} {:02}:{:02} UTC",
        now.hour(),
        now.minute()
    );
    flush_plan(&date, &time_line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_todays_note_and_the_silent_token() {
        let p = flush_plan("2026-12-07", "Current time: 2026-12-07 16:00 UTC");
        assert!(p.prompt.starts_with(
            "Pre-compaction memory flush. Store durable memories only in memory/2026-12-07.md"
        ));
        assert!(p.prompt.contains("reply with NO_REPLY."));
        assert!(p.prompt.ends_with("\nCurrent time: 2026-12-07 16:00 UTC"));
        assert!(p.system_prompt.contains("capture durable memories to disk"));
        assert_eq!(p.relative_path, "memory/2026-12-07.md");
        assert!(!p.prompt.contains("YYYY"));
    }
}
