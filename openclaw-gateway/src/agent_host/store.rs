//! The agent host's view of the session index in the state store (`openclaw_state`): rows are
//! read and written through per change, one row at a time, so the gateway never holds a copy
//! it could write back over a change made by the CLI. Errors become `UNAVAILABLE` answers that
//! name the database; nothing is treated as empty.

use std::path::PathBuf;

use openclaw_core::protocol::ErrorShape;
use openclaw_state::{SessionRow, StateError, StateStore, paths};
use serde_json::{Value, json};

use super::Core;
use crate::state::now_ms;

/// A store error as a gateway error.
pub(crate) fn unavailable(e: StateError) -> ErrorShape {
    ErrorShape::unavailable(e.to_string())
}

impl Core {
    /// The state store.
    pub fn index(&self) -> &dyn StateStore {
        &*self.state
    }

    /// The row of `key`.
    pub fn row(&self, key: &str) -> Result<Option<SessionRow>, ErrorShape> {
        self.state.session(key).map_err(unavailable)
    }

    /// The row of `key`, or "session not found".
    pub fn existing_row(&self, key: &str) -> Result<SessionRow, ErrorShape> {
        self.row(key)?
            .ok_or_else(|| ErrorShape::invalid_request(format!("session not found: {key}")))
    }

    /// Changes the row of `key` (or says it is not found).
    pub fn update_row(
        &self,
        key: &str,
        mut change: impl FnMut(&mut SessionRow),
    ) -> Result<SessionRow, ErrorShape> {
        self.state
            .update_session(key, &mut change)
            .map_err(unavailable)?
            .ok_or_else(|| ErrorShape::invalid_request(format!("session not found: {key}")))
    }

    /// Sets the label of `key`'s session, making its row when it has none yet (the first run
    /// keeps the label, see [`started`]).
    pub fn set_label(&self, key: &str, agent_id: &str, label: &str) -> Result<(), ErrorShape> {
        let mut set = |r: &mut SessionRow| r.label = Some(label.to_owned());
        if self
            .state
            .update_session(key, &mut set)
            .map_err(unavailable)?
            .is_none()
        {
            let mut row = SessionRow::new(key, agent_id, now_ms());
            set(&mut row);
            self.state.put_session(&row).map_err(unavailable)?;
        }
        Ok(())
    }

    /// The folder new transcripts of `agent_id` go to.
    pub fn sessions_dir(&self, agent_id: &str) -> PathBuf {
        paths::sessions_dir(&self.state_dir, agent_id)
    }

    /// The transcript file of a row.
    pub fn transcript_of(&self, row: &SessionRow) -> Option<PathBuf> {
        self.state.transcript_path(row)
    }

    /// `{count, recent:[{key, updatedAt, age}]}` (at most 5 recent): two indexed reads.
    pub fn summary(&self, agent_id: &str) -> Result<Value, StateError> {
        let now = now_ms();
        let page = self.state.list_sessions(&openclaw_state::SessionQuery {
            agent_ids: Some(vec![agent_id.to_owned()]),
            limit: Some(5),
            ..Default::default()
        })?;
        let recent: Vec<Value> = page
            .rows
            .iter()
            .map(|r| {
                json!({"key": r.key, "updatedAt": r.updated_at,
                    "age": now.saturating_sub(r.updated_at)})
            })
            .collect();
        Ok(json!({"count": page.total, "recent": recent}))
    }
}

/// A fresh row for a new transcript (`sessionStartedAt`, `updatedAt`, `chatType`), keeping what
/// an older row of the key had (label, overrides) after a reset.
pub(crate) fn started(
    old: Option<SessionRow>,
    key: &str,
    agent_id: &str,
    session_id: &str,
    transcript: Option<String>,
) -> SessionRow {
    let now = now_ms();
    let mut row = old.unwrap_or_else(|| SessionRow::new(key, agent_id, now));
    row.key = key.to_owned();
    row.agent_id = agent_id.to_owned();
    row.session_id = Some(session_id.to_owned());
    row.transcript = transcript;
    row.session_started_at = Some(now);
    row.updated_at = now;
    row.meta.chat_type.get_or_insert_with(|| "direct".into());
    row
}
