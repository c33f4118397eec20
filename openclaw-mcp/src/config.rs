//! OpenClaw's `mcp.servers.<name>` section of `openclaw.json` as typed records: a stdio server
//! (`command`, `args`, `env`, `cwd`) or a remote one (`url`, `transport`, `headers`), with
//! `enabled`, the timeouts and `toolFilter`. Parsing keeps the declaration order (it decides the
//! sanitized server names, as in OpenClaw) and reports a bad entry by its name.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Start-up bound (connect, initialize, first `tools/list`) when `connectionTimeoutMs` is unset.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// One call's bound when `requestTimeoutMs` is unset.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// `toolFilter`: MCP tool names or `*` globs; include first, then exclude.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolFilter {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

/// One `mcp.servers.<name>` entry as written. Fields OpenClaw has and this client does not act
/// on (OAuth, Codex projection) are kept in `other` and refused by name where they would
/// change behaviour.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_directory: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<String>,
    /// CLI-native spelling (`"http"`, `"sse"`, `"stdio"`), normalized like `transport`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_filter: Option<ToolFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// `false`: an https server's certificate is not checked (OpenClaw's `sslVerify`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_verify: Option<bool>,
    /// PEM client certificate and key files for mutual TLS (OpenClaw's `clientCert`/`clientKey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<String>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

/// How a server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    Stdio,
    StreamableHttp,
    Sse,
}

impl TransportKind {
    /// OpenClaw's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Stdio => "stdio",
            TransportKind::StreamableHttp => "streamable-http",
            TransportKind::Sse => "sse",
        }
    }
}

impl ServerConfig {
    pub fn enabled(&self) -> bool {
        self.enabled != Some(false)
    }

    /// The transport: explicit `transport`/`type`, else stdio for a command and streamable
    /// HTTP for a URL (`Err` says what is missing or unknown).
    pub fn transport_kind(&self) -> Result<TransportKind, String> {
        let named = self.transport.as_deref().or(self.kind.as_deref());
        match named {
            Some("stdio") => match &self.command {
                Some(c) if !c.trim().is_empty() => Ok(TransportKind::Stdio),
                _ => Err("transport \"stdio\" needs a non-empty command".into()),
            },
            Some("streamable-http" | "http" | "streamableHttp") => match &self.url {
                Some(_) => Ok(TransportKind::StreamableHttp),
                None => Err("transport \"streamable-http\" needs a url".into()),
            },
            Some("sse") => Ok(TransportKind::Sse),
            Some(other) => Err(format!(
                "unknown transport \"{other}\" (use stdio or streamable-http)"
            )),
            None => match (&self.command, &self.url) {
                (Some(c), _) if !c.trim().is_empty() => Ok(TransportKind::Stdio),
                (_, Some(_)) => Ok(TransportKind::StreamableHttp),
                _ => Err("needs either a command (stdio) or a url (streamable-http)".into()),
            },
        }
    }

    /// The working directory (`cwd`, or its alias `workingDirectory`).
    pub fn work_dir(&self) -> Option<&str> {
        self.cwd.as_deref().or(self.working_directory.as_deref())
    }

    pub fn connect_timeout(&self) -> Duration {
        self.connection_timeout_ms
            .filter(|ms| *ms > 0)
            .map_or(DEFAULT_CONNECT_TIMEOUT, Duration::from_millis)
    }

    pub fn request_timeout(&self) -> Duration {
        self.request_timeout_ms
            .filter(|ms| *ms > 0)
            .map_or(DEFAULT_REQUEST_TIMEOUT, Duration::from_millis)
    }

    /// What this client cannot do for this entry, by name (`None`: it can run it).
    pub fn unsupported(&self) -> Option<String> {
        match self.transport_kind() {
            Err(e) => return Some(e),
            Ok(TransportKind::Sse) => {
                return Some(
                    "the legacy SSE transport is not supported by this gateway; use streamable-http"
                        .into(),
                );
            }
            Ok(_) => {}
        }
        if self.auth.as_deref() == Some("oauth") {
            return Some(
                "auth \"oauth\" is not supported by this gateway; use static headers".into(),
            );
        }
        None
    }

    /// A one-line summary: `stdio <command> <args…>` or `streamable-http <url>` (secrets in a
    /// URL's user info are redacted; arguments that look like credentials too).
    pub fn launch(&self) -> String {
        match self.transport_kind() {
            Ok(TransportKind::Stdio) => {
                let mut parts = vec![self.command.clone().unwrap_or_default()];
                parts.extend(self.args.iter().map(|a| redact_arg(a)));
                format!("stdio {}", parts.join(" "))
            }
            Ok(k) => format!(
                "{} {}",
                k.as_str(),
                redact_url(self.url.as_deref().unwrap_or(""))
            ),
            Err(e) => format!("invalid: {e}"),
        }
    }
}

fn redact_arg(a: &str) -> String {
    let lower = a.to_ascii_lowercase();
    let secret = [
        "token", "secret", "password", "apikey", "api-key", "api_key",
    ];
    match a.split_once('=') {
        Some((k, _)) if secret.iter().any(|s| k.to_ascii_lowercase().contains(s)) => {
            format!("{k}=<redacted>")
        }
        _ if lower.starts_with("sk-") || lower.starts_with("ghp_") => "<redacted>".into(),
        _ => a.to_owned(),
    }
}

/// `https://user:pass@host/…` → `https://<redacted>@host/…`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://<redacted>@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// `mcp.servers`, in declaration order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct McpConfig {
    pub servers: Vec<(String, ServerConfig)>,
}

impl McpConfig {
    /// Reads `mcp.servers` of a parsed `openclaw.json` (absent: no servers). A server that is
    /// not an object, or whose fields have the wrong types, is an error naming it.
    pub fn from_openclaw_json(config: &Value) -> Result<McpConfig, String> {
        let Some(servers) = config.pointer("/mcp/servers") else {
            return Ok(McpConfig::default());
        };
        let Some(map) = servers.as_object() else {
            return Err("mcp.servers must be an object of named servers".into());
        };
        let mut out = Vec::with_capacity(map.len());
        for (name, v) in map {
            if name == "__proto__" {
                return Err("mcp.servers: the server name \"__proto__\" is reserved".into());
            }
            let cfg: ServerConfig = serde_json::from_value(v.clone())
                .map_err(|e| format!("mcp.servers.{name}: {e}"))?;
            out.push((name.clone(), cfg));
        }
        Ok(McpConfig { servers: out })
    }

    pub fn get(&self, name: &str) -> Option<&ServerConfig> {
        self.servers.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_stdio_and_http_servers_in_declaration_order() {
        let c = McpConfig::from_openclaw_json(&json!({"mcp": {"servers": {
            "zeta": {"command": "node", "args": ["a.js"], "cwd": "/srv", "env": {"A": "1"}},
            "docs": {"url": "https://u:p@mcp.example.com/mcp", "transport": "streamable-http",
                     "toolFilter": {"include": ["search", "read_*"]}, "requestTimeoutMs": 20000},
            "old": {"url": "https://x", "transport": "sse"},
            "off": {"command": "x", "enabled": false}
        }}}))
        .unwrap();
        let names: Vec<_> = c.servers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["zeta", "docs", "old", "off"]);
        let zeta = c.get("zeta").unwrap();
        assert_eq!(zeta.transport_kind(), Ok(TransportKind::Stdio));
        assert_eq!(zeta.work_dir(), Some("/srv"));
        assert_eq!(zeta.launch(), "stdio node a.js");
        let docs = c.get("docs").unwrap();
        assert_eq!(docs.request_timeout(), Duration::from_secs(20));
        assert_eq!(
            docs.launch(),
            "streamable-http https://<redacted>@mcp.example.com/mcp"
        );
        assert!(c.get("old").unwrap().unsupported().unwrap().contains("SSE"));
        assert_eq!(docs.unsupported(), None);
        assert!(!c.get("off").unwrap().enabled());
    }

    #[test]
    fn a_bad_entry_is_named() {
        let e = McpConfig::from_openclaw_json(&json!({"mcp": {"servers": {"x": {"args": "no"}}}}))
            .unwrap_err();
        assert!(e.starts_with("mcp.servers.x:"), "{e}");
        let e = McpConfig::from_openclaw_json(&json!({"mcp": {"servers": {"__proto__": {}}}}))
            .unwrap_err();
        assert!(e.contains("reserved"), "{e}");
        let c = McpConfig::from_openclaw_json(&json!({"mcp": {"servers": {"y": {}}}})).unwrap();
        assert!(c.get("y").unwrap().unsupported().is_some());
    }
}
