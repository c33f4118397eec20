//! Connections and event delivery: each connection's outbound queue (byte-accounted, so a slow
//! reader is cut off at `maxBufferedBytes` instead of growing memory or slowing others), the
//! per-connection event `seq`, scope filtering of broadcasts, presence and `stateVersion`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use openclaw_core::CancellationToken;
use openclaw_core::protocol::scopes::{EventAccess, event_access};
use openclaw_core::protocol::{
    EventFrame, PresenceEntry, ResponseFrame, Role, Scope, StateVersion,
};
use serde_json::Value;
use tokio::sync::mpsc;

/// One item for a connection's writer task.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Text(String),
    Close(u16, String),
}

/// The sending side of one connection. Cheap to share; every send is non-blocking.
#[derive(Debug)]
pub struct Outbound {
    tx: mpsc::UnboundedSender<Outgoing>,
    seq: Mutex<u64>,
    buffered: Arc<AtomicU64>,
    max_buffered: u64,
    kill: CancellationToken,
    closing: AtomicBool,
}

impl Outbound {
    pub(crate) fn new(
        max_buffered: u64,
    ) -> (
        Arc<Self>,
        mpsc::UnboundedReceiver<Outgoing>,
        Arc<AtomicU64>,
        CancellationToken,
    ) {
        let (tx, rx) = mpsc::unbounded_channel();
        let buffered = Arc::new(AtomicU64::new(0));
        let kill = CancellationToken::new();
        let out = Arc::new(Self {
            tx,
            seq: Mutex::new(0),
            buffered: buffered.clone(),
            max_buffered,
            kill: kill.clone(),
            closing: AtomicBool::new(false),
        });
        (out, rx, buffered, kill)
    }

    /// Queues text; a connection over its buffer limit is cut off (returns false).
    fn push(&self, text: String) -> bool {
        if self.kill.is_cancelled() || self.closing.load(Ordering::Acquire) {
            return false;
        }
        let len = text.len() as u64;
        let now = self.buffered.fetch_add(len, Ordering::AcqRel) + len;
        if now > self.max_buffered {
            tracing::warn!(buffered = now, "closing slow consumer");
            self.kill.cancel();
            return false;
        }
        self.tx.send(Outgoing::Text(text)).is_ok()
    }

    /// Sends a response frame.
    pub fn send_response(&self, res: &ResponseFrame) -> bool {
        self.push(serde_json::to_string(res).unwrap_or_default())
    }

    /// Sends an event without a `seq` (only `connect.challenge`).
    pub(crate) fn send_unsequenced(&self, ev: &EventFrame) -> bool {
        self.push(serde_json::to_string(ev).unwrap_or_default())
    }

    /// Sends an event stamped with this connection's next `seq`.
    pub fn send_event(&self, mut ev: EventFrame) -> bool {
        let Ok(mut seq) = self.seq.lock() else {
            return false;
        };
        if self.kill.is_cancelled() {
            return false;
        }
        *seq += 1;
        ev.seq = Some(*seq);
        let sent = self.push(serde_json::to_string(&ev).unwrap_or_default());
        if !sent {
            *seq -= 1;
        }
        sent
    }

    /// Sends a pre-serialised event, stamping this connection's next `seq` into it.
    /// `event_json` and `payload_json` are JSON texts; `tail` is `,"stateVersion":{…}` or empty.
    fn send_event_serialised(
        &self,
        event_json: &str,
        payload_json: Option<&str>,
        tail: &str,
    ) -> bool {
        let Ok(mut seq) = self.seq.lock() else {
            return false;
        };
        if self.kill.is_cancelled() {
            return false;
        }
        *seq += 1;
        let payload = payload_json
            .map(|p| format!(",\"payload\":{p}"))
            .unwrap_or_default();
        let text = format!(
            "{{\"type\":\"event\",\"event\":{event_json}{payload},\"seq\":{}{tail}}}",
            *seq
        );
        let sent = self.push(text);
        if !sent {
            *seq -= 1;
        }
        sent
    }

    /// Queues a close frame; nothing after it is sent.
    pub fn close(&self, code: u16, reason: &str) {
        if !self.closing.swap(true, Ordering::AcqRel) {
            let mut reason = reason.to_owned();
            while reason.len() > 123 {
                reason.pop();
            }
            let _ = self.tx.send(Outgoing::Close(code, reason));
        }
    }

    /// Drops the connection at once (slow consumer, shutdown).
    pub fn kill(&self) {
        self.kill.cancel();
    }

    pub fn is_dead(&self) -> bool {
        self.kill.is_cancelled()
    }
}

/// An authenticated connection as the rest of the gateway sees it.
#[derive(Debug)]
pub struct Connection {
    pub conn_id: String,
    pub role: Role,
    pub scopes: Vec<Scope>,
    pub protocol: u32,
    pub remote: SocketAddr,
    pub client_id: String,
    pub client_mode: String,
    pub presence: PresenceEntry,
    pub out: Arc<Outbound>,
    /// Set by `sessions.subscribe`.
    pub sessions_subscribed: AtomicBool,
    /// Consecutive `unauthorized role` errors; more than 10 close the connection.
    pub(crate) role_strikes: std::sync::atomic::AtomicU32,
}

impl Connection {
    /// Whether this connection may receive `event` under the broadcast rules.
    pub fn may_receive(&self, event: &str) -> bool {
        match event_access(event) {
            EventAccess::Everyone => true,
            EventAccess::Operator(scope) => {
                self.role == Role::Operator && scope.satisfied_by(&self.scopes)
            }
            EventAccess::Never => false,
        }
    }
}

/// All authenticated connections, plus presence and state versions.
#[derive(Debug, Default)]
pub struct Hub {
    conns: Mutex<HashMap<String, Arc<Connection>>>,
    presence_version: AtomicU64,
    health_version: AtomicU64,
}

impl Hub {
    pub fn state_version(&self) -> StateVersion {
        StateVersion {
            presence: self.presence_version.load(Ordering::Acquire),
            health: self.health_version.load(Ordering::Acquire),
        }
    }

    pub(crate) fn bump_presence(&self) -> StateVersion {
        self.presence_version.fetch_add(1, Ordering::AcqRel);
        self.state_version()
    }

    pub(crate) fn bump_health(&self) -> StateVersion {
        self.health_version.fetch_add(1, Ordering::AcqRel);
        self.state_version()
    }

    pub(crate) fn insert(&self, conn: Arc<Connection>) {
        if let Ok(mut m) = self.conns.lock() {
            m.insert(conn.conn_id.clone(), conn);
        }
    }

    pub(crate) fn remove(&self, conn_id: &str) -> bool {
        self.conns
            .lock()
            .map(|mut m| m.remove(conn_id).is_some())
            .unwrap_or(false)
    }

    /// A snapshot of the live connections.
    pub fn connections(&self) -> Vec<Arc<Connection>> {
        self.conns
            .lock()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    pub fn get(&self, conn_id: &str) -> Option<Arc<Connection>> {
        self.conns.lock().ok()?.get(conn_id).cloned()
    }

    /// Broadcasts an event to every connection allowed to receive it; each gets its own `seq`.
    /// Returns how many connections it was queued for.
    pub fn broadcast(
        &self,
        event: &str,
        payload: Option<Value>,
        state_version: Option<StateVersion>,
    ) -> usize {
        self.broadcast_filtered(event, payload, state_version, |_| true)
    }

    /// Like [`Hub::broadcast`], limited to connections for which `filter` is true.
    pub fn broadcast_filtered(
        &self,
        event: &str,
        payload: Option<Value>,
        state_version: Option<StateVersion>,
        filter: impl Fn(&Connection) -> bool,
    ) -> usize {
        // Serialise once; each connection only gets its own `seq` stamped in.
        let event_json = serde_json::to_string(event).unwrap_or_default();
        let payload_json = payload
            .as_ref()
            .map(|p| serde_json::to_string(p).unwrap_or_default());
        let tail = state_version
            .map(|sv| {
                format!(
                    ",\"stateVersion\":{}",
                    serde_json::to_string(&sv).unwrap_or_default()
                )
            })
            .unwrap_or_default();
        let mut sent = 0;
        for conn in self.connections() {
            if !conn.may_receive(event) || !filter(&conn) {
                continue;
            }
            if conn
                .out
                .send_event_serialised(&event_json, payload_json.as_deref(), &tail)
            {
                sent += 1;
            }
        }
        sent
    }

    /// Sends an event to one connection if its scopes allow it.
    pub fn send_to(&self, conn_id: &str, event: &str, payload: Option<Value>) -> bool {
        match self.get(conn_id) {
            Some(c) if c.may_receive(event) => c.out.send_event(EventFrame::new(event, payload)),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn serialised_broadcast_matches_the_typed_frame_byte_for_byte() {
        let (out, mut rx, _, _) = Outbound::new(1 << 20);
        let payload = json!({"presence": [{"ts": 1, "mode": "cli"}], "quote": "a\"b"});
        let sv = StateVersion {
            presence: 3,
            health: 1,
        };
        let tail = format!(",\"stateVersion\":{}", serde_json::to_string(&sv).unwrap());
        assert!(out.send_event_serialised("\"presence\"", Some(&payload.to_string()), &tail));
        assert!(out.send_event_serialised("\"tick\"", None, ""));
        let mut typed = EventFrame::new("presence", Some(payload));
        typed.seq = Some(1);
        typed.state_version = Some(sv);
        let mut tick = EventFrame::new("tick", None);
        tick.seq = Some(2);
        for want in [typed, tick] {
            match rx.recv().await {
                Some(Outgoing::Text(t)) => assert_eq!(t, serde_json::to_string(&want).unwrap()),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn over_the_buffer_limit_the_connection_is_cut_off() {
        let (out, _rx, buffered, kill) = Outbound::new(100);
        assert!(out.send_event(EventFrame::new("tick", Some(json!({"ts": 1})))));
        assert!(!out.send_event(EventFrame::new(
            "tick",
            Some(json!({"pad": "x".repeat(100)}))
        )));
        assert!(kill.is_cancelled() && out.is_dead());
        assert!(buffered.load(Ordering::Acquire) > 100);
    }
}
