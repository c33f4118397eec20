//! The approvals ledger: every approval request the gateway raised, pending or settled, so
//! `approval.history` can list the past and a restart can expire what was pending (a request
//! whose waiter died with the old process can never be answered).

use rusqlite::{OptionalExtension, Row, params};

use crate::{SqliteStore, StateError, StateResult};

/// Where an approval stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalStatus {
    Pending,
    Allowed,
    Denied,
    Expired,
    Cancelled,
}

impl ApprovalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Allowed => "allowed",
            ApprovalStatus::Denied => "denied",
            ApprovalStatus::Expired => "expired",
            ApprovalStatus::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => ApprovalStatus::Pending,
            "allowed" => ApprovalStatus::Allowed,
            "denied" => ApprovalStatus::Denied,
            "expired" => ApprovalStatus::Expired,
            "cancelled" => ApprovalStatus::Cancelled,
            _ => return None,
        })
    }
}

/// One stored approval.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRow {
    pub id: String,
    /// `exec` (later `plugin`, `system-agent`).
    pub kind: String,
    pub status: ApprovalStatus,
    /// `allow-once`, `allow-always` or `deny` once decided.
    pub decision: Option<String>,
    /// Why it ended: `user`, `timeout`, `no-route`, `run-aborted`, `gateway-restart`.
    pub reason: Option<String>,
    /// The request as announced (JSON text; the gateway owns its type).
    pub request: String,
    pub agent_id: Option<String>,
    pub session_key: Option<String>,
    pub created_at_ms: u64,
    pub expires_at_ms: u64,
    pub resolved_at_ms: Option<u64>,
    /// The resolving client's display name or id (`resolvedBy`).
    pub resolved_by: Option<String>,
    /// The resolver as `kind` or `kind:id` (`runtime:cli`, `device:<id>`, `system`).
    pub resolver: Option<String>,
}

/// How a pending approval is settled.
#[derive(Debug, Clone, PartialEq)]
pub struct Settlement<'a> {
    pub status: ApprovalStatus,
    pub decision: Option<&'a str>,
    pub reason: &'a str,
    pub at_ms: u64,
    pub resolved_by: Option<&'a str>,
    pub resolver: Option<&'a str>,
}

/// The approvals part of the state store.
pub trait ApprovalStore: Send + Sync {
    /// Records a new pending approval.
    fn insert_approval(&self, row: &ApprovalRow) -> StateResult<()>;
    /// The approval `id`.
    fn approval(&self, id: &str) -> StateResult<Option<ApprovalRow>>;
    /// Settles `id` if it is still pending; false when it was not (first answer wins).
    fn settle_approval(&self, id: &str, how: &Settlement<'_>) -> StateResult<bool>;
    /// The pending approvals, oldest first.
    fn pending_approvals(&self) -> StateResult<Vec<ApprovalRow>>;
    /// Settled approvals, newest first: at most `limit` created before `before` (ms, id).
    fn approval_history(
        &self,
        before: Option<(u64, &str)>,
        limit: usize,
        kind: Option<&str>,
    ) -> StateResult<Vec<ApprovalRow>>;
    /// Expires every pending approval with `reason` (a gateway start: their waiters are gone);
    /// returns how many.
    fn expire_pending(&self, reason: &str, at_ms: u64) -> StateResult<usize>;
    /// Forgets settled approvals created before `before_ms`; returns how many.
    fn prune_approvals(&self, before_ms: u64) -> StateResult<usize>;
}

const COLUMNS: &str = "id, kind, status, decision, reason, request, agent_id, session_key, \
                       created_at, expires_at, resolved_at, resolved_by, resolver";

fn read(r: &Row<'_>) -> rusqlite::Result<(ApprovalRow, String)> {
    let ms = |v: Option<i64>| v.map(|n| n.max(0) as u64);
    let status: String = r.get(2)?;
    Ok((
        ApprovalRow {
            id: r.get(0)?,
            kind: r.get(1)?,
            status: ApprovalStatus::Pending,
            decision: r.get(3)?,
            reason: r.get(4)?,
            request: r.get(5)?,
            agent_id: r.get(6)?,
            session_key: r.get(7)?,
            created_at_ms: r.get::<_, i64>(8)?.max(0) as u64,
            expires_at_ms: r.get::<_, i64>(9)?.max(0) as u64,
            resolved_at_ms: ms(r.get(10)?),
            resolved_by: r.get(11)?,
            resolver: r.get(12)?,
        },
        status,
    ))
}

fn typed((mut row, status): (ApprovalRow, String)) -> StateResult<ApprovalRow> {
    row.status = ApprovalStatus::parse(&status).ok_or_else(|| StateError::BadRow {
        key: row.id.clone(),
        reason: format!("unknown approval status {status:?}"),
    })?;
    Ok(row)
}

fn collect(
    rows: impl Iterator<Item = rusqlite::Result<(ApprovalRow, String)>>,
) -> StateResult<Vec<ApprovalRow>> {
    rows.map(|r| typed(r?)).collect()
}

impl ApprovalStore for SqliteStore {
    fn insert_approval(&self, row: &ApprovalRow) -> StateResult<()> {
        let conn = self.conn();
        conn.execute(
            &format!(
                "INSERT INTO approvals ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, \
                 ?10, ?11, ?12, ?13)"
            ),
            params![
                row.id,
                row.kind,
                row.status.as_str(),
                row.decision,
                row.reason,
                row.request,
                row.agent_id,
                row.session_key,
                row.created_at_ms as i64,
                row.expires_at_ms as i64,
                row.resolved_at_ms.map(|n| n as i64),
                row.resolved_by,
                row.resolver,
            ],
        )?;
        Ok(())
    }

    fn approval(&self, id: &str) -> StateResult<Option<ApprovalRow>> {
        let conn = self.conn();
        conn.query_row(
            &format!("SELECT {COLUMNS} FROM approvals WHERE id = ?1"),
            [id],
            read,
        )
        .optional()?
        .map(typed)
        .transpose()
    }

    fn settle_approval(&self, id: &str, how: &Settlement<'_>) -> StateResult<bool> {
        let conn = self.conn();
        let n = conn.execute(
            "UPDATE approvals SET status = ?2, decision = ?3, reason = ?4, resolved_at = ?5, \
             resolved_by = ?6, resolver = ?7 WHERE id = ?1 AND status = 'pending'",
            params![
                id,
                how.status.as_str(),
                how.decision,
                how.reason,
                how.at_ms as i64,
                how.resolved_by,
                how.resolver,
            ],
        )?;
        Ok(n == 1)
    }

    fn pending_approvals(&self) -> StateResult<Vec<ApprovalRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM approvals WHERE status = 'pending' ORDER BY created_at"
        ))?;
        let rows = stmt.query_map([], read)?;
        collect(rows)
    }

    fn approval_history(
        &self,
        before: Option<(u64, &str)>,
        limit: usize,
        kind: Option<&str>,
    ) -> StateResult<Vec<ApprovalRow>> {
        let conn = self.conn();
        let (at, id) = before.unwrap_or((u64::MAX >> 1, ""));
        let mut stmt = conn.prepare(&format!(
            "SELECT {COLUMNS} FROM approvals WHERE status <> 'pending' \
             AND (?4 IS NULL OR kind = ?4) \
             AND (created_at < ?1 OR (created_at = ?1 AND (?2 = '' OR id < ?2))) \
             ORDER BY created_at DESC, id DESC LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![at as i64, id, limit as i64, kind], read)?;
        collect(rows)
    }

    fn expire_pending(&self, reason: &str, at_ms: u64) -> StateResult<usize> {
        let conn = self.conn();
        Ok(conn.execute(
            "UPDATE approvals SET status = 'expired', reason = ?1, resolved_at = ?2, \
             resolver = 'system' WHERE status = 'pending'",
            params![reason, at_ms as i64],
        )?)
    }

    fn prune_approvals(&self, before_ms: u64) -> StateResult<usize> {
        let conn = self.conn();
        Ok(conn.execute(
            "DELETE FROM approvals WHERE status <> 'pending' AND created_at < ?1",
            params![before_ms as i64],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, at: u64) -> ApprovalRow {
        ApprovalRow {
            id: id.into(),
            kind: "exec".into(),
            status: ApprovalStatus::Pending,
            decision: None,
            reason: None,
            request: "{\"command\":\"ls\"}".into(),
            agent_id: Some("main".into()),
            session_key: Some("agent:main:main".into()),
            created_at_ms: at,
            expires_at_ms: at + 1000,
            resolved_at_ms: None,
            resolved_by: None,
            resolver: None,
        }
    }

    #[test]
    fn first_answer_wins_history_pages_and_a_restart_expires_pending() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        for (i, id) in ["a", "b", "c"].iter().enumerate() {
            store.insert_approval(&row(id, 10 + i as u64)).unwrap();
        }
        let deny = Settlement {
            status: ApprovalStatus::Denied,
            decision: Some("deny"),
            reason: "user",
            at_ms: 20,
            resolved_by: Some("cli"),
            resolver: Some("runtime:cli"),
        };
        assert!(store.settle_approval("a", &deny).unwrap());
        let allow = Settlement {
            status: ApprovalStatus::Allowed,
            decision: Some("allow-once"),
            ..deny.clone()
        };
        assert!(
            !store.settle_approval("a", &allow).unwrap(),
            "first answer wins"
        );
        assert!(store.settle_approval("b", &allow).unwrap());
        assert_eq!(
            store.approval("a").unwrap().unwrap().decision.as_deref(),
            Some("deny")
        );
        let page = store.approval_history(None, 1, None).unwrap();
        assert_eq!(page[0].id, "b");
        let next = store
            .approval_history(Some((11, "b")), 10, Some("exec"))
            .unwrap();
        assert_eq!(
            next.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["a"]
        );
        drop(store);
        // A new process: what was pending can never be answered.
        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.pending_approvals().unwrap().len(), 1);
        assert_eq!(store.expire_pending("gateway-restart", 30).unwrap(), 1);
        let c = store.approval("c").unwrap().unwrap();
        assert_eq!(
            (c.status, c.reason.as_deref()),
            (ApprovalStatus::Expired, Some("gateway-restart"))
        );
        assert!(store.pending_approvals().unwrap().is_empty());
        assert_eq!(store.prune_approvals(12).unwrap(), 2);
    }
}
