//! HTTP on the gateway port: the WebSocket upgrade on `/` (and on `gateway.controlUi.basePath`;
//! bounded pre-auth, see `upgrade`), the built-in Control UI's files (`control_ui`), the
//! unauthenticated probes (`/health`, `/healthz`, `/ready`, `/readyz`), bearer auth in front
//! of everything else (including the backend's routes), and the browser checks of `origin` in
//! front of all of it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use openclaw_core::protocol::details;
use serde_json::json;

use super::auth::AuthFailure;
use super::conn;
use super::control_ui;
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
    let ui = control_ui::enabled(&shared)
        .then(|| control_ui::classify(&shared, req.uri().path()))
        .flatten();
    if !upgrade::is_upgrade(&req) || matches!(ui, Some(control_ui::UiPath::File(_))) {
        // OpenClaw's own UI from `gateway.controlUi.root`, when configured.
        if let Some(r) = control_ui::root::serve(&shared, req.uri().path(), req.headers()).await {
            return r;
        }
        if let Some(what) = ui {
            return control_ui::respond(&shared, what, req.uri().query(), req.headers());
        }
        // Without the UI a plain GET / is an ordinary HTTP request: authenticate, then
        // nothing is here.
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
    let path = req.uri().path();
    let ws = upgrade::is_upgrade(&req)
        && (path == "/"
            || matches!(
                control_ui::classify(&shared, path),
                Some(control_ui::UiPath::Index | control_ui::UiPath::Bare)
            ));
    // The UI's files are public: a foreign page may load them (its WebSocket is refused at
    // `connect`, which the page reports), so only `Host` is checked for them.
    let host_only = ws
        || control_ui::is_public_read(&shared, req.method(), path)
        || control_ui::root::is_public_read(&shared, req.method(), path);
    match shared.origin.check(req.method(), req.headers(), host_only) {
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

/// Everything no route took: OpenClaw's UI from `gateway.controlUi.root` (its files and
/// client-side routes), its bootstrap document (bearer-gated), else authenticate and 404.
async fn fallback(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let read = matches!(*req.method(), Method::GET | Method::HEAD);
    let path = req.uri().path();
    if read && control_ui::enabled(&shared) && control_ui::root::is_config_json(&shared, path) {
        return match bearer_check(&shared, remote, &req) {
            Ok(()) => control_ui::root::config_json(&shared),
            Err(r) => *r,
        };
    }
    if read && control_ui::root::configured(&shared).is_some() {
        if let Some(agent) = control_ui::root::avatar_agent(&shared, path) {
            return match bearer_check(&shared, remote, &req) {
                Ok(()) => control_ui::root::avatar(&shared, agent, req.uri().query()),
                Err(r) => *r,
            };
        }
    }
    if read {
        if let Some(r) = control_ui::root::serve(&shared, path, req.headers()).await {
            return r;
        }
    }
    match bearer_check(&shared, remote, &req) {
        Ok(()) => not_found().await,
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
    let protected = protected.layer(middleware::from_fn_with_state(
        shared.clone(),
        require_bearer,
    ));
    let mut open = Router::new().route("/", get(root));
    let base = shared.gateway.control_ui.base_path.clone();
    if !base.is_empty() {
        open = open
            .route(&base, get(root))
            .route(&format!("{base}/"), get(root));
    }
    open = open.route(&format!("{base}/index.html"), get(root));
    for asset in control_ui::assets::ASSETS {
        if asset.path != "index.html" {
            open = open.route(&format!("{base}/{}", asset.path), get(root));
        }
    }
    let mut open = open
        .route("/health", get(live).head(live))
        .route("/healthz", get(live).head(live))
        .route("/ready", get(ready).head(ready))
        .route("/readyz", get(ready).head(ready))
        .fallback(fallback)
        .with_state(shared.clone());
    if let Some(hooks) = crate::hooks::routes(&shared) {
        open = open.merge(hooks);
    }
    open.merge(protected)
        .layer(middleware::from_fn_with_state(shared, browser_guard))
}
