//! The accept loop: each TCP connection is served by hyper (HTTP/1.1, with upgrades) with the
//! router, no Nagle, and a deadline for a request's headers (`gateway.handshakeTimeoutMs`), so a
//! client that opens a socket and sends a header a byte at a time does not hold it for ever.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use openclaw_core::CancellationToken;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

/// Serves `app` on `listener` until `stop` is cancelled.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    stop: CancellationToken,
    header_timeout: Duration,
) {
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => break,
            r = listener.accept() => r,
        };
        match accepted {
            Ok((tcp, remote)) => {
                tokio::spawn(connection(
                    tcp,
                    remote,
                    app.clone(),
                    stop.clone(),
                    header_timeout,
                ));
            }
            // Out of file descriptors and the like: back off instead of spinning.
            Err(e) => {
                tracing::warn!("gateway accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn connection(
    tcp: TcpStream,
    remote: SocketAddr,
    app: Router,
    stop: CancellationToken,
    header_timeout: Duration,
) {
    // Small frames (events right after a response) must not wait for the peer's delayed ACK.
    let _ = tcp.set_nodelay(true);
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(remote));
        app.clone().oneshot(req.map(Body::new))
    });
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(tcp), service);
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::trace!("gateway connection from {remote}: {e}");
            }
        }
        _ = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_millis(200), conn).await;
        }
    }
}
