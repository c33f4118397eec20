//! HTTP on the gateway port: the WebSocket upgrade on `/` (bounded pre-auth, see `upgrade`),
//! the unauthenticated probes (`/health`, `/healthz`, `/ready`, `/readyz`), bearer auth in front
//! of everything else (including the backend's routes), and the browser checks of `origin` in
//! front of all of it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use openclaw_core::protocol::details;
use serde_json::json;

use super::auth::AuthFailure;
use super::conn;
use super::origin::Refusal;
use super::preauth::Full;
use super::state::Shared;
use super::upgrade;

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
    req: Request,
) -> Response {
    if !upgrade::is_upgrade(&req) {
        // A plain GET / is an ordinary HTTP request: authenticate, then nothing is here.
        return match bearer_check(&shared, remote, &req) {
            Ok(()) => not_found().await,
            Err(r) => *r,
        };
    }
    let permit = match shared.preauth.try_acquire(remote.ip()) {
        Ok(permit) => permit,
        Err(full) => {
            let message = match full {
                Full::Total => "too many connections waiting to authenticate",
                Full::Address => "too many connections from this address waiting to authenticate",
            };
            let mut r = json_response(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": {"message": message, "type": "unavailable"}}),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return r;
        }
    };
    // A foreign browser origin is refused at `connect`, with OpenClaw's error details.
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| !shared.origin.origin_allowed(o))
        .map(str::to_owned);
    let max = shared.limits.max_payload as usize + 64 * 1024;
    upgrade::accept(req, permit, max, move |up| {
        conn::serve(shared, up, remote, origin)
    })
}

/// Host, Origin and cross-site checks in front of every route (see `origin`).
async fn browser_guard(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let ws = req.uri().path() == "/" && upgrade::is_upgrade(&req);
    match shared.origin.check(req.method(), req.headers(), ws) {
        Ok(()) => next.run(req).await,
        Err(refusal) => {
            let (status, message) = match refusal {
                Refusal::Host => (
                    StatusCode::FORBIDDEN,
                    "host not allowed: this gateway answers to loopback names and the hosts of gateway.controlUi.allowedOrigins",
                ),
                Refusal::Origin => (
                    StatusCode::FORBIDDEN,
                    "origin not allowed (add it to gateway.controlUi.allowedOrigins)",
                ),
                Refusal::CrossSite => {
                    (StatusCode::FORBIDDEN, "cross-site requests are not allowed")
                }
                Refusal::SimpleBody => (
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "the body must be JSON (Content-Type: application/json)",
                ),
            };
            let kind = match status {
                StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
                _ => "forbidden",
            };
            let mut error = json!({"message": message, "type": kind});
            if refusal == Refusal::Origin {
                error["code"] = json!(details::CONTROL_UI_ORIGIN_NOT_ALLOWED);
            }
            json_response(status, json!({ "error": error }))
        }
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
    let mut open = Router::new()
        .route("/", get(root))
        .route("/health", get(live).head(live))
        .route("/healthz", get(live).head(live))
        .route("/ready", get(ready).head(ready))
        .route("/readyz", get(ready).head(ready))
        .with_state(shared.clone());
    if let Some(hooks) = crate::hooks::routes(&shared) {
        open = open.merge(hooks);
    }
    open.merge(protected)
        .layer(middleware::from_fn_with_state(shared, browser_guard))
}
