//! The built-in Control UI over HTTP: `GET <basePath>/` serves `index.html` and
//! `GET <basePath>/<file>` the UI's other files (see `assets`), with the security headers
//! (a CSP allowing no inline script and only the page's own hashed stylesheet, no framing, `nosniff`, no referrer), an ETag per
//! variant, `304 Not Modified`, immutable caching for URLs carrying the file's hash, and the
//! precompressed variant the browser accepts. The files are public (no secret is in them; the
//! page asks for the token and speaks the gateway protocol over the WebSocket on the same
//! port), so they need no bearer token and a page from a foreign origin may load them; the
//! WebSocket refuses that origin at `connect`, and the page says so.

pub(crate) mod assets;
pub(crate) mod root;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::state::Shared;
use assets::Asset;

/// The Content-Security-Policy of every UI response: scripts only from the gateway's own
/// files, styles from them plus the page's one inlined stylesheet (allowed by its hash, which
/// `build.rs` computes: inlining it saves the request the first paint would wait for), the
/// WebSocket to the same origin, no framing, no plugins.
pub(crate) const CSP: &str = concat!(
    "default-src 'self'; script-src 'self'; style-src 'self' 'sha256-",
    env!("OPENCLAW_UI_STYLE_SHA256"),
    "'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
);

/// What a request path is to the UI.
#[derive(Clone, Copy)]
pub(crate) enum UiPath {
    /// `<basePath>/` (or `/` with no base path): the page, or the WebSocket on upgrade.
    Index,
    /// `<basePath>` without its slash (only with a base path): redirect to `Index`.
    Bare,
    /// `<basePath>/<file>`.
    File(&'static Asset),
}

/// Whether the UI is served now (`gateway.controlUi.enabled` of the live config).
pub(crate) fn enabled(shared: &Shared) -> bool {
    shared
        .config
        .read()
        .map(|c| c.gateway.control_ui.enabled)
        .unwrap_or(shared.gateway.control_ui.enabled)
}

/// Classifies `path` under the configured base path.
pub(crate) fn classify(shared: &Shared, path: &str) -> Option<UiPath> {
    let base = shared.gateway.control_ui.base_path.as_str();
    let rest = path.strip_prefix(base)?;
    if rest.is_empty() {
        return Some(if base.is_empty() {
            UiPath::Index
        } else {
            UiPath::Bare
        });
    }
    let name = rest.strip_prefix('/')?;
    if name.is_empty() || name == "index.html" {
        return Some(UiPath::Index);
    }
    assets::find(name).map(UiPath::File)
}

/// Whether `method path` is a read of a UI file (exempt from the Origin check, see the module
/// doc). The WebSocket upgrade is not: its Origin is checked at `connect`.
pub(crate) fn is_public_read(shared: &Shared, method: &Method, path: &str) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
        && enabled(shared)
        && classify(shared, path).is_some()
}

/// Adds the UI's security headers to a response.
pub(crate) fn security_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
}

/// Serves `what` for a plain (non-upgrade) GET or HEAD.
pub(crate) fn respond(
    shared: &Shared,
    what: UiPath,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Response {
    let asset = match what {
        UiPath::Bare => {
            let base = &shared.gateway.control_ui.base_path;
            let mut r = StatusCode::PERMANENT_REDIRECT.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("{base}/")) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            security_headers(r.headers_mut());
            return r;
        }
        UiPath::Index => assets::find("index.html"),
        UiPath::File(a) => Some(a),
    };
    let Some(asset) = asset else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    file(asset, query, headers)
}

fn file(asset: &'static Asset, query: Option<&str>, headers: &HeaderMap) -> Response {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let coding = assets::negotiate(text(header::ACCEPT_ENCODING));
    let etag = format!("\"{}{}\"", asset.hash, coding.etag_suffix());
    // `?v=<hash>` names this exact content: it never changes, so it may be kept for ever.
    let pinned = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .any(|kv| kv.strip_prefix("v=") == Some(asset.hash));
    let cache = if pinned {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let not_modified = text(header::IF_NONE_MATCH).is_some_and(|inm| {
        inm.split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == etag)
    });
    let mut r = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = Response::new(Body::from(asset.body(coding)));
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        if let Some(enc) = coding.header() {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
        }
        r
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    security_headers(h);
    r
}

/// The address of the Control UI of a gateway with `config` listening on `port`, as a browser
/// on this machine opens it (`http://127.0.0.1:<port><basePath>/`). With `token`, the token
/// follows in the fragment (`#token=`), which browsers never send to a server.
pub fn url(config: &crate::GatewayConfig, port: u16, token: Option<&str>) -> String {
    let host = match config.bind {
        crate::BindMode::Custom(std::net::IpAddr::V6(ip)) if !ip.is_unspecified() => {
            format!("[{ip}]")
        }
        crate::BindMode::Custom(ip) if !ip.is_unspecified() => ip.to_string(),
        _ => "127.0.0.1".to_owned(),
    };
    let mut url = format!("http://{host}:{port}{}/", config.control_ui.base_path);
    if let Some(t) = token {
        url.push_str("#token=");
        url.extend(t.bytes().map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        }));
    }
    url
}
