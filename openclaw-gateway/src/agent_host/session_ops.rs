//! Checks and edits of a session that the session methods share: the `expected…` guards
//! (a caller that looked at an older state of the session is refused, not served) and
//! `sessions.compact {maxLines}` (the transcript keeps its last lines; the older ones are
//! summarised away by a compaction entry, so the file stays append-only).

use std::path::Path;

use std::sync::Arc;

use openclaw_core::event::CompactionResult;
use openclaw_core::protocol::ErrorShape;
use openclaw_core::protocol::params::result;
use openclaw_core::session::{SessionEntry, SessionManager};
use openclaw_state::SessionRow;
use serde::Serialize;
use serde_json::Value;

use super::Core;

/// Refuses a call whose `field` (`expectedSessionId`, `expectedExistingSessionId`) is not the
/// session's current id (the session was reset or replaced since the caller looked).
pub(crate) fn check_session_id(
    core: &Core,
    key: &str,
    expected: Option<&str>,
    field: &str,
) -> Result<(), ErrorShape> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let current = core.row(key)?.and_then(|r| r.session_id);
    if current.as_deref() == Some(expected) {
        return Ok(());
    }
    Err(ErrorShape::invalid_request(format!(
        "session changed: {field} {expected} does not match the current session {}",
        current.as_deref().unwrap_or("(none)")
    )))
}

/// The lifecycle guards a `sessions.patch` / `reset` / `delete` call carries.
#[derive(Debug, Default)]
pub(crate) struct Guards<'a> {
    pub session_id: Option<&'a str>,
    pub lifecycle_revision: bool,
    pub updated_at: Option<u64>,
    pub archived_only: bool,
}

/// The lifecycle guards of `sessions.patch` / `reset` / `delete`: `expectedSessionId`,
/// `expectedSessionUpdatedAt` and `archivedOnly`; `expectedLifecycleRevision` is refused (this
/// gateway keeps no lifecycle revisions, so it cannot check one).
pub(crate) fn check_lifecycle(core: &Core, g: &Guards<'_>, key: &str) -> Result<(), ErrorShape> {
    check_session_id(core, key, g.session_id, "expectedSessionId")?;
    if g.lifecycle_revision {
        return Err(ErrorShape::invalid_request(
            "expectedLifecycleRevision is not supported by this gateway (no lifecycle revisions); \
             use expectedSessionId or expectedSessionUpdatedAt",
        ));
    }
    let row = core.row(key)?;
    if let Some(at) = g.updated_at {
        let current = row.as_ref().map(|r| r.updated_at);
        if current != Some(at) {
            return Err(ErrorShape::invalid_request(format!(
                "session changed: expectedSessionUpdatedAt {at} does not match {}",
                current.map_or("(none)".into(), |c| c.to_string())
            )));
        }
    }
    if g.archived_only {
        let archived = row.as_ref().and_then(|r| r.meta.archived) == Some(true);
        if !archived {
            return Err(ErrorShape::invalid_request(format!(
                "session {key} is not archived (archivedOnly)"
            )));
        }
    }
    Ok(())
}

/// What `sessions.compact {maxLines}` did.
pub(crate) struct Trimmed {
    pub kept: usize,
    pub removed: usize,
}

/// `sessions.compact`'s answer.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Compacted<'a> {
    pub ok: bool,
    pub key: &'a str,
    pub compacted: bool,
    /// The summary compaction's result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<CompactionResult>,
    /// Why nothing was compacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `maxLines`: the messages kept and removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed: Option<usize>,
}

impl<'a> Compacted<'a> {
    /// Nothing compacted, for `reason`.
    pub fn not(key: &'a str, reason: String) -> Self {
        Compacted {
            ok: true,
            key,
            reason: Some(reason),
            ..Compacted::default()
        }
    }
}

/// Keeps the last `max_lines` messages of the transcript's current branch (starting at a user
/// message, so the kept part opens a turn) behind a compaction entry. `None` when there is
/// nothing to remove.
pub(crate) fn trim_transcript(file: &Path, max_lines: usize) -> Result<Option<Trimmed>, String> {
    let mut manager = SessionManager::open(file, "").map_err(|e| e.to_string())?;
    let messages: Vec<(String, bool)> = manager
        .branch_entries()
        .into_iter()
        .filter_map(|e| match e {
            SessionEntry::Message(m) => Some((m.id.clone(), m.message.role() == "user")),
            _ => None,
        })
        .collect();
    let from = messages.len().saturating_sub(max_lines);
    let Some(first) = (from..messages.len())
        .find(|&i| messages[i].1)
        .filter(|&i| i > 0)
    else {
        return Ok(None);
    };
    let removed = first;
    let result = CompactionResult {
        summary: format!(
            "{removed} earlier messages were removed by sessions.compact (maxLines {max_lines})."
        ),
        first_kept_entry_id: messages[first].0.clone(),
        tokens_before: 0,
        details: None,
    };
    manager
        .append_compaction(&result, false)
        .map_err(|e| e.to_string())?;
    Ok(Some(Trimmed {
        kept: messages.len() - first,
        removed,
    }))
}

/// `sessions.compact {maxLines}`: the transcript keeps its last `max` messages (the caller
/// holds the key's run lock).
pub(crate) fn compact_lines(
    core: &Arc<Core>,
    (key, agent): (&str, &str),
    live: &super::live::Live,
    row: &SessionRow,
    max: usize,
) -> Result<Value, ErrorShape> {
    let Some(file) = core.transcript_of(row).filter(|f| f.exists()) else {
        return result(Compacted::not(key, "no transcript".into()));
    };
    live.drop_engine();
    match trim_transcript(&file, max).map_err(ErrorShape::unavailable)? {
        None => result(Compacted::not(
            key,
            format!("the transcript has at most {max} messages"),
        )),
        Some(t) => {
            core.update_row(key, |r| {
                r.meta.compaction_count = Some(r.meta.compaction_count.unwrap_or(0) + 1);
            })?;
            core.session_changed(key, agent, "compact", None);
            result(Compacted {
                ok: true,
                key,
                compacted: true,
                kept: Some(t.kept),
                removed: Some(t.removed),
                ..Compacted::default()
            })
        }
    }
}
