//! Connections and event delivery: each connection's outbound queues (byte-accounted, so a slow
//! reader is cut off at `maxBufferedBytes` instead of growing memory or slowing others; answers
//! to calls in a lane of their own that the writer empties first, so a response never waits
//! behind a flood of run events), the per-connection event `seq`, scope filtering of
//! broadcasts, presence and `stateVersion`.

use std::collections::HashMap;
use std::fmt::Write as _;
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

/// The receiving side of a connection's queues, for its writer.
#[derive(Debug)]
pub(crate) struct Queues {
    /// Responses: written before anything waiting in `events`.
    pub responses: mpsc::UnboundedReceiver<String>,
    /// Events, responses that must follow them, and the close frame, in order.
    pub events: mpsc::UnboundedReceiver<Outgoing>,
}

/// The sending side of one connection. Cheap to share; every send is non-blocking.
#[derive(Debug)]
pub struct Outbound {
    tx: mpsc::UnboundedSender<Outgoing>,
    tx_responses: mpsc::UnboundedSender<String>,
    seq: Mutex<u64>,
    buffered: Arc<AtomicU64>,
    max_buffered: u64,
    kill: CancellationToken,
    closing: AtomicBool,
}

impl Outbound {
    pub(crate) fn new(max_buffered: u64) -> (Arc<Self>, Queues, Arc<AtomicU64>, CancellationToken) {
        let (tx, rx) = mpsc::unbounded_channel();
        let (tx_responses, responses) = mpsc::unbounded_channel();
        let buffered = Arc::new(AtomicU64::new(0));
        let kill = CancellationToken::new();
        let out = Arc::new(Self {
            tx,
            tx_responses,
            seq: Mutex::new(0),
            buffered: buffered.clone(),
            max_buffered,
            kill: kill.clone(),
            closing: AtomicBool::new(false),
        });
        let queues = Queues {
            responses,
            events: rx,
        };
        (out, queues, buffered, kill)
    }

    /// Accounts for `len` more bytes; a connection over its buffer limit is cut off (false).
    fn admit(&self, len: usize) -> bool {
        if self.kill.is_cancelled() || self.closing.load(Ordering::Acquire) {
            return false;
        }
        let len = len as u64;
        let now = self.buffered.fetch_add(len, Ordering::AcqRel) + len;
        if now > self.max_buffered {
            tracing::warn!(buffered = now, "closing slow consumer");
            self.kill.cancel();
            return false;
        }
        true
    }

    /// Queues text in order with the events.
    fn push(&self, text: String) -> bool {
        self.admit(text.len()) && self.tx.send(Outgoing::Text(text)).is_ok()
    }

    /// Sends a response frame ahead of any events still queued.
    pub fn send_response(&self, res: &ResponseFrame) -> bool {
        let text = serde_json::to_string(res).unwrap_or_default();
        self.admit(text.len()) && self.tx_responses.send(text).is_ok()
    }

    /// Sends a response frame after the events queued before it (the final answer of a run,
    /// which must follow the run's events).
    pub fn send_response_in_order(&self, res: &ResponseFrame) -> bool {
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
    /// `head` is `{"type":"event","event":…,"payload":…,"seq":` (see [`event_head`]);
    /// `tail` is `,"stateVersion":{…}` or empty. One allocation per connection.
    fn send_event_serialised(&self, head: &str, tail: &str) -> bool {
        let Ok(mut seq) = self.seq.lock() else {
            return false;
        };
        if self.kill.is_cancelled() {
            return false;
        }
        *seq += 1;
        let mut text = String::with_capacity(head.len() + 20 + tail.len() + 1);
        text.push_str(head);
        let _ = write!(text, "{}", *seq);
        text.push_str(tail);
        text.push('}');
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
    /// `client.displayName` (`resolvedBy` of an approval it settles).
    pub display_name: Option<String>,
    /// The capabilities it declared (`approvals`, `exec-approvals`, ...).
    pub caps: Vec<String>,
    pub presence: PresenceEntry,
    pub out: Arc<Outbound>,
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
    /// The connections that called `sessions.subscribe` (an index over `conns`, so run events
    /// do not walk every connection).
    subscribers: Mutex<HashMap<String, Arc<Connection>>>,
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
        let Ok(mut conns) = self.conns.lock() else {
            return false;
        };
        if let Ok(mut subs) = self.subscribers.lock() {
            subs.remove(conn_id);
        }
        conns.remove(conn_id).is_some()
    }

    /// `sessions.subscribe` / `sessions.unsubscribe` for a connection.
    pub(crate) fn set_subscribed(&self, conn: &Arc<Connection>, on: bool) {
        let Ok(conns) = self.conns.lock() else {
            return;
        };
        if let Ok(mut subs) = self.subscribers.lock() {
            if on && conns.contains_key(&conn.conn_id) {
                subs.insert(conn.conn_id.clone(), conn.clone());
            } else if !on {
                subs.remove(&conn.conn_id);
            }
        }
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
        let payload_json = payload
            .as_ref()
            .map(|p| serde_json::to_string(p).unwrap_or_default());
        let head = event_head(event, payload_json.as_deref());
        let tail = state_version
            .map(|sv| {
                format!(
                    ",\"stateVersion\":{}",
                    serde_json::to_string(&sv).unwrap_or_default()
                )
            })
            .unwrap_or_default();
        let Ok(conns) = self.conns.lock() else {
            return 0;
        };
        let mut sent = 0;
        for conn in conns.values() {
            if conn.may_receive(event)
                && filter(conn)
                && conn.out.send_event_serialised(&head, &tail)
            {
                sent += 1;
            }
        }
        sent
    }

    /// A serialised event for the connection `origin` (when it is still connected) and for
    /// every `sessions.subscribe`d connection, each allowed by its scopes to receive `event`.
    /// `payload_json` is the payload's JSON text. Returns how many it was queued for.
    pub fn send_to_origin_and_subscribers(
        &self,
        event: &str,
        payload_json: &str,
        origin: Option<&str>,
    ) -> usize {
        let head = event_head(event, Some(payload_json));
        let mut sent = 0;
        let mut origin_done = false;
        if let Ok(subs) = self.subscribers.lock() {
            for conn in subs.values() {
                if origin == Some(conn.conn_id.as_str()) {
                    origin_done = true;
                }
                if conn.may_receive(event) && conn.out.send_event_serialised(&head, "") {
                    sent += 1;
                }
            }
        }
        if let (Some(id), false) = (origin, origin_done) {
            if let Some(conn) = self.get(id) {
                if conn.may_receive(event) && conn.out.send_event_serialised(&head, "") {
                    sent += 1;
                }
            }
        }
        sent
    }

    /// Whether any connection is `sessions.subscribe`d.
    pub fn has_subscribers(&self) -> bool {
        self.subscribers.lock().is_ok_and(|s| !s.is_empty())
    }

    /// A serialised event for every `sessions.subscribe`d connection its scopes allow.
    pub fn send_to_subscribers(&self, event: &str, payload_json: &str) -> usize {
        self.send_to_origin_and_subscribers(event, payload_json, None)
    }

    /// Sends an event to one connection if its scopes allow it.
    pub fn send_to(&self, conn_id: &str, event: &str, payload: Option<Value>) -> bool {
        match self.get(conn_id) {
            Some(c) if c.may_receive(event) => c.out.send_event(EventFrame::new(event, payload)),
            _ => false,
        }
    }
}

/// `{"type":"event","event":<event>,"payload":<payload>,"seq":` — an event frame up to its
/// `seq`, in [`EventFrame`]'s key order (no `payload` key when there is none).
fn event_head(event: &str, payload_json: Option<&str>) -> String {
    let p = payload_json.map_or(0, str::len);
    let mut head = String::with_capacity(48 + event.len() + p);
    head.push_str("{\"type\":\"event\",\"event\":");
    head.push_str(&serde_json::to_string(event).unwrap_or_default());
    if let Some(p) = payload_json {
        head.push_str(",\"payload\":");
        head.push_str(p);
    }
    head.push_str(",\"seq\":");
    head
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn serialised_broadcast_matches_the_typed_frame_byte_for_byte() {
        let (out, q, _, _) = Outbound::new(1 << 20);
        let mut rx = q.events;
        let payload = json!({"presence": [{"ts": 1, "mode": "cli"}], "quote": "a\"b"});
        let sv = StateVersion {
            presence: 3,
            health: 1,
        };
        let tail = format!(",\"stateVersion\":{}", serde_json::to_string(&sv).unwrap());
        let head = event_head("presence", Some(&payload.to_string()));
        assert!(out.send_event_serialised(&head, &tail));
        assert!(out.send_event_serialised(&event_head("tick", None), ""));
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

    fn conn(
        hub: &Hub,
        id: &str,
        scopes: Vec<Scope>,
    ) -> (Arc<Connection>, mpsc::UnboundedReceiver<Outgoing>) {
        let (out, q, _, _) = Outbound::new(1 << 20);
        let rx = q.events;
        let c = Arc::new(Connection {
            conn_id: id.into(),
            role: Role::Operator,
            scopes,
            protocol: 3,
            remote: "127.0.0.1:1".parse().unwrap(),
            client_id: "cli".into(),
            client_mode: "cli".into(),
            display_name: None,
            caps: Vec::new(),
            presence: serde_json::from_value(json!({"ts": 1})).unwrap(),
            out,
            role_strikes: Default::default(),
        });
        hub.insert(c.clone());
        (c, rx)
    }

    fn drain(rx: &mut mpsc::UnboundedReceiver<Outgoing>) -> Vec<String> {
        let mut got = Vec::new();
        while let Ok(Outgoing::Text(t)) = rx.try_recv() {
            got.push(t);
        }
        got
    }

    #[tokio::test]
    async fn run_events_reach_the_origin_and_subscribers_once_each() {
        let hub = Hub::default();
        let (origin, mut o_rx) = conn(&hub, "o", vec![Scope::Read]);
        let (sub, mut s_rx) = conn(&hub, "s", vec![Scope::Write]);
        let (_other, mut x_rx) = conn(&hub, "x", vec![Scope::Read]);
        let (unscoped, mut u_rx) = conn(&hub, "u", vec![]);
        hub.set_subscribed(&sub, true);
        hub.set_subscribed(&unscoped, true);
        assert!(hub.has_subscribers());
        assert_eq!(
            hub.send_to_origin_and_subscribers("chat", "{\"a\":1}", Some("o")),
            2
        );
        let want = r#"{"type":"event","event":"chat","payload":{"a":1},"seq":1}"#;
        assert_eq!(drain(&mut o_rx), vec![want.to_owned()]);
        assert_eq!(drain(&mut s_rx), vec![want.to_owned()]);
        assert!(drain(&mut x_rx).is_empty() && drain(&mut u_rx).is_empty());
        // An origin that also subscribed gets the event once; seqs stay per connection.
        hub.set_subscribed(&origin, true);
        assert_eq!(
            hub.send_to_origin_and_subscribers("agent", "{}", Some("o")),
            2
        );
        assert_eq!(
            drain(&mut o_rx),
            vec![r#"{"type":"event","event":"agent","payload":{},"seq":2}"#.to_owned()]
        );
        assert_eq!(drain(&mut s_rx).len(), 1);
        // Unsubscribed or gone connections get nothing more.
        hub.set_subscribed(&sub, false);
        hub.remove("o");
        assert_eq!(hub.send_to_subscribers("sessions.changed", "{}"), 0);
        assert_eq!(
            hub.send_to_origin_and_subscribers("chat", "{}", Some("o")),
            0
        );
        assert!(drain(&mut o_rx).is_empty() && drain(&mut s_rx).is_empty());
        hub.set_subscribed(&origin, true);
        hub.set_subscribed(&unscoped, false);
        assert!(
            !hub.has_subscribers(),
            "a removed connection cannot subscribe"
        );
    }
}
