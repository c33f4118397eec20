//! The gateway's part of `openclaw.json`: where the file is, how it is read (JSON5), and the
//! typed `gateway.*` settings (port, bind, auth, rate limit) taken from a `serde_json::Value`,
//! so the shared config loader can hand its parsed value over later.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

pub use super::config_reader::locate_key;
use super::config_reader::{Reader, allowed_origins, control_ui};

/// Default WebSocket + HTTP port.
pub const DEFAULT_PORT: u16 = 18789;

/// A configuration problem, naming the key and, when known, the file position.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}{}: invalid JSON5: {message}", position(*.line, *.column))]
    Syntax {
        path: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    #[error("{file}{}: invalid value for `{key}`: {message}", position(*.line, *.column))]
    Invalid {
        key: String,
        message: String,
        file: String,
        line: Option<usize>,
        column: Option<usize>,
    },
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

/// The config file as read from disk.
#[derive(Debug, Clone)]
pub struct ConfigSource {
    /// Where the file is (or would be).
    pub path: PathBuf,
    /// The file's text, `None` when it does not exist.
    pub raw: Option<String>,
    /// The parsed value (`{}` when the file does not exist).
    pub value: Value,
}

/// The state directory: `$OPENCLAW_STATE_DIR`, else `~/.openclaw`.
pub fn state_dir(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(dir) = env("OPENCLAW_STATE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs_home().join(".openclaw")
}

fn dirs_home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The config path: `$OPENCLAW_CONFIG_PATH`, else `<state dir>/openclaw.json`.
pub fn config_path(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    match env("OPENCLAW_CONFIG_PATH").filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        None => state_dir(env).join("openclaw.json"),
    }
}

/// Config files are parsed by `openclaw_core::config::parse_json5`, the one JSON5 parser; its
/// errors convert into this crate's.
impl From<openclaw_core::config::ConfigError> for ConfigError {
    fn from(e: openclaw_core::config::ConfigError) -> Self {
        use openclaw_core::config::ConfigError as Core;
        match e {
            Core::Read { path, source } => ConfigError::Read { path, source },
            Core::Syntax {
                path,
                line,
                column,
                message,
            } => ConfigError::Syntax {
                path,
                line: Some(line).filter(|l| *l > 0),
                column: Some(column).filter(|c| *c > 0),
                message,
            },
            Core::Invalid { path, key, message } => ConfigError::Invalid {
                key,
                message,
                file: path.display().to_string(),
                line: None,
                column: None,
            },
        }
    }
}

/// Reads and parses the config file; a missing file is an empty config.
pub fn load(path: &Path) -> Result<ConfigSource, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(raw) => {
            let value = openclaw_core::config::parse_json5(path, &raw)?;
            if !value.is_object() {
                return Err(ConfigError::Invalid {
                    key: "(root)".into(),
                    message: "the config must be an object".into(),
                    file: path.display().to_string(),
                    line: Some(1),
                    column: Some(1),
                });
            }
            Ok(ConfigSource {
                path: path.to_owned(),
                raw: Some(raw),
                value,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigSource {
            path: path.to_owned(),
            raw: None,
            value: Value::Object(Map::new()),
        }),
        Err(source) => Err(ConfigError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// How the shared secret is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    None,
    Token,
    Password,
}

impl AuthMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::None => "none",
            AuthMode::Token => "token",
            AuthMode::Password => "password",
        }
    }
}

/// `gateway.auth.rateLimit`: failed-auth limiting per client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Failures allowed inside `window_ms` before the address is locked out.
    pub max_attempts: u32,
    pub window_ms: u64,
    pub lockout_ms: u64,
    /// Loopback clients are never locked out.
    pub exempt_loopback: bool,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            window_ms: 60_000,
            lockout_ms: 300_000,
            exempt_loopback: true,
        }
    }
}

/// `gateway.auth` with the environment applied.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthConfig {
    pub mode: AuthMode,
    pub token: Option<String>,
    pub password: Option<String>,
    pub rate_limit: RateLimitConfig,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("mode", &self.mode)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("rate_limit", &self.rate_limit)
            .finish()
    }
}

impl AuthConfig {
    /// Token auth with no token yet: the gateway makes one on first start
    /// (`crate::first_token`).
    pub fn needs_token(&self) -> bool {
        self.mode == AuthMode::Token && self.token.is_none()
    }
}

/// `gateway.bind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindMode {
    /// 127.0.0.1 (the default; `auto` means the same here).
    Loopback,
    /// 0.0.0.0.
    Lan,
    /// `gateway.customBindHost`.
    Custom(IpAddr),
}

impl BindMode {
    pub fn ip(&self) -> IpAddr {
        match self {
            BindMode::Loopback => IpAddr::V4(Ipv4Addr::LOCALHOST),
            BindMode::Lan => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            BindMode::Custom(ip) => *ip,
        }
    }
}

/// The typed `gateway.*` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfig {
    pub port: u16,
    pub bind: BindMode,
    pub auth: AuthConfig,
    /// Pre-auth handshake timeout (`gateway.handshakeTimeoutMs`, env `OPENCLAW_HANDSHAKE_TIMEOUT_MS`).
    pub handshake_timeout_ms: u64,
    /// Sockets waiting to authenticate at once: in all (`gateway.maxPreauthConnections`, env
    /// `OPENCLAW_GATEWAY_MAX_PREAUTH`) and from one address
    /// (`gateway.maxPreauthConnectionsPerIp`, env `OPENCLAW_MAX_PREAUTH_CONNECTIONS_PER_IP`).
    pub max_preauth: usize,
    pub max_preauth_per_ip: usize,
    /// `gateway.controlUi.allowedOrigins`: browser origins allowed besides the gateway's own
    /// (`*` allows any).
    pub allowed_origins: Vec<String>,
    /// `gateway.controlUi.enabled` and `gateway.controlUi.basePath`: the built-in Control UI.
    pub control_ui: ControlUiConfig,
    /// How many runs execute at once (`agents.defaults.maxConcurrent` and
    /// `agents.defaults.subagents.maxConcurrent`).
    pub lanes: RunLanes,
    /// `gateway.reload.mode` and `gateway.reload.debounceMs`.
    pub reload: crate::reload::ReloadSettings,
}

/// `gateway.controlUi`: whether the gateway serves its built-in Control UI, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlUiConfig {
    /// `gateway.controlUi.enabled` (default true; read live, as OpenClaw hot-applies it).
    pub enabled: bool,
    /// `gateway.controlUi.basePath`, normalised to `""` (served at `/`) or `/segment[/...]`
    /// without a trailing slash.
    pub base_path: String,
    /// `gateway.controlUi.root`: a directory holding OpenClaw's own Control UI build
    /// (`dist/control-ui` of the `openclaw` npm package), served instead of the built-in UI.
    pub root: Option<std::path::PathBuf>,
}

impl Default for ControlUiConfig {
    fn default() -> Self {
        ControlUiConfig {
            enabled: true,
            base_path: String::new(),
            root: None,
        }
    }
}

/// The global run lanes' sizes: how many runs execute at once across all sessions. As in
/// OpenClaw, users' runs share the `main` lane and agent-to-agent runs the `subagent` lane;
/// both default to 8 (what OpenClaw 2026.9.6 resolves them to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLanes {
    pub main: u32,
    pub subagent: u32,
}

impl Default for RunLanes {
    fn default() -> Self {
        RunLanes {
            main: 8,
            subagent: 8,
        }
    }
}

/// The largest pre-auth bound accepted.
const MAX_PREAUTH: u64 = 1_000_000;

/// The largest lane size accepted.
const MAX_LANE: u64 = 100_000;

impl RunLanes {
    /// Reads the lane sizes from the whole config value; `source` locates errors in the file.
    pub fn from_value(root: &Value, source: Option<(&Path, &str)>) -> Result<Self, ConfigError> {
        let r = Reader { source };
        let d = RunLanes::default();
        let defaults = r.object(root.pointer("/agents/defaults"), "agents.defaults")?;
        let Some(defaults) = defaults else {
            return Ok(d);
        };
        let size = |v: Option<&Value>, key: &str, default: u32| -> Result<u32, ConfigError> {
            match r.uint(v, key, MAX_LANE)? {
                None => Ok(default),
                Some(0) => {
                    Err(r.invalid(key, format!("expected an integer between 1 and {MAX_LANE}")))
                }
                Some(n) => Ok(n as u32),
            }
        };
        let subagents = r.object(defaults.get("subagents"), "agents.defaults.subagents")?;
        Ok(RunLanes {
            main: size(
                defaults.get("maxConcurrent"),
                "agents.defaults.maxConcurrent",
                d.main,
            )?,
            subagent: size(
                subagents.and_then(|s| s.get("maxConcurrent")),
                "agents.defaults.subagents.maxConcurrent",
                d.subagent,
            )?,
        })
    }
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            port: DEFAULT_PORT,
            bind: BindMode::Loopback,
            auth: AuthConfig {
                mode: AuthMode::Token,
                token: None,
                password: None,
                rate_limit: RateLimitConfig::default(),
            },
            handshake_timeout_ms: 15_000,
            max_preauth: crate::preauth::DEFAULT_MAX_PREAUTH_CONNECTIONS,
            max_preauth_per_ip: crate::preauth::DEFAULT_MAX_PREAUTH_PER_IP,
            allowed_origins: Vec::new(),
            control_ui: ControlUiConfig::default(),
            lanes: RunLanes::default(),
            reload: crate::reload::ReloadSettings::default(),
        }
    }
}

impl GatewayConfig {
    /// Reads `gateway.*` from the whole config value, with the environment applied
    /// (`OPENCLAW_GATEWAY_TOKEN`, `OPENCLAW_GATEWAY_PASSWORD`, `OPENCLAW_GATEWAY_PORT`,
    /// `OPENCLAW_HANDSHAKE_TIMEOUT_MS`). `source` (path and text) locates errors in the file.
    pub fn from_value(
        root: &Value,
        source: Option<(&Path, &str)>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let r = Reader { source };
        let mut cfg = GatewayConfig {
            lanes: RunLanes::from_value(root, source)?,
            ..GatewayConfig::default()
        };
        // A bad run timeout or exec limit stops the start, naming the section.
        crate::roster::check_run_limits(root).map_err(|(key, m)| r.invalid(&key, m))?;
        // So does a sandbox section that does not parse (the message names it).
        for id in openclaw_core::sandbox::config::configured_agents(root) {
            openclaw_core::sandbox::SandboxSettings::from_openclaw_json(root, &id, Path::new(""))
                .map_err(|m| r.invalid("agents", m))?;
        }
        // A bad exec policy too: never discovered mid-turn.
        openclaw_core::exec_policy::config::check(root).map_err(|m| r.invalid("tools.exec", m))?;
        let Some(gw) = r.object(root.get("gateway"), "gateway")? else {
            cfg.apply_env(&r, env)?;
            return Ok(cfg);
        };
        if let Some(port) = r.uint(gw.get("port"), "gateway.port", u64::from(u16::MAX))? {
            cfg.port = port as u16;
        }
        cfg.bind = bind_mode(&r, gw)?;
        if let Some(ms) = r.uint(
            gw.get("handshakeTimeoutMs"),
            "gateway.handshakeTimeoutMs",
            600_000,
        )? {
            cfg.handshake_timeout_ms = ms.max(1);
        }
        for (key, field) in [
            ("maxPreauthConnections", &mut cfg.max_preauth),
            ("maxPreauthConnectionsPerIp", &mut cfg.max_preauth_per_ip),
        ] {
            let name = format!("gateway.{key}");
            match r.uint(gw.get(key), &name, MAX_PREAUTH)? {
                None => {}
                Some(0) => return Err(r.invalid(&name, "expected at least 1")),
                Some(n) => *field = n as usize,
            }
        }
        cfg.allowed_origins = allowed_origins(&r, gw)?;
        cfg.control_ui = control_ui(&r, gw)?;
        cfg.reload = crate::reload::ReloadSettings::from_value(&r, gw)?;
        let auth = r.object(gw.get("auth"), "gateway.auth")?;
        let get = |k: &str| auth.and_then(|a| a.get(k));
        cfg.auth.token = r
            .string(get("token"), "gateway.auth.token")?
            .filter(|s| !s.is_empty());
        cfg.auth.password = r
            .string(get("password"), "gateway.auth.password")?
            .filter(|s| !s.is_empty());
        let mode = r.string(get("mode"), "gateway.auth.mode")?;
        if let Some(rl) = r.object(get("rateLimit"), "gateway.auth.rateLimit")? {
            cfg.auth.rate_limit = rate_limit(&r, rl)?;
        }
        cfg.apply_env(&r, env)?;
        cfg.auth.mode = match mode.as_deref() {
            Some("none") => AuthMode::None,
            Some("token") => AuthMode::Token,
            Some("password") => AuthMode::Password,
            Some("trusted-proxy") => {
                return Err(r.invalid(
                    "gateway.auth.mode",
                    "\"trusted-proxy\" is not supported; use token, password or none",
                ));
            }
            Some(other) => {
                return Err(r.invalid(
                    "gateway.auth.mode",
                    format!("unknown auth mode {other:?} (expected token, password or none)"),
                ));
            }
            None if cfg.auth.password.is_some() && cfg.auth.token.is_none() => AuthMode::Password,
            // No secret configured: token auth, with a token made on first start.
            None => AuthMode::Token,
        };
        let explicit_token = mode.as_deref() == Some("token");
        if explicit_token && cfg.auth.token.is_none() {
            return Err(r.invalid(
                "gateway.auth.token",
                "auth mode \"token\" needs gateway.auth.token or OPENCLAW_GATEWAY_TOKEN",
            ));
        }
        if cfg.auth.mode == AuthMode::Password && cfg.auth.password.is_none() {
            return Err(r.invalid(
                "gateway.auth.password",
                "auth mode \"password\" needs gateway.auth.password or OPENCLAW_GATEWAY_PASSWORD",
            ));
        }
        Ok(cfg)
    }

    fn apply_env(
        &mut self,
        r: &Reader<'_>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(), ConfigError> {
        let nonempty = |k: &str| env(k).filter(|v| !v.is_empty());
        if self.auth.token.is_none() {
            self.auth.token = nonempty("OPENCLAW_GATEWAY_TOKEN");
        }
        if self.auth.password.is_none() {
            self.auth.password = nonempty("OPENCLAW_GATEWAY_PASSWORD");
        }
        if self.auth.token.is_none() && self.auth.password.is_some() {
            self.auth.mode = AuthMode::Password;
        }
        if let Some(port) = nonempty("OPENCLAW_GATEWAY_PORT") {
            self.port = port
                .parse()
                .map_err(|_| r.invalid("OPENCLAW_GATEWAY_PORT", "expected a port number"))?;
        }
        for (key, field) in [
            ("OPENCLAW_GATEWAY_MAX_PREAUTH", &mut self.max_preauth),
            (
                "OPENCLAW_MAX_PREAUTH_CONNECTIONS_PER_IP",
                &mut self.max_preauth_per_ip,
            ),
        ] {
            if let Some(v) = nonempty(key) {
                *field = v
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_PREAUTH as usize).contains(n))
                    .ok_or_else(|| r.invalid(key, "expected a number of connections"))?;
            }
        }
        if let Some(ms) = nonempty("OPENCLAW_HANDSHAKE_TIMEOUT_MS") {
            self.handshake_timeout_ms = ms
                .parse()
                .map_err(|_| r.invalid("OPENCLAW_HANDSHAKE_TIMEOUT_MS", "expected milliseconds"))?;
        }
        Ok(())
    }
}

/// Reads the process environment (the default `env` for the functions above).
pub fn process_env(key: &str) -> Option<String> {
    std::env::var(key).ok()
}

/// `gateway.auth.rateLimit`.
fn rate_limit(r: &Reader<'_>, rl: &Map<String, Value>) -> Result<RateLimitConfig, ConfigError> {
    let d = RateLimitConfig::default();
    Ok(RateLimitConfig {
        max_attempts: r
            .uint(
                rl.get("maxAttempts"),
                "gateway.auth.rateLimit.maxAttempts",
                u64::from(u32::MAX),
            )?
            .map_or(d.max_attempts, |v| v as u32),
        window_ms: r
            .uint(
                rl.get("windowMs"),
                "gateway.auth.rateLimit.windowMs",
                u64::MAX,
            )?
            .unwrap_or(d.window_ms),
        lockout_ms: r
            .uint(
                rl.get("lockoutMs"),
                "gateway.auth.rateLimit.lockoutMs",
                u64::MAX,
            )?
            .unwrap_or(d.lockout_ms),
        exempt_loopback: r
            .boolean(
                rl.get("exemptLoopback"),
                "gateway.auth.rateLimit.exemptLoopback",
            )?
            .unwrap_or(d.exempt_loopback),
    })
}

/// `gateway.bind` (and `gateway.customBindHost`).
fn bind_mode(r: &Reader<'_>, gw: &Map<String, Value>) -> Result<BindMode, ConfigError> {
    Ok(match r.string(gw.get("bind"), "gateway.bind")?.as_deref() {
        None | Some("loopback") | Some("auto") => BindMode::Loopback,
        Some("lan") => BindMode::Lan,
        Some("custom") => {
            let host = r.string(gw.get("customBindHost"), "gateway.customBindHost")?;
            let ip = host.as_deref().and_then(|h| h.parse::<IpAddr>().ok());
            BindMode::Custom(ip.ok_or_else(|| {
                r.invalid(
                    "gateway.customBindHost",
                    "bind \"custom\" needs an IP address in gateway.customBindHost",
                )
            })?)
        }
        Some("tailnet") => {
            return Err(r.invalid(
                "gateway.bind",
                "\"tailnet\" is not supported; use loopback, lan or custom",
            ));
        }
        Some(other) => {
            return Err(r.invalid(
                "gateway.bind",
                format!("unknown bind mode {other:?} (expected loopback, lan, auto or custom)"),
            ));
        }
    })
}

#[cfg(test)]
mod tests;
