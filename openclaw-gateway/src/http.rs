//! HTTP on the gateway port: the WebSocket upgrade on `/`, the unauthenticated probes
//! (`/health`, `/healthz`, `/ready`, `/readyz`), and bearer auth in front of everything else
//! (including the backend's routes).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::auth::AuthFailure;
use super::conn;
use super::state::Shared;

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn live() -> Response {
    json_response(StatusCode::OK, json!({"ok": true, "status": "live"}))
}

async fn ready(State(shared): State<Arc<Shared>>) -> Response {
    if shared.draining.load(Ordering::Acquire) {
        return json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"ok": false, "status": "draining"}),
        );
    }
    json_response(StatusCode::OK, json!({"ok": true, "status": "ready"}))
}

async fn root(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
    req: Request,
) -> Response {
    match upgrade {
        Ok(ws) => {
            let max = shared.limits.max_payload as usize + 64 * 1024;
            // Small per-socket buffers (tungstenite defaults to 128 KiB each): they grow for
            // large frames, and keep a thousand idle clients cheap.
            ws.max_message_size(max)
                .max_frame_size(max)
                .read_buffer_size(4 * 1024)
                .write_buffer_size(4 * 1024)
                .on_upgrade(move |socket| conn::serve(shared, socket, remote))
        }
        // A plain GET / is an ordinary HTTP request: authenticate, then nothing is here.
        Err(_) => match bearer_check(&shared, remote, &req) {
            Ok(()) => json_response(
                StatusCode::NOT_FOUND,
                json!({"error": {"message": "Not Found", "type": "not_found"}}),
            ),
            Err(r) => *r,
        },
    }
}

fn bearer_check(shared: &Shared, remote: SocketAddr, req: &Request) -> Result<(), Box<Response>> {
    let offered = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    match shared.auth.check(remote.ip(), offered) {
        Ok(_) => Ok(()),
        Err(AuthFailure::RateLimited { retry_after_ms }) => {
            let mut r = json_response(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"error": {"message": "Too many failed authentication attempts", "type": "rate_limited"}}),
            );
            let secs = retry_after_ms.div_ceil(1000).to_string();
            if let Ok(v) = HeaderValue::from_str(&secs) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Err(Box::new(r))
        }
        Err(_) => Err(Box::new(json_response(
            StatusCode::UNAUTHORIZED,
            json!({"error": {"message": "Unauthorized", "type": "unauthorized"}}),
        ))),
    }
}

async fn require_bearer(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    match bearer_check(&shared, remote, &req) {
        Ok(()) => next.run(req).await,
        Err(r) => *r,
    }
}

async fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        json!({"error": {"message": "Not Found", "type": "not_found"}}),
    )
}

/// The whole HTTP surface.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut protected = Router::new();
    if let Some(extra) = shared.backend.http_routes() {
        protected = protected.merge(extra);
    }
    let protected = protected
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            require_bearer,
        ));
    Router::new()
        .route("/", get(root))
        .route("/health", get(live).head(live))
        .route("/healthz", get(live).head(live))
        .route("/ready", get(ready).head(ready))
        .route("/readyz", get(ready).head(ready))
        .with_state(shared)
        .merge(protected)
}
