//! The WebSocket upgrade, done on the raw hyper connection so the pre-auth limits hold at the
//! transport: a bounded number of sockets may be between upgrade and `connect`
//! ([`crate::Limits::max_preauth_connections`]), and until `connect` succeeds a socket may send
//! at most [`PREAUTH_READ_BUDGET`] bytes in all, in frames of at most 64 KiB ([`Budgeted`] fails
//! the read that would pass more), so an unauthenticated client can never make the gateway
//! reserve or buffer a large frame. (tungstenite can change its frame limit after the handshake,
//! but tokio-tungstenite 0.26–0.29 does not expose that, hence the guard under it; after auth
//! the socket's limit is `maxPayload`.)

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use crate::preauth::PreauthPermit;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use openclaw_core::protocol::MAX_PREAUTH_PAYLOAD_BYTES;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// Bytes a socket may send before its `connect` is accepted: the largest `connect` frame plus
/// room for frame headers, pings and a close.
pub const PREAUTH_READ_BUDGET: usize = MAX_PREAUTH_PAYLOAD_BYTES + 16 * 1024;

/// The socket type the connection code works on.
pub(crate) type Socket = WebSocketStream<Budgeted<TokioIo<hyper::upgrade::Upgraded>>>;

/// Counts the bytes read from a socket until it is opened (after auth); past the budget every
/// read fails, which ends the connection without buffering more.
#[derive(Debug)]
pub(crate) struct ReadGate {
    open: AtomicBool,
    used: AtomicUsize,
    budget: usize,
}

impl ReadGate {
    pub fn new(budget: usize) -> Arc<Self> {
        Arc::new(ReadGate {
            open: AtomicBool::new(false),
            used: AtomicUsize::new(0),
            budget,
        })
    }

    /// Lifts the budget (the client has authenticated).
    pub fn open(&self) {
        self.open.store(true, Ordering::Release);
    }
}

/// Follows the WebSocket frame headers in the bytes a client sends before auth, so a frame
/// announcing more than [`MAX_PREAUTH_PAYLOAD_BYTES`] is refused before tungstenite sees its
/// header (tungstenite reserves, and zero-fills, the announced length up front).
#[derive(Debug, Default)]
struct FrameScan {
    header: [u8; 14],
    have: usize,
    payload_left: u64,
}

impl FrameScan {
    /// The header's full length once its first two bytes are known.
    fn header_len(&self) -> Option<usize> {
        let second = *self.header.get(1).filter(|_| self.have >= 2)?;
        let ext = match second & 0x7f {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let mask = if second & 0x80 != 0 { 4 } else { 0 };
        Some(2 + ext + mask)
    }

    fn payload_len(&self) -> u64 {
        let h = &self.header;
        match h[1] & 0x7f {
            126 => u64::from(u16::from_be_bytes([h[2], h[3]])),
            127 => u64::from_be_bytes([h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9]]),
            n => u64::from(n),
        }
    }

    /// Walks `bytes`; `false` as soon as a frame is announced larger than `limit`.
    fn feed(&mut self, mut bytes: &[u8], limit: u64) -> bool {
        while !bytes.is_empty() {
            if self.payload_left > 0 {
                let skip = (bytes.len() as u64).min(self.payload_left);
                self.payload_left -= skip;
                bytes = &bytes[skip as usize..];
                continue;
            }
            self.header[self.have] = bytes[0];
            self.have += 1;
            bytes = &bytes[1..];
            if self.header_len() == Some(self.have) {
                let len = self.payload_len();
                if len > limit {
                    return false;
                }
                self.payload_left = len;
                self.have = 0;
            }
        }
        true
    }
}

pin_project_lite::pin_project! {
    /// An I/O stream whose reads are limited by a [`ReadGate`] and, before auth, to frames of
    /// at most [`MAX_PREAUTH_PAYLOAD_BYTES`].
    pub(crate) struct Budgeted<S> {
        #[pin]
        inner: S,
        gate: Arc<ReadGate>,
        scan: FrameScan,
    }
}

fn preauth_error(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("pre-auth {what}"))
}

impl<S: AsyncRead> AsyncRead for Budgeted<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        if this.gate.open.load(Ordering::Acquire) {
            return this.inner.poll_read(cx, buf);
        }
        let used = this.gate.used.load(Ordering::Acquire);
        let remaining = this.gate.budget.saturating_sub(used);
        if remaining == 0 {
            return Poll::Ready(Err(preauth_error("byte limit reached")));
        }
        let mut tmp = [0u8; 4096];
        let want = remaining.min(buf.remaining()).min(tmp.len());
        let mut small = ReadBuf::new(&mut tmp[..want]);
        match this.inner.poll_read(cx, &mut small) {
            Poll::Ready(Ok(())) => {
                let got = small.filled();
                this.gate.used.fetch_add(got.len(), Ordering::AcqRel);
                if !this.scan.feed(got, MAX_PREAUTH_PAYLOAD_BYTES as u64) {
                    return Poll::Ready(Err(preauth_error("frame over the size limit")));
                }
                buf.put_slice(got);
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite> AsyncWrite for Budgeted<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

fn header_has(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// Whether the request asks for a WebSocket (RFC 6455 §4.2.1).
pub(crate) fn is_upgrade(req: &Request) -> bool {
    let h = req.headers();
    req.method() == Method::GET
        && header_has(h, header::CONNECTION, "upgrade")
        && header_has(h, header::UPGRADE, "websocket")
        && h.get(header::SEC_WEBSOCKET_VERSION)
            .is_some_and(|v| v.as_bytes() == b"13")
        && h.contains_key(header::SEC_WEBSOCKET_KEY)
}

/// What the connection task receives once the upgrade completes.
pub(crate) struct Upgraded {
    pub socket: Socket,
    pub gate: Arc<ReadGate>,
    /// Held until the connection authenticates or ends.
    pub permit: PreauthPermit,
}

/// Answers `101 Switching Protocols` and hands the upgraded socket to `serve`.
pub(crate) fn accept<F, Fut>(
    mut req: Request,
    permit: PreauthPermit,
    max_frame: usize,
    serve: F,
) -> Response
where
    F: FnOnce(Upgraded) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY).cloned() else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Some(on_upgrade) = req.extensions_mut().remove::<hyper::upgrade::OnUpgrade>() else {
        return StatusCode::UPGRADE_REQUIRED.into_response();
    };
    let accept_key = derive_accept_key(key.as_bytes());
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let gate = ReadGate::new(PREAUTH_READ_BUDGET);
        let io = Budgeted {
            inner: TokioIo::new(upgraded),
            gate: gate.clone(),
            scan: FrameScan::default(),
        };
        // Small per-socket buffers (tungstenite defaults to 128 KiB each): they grow for large
        // frames after auth, and keep a thousand idle clients cheap.
        let config = WebSocketConfig::default()
            .max_message_size(Some(max_frame))
            .max_frame_size(Some(max_frame))
            .read_buffer_size(4 * 1024)
            .write_buffer_size(4 * 1024);
        let socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
        serve(Upgraded {
            socket,
            gate,
            permit,
        })
        .await;
    });
    let mut res = StatusCode::SWITCHING_PROTOCOLS.into_response();
    let h = res.headers_mut();
    h.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(v) = HeaderValue::from_str(&accept_key) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::FrameScan;

    fn header(len: u64) -> Vec<u8> {
        let mut h = vec![0x81];
        match len {
            0..=125 => h.push(0x80 | len as u8),
            126..=65535 => {
                h.push(0x80 | 126);
                h.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                h.push(0x80 | 127);
                h.extend_from_slice(&len.to_be_bytes());
            }
        }
        h.extend_from_slice(&[1, 2, 3, 4]);
        h
    }

    #[test]
    fn frames_are_followed_across_reads_and_big_ones_refused() {
        let mut scan = FrameScan::default();
        let mut bytes = header(5);
        bytes.extend_from_slice(b"hello");
        bytes.extend(header(65_536));
        bytes.extend(vec![0u8; 65_536]);
        bytes.extend(header(0));
        for chunk in bytes.chunks(3) {
            assert!(scan.feed(chunk, 65_536));
        }
        let big = header(25 * 1024 * 1024);
        let mut scan = FrameScan::default();
        assert!(scan.feed(&big[..3], 65_536));
        assert!(!scan.feed(&big[3..], 65_536));
        assert!(!FrameScan::default().feed(&header(65_537), 65_536));
    }
}
