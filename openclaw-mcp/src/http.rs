//! The streamable HTTP transport of a remote server: rmcp's reqwest client with the configured
//! `headers` (an `Authorization: Bearer …` header becomes rmcp's auth header, which it sends
//! itself; header values never reach the log).

use std::collections::HashMap;

use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

use crate::config::ServerConfig;

/// The transport's configuration (`Err` names a bad url or header).
pub(crate) fn config(cfg: &ServerConfig) -> Result<StreamableHttpClientTransportConfig, String> {
    let url = cfg.url.clone().unwrap_or_default();
    if url.starts_with("https://") {
        // rmcp's HTTP client is built without TLS here (its TLS feature would add a second
        // crypto stack next to the workspace's); refused by name rather than failing obscurely.
        return Err(
            "https:// MCP servers are not supported by this build yet (http:// on a trusted network or loopback only)"
                .into(),
        );
    }
    if !url.starts_with("http://") {
        return Err(format!(
            "url must be http:// (got {})",
            crate::config::redact_url(&url)
        ));
    }
    let mut config = StreamableHttpClientTransportConfig::with_uri(url);
    let mut headers = HashMap::new();
    for (k, v) in &cfg.headers {
        if k.eq_ignore_ascii_case("authorization") {
            let token = v
                .strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .unwrap_or(v);
            config = config.auth_header(token.to_owned());
            continue;
        }
        let name = http::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| format!("headers: \"{k}\" is not a valid header name"))?;
        let value = http::HeaderValue::from_str(v)
            .map_err(|_| format!("headers.{k}: not a valid header value"))?;
        headers.insert(name, value);
    }
    Ok(config.custom_headers(headers))
}
