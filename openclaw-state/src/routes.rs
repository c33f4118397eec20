//! Conversation routes (`conversation_routes`): for each session key, the channel
//! conversation (channel, account, peer, thread) it last talked in, written by the channel
//! dispatcher at each inbound turn. An agent's last route — OpenClaw's `lastChannel` /
//! `lastTo` / `lastAccountId` / `lastThreadId` — is its most recently updated row; heartbeat
//! `target: "last"`, cron `delivery.channel: "last"` and the automations tool's default
//! delivery read it.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::{SqliteStore, StateResult};

/// Where a conversation lives on a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConversationRoute {
    pub channel: String,
    pub account_id: String,
    /// The chat to send to (a DM peer or a group id).
    pub peer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    /// `direct | group`.
    pub chat_type: String,
    /// Who wrote last (the sender id on the channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<String>,
    pub updated_at_ms: u64,
}

/// The route part of the state store.
pub trait RouteStore: Send + Sync {
    /// Records that `session_key` (of `agent_id`) talked in `route`.
    fn record_route(
        &self,
        session_key: &str,
        agent_id: &str,
        route: &ConversationRoute,
    ) -> StateResult<()>;
    /// The route `session_key` last talked in.
    fn route_of(&self, session_key: &str) -> StateResult<Option<ConversationRoute>>;
    /// The route `agent_id` last talked in, over all its sessions.
    fn last_route(&self, agent_id: &str) -> StateResult<Option<ConversationRoute>>;
    /// Forgets the route of `session_key` (its session was deleted).
    fn forget_route(&self, session_key: &str) -> StateResult<()>;
}

const COLUMNS: &str = "channel, account_id, peer, thread_id, chat_type, sender, updated_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConversationRoute> {
    Ok(ConversationRoute {
        channel: r.get(0)?,
        account_id: r.get(1)?,
        peer: r.get(2)?,
        thread_id: r.get(3)?,
        chat_type: r.get(4)?,
        sender: r.get(5)?,
        updated_at_ms: r.get::<_, i64>(6)?.max(0) as u64,
    })
}

impl RouteStore for SqliteStore {
    fn record_route(
        &self,
        session_key: &str,
        agent_id: &str,
        route: &ConversationRoute,
    ) -> StateResult<()> {
        self.conn().execute(
            "INSERT INTO conversation_routes (session_key, agent_id, channel, account_id, peer, \
             thread_id, chat_type, sender, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
             ON CONFLICT (session_key) DO UPDATE SET agent_id = ?2, channel = ?3, \
             account_id = ?4, peer = ?5, thread_id = ?6, chat_type = ?7, sender = ?8, \
             updated_at = ?9",
            params![
                session_key,
                agent_id,
                route.channel,
                route.account_id,
                route.peer,
                route.thread_id,
                route.chat_type,
                route.sender,
                route.updated_at_ms as i64
            ],
        )?;
        Ok(())
    }

    fn route_of(&self, session_key: &str) -> StateResult<Option<ConversationRoute>> {
        let sql = format!("SELECT {COLUMNS} FROM conversation_routes WHERE session_key = ?1");
        Ok(self.conn().query_row(&sql, [session_key], row).optional()?)
    }

    fn last_route(&self, agent_id: &str) -> StateResult<Option<ConversationRoute>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM conversation_routes WHERE agent_id = ?1 \
             ORDER BY updated_at DESC LIMIT 1"
        );
        Ok(self.conn().query_row(&sql, [agent_id], row).optional()?)
    }

    fn forget_route(&self, session_key: &str) -> StateResult<()> {
        self.conn().execute(
            "DELETE FROM conversation_routes WHERE session_key = ?1",
            [session_key],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(peer: &str, at: u64) -> ConversationRoute {
        ConversationRoute {
            channel: "telegram".into(),
            account_id: "default".into(),
            peer: peer.into(),
            thread_id: None,
            chat_type: "direct".into(),
            sender: Some(peer.into()),
            updated_at_ms: at,
        }
    }

    #[test]
    fn the_last_route_is_the_agents_most_recent_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SqliteStore::open(dir.path()).unwrap();
            assert_eq!(store.last_route("main").unwrap(), None);
            store
                .record_route("agent:main:telegram:direct:1", "main", &route("1", 10))
                .unwrap();
            store
                .record_route("agent:main:telegram:direct:2", "main", &route("2", 20))
                .unwrap();
            store
                .record_route("agent:ops:telegram:direct:3", "ops", &route("3", 30))
                .unwrap();
            // The first conversation speaks again: it is the last one now.
            store
                .record_route("agent:main:telegram:direct:1", "main", &route("1", 40))
                .unwrap();
        }
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.last_route("main").unwrap().unwrap().peer, "1");
        assert_eq!(store.last_route("ops").unwrap().unwrap().peer, "3");
        let two = store.route_of("agent:main:telegram:direct:2").unwrap();
        assert_eq!(two, Some(route("2", 20)));
        store.forget_route("agent:main:telegram:direct:1").unwrap();
        assert_eq!(store.last_route("main").unwrap().unwrap().peer, "2");
    }
}
