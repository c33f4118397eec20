//! Who may talk to the gateway from a browser: the `Origin` allow-list
//! (`gateway.controlUi.allowedOrigins`, by default the gateway's own loopback origins), the
//! `Host` check against DNS rebinding on a loopback bind, and the refusal of cross-site "simple"
//! requests (form or `text/plain` posts, `Sec-Fetch-Site: cross-site`) that a page could send
//! without a CORS preflight.

use std::net::{IpAddr, SocketAddr};

use axum::http::{HeaderMap, Method, header};

use super::config::{BindMode, GatewayConfig};

/// The origins and hosts a gateway accepts.
#[derive(Debug, Clone)]
pub(crate) struct OriginPolicy {
    /// Normalised allowed origins (`scheme://host[:port]`, lower case).
    origins: Vec<String>,
    /// `*` was configured.
    any: bool,
    /// Host names (without port) taken from the configured origins.
    hosts: Vec<String>,
    /// Check `Host` (the gateway listens on loopback only).
    check_host: bool,
}

/// Lower case, no trailing slash, no default port.
fn normalise(origin: &str) -> String {
    let o = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    o.strip_suffix(":80")
        .filter(|_| o.starts_with("http://"))
        .or_else(|| o.strip_suffix(":443").filter(|_| o.starts_with("https://")))
        .map(str::to_owned)
        .unwrap_or(o)
}

/// The host part of `host[:port]` or `[v6]:port`, lower case.
fn host_only(authority: &str) -> String {
    let a = authority.trim().to_ascii_lowercase();
    if let Some(rest) = a.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default().to_owned();
    }
    match a.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h.to_owned(),
        _ => a,
    }
}

fn is_loopback_host(host: &str) -> bool {
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl OriginPolicy {
    /// The policy for a gateway bound at `addr`.
    pub fn new(config: &GatewayConfig, addr: SocketAddr) -> Self {
        let port = addr.port();
        let mut origins: Vec<String> = ["127.0.0.1", "localhost", "[::1]"]
            .iter()
            .flat_map(|h| [format!("http://{h}:{port}"), format!("https://{h}:{port}")])
            .collect();
        if let BindMode::Custom(ip) = config.bind {
            let host = match ip {
                IpAddr::V6(v6) => format!("[{v6}]"),
                IpAddr::V4(v4) => v4.to_string(),
            };
            origins.push(format!("http://{host}:{port}"));
            origins.push(format!("https://{host}:{port}"));
        }
        let any = config.allowed_origins.iter().any(|o| o.trim() == "*");
        let configured: Vec<String> = config
            .allowed_origins
            .iter()
            .filter(|o| o.trim() != "*")
            .map(|o| normalise(o))
            .collect();
        let hosts = configured
            .iter()
            .filter_map(|o| o.split_once("://").map(|(_, rest)| host_only(rest)))
            .collect();
        origins.extend(configured);
        OriginPolicy {
            origins: origins.iter().map(|o| normalise(o)).collect(),
            any,
            hosts,
            check_host: addr.ip().is_loopback(),
        }
    }

    pub fn origin_allowed(&self, origin: &str) -> bool {
        self.any || self.origins.contains(&normalise(origin))
    }

    /// A loopback-bound gateway answers only to loopback names or the configured origins'
    /// hosts, so a page on a rebound DNS name cannot reach it.
    pub fn host_allowed(&self, host: &str) -> bool {
        if !self.check_host {
            return true;
        }
        let h = host_only(host);
        is_loopback_host(&h) || self.hosts.contains(&h)
    }
}

/// Why a request was refused before routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    Host,
    Origin,
    CrossSite,
    SimpleBody,
}

/// Whether a POST/PUT/PATCH/DELETE body is one a page can send without a preflight.
fn simple_body(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let essence = ctype.split(';').next().unwrap_or("").trim();
    essence.is_empty()
        || matches!(
            essence,
            "text/plain" | "application/x-www-form-urlencoded" | "multipart/form-data"
        )
}

impl OriginPolicy {
    /// Checks one request. `upgrade` is a WebSocket upgrade: its `Origin` is refused at
    /// `connect` with OpenClaw's error (see `handshake`), so only `Host` is checked here.
    pub fn check(
        &self,
        method: &Method,
        headers: &HeaderMap,
        upgrade: bool,
    ) -> Result<(), Refusal> {
        let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
        if let Some(host) = text(header::HOST) {
            if !self.host_allowed(host) {
                return Err(Refusal::Host);
            }
        }
        if upgrade {
            return Ok(());
        }
        if let Some(origin) = text(header::ORIGIN) {
            if !self.origin_allowed(origin) {
                return Err(Refusal::Origin);
            }
        }
        let site = headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if site.eq_ignore_ascii_case("cross-site") && !self.any {
            return Err(Refusal::CrossSite);
        }
        if simple_body(method, headers) {
            return Err(Refusal::SimpleBody);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn policy(allowed: &[&str]) -> OriginPolicy {
        let config = GatewayConfig {
            allowed_origins: allowed.iter().map(|s| (*s).to_owned()).collect(),
            ..GatewayConfig::default()
        };
        OriginPolicy::new(&config, "127.0.0.1:18789".parse().unwrap())
    }

    #[test]
    fn own_origins_and_configured_ones() {
        let p = policy(&["https://Control.Example.com/"]);
        assert!(p.origin_allowed("http://127.0.0.1:18789"));
        assert!(p.origin_allowed("http://localhost:18789/"));
        assert!(p.origin_allowed("http://[::1]:18789"));
        assert!(p.origin_allowed("https://control.example.com:443"));
        assert!(!p.origin_allowed("http://127.0.0.1:8080"));
        assert!(!p.origin_allowed("https://evil.example"));
        assert!(!p.origin_allowed("null"));
        assert!(policy(&["*"]).origin_allowed("https://evil.example"));
    }

    #[test]
    fn host_must_be_loopback_or_configured() {
        let p = policy(&["https://control.example.com"]);
        for ok in [
            "127.0.0.1:18789",
            "localhost",
            "[::1]:18789",
            "127.1.2.3",
            "control.example.com",
        ] {
            assert!(p.host_allowed(ok), "{ok}");
        }
        assert!(!p.host_allowed("evil.example:18789"));
        assert!(!p.host_allowed("192.168.1.5:18789"));
        let mut h = HeaderMap::new();
        h.insert(
            header::HOST,
            HeaderValue::from_static("rebound.example:18789"),
        );
        assert_eq!(p.check(&Method::GET, &h, true), Err(Refusal::Host));
    }

    #[test]
    fn simple_bodies_and_cross_site_fetches_are_refused() {
        let p = policy(&[]);
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain;charset=UTF-8"),
        );
        assert_eq!(p.check(&Method::POST, &h, false), Err(Refusal::SimpleBody));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        assert_eq!(p.check(&Method::POST, &h, false), Ok(()));
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert_eq!(p.check(&Method::POST, &h, false), Err(Refusal::CrossSite));
        assert_eq!(p.check(&Method::GET, &HeaderMap::new(), false), Ok(()));
    }
}
