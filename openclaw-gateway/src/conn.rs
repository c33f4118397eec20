//! One WebSocket connection from upgrade to close: the `connect.challenge`, the pre-auth phase
//! (first frame must be `connect`, 64 KiB limit held by the transport's read budget, timeout),
//! then the request loop, with a
//! separate writer task fed by the connection's [`Outbound`] queue.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use openclaw_core::CancellationToken;
use openclaw_core::protocol::{
    ConnectChallenge, ErrorShape, EventFrame, Frame, MAX_PREAUTH_PAYLOAD_BYTES, RequestFrame,
    ResponseFrame,
};
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;

use super::handshake::{self, Rejection};
use super::hub::{Connection, Outbound, Outgoing, Queues};
use super::methods;
use super::state::{Shared, now_ms};
use super::upgrade::{ReadGate, Socket, Upgraded};

/// At most this many queued frames, and about this many bytes, are written together before a
/// flush.
const MAX_BATCH: usize = 64;
const MAX_BATCH_BYTES: u64 = 256 * 1024;

/// The next item for the socket: a queued response before anything else.
fn next_ready(q: &mut Queues) -> Option<Outgoing> {
    match q.responses.try_recv() {
        Ok(text) => Some(Outgoing::Text(text)),
        Err(_) => q.events.try_recv().ok(),
    }
}

async fn writer(
    mut sink: SplitSink<Socket, Message>,
    mut q: Queues,
    buffered: Arc<AtomicU64>,
    kill: CancellationToken,
) {
    // Keepalive: a ping every 25 s; a peer that stops reading eventually trips the buffer limit.
    let period = Duration::from_secs(25);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        let item = tokio::select! {
            biased;
            _ = kill.cancelled() => break,
            Some(text) = q.responses.recv() => Some(Outgoing::Text(text)),
            item = q.events.recv() => item,
            _ = ping.tick() => {
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
                continue;
            }
        };
        let mut close = None;
        match item {
            None => break,
            Some(Outgoing::Text(text)) => {
                let mut len = text.len() as u64;
                // Frames queued meanwhile go out with this one: one flush (one send call) for
                // a burst of events instead of one per frame; responses first.
                let sent = tokio::select! {
                    _ = kill.cancelled() => break,
                    r = async {
                        sink.feed(Message::Text(text.into())).await?;
                        for _ in 0..MAX_BATCH {
                            if len >= MAX_BATCH_BYTES {
                                break;
                            }
                            match next_ready(&mut q) {
                                Some(Outgoing::Text(more)) => {
                                    len += more.len() as u64;
                                    sink.feed(Message::Text(more.into())).await?;
                                }
                                Some(other) => {
                                    close = Some(other);
                                    break;
                                }
                                None => break,
                            }
                        }
                        sink.flush().await
                    } => r,
                };
                buffered.fetch_sub(len, Ordering::AcqRel);
                if sent.is_err() {
                    break;
                }
            }
            Some(other) => close = Some(other),
        }
        match close {
            None | Some(Outgoing::Text(_)) => {}
            Some(Outgoing::Close(code, reason)) => {
                // Answers queued before the close still go out first.
                while let Ok(text) = q.responses.try_recv() {
                    if sink.feed(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                let frame = CloseFrame {
                    code: code.into(),
                    reason: reason.into(),
                };
                let _ = tokio::time::timeout(
                    Duration::from_millis(500),
                    sink.send(Message::Close(Some(frame))),
                )
                .await;
                break;
            }
        }
    }
    kill.cancel();
}

/// Waits briefly for the writer to flush a queued close, then lets the socket drop.
async fn finish(writer: tokio::task::JoinHandle<()>) {
    let _ = tokio::time::timeout(Duration::from_millis(1000), writer).await;
}

/// Serves one upgraded socket until it closes.
pub(crate) async fn serve(
    shared: Arc<Shared>,
    up: Upgraded,
    remote: SocketAddr,
    foreign_origin: Option<String>,
) {
    let Upgraded {
        socket,
        gate,
        permit,
    } = up;
    let (sink, mut stream) = socket.split();
    let (out, rx, buffered, kill) = Outbound::new(shared.limits.max_buffered_bytes);
    let writer = tokio::spawn(writer(sink, rx, buffered, kill.clone()));

    let nonce = uuid::Uuid::new_v4().to_string();
    let challenge = ConnectChallenge {
        nonce: nonce.clone(),
        ts: now_ms(),
        capabilities: None,
    };
    out.send_unsequenced(&EventFrame::new(
        "connect.challenge",
        serde_json::to_value(&challenge).ok(),
    ));

    let timeout = Duration::from_millis(shared.gateway.handshake_timeout_ms);
    let accepted = tokio::select! {
        _ = kill.cancelled() => None,
        r = tokio::time::timeout(timeout, preauth(&shared, &mut stream, &out, remote, &nonce, foreign_origin.as_deref())) => match r {
            Ok(r) => r,
            Err(_) => {
                out.close(1000, "");
                None
            }
        },
    };
    let Some(conn) = accepted else {
        // The socket's pre-auth place is free as soon as it is refused.
        drop(permit);
        finish(writer).await;
        return;
    };
    open_gate(&gate, permit);
    shared.log.line(&format!(
        "connect {} client={} mode={} role={}",
        conn.conn_id,
        conn.client_id,
        conn.client_mode,
        conn.role.as_str()
    ));
    shared.hub.insert(conn.clone());
    let announce = !super::is_transient_mode(&conn.client_mode);
    if announce {
        super::broadcast_presence(&shared);
    }

    tokio::select! {
        _ = kill.cancelled() => {}
        _ = request_loop(&shared, &conn, &mut stream) => {}
    }
    shared.hub.remove(&conn.conn_id);
    // Completes the close handshake (or closes first when the client just went away).
    conn.out.close(1000, "");
    shared.log.line(&format!("disconnect {}", conn.conn_id));
    if announce {
        super::broadcast_presence(&shared);
    }
    finish(writer).await;
}

/// After auth: the frame limit is `maxPayload`, and the socket no longer counts as pre-auth.
fn open_gate(gate: &ReadGate, permit: crate::preauth::PreauthPermit) {
    gate.open();
    drop(permit);
}

/// Reads until a valid `connect` is accepted (returns the connection) or the socket is refused.
async fn preauth(
    shared: &Arc<Shared>,
    stream: &mut SplitStream<Socket>,
    out: &Arc<Outbound>,
    remote: SocketAddr,
    nonce: &str,
    foreign_origin: Option<&str>,
) -> Option<Arc<Connection>> {
    let text = loop {
        match stream.next().await {
            Some(Ok(Message::Text(t))) => break t,
            Some(Ok(Message::Binary(b))) if b.len() > MAX_PREAUTH_PAYLOAD_BYTES => {
                out.close(1009, "");
                return None;
            }
            Some(Ok(Message::Binary(_))) => {
                out.close(1008, "invalid request frame");
                return None;
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Ok(Message::Close(_))) | None => return None,
            Some(Err(_)) => {
                out.close(1009, "");
                return None;
            }
        }
    };
    if text.len() > MAX_PREAUTH_PAYLOAD_BYTES {
        out.close(1009, "");
        return None;
    }
    let req = match Frame::parse(text.as_str()) {
        Ok(Frame::Req(req)) if !req.id.is_empty() && !req.method.is_empty() => req,
        _ => {
            out.close(1008, "invalid request frame");
            return None;
        }
    };
    let reject = |id: &str, r: Rejection| {
        out.send_response(&ResponseFrame::err(id, r.error.clone()));
        out.close(r.close_code, &r.error.message);
        None
    };
    if req.method != "connect" {
        let msg = "invalid handshake: first request must be connect";
        return reject(
            &req.id,
            Rejection {
                error: ErrorShape::invalid_request(msg),
                close_code: 1008,
            },
        );
    }
    match handshake::accept(shared, &req, out.clone(), remote, nonce, foreign_origin) {
        Ok((conn, hello)) => {
            out.send_response(&ResponseFrame::ok(req.id, hello));
            Some(conn)
        }
        Err(r) => {
            shared.log.line(&format!(
                "connect refused from {}: {}",
                remote.ip(),
                r.error.message
            ));
            reject(&req.id, r)
        }
    }
}

/// The id to answer a frame that is not a valid request with.
pub(crate) fn salvage_id(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned))
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| "invalid-frame".to_owned())
}

async fn request_loop(
    shared: &Arc<Shared>,
    conn: &Arc<Connection>,
    stream: &mut SplitStream<Socket>,
) {
    let max = shared.limits.max_payload as usize;
    while let Some(msg) = stream.next().await {
        let text = match msg {
            Ok(Message::Text(t)) => t,
            Ok(Message::Binary(_)) => {
                let e = ErrorShape::invalid_request(
                    "invalid request frame: binary frames are not supported",
                );
                conn.out
                    .send_response(&ResponseFrame::err("invalid-frame", e));
                continue;
            }
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
            Ok(Message::Close(_)) => return,
            Err(_) => {
                // Frames over the socket's hard limit end here.
                conn.out.close(1009, "payload too large");
                return;
            }
        };
        if text.len() > max {
            let e = ErrorShape::invalid_request(format!(
                "frame too large: {} bytes exceeds maxPayload {max}",
                text.len()
            ));
            conn.out
                .send_response(&ResponseFrame::err(salvage_id(text.as_str()), e));
            continue;
        }
        let req = match Frame::parse(text.as_str()) {
            Ok(Frame::Req(req)) if !req.id.is_empty() && !req.method.is_empty() => req,
            Ok(_) => {
                let e = ErrorShape::invalid_request(
                    "invalid request frame: expected {type:\"req\", id, method, params?}",
                );
                conn.out
                    .send_response(&ResponseFrame::err(salvage_id(text.as_str()), e));
                continue;
            }
            Err(err) => {
                let e = ErrorShape::invalid_request(format!("invalid request frame: {err}"));
                conn.out
                    .send_response(&ResponseFrame::err(salvage_id(text.as_str()), e));
                continue;
            }
        };
        handle_request(shared, conn, req).await;
    }
}

async fn handle_request(shared: &Arc<Shared>, conn: &Arc<Connection>, req: RequestFrame) {
    if let Err(e) = methods::authorize(conn, &req.method) {
        let role_error = e.message.starts_with("unauthorized role:");
        conn.out.send_response(&ResponseFrame::err(req.id, e));
        if role_error && conn.role_strikes.fetch_add(1, Ordering::AcqRel) + 1 > 10 {
            conn.out.close(1008, "repeated unauthorized calls");
        }
        return;
    }
    conn.role_strikes.store(0, Ordering::Release);
    if crate::approvals::is_approval_method(&req.method) {
        // Some wait for a human: never in this connection's request loop.
        let (shared, conn) = (shared.clone(), conn.clone());
        tokio::spawn(async move {
            let id = req.id.clone();
            let res = crate::approvals::call(&shared, &conn, req).await;
            conn.out.send_response(&to_frame(id, res));
        });
        return;
    }
    if crate::channels::methods::is_channel_method(&req.method) {
        // Sends and probes wait on the platform: never in this connection's request loop.
        let (shared, conn) = (shared.clone(), conn.clone());
        tokio::spawn(async move {
            let id = req.id.clone();
            let config = shared.config_value();
            let res =
                crate::channels::methods::call(&shared.channels, &config, &req.method, req.params)
                    .await;
            conn.out.send_response(&to_frame(id, res));
        });
        return;
    }
    if methods::is_engine_method(&req.method) {
        // Engine calls may run long; they must not hold up this connection's other requests.
        let (shared, conn) = (shared.clone(), conn.clone());
        tokio::spawn(async move {
            let id = req.id.clone();
            let first_sent = Arc::new(tokio::sync::Notify::new());
            let res = methods::call_backend(&shared, &conn, req, first_sent.clone()).await;
            conn.out.send_response(&to_frame(id, res));
            first_sent.notify_one();
        });
        return;
    }
    let id = req.id.clone();
    // Boxed: the largest method's state would otherwise sit in every idle connection's task.
    let res = Box::pin(methods::call_core(shared, conn, req)).await;
    conn.out.send_response(&to_frame(id, res));
}

fn to_frame(id: String, res: Result<Value, ErrorShape>) -> ResponseFrame {
    match res {
        Ok(v) => ResponseFrame::ok(id, v),
        Err(e) => ResponseFrame::err(id, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_core::protocol::EventFrame;

    #[test]
    fn a_response_goes_out_before_events_queued_earlier() {
        let (out, mut q, _, _) = Outbound::new(1 << 20);
        for i in 0..100 {
            assert!(out.send_event(EventFrame::new("tick", Some(serde_json::json!({"ts": i})))));
        }
        assert!(out.send_response(&ResponseFrame::ok("r1", serde_json::json!({"ok": true}))));
        assert!(out.send_response_in_order(&ResponseFrame::ok("r2", serde_json::json!({}))));
        let order: Vec<String> = std::iter::from_fn(|| match next_ready(&mut q) {
            Some(Outgoing::Text(t)) => Some(t),
            _ => None,
        })
        .collect();
        assert_eq!(order.len(), 102);
        assert!(order[0].contains("\"id\":\"r1\""), "{}", order[0]);
        // The final answer of a run stays behind the run's events.
        assert!(order[101].contains("\"id\":\"r2\""), "{}", order[101]);
    }
}
