//! `gateway.controlUi.root`: serving OpenClaw's own Control UI build (the `dist/control-ui`
//! folder of the `openclaw` npm package; we ship none of its files) the way OpenClaw's gateway
//! does: files under the base path, `.br`/`.gz` siblings when the browser accepts them,
//! `assets/*` cached as immutable, SPA fallback to `index.html` for paths without an extension
//! that ask for HTML, and `index.html` rewritten (asset links made absolute under the base path,
//! `data-openclaw-control-ui-base-path` on `<html>`, a CSP carrying the hashes of its inline
//! scripts). `<base>/control-ui-config.json` is the UI's bootstrap document (bearer-gated,
//! answered by `config_json`).

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::assets::{Coding, negotiate};
use crate::state::Shared;

/// The largest file served from the root.
const MAX_FILE: u64 = 64 * 1024 * 1024;

/// First path segments that stay the gateway's own (never the UI's SPA fallback).
const RESERVED: &[&str] = &[
    "v1", "api", "tools", "health", "healthz", "ready", "readyz", "hooks", "j",
];

/// The configured root, when the UI is on and served from a folder.
pub(crate) fn configured(shared: &Shared) -> Option<&Path> {
    if !super::enabled(shared) {
        return None;
    }
    shared.gateway.control_ui.root.as_deref()
}

/// The path relative to the base path, if `path` is under it and may be the UI's.
fn relative<'a>(shared: &Shared, path: &'a str) -> Option<&'a str> {
    let base = shared.gateway.control_ui.base_path.as_str();
    let rest = path.strip_prefix(base)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let rel = rest.trim_start_matches('/');
    let first = rel.split('/').next().unwrap_or("");
    if base.is_empty() && RESERVED.contains(&first) {
        return None;
    }
    Some(rel)
}

/// Whether `path` is one of the bootstrap document's addresses.
pub(crate) fn is_config_json(shared: &Shared, path: &str) -> bool {
    let base = shared.gateway.control_ui.base_path.as_str();
    path == format!("{base}/control-ui-config.json")
        || path == format!("{base}/__openclaw/control-ui-config.json")
        || path == "/__openclaw__/control-ui-config.json"
}

/// Whether a GET/HEAD of `path` is a public read of the root's files (see `super`).
pub(crate) fn is_public_read(shared: &Shared, method: &Method, path: &str) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
        && configured(shared).is_some()
        && !is_config_json(shared, path)
        && relative(shared, path).is_some()
}

fn text(status: StatusCode, message: String) -> Response {
    let mut r = (status, message).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Serves a GET/HEAD under the base path from the root; `None` when the path is not the UI's.
pub(crate) async fn serve(shared: &Shared, path: &str, headers: &HeaderMap) -> Option<Response> {
    let root = configured(shared)?;
    let rel = relative(shared, path)?;
    if !root.join("index.html").is_file() {
        return Some(text(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "Control UI assets not found at {}. Point gateway.controlUi.root at the dist/control-ui folder of the openclaw npm package, or remove it to use the built-in UI.",
                root.display()
            ),
        ));
    }
    if rel.is_empty() || rel == "index.html" {
        return Some(index(shared, root).await);
    }
    let safe = !rel.contains('\\')
        && !rel.contains('\0')
        && rel
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    let file = safe.then(|| root.join(rel)).filter(|f| inside(root, f));
    match file {
        Some(f) if f.is_file() => Some(file_response(&f, rel, headers).await),
        _ => {
            let last = rel.rsplit('/').next().unwrap_or("");
            let wants_html = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("text/html"));
            if !last.contains('.') && wants_html {
                // A client-side route (`/chat`, `/approve/<id>`): the app decides.
                Some(index(shared, root).await)
            } else {
                let mut r = text(StatusCode::NOT_FOUND, "Not Found".into());
                super::security_headers(r.headers_mut());
                Some(r)
            }
        }
    }
}

/// Whether `file` resolves (links followed) to somewhere inside `root`.
fn inside(root: &Path, file: &Path) -> bool {
    match (root.canonicalize(), file.canonicalize()) {
        (Ok(r), Ok(f)) => f.starts_with(r),
        // A missing file is not served anyway; its lexical path is already inside.
        (Ok(_), Err(_)) => true,
        _ => false,
    }
}

async fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    let meta = tokio::fs::metadata(path).await?;
    if meta.len() > MAX_FILE {
        return Err(std::io::Error::other(format!(
            "{} is larger than {MAX_FILE} bytes",
            path.display()
        )));
    }
    tokio::fs::read(path).await
}

async fn file_response(file: &Path, rel: &str, headers: &HeaderMap) -> Response {
    let accept = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok());
    let coding = negotiate(accept);
    // The precompressed sibling the browser accepts, else the file itself.
    let mut chosen = (file.to_path_buf(), Coding::Identity);
    for c in [Coding::Brotli, Coding::Gzip] {
        let ok = match coding {
            Coding::Brotli => true,
            Coding::Gzip => c == Coding::Gzip,
            Coding::Identity => false,
        };
        let sibling = PathBuf::from(format!("{}{}", file.display(), c.etag_suffix()));
        if ok && sibling.is_file() {
            chosen = (sibling, c);
            break;
        }
    }
    let (path, coding) = chosen;
    let meta = match tokio::fs::metadata(&path).await {
        Ok(m) => m,
        Err(e) => return text(StatusCode::NOT_FOUND, format!("cannot read {rel}: {e}")),
    };
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis());
    let etag = format!("\"{:x}-{mtime:x}{}\"", meta.len(), coding.etag_suffix());
    let cache = if rel.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|inm| inm.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut r = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        match read_bounded(&path).await {
            Ok(bytes) => {
                let mut r = Response::new(Body::from(bytes));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(content_type(file)),
                );
                if let Some(enc) = coding.header() {
                    r.headers_mut()
                        .insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
                }
                r
            }
            Err(e) => {
                return text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("cannot read {rel}: {e}"),
                );
            }
        }
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    super::security_headers(h);
    r
}

/// `index.html`, rewritten for the base path, with its CSP.
async fn index(shared: &Shared, root: &Path) -> Response {
    let path = root.join("index.html");
    let html = match read_bounded(&path).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => {
            return text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("Control UI assets not readable at {}: {e}", path.display()),
            );
        }
    };
    let base = &shared.gateway.control_ui.base_path;
    let html = rewrite_index(&html, base);
    let csp = csp_for(&html);
    let mut r = Response::new(Body::from(html));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    super::security_headers(h);
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

/// Makes `./` links absolute under `base` and marks `<html>` with the base path.
pub(crate) fn rewrite_index(html: &str, base: &str) -> String {
    let mut out = html
        .replace("src=\"./", &format!("src=\"{base}/"))
        .replace("href=\"./", &format!("href=\"{base}/"));
    if let Some(at) = out.find("<html") {
        let attr = format!(" data-openclaw-control-ui-base-path=\"{base}\"");
        out.insert_str(at + "<html".len(), &attr);
    }
    out
}

/// OpenClaw's Control UI CSP, with the hashes of the page's inline scripts.
pub(crate) fn csp_for(html: &str) -> String {
    let mut script = vec!["'self'".to_owned()];
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(open) = lower[from..].find("<script") {
        let open = from + open;
        let Some(gt) = lower[open..].find('>').map(|g| open + g) else {
            break;
        };
        let Some(close) = lower[gt..].find("</script>").map(|c| gt + c) else {
            break;
        };
        let tag = &lower[open..gt];
        let body = &html[gt + 1..close];
        if !tag.contains(" src=") && !body.is_empty() {
            let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
            script.push(format!("'sha256-{hash}'"));
        }
        from = close + "</script>".len();
    }
    format!(
        "default-src 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; \
         frame-src 'self' http: https:; script-src {}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:; media-src 'self' data: blob:; font-src 'self'; \
         worker-src 'self'; connect-src 'self' ws: wss: data:",
        script.join(" ")
    )
}

/// `GET <base>/control-ui-config.json`: what the UI reads before it connects.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ControlUiBootstrap {
    base_path: String,
    assistant_name: String,
    assistant_avatar: Option<String>,
    assistant_avatar_source: Option<String>,
    assistant_avatar_status: Option<String>,
    assistant_avatar_reason: Option<String>,
    assistant_agent_id: String,
    server_version: String,
    embed_sandbox: &'static str,
    allow_external_embed_urls: bool,
    automatically_fetch_favicons: bool,
    community_invite: Option<String>,
    terminal_enabled: bool,
    cli_agents_enabled: bool,
    plugin_assets_require_auth: bool,
    plugin_frame_grants: Vec<String>,
}

/// The bootstrap document (the caller has checked the bearer token).
pub(crate) fn config_json(shared: &Shared) -> Response {
    let roster = crate::roster::Roster::from_config(&shared.config_value(), &shared.state_dir);
    let body = ControlUiBootstrap {
        base_path: shared.gateway.control_ui.base_path.clone(),
        assistant_name: "Assistant".into(),
        assistant_avatar: None,
        assistant_avatar_source: None,
        assistant_avatar_status: None,
        assistant_avatar_reason: None,
        assistant_agent_id: roster.default_id().to_owned(),
        server_version: shared.version.clone(),
        embed_sandbox: "strict",
        allow_external_embed_urls: false,
        automatically_fetch_favicons: false,
        community_invite: None,
        terminal_enabled: false,
        cli_agents_enabled: false,
        plugin_assets_require_auth: true,
        plugin_frame_grants: Vec::new(),
    };
    let mut r = axum::Json(body).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// The agent id of `<base>/avatar/<agentId>` (OpenClaw 5.6's avatar route), if `path` is one.
pub(crate) fn avatar_agent<'a>(shared: &Shared, path: &'a str) -> Option<&'a str> {
    let base = shared.gateway.control_ui.base_path.as_str();
    let id = path.strip_prefix(base)?.strip_prefix("/avatar/")?;
    let valid = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    valid.then_some(id)
}

/// `?meta=1` of the avatar route: where the agent's avatar is.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AvatarMeta {
    avatar_url: Option<String>,
    avatar_source: Option<String>,
    avatar_status: &'static str,
    avatar_reason: Option<&'static str>,
}

/// `GET <base>/avatar/<agentId>` (the caller has checked the bearer token): with `meta=1` the
/// avatar's address (an `http(s):` or `data:image/` `identity.avatar`; this gateway serves no
/// avatar files), else 404 as OpenClaw answers an agent without a local avatar file.
pub(crate) fn avatar(shared: &Shared, agent: &str, query: Option<&str>) -> Response {
    let meta = query.is_some_and(|q| q.split('&').any(|kv| kv == "meta=1"));
    let roster = crate::roster::Roster::from_config(&shared.config_value(), &shared.state_dir);
    let Some(entry) = roster.get(agent).filter(|_| meta) else {
        let mut r = text(StatusCode::NOT_FOUND, "Not Found".into());
        super::security_headers(r.headers_mut());
        return r;
    };
    let url = entry
        .identity
        .get("avatar")
        .and_then(serde_json::Value::as_str)
        .filter(|a| {
            a.starts_with("https://") || a.starts_with("http://") || a.starts_with("data:image/")
        });
    let body = match url {
        Some(u) => AvatarMeta {
            avatar_url: Some(u.to_owned()),
            avatar_source: Some(u.to_owned()),
            avatar_status: if u.starts_with("data:") {
                "data"
            } else {
                "remote"
            },
            avatar_reason: None,
        },
        None => AvatarMeta {
            avatar_url: None,
            avatar_source: None,
            avatar_status: "none",
            avatar_reason: Some("missing"),
        },
    };
    let mut r = axum::Json(body).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    super::security_headers(r.headers_mut());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_links_move_under_the_base_path_and_inline_scripts_are_hashed() {
        let html = "<!doctype html><html lang=\"en\"><head><script>var a=1;</script>\
                    <script type=\"module\" src=\"./assets/index.js\"></script>\
                    <link rel=\"icon\" href=\"./favicon.svg\"></head></html>";
        let out = rewrite_index(html, "/ui");
        assert!(out.contains("src=\"/ui/assets/index.js\""), "{out}");
        assert!(out.contains("href=\"/ui/favicon.svg\""), "{out}");
        assert!(
            out.contains("<html data-openclaw-control-ui-base-path=\"/ui\" lang"),
            "{out}"
        );
        let csp = csp_for(&out);
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest("var a=1;"));
        assert!(csp.contains(&format!("'sha256-{hash}'")), "{csp}");
        assert_eq!(csp.matches("sha256-").count(), 1, "{csp}");
    }
}
