//! The channel store: the durable inbound queue (`channel_ingress` + `channel_cursors`), DM
//! pairing requests and the senders they approved, and `send` receipts by idempotency key.
//!
//! The inbound guarantee rests on [`ChannelStore::commit_inbound`]: the messages and the
//! account's new cursor are one transaction, written before the platform is acknowledged, and
//! a message whose dedupe key is already stored is dropped. A run is claimed with
//! [`ChannelStore::claim_ingress`], which counts attempts: a row found `running` with two
//! attempts behind it (the original and one replay) is settled `failed`, never run a third
//! time.

use openclaw_core::channel::InboundMessage;
use openclaw_core::channel::pairing::{PENDING_PER_ACCOUNT, TTL_MS, new_code};
use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};
use serde_json::Value;

use crate::{SqliteStore, StateError, StateResult};

/// Where an inbound message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngressStatus {
    Pending,
    Running,
    /// The run finished; its reply is stored and (some of) its chunks may be sent.
    Replied,
    Done,
    Failed,
    /// Not for an agent (policy, pairing).
    Dropped,
}

impl IngressStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IngressStatus::Pending => "pending",
            IngressStatus::Running => "running",
            IngressStatus::Replied => "replied",
            IngressStatus::Done => "done",
            IngressStatus::Failed => "failed",
            IngressStatus::Dropped => "dropped",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => IngressStatus::Pending,
            "running" => IngressStatus::Running,
            "replied" => IngressStatus::Replied,
            "done" => IngressStatus::Done,
            "failed" => IngressStatus::Failed,
            "dropped" => IngressStatus::Dropped,
            _ => return None,
        })
    }
}

/// One stored inbound message.
#[derive(Debug, Clone, PartialEq)]
pub struct IngressRow {
    pub id: i64,
    pub status: IngressStatus,
    pub attempts: u32,
    pub message: InboundMessage,
    pub reply: Option<String>,
    /// Platform ids of the reply chunks sent so far, in order.
    pub sent: Vec<String>,
    pub error: Option<String>,
    pub received_at: u64,
}

/// A pending DM pairing request.
#[derive(Debug, Clone, PartialEq)]
pub struct PairingRequest {
    pub channel: String,
    pub account_id: String,
    pub sender_id: String,
    pub code: String,
    pub created_at: u64,
    pub last_seen_at: u64,
    pub expires_at: u64,
    pub meta: Value,
}

/// What [`ChannelStore::pairing_request`] did for a stranger.
#[derive(Debug, Clone, PartialEq)]
pub enum PairingOutcome {
    /// A new request: answer the stranger with its code.
    Created(PairingRequest),
    /// The sender has a pending request: nothing to answer.
    Pending,
    /// The account has its maximum of pending requests: ignored.
    Full,
    /// The sender was answered less than a TTL ago (a dismissed or expired request): ignored.
    RateLimited,
}

/// The channel part of the state store.
pub trait ChannelStore: Send + Sync {
    /// The saved cursor of an account.
    fn channel_cursor(&self, channel: &str, account_id: &str) -> StateResult<Option<String>>;
    /// Stores `messages` (those whose dedupe key is stored already are dropped) and the
    /// account's `cursor`, in one transaction. Returns how many were new.
    fn commit_inbound(
        &self,
        channel: &str,
        account_id: &str,
        messages: &[InboundMessage],
        cursor: Option<&str>,
    ) -> StateResult<usize>;
    /// Rows still to work on (pending, running, replied), oldest first.
    fn open_ingress(&self, limit: usize) -> StateResult<Vec<IngressRow>>;
    /// Marks a pending or running row running with one more attempt and returns it; a row
    /// that already had two attempts is settled `failed` and `None` is returned.
    fn claim_ingress(&self, id: i64) -> StateResult<Option<IngressRow>>;
    /// The run's reply (status `replied`).
    fn set_ingress_reply(&self, id: i64, reply: &str) -> StateResult<()>;
    /// One more reply chunk went out as `message_id`.
    fn record_ingress_sent(&self, id: i64, message_id: &str) -> StateResult<()>;
    /// The reply's messages are now `message_ids` (a streamed reply whose stale messages were
    /// deleted and sent again).
    fn set_ingress_sent(&self, id: i64, message_ids: &[String]) -> StateResult<()>;
    /// Settles a row.
    fn finish_ingress(
        &self,
        id: i64,
        status: IngressStatus,
        error: Option<&str>,
    ) -> StateResult<()>;
    /// A row by id.
    fn ingress(&self, id: i64) -> StateResult<Option<IngressRow>>;

    /// Records that a stranger wrote (see [`PairingOutcome`]).
    fn pairing_request(
        &self,
        channel: &str,
        account_id: &str,
        sender_id: &str,
        meta: &Value,
        now: u64,
    ) -> StateResult<PairingOutcome>;
    /// Pending, unexpired requests (of one channel / account when given), oldest first.
    fn pairing_requests(
        &self,
        channel: Option<&str>,
        account_id: Option<&str>,
        now: u64,
    ) -> StateResult<Vec<PairingRequest>>;
    /// Approves the pending request whose code (or sender id) is `id`: its sender joins the
    /// account's approved senders. `None` when there is no such pending request.
    fn pairing_approve(
        &self,
        channel: &str,
        account_id: Option<&str>,
        id: &str,
        now: u64,
    ) -> StateResult<Option<PairingRequest>>;
    /// Dismisses the pending request `id` (code or sender id); the sender is not answered
    /// again before the request would have expired.
    fn pairing_dismiss(
        &self,
        channel: &str,
        account_id: Option<&str>,
        id: &str,
        now: u64,
    ) -> StateResult<Option<PairingRequest>>;
    /// Senders approved by pairing for an account.
    fn pairing_allowed(&self, channel: &str, account_id: &str) -> StateResult<Vec<String>>;

    /// The stored result of `send` with this idempotency key.
    fn send_receipt(&self, key: &str) -> StateResult<Option<String>>;
    /// Stores a `send` result (the first one wins).
    fn put_send_receipt(&self, key: &str, channel: &str, result: &str) -> StateResult<()>;
}

fn bad(key: &str, e: impl std::fmt::Display) -> StateError {
    StateError::BadRow {
        key: key.to_owned(),
        reason: e.to_string(),
    }
}

const INGRESS_COLS: &str = "id, status, attempts, message, reply, sent, error, received_at";

fn ingress_row(r: &Row<'_>) -> rusqlite::Result<RawIngress> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

type RawIngress = (
    i64,
    String,
    u32,
    String,
    Option<String>,
    String,
    Option<String>,
    i64,
);

fn parse_ingress(raw: RawIngress) -> StateResult<IngressRow> {
    let (id, status, attempts, message, reply, sent, error, received_at) = raw;
    let key = format!("channel_ingress {id}");
    Ok(IngressRow {
        id,
        status: IngressStatus::parse(&status)
            .ok_or_else(|| bad(&key, format!("status {status}")))?,
        attempts,
        message: serde_json::from_str(&message).map_err(|e| bad(&key, e))?,
        reply,
        sent: serde_json::from_str(&sent).map_err(|e| bad(&key, e))?,
        error,
        received_at: u64::try_from(received_at).unwrap_or(0),
    })
}

const PAIR_COLS: &str =
    "channel, account_id, sender_id, code, created_at, last_seen_at, expires_at, meta";

fn pairing_row(r: &Row<'_>) -> rusqlite::Result<PairingRequest> {
    let meta: String = r.get(7)?;
    Ok(PairingRequest {
        channel: r.get(0)?,
        account_id: r.get(1)?,
        sender_id: r.get(2)?,
        code: r.get(3)?,
        created_at: r.get::<_, i64>(4)?.max(0) as u64,
        last_seen_at: r.get::<_, i64>(5)?.max(0) as u64,
        expires_at: r.get::<_, i64>(6)?.max(0) as u64,
        meta: serde_json::from_str(&meta).unwrap_or(Value::Null),
    })
}

impl SqliteStore {
    /// The pending request matching `id` (code or sender id), settled as `status`.
    fn settle_pairing(
        &self,
        channel: &str,
        account_id: Option<&str>,
        id: &str,
        now: u64,
        status: &str,
    ) -> StateResult<Option<PairingRequest>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = tx
            .query_row(
                &format!(
                    "SELECT {PAIR_COLS} FROM channel_pairing_requests WHERE channel = ?1 \
                     AND (?2 IS NULL OR account_id = ?2) AND status = 'pending' \
                     AND expires_at > ?3 AND (code = upper(?4) OR sender_id = ?4) \
                     ORDER BY created_at LIMIT 1"
                ),
                params![channel, account_id, now as i64, id.trim()],
                pairing_row,
            )
            .optional()?;
        let Some(req) = found else { return Ok(None) };
        tx.execute(
            "UPDATE channel_pairing_requests SET status = ?4 WHERE channel = ?1 \
             AND account_id = ?2 AND sender_id = ?3",
            params![req.channel, req.account_id, req.sender_id, status],
        )?;
        if status == "approved" {
            tx.execute(
                "INSERT OR IGNORE INTO channel_pairing_allow_entries \
                 (channel, account_id, entry, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![req.channel, req.account_id, req.sender_id, now as i64],
            )?;
        }
        tx.commit()?;
        Ok(Some(req))
    }
}

impl ChannelStore for SqliteStore {
    fn channel_cursor(&self, channel: &str, account_id: &str) -> StateResult<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT cursor FROM channel_cursors WHERE channel = ?1 AND account_id = ?2",
                [channel, account_id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn commit_inbound(
        &self,
        channel: &str,
        account_id: &str,
        messages: &[InboundMessage],
        cursor: Option<&str>,
    ) -> StateResult<usize> {
        let now = crate::now_ms() as i64;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut new = 0;
        for m in messages {
            let json = serde_json::to_string(m).map_err(|e| bad(&m.dedupe_key, e))?;
            new += tx.execute(
                "INSERT OR IGNORE INTO channel_ingress (channel, account_id, dedupe_key, status, \
                 received_at, updated_at, message) VALUES (?1, ?2, ?3, 'pending', ?4, ?4, ?5)",
                params![channel, account_id, m.dedupe_key, now, json],
            )?;
        }
        if let Some(c) = cursor {
            tx.execute(
                "INSERT INTO channel_cursors (channel, account_id, cursor, updated_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (channel, account_id) \
                 DO UPDATE SET cursor = ?3, updated_at = ?4",
                params![channel, account_id, c, now],
            )?;
        }
        tx.commit()?;
        Ok(new)
    }

    fn open_ingress(&self, limit: usize) -> StateResult<Vec<IngressRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {INGRESS_COLS} FROM channel_ingress \
             WHERE status IN ('pending', 'running', 'replied') ORDER BY id LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit as i64], ingress_row)?;
        rows.map(|r| parse_ingress(r?)).collect()
    }

    fn claim_ingress(&self, id: i64) -> StateResult<Option<IngressRow>> {
        let now = crate::now_ms() as i64;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let raw = tx
            .query_row(
                &format!("SELECT {INGRESS_COLS} FROM channel_ingress WHERE id = ?1"),
                [id],
                ingress_row,
            )
            .optional()?;
        let Some(mut row) = raw.map(parse_ingress).transpose()? else {
            return Ok(None);
        };
        match row.status {
            IngressStatus::Pending | IngressStatus::Running if row.attempts < 2 => {
                tx.execute(
                    "UPDATE channel_ingress SET status = 'running', attempts = attempts + 1, \
                     updated_at = ?2 WHERE id = ?1",
                    params![id, now],
                )?;
                row.status = IngressStatus::Running;
                row.attempts += 1;
            }
            IngressStatus::Pending | IngressStatus::Running => {
                tx.execute(
                    "UPDATE channel_ingress SET status = 'failed', updated_at = ?2, \
                     error = 'interrupted twice; not run again' WHERE id = ?1",
                    params![id, now],
                )?;
                tx.commit()?;
                return Ok(None);
            }
            IngressStatus::Replied => {}
            _ => return Ok(None),
        }
        tx.commit()?;
        Ok(Some(row))
    }

    fn set_ingress_reply(&self, id: i64, reply: &str) -> StateResult<()> {
        self.conn().execute(
            "UPDATE channel_ingress SET status = 'replied', reply = ?2, updated_at = ?3 \
             WHERE id = ?1",
            params![id, reply, crate::now_ms() as i64],
        )?;
        Ok(())
    }

    fn record_ingress_sent(&self, id: i64, message_id: &str) -> StateResult<()> {
        self.conn().execute(
            "UPDATE channel_ingress SET sent = json_insert(sent, '$[#]', ?2), updated_at = ?3 \
             WHERE id = ?1",
            params![id, message_id, crate::now_ms() as i64],
        )?;
        Ok(())
    }

    fn set_ingress_sent(&self, id: i64, message_ids: &[String]) -> StateResult<()> {
        let list = serde_json::to_string(message_ids).map_err(|e| bad("sent", e))?;
        self.conn().execute(
            "UPDATE channel_ingress SET sent = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, list, crate::now_ms() as i64],
        )?;
        Ok(())
    }

    fn finish_ingress(
        &self,
        id: i64,
        status: IngressStatus,
        error: Option<&str>,
    ) -> StateResult<()> {
        self.conn().execute(
            "UPDATE channel_ingress SET status = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, status.as_str(), error, crate::now_ms() as i64],
        )?;
        Ok(())
    }

    fn ingress(&self, id: i64) -> StateResult<Option<IngressRow>> {
        let raw = self
            .conn()
            .query_row(
                &format!("SELECT {INGRESS_COLS} FROM channel_ingress WHERE id = ?1"),
                [id],
                ingress_row,
            )
            .optional()?;
        raw.map(parse_ingress).transpose()
    }

    fn pairing_request(
        &self,
        channel: &str,
        account_id: &str,
        sender_id: &str,
        meta: &Value,
        now: u64,
    ) -> StateResult<PairingOutcome> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let existing = tx
            .query_row(
                "SELECT status, created_at, expires_at FROM channel_pairing_requests \
                 WHERE channel = ?1 AND account_id = ?2 AND sender_id = ?3",
                params![channel, account_id, sender_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                },
            )
            .optional()?;
        let now_i = now as i64;
        if let Some((status, created, expires)) = existing {
            if status == "pending" && expires > now_i {
                tx.execute(
                    "UPDATE channel_pairing_requests SET last_seen_at = ?4 WHERE channel = ?1 \
                     AND account_id = ?2 AND sender_id = ?3",
                    params![channel, account_id, sender_id, now_i],
                )?;
                tx.commit()?;
                return Ok(PairingOutcome::Pending);
            }
            if created + TTL_MS as i64 > now_i {
                return Ok(PairingOutcome::RateLimited);
            }
        }
        let mut stmt = tx.prepare(
            "SELECT code FROM channel_pairing_requests WHERE channel = ?1 AND account_id = ?2 \
             AND status = 'pending' AND expires_at > ?3",
        )?;
        let codes: Vec<String> = stmt
            .query_map(params![channel, account_id, now_i], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        drop(stmt);
        if codes.len() >= PENDING_PER_ACCOUNT {
            return Ok(PairingOutcome::Full);
        }
        let code = std::iter::repeat_with(new_code)
            .take(16)
            .find(|c| !codes.contains(c))
            .unwrap_or_else(new_code);
        let req = PairingRequest {
            channel: channel.to_owned(),
            account_id: account_id.to_owned(),
            sender_id: sender_id.to_owned(),
            code,
            created_at: now,
            last_seen_at: now,
            expires_at: now + TTL_MS,
            meta: meta.clone(),
        };
        tx.execute(
            "INSERT INTO channel_pairing_requests (channel, account_id, sender_id, code, status, \
             created_at, last_seen_at, expires_at, meta) VALUES (?1, ?2, ?3, ?4, 'pending', ?5, \
             ?5, ?6, ?7) ON CONFLICT (channel, account_id, sender_id) DO UPDATE SET code = ?4, \
             status = 'pending', created_at = ?5, last_seen_at = ?5, expires_at = ?6, meta = ?7",
            params![
                channel,
                account_id,
                sender_id,
                req.code,
                now_i,
                req.expires_at as i64,
                meta.to_string()
            ],
        )?;
        tx.commit()?;
        Ok(PairingOutcome::Created(req))
    }

    fn pairing_requests(
        &self,
        channel: Option<&str>,
        account_id: Option<&str>,
        now: u64,
    ) -> StateResult<Vec<PairingRequest>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {PAIR_COLS} FROM channel_pairing_requests WHERE status = 'pending' \
             AND expires_at > ?1 AND (?2 IS NULL OR channel = ?2) \
             AND (?3 IS NULL OR account_id = ?3) ORDER BY created_at"
        ))?;
        let rows = stmt.query_map(params![now as i64, channel, account_id], pairing_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn pairing_approve(
        &self,
        channel: &str,
        account_id: Option<&str>,
        id: &str,
        now: u64,
    ) -> StateResult<Option<PairingRequest>> {
        self.settle_pairing(channel, account_id, id, now, "approved")
    }

    fn pairing_dismiss(
        &self,
        channel: &str,
        account_id: Option<&str>,
        id: &str,
        now: u64,
    ) -> StateResult<Option<PairingRequest>> {
        self.settle_pairing(channel, account_id, id, now, "dismissed")
    }

    fn pairing_allowed(&self, channel: &str, account_id: &str) -> StateResult<Vec<String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT entry FROM channel_pairing_allow_entries WHERE channel = ?1 \
             AND account_id = ?2 ORDER BY created_at",
        )?;
        let rows = stmt.query_map([channel, account_id], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn send_receipt(&self, key: &str) -> StateResult<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT result FROM channel_sends WHERE idempotency_key = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn put_send_receipt(&self, key: &str, channel: &str, result: &str) -> StateResult<()> {
        self.conn().execute(
            "INSERT OR IGNORE INTO channel_sends (idempotency_key, channel, result, created_at) \
             VALUES (?1, ?2, ?3, ?4)",
            params![key, channel, result, crate::now_ms() as i64],
        )?;
        Ok(())
    }
}
