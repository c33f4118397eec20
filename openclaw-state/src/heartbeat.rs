//! Heartbeat state per agent (`heartbeat_state`): the checklist the last successful beat
//! answered (the cost guard skips while it is unchanged), when each `tasks:` entry of
//! HEARTBEAT.md last ran, and the tokens heartbeat turns spent. One row per agent, replaced
//! whole by the heartbeat runner (the only writer).

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::{SqliteStore, StateError, StateResult};

/// What one agent's heartbeats remember.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatState {
    /// When a heartbeat turn last ran (ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_at_ms: Option<u64>,
    /// The digest of the HEARTBEAT.md the last successful beat answered (`None` after a
    /// failure or before any run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_checklist: Option<String>,
    /// Task name → when it last ran (ms).
    #[serde(default)]
    pub task_runs: BTreeMap<String, u64>,
    /// Heartbeat turns that called the model.
    #[serde(default)]
    pub runs: u64,
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

/// The heartbeat part of the state store.
pub trait HeartbeatStore: Send + Sync {
    /// The state of `agent_id` (`None` before its first heartbeat).
    fn heartbeat_state(&self, agent_id: &str) -> StateResult<Option<HeartbeatState>>;
    /// Replaces the state of `agent_id`.
    fn put_heartbeat_state(
        &self,
        agent_id: &str,
        state: &HeartbeatState,
        now_ms: u64,
    ) -> StateResult<()>;
    /// Every agent's state, by agent id.
    fn heartbeat_states(&self) -> StateResult<Vec<(String, HeartbeatState)>>;
}

fn parse(agent_id: &str, text: &str) -> StateResult<HeartbeatState> {
    serde_json::from_str(text).map_err(|e| StateError::BadRow {
        key: format!("heartbeat:{agent_id}"),
        reason: e.to_string(),
    })
}

impl HeartbeatStore for SqliteStore {
    fn heartbeat_state(&self, agent_id: &str) -> StateResult<Option<HeartbeatState>> {
        let conn = self.conn();
        let text: Option<String> = conn
            .query_row(
                "SELECT state FROM heartbeat_state WHERE agent_id = ?1",
                [agent_id],
                |r| r.get(0),
            )
            .optional()?;
        text.map(|t| parse(agent_id, &t)).transpose()
    }

    fn put_heartbeat_state(
        &self,
        agent_id: &str,
        state: &HeartbeatState,
        now_ms: u64,
    ) -> StateResult<()> {
        let text = serde_json::to_string(state).map_err(|e| StateError::BadRow {
            key: format!("heartbeat:{agent_id}"),
            reason: e.to_string(),
        })?;
        self.conn().execute(
            "INSERT INTO heartbeat_state (agent_id, updated_at, state) VALUES (?1, ?2, ?3) \
             ON CONFLICT (agent_id) DO UPDATE SET updated_at = ?2, state = ?3",
            params![agent_id, now_ms as i64, text],
        )?;
        Ok(())
    }

    fn heartbeat_states(&self) -> StateResult<Vec<(String, HeartbeatState)>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT agent_id, state FROM heartbeat_state ORDER BY agent_id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        rows.map(|r| {
            let (id, text) = r?;
            Ok((id.clone(), parse(&id, &text)?))
        })
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_and_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.heartbeat_state("main").unwrap(), None);
        let mut s = HeartbeatState {
            answered_checklist: Some("sha256:x".into()),
            runs: 1,
            total_tokens: 15,
            ..HeartbeatState::default()
        };
        s.task_runs.insert("inbox".into(), 5);
        store.put_heartbeat_state("main", &s, 1).unwrap();
        assert_eq!(store.heartbeat_state("main").unwrap(), Some(s.clone()));
        s.answered_checklist = None;
        store.put_heartbeat_state("main", &s, 2).unwrap();
        let all = store.heartbeat_states().unwrap();
        assert_eq!(all, vec![("main".to_owned(), s)]);
    }
}
