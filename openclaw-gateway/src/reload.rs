//! Live configuration, as OpenClaw's `gateway.reload`: a new `openclaw.json` — written by
//! `config.set` / `config.patch`, by `openclaw config set` or by an editor — is validated,
//! then made live without a restart for everything the gateway reads per run or per request
//! (agents, models, providers, tool policy, HTTP endpoints, workspace limits). The settings
//! fixed when the gateway started (port, bind, auth, handshake timeout, run lanes) are listed
//! as needing a restart, in the method's answer and in the log. An edit that does not parse or
//! validate is refused with its file position and the running config stays.
//!
//! The file is watched by polling its (modified time, size, inode) every [`POLL`] — one
//! `stat` — and read once a change has been stable for `gateway.reload.debounceMs` (300 ms by
//! default). `gateway.reload.mode` (of the running config) decides what a change does: `hot` and
//! `hybrid` make it live as above; `restart` restarts the gateway in place with the new file
//! ([`Shared::request_restart`]: the serving loop stops gracefully and starts again in the same
//! process); `off` neither watches the file nor makes writes through `config.set` /
//! `config.patch` live (they take effect at the next start). A mode that is none of these is
//! refused when the config is loaded.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use openclaw_core::CancellationToken;
use serde::Serialize;
use serde_json::Value;

use crate::config::{ConfigError, ConfigSource, GatewayConfig, process_env};
use crate::config_reader::Reader;
use crate::state::{LiveConfig, Shared};

/// How often the config file's metadata is checked.
pub const POLL: Duration = Duration::from_millis(250);
/// OpenClaw's default `gateway.reload.debounceMs`.
pub const DEFAULT_DEBOUNCE_MS: u64 = 300;

/// What the gateway does when its config file changes (`gateway.reload.mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReloadMode {
    /// The file is not watched and writes through `config.set` / `config.patch` are not made
    /// live: a change takes effect at the next start.
    Off,
    /// Hot-reloadable keys are made live; keys that need a restart are reported.
    Hot,
    /// As `Hot` here (OpenClaw's default): the keys that need a restart are reported.
    #[default]
    Hybrid,
    /// Every change restarts the gateway in place (same process, new config).
    Restart,
}

/// `gateway.reload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReloadSettings {
    pub mode: ReloadMode,
    pub debounce_ms: u64,
}

impl Default for ReloadSettings {
    fn default() -> Self {
        ReloadSettings {
            mode: ReloadMode::default(),
            debounce_ms: DEFAULT_DEBOUNCE_MS,
        }
    }
}

impl ReloadSettings {
    pub(crate) fn from_value(
        r: &Reader<'_>,
        gw: &serde_json::Map<String, Value>,
    ) -> Result<Self, ConfigError> {
        let Some(reload) = r.object(gw.get("reload"), "gateway.reload")? else {
            return Ok(ReloadSettings::default());
        };
        let mode = match r
            .string(reload.get("mode"), "gateway.reload.mode")?
            .as_deref()
        {
            None | Some("hybrid") => ReloadMode::Hybrid,
            Some("off") => ReloadMode::Off,
            Some("hot") => ReloadMode::Hot,
            Some("restart") => ReloadMode::Restart,
            Some(other) => {
                return Err(r.invalid(
                    "gateway.reload.mode",
                    format!("unknown reload mode {other:?} (expected off, hot, hybrid or restart)"),
                ));
            }
        };
        let debounce_ms = r
            .uint(
                reload.get("debounceMs"),
                "gateway.reload.debounceMs",
                60_000,
            )?
            .unwrap_or(DEFAULT_DEBOUNCE_MS);
        Ok(ReloadSettings { mode, debounce_ms })
    }
}

/// What a reload did, as the writing method reports it (`reload` in its answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReloadReport {
    /// The new config is the running one.
    pub applied: bool,
    /// Changed keys that only take effect after a restart.
    pub restart_required: Vec<&'static str>,
    /// The gateway restarts with the new config (`gateway.reload.mode: "restart"`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub restarting: bool,
}

/// The keys whose new values need a restart: those of the typed settings the gateway bound
/// and started with.
pub fn restart_required(old: &GatewayConfig, new: &GatewayConfig) -> Vec<&'static str> {
    let mut keys = Vec::new();
    if old.port != new.port {
        keys.push("gateway.port");
    }
    if old.bind != new.bind {
        keys.push("gateway.bind");
    }
    if old.auth != new.auth {
        keys.push("gateway.auth");
    }
    if old.handshake_timeout_ms != new.handshake_timeout_ms {
        keys.push("gateway.handshakeTimeoutMs");
    }
    if old.max_preauth != new.max_preauth {
        keys.push("gateway.maxPreauthConnections");
    }
    if old.max_preauth_per_ip != new.max_preauth_per_ip {
        keys.push("gateway.maxPreauthConnectionsPerIp");
    }
    if old.control_ui.base_path != new.control_ui.base_path {
        keys.push("gateway.controlUi.basePath");
    }
    if old.control_ui.root != new.control_ui.root {
        keys.push("gateway.controlUi.root");
    }
    if old.lanes.main != new.lanes.main {
        keys.push("agents.defaults.maxConcurrent");
    }
    if old.lanes.subagent != new.lanes.subagent {
        keys.push("agents.defaults.subagents.maxConcurrent");
    }
    keys
}

/// Parses and validates the text of the config file at `path`.
pub fn validate(path: &Path, text: &str) -> Result<(Value, GatewayConfig), ConfigError> {
    let value = openclaw_core::config::parse_json5(path, text)?;
    if !value.is_object() {
        return Err(ConfigError::Invalid {
            key: "(root)".into(),
            message: "the config must be an object".into(),
            file: path.display().to_string(),
            line: Some(1),
            column: Some(1),
        });
    }
    let gateway = GatewayConfig::from_value(&value, Some((path, text)), &process_env)?;
    Ok((value, gateway))
}

/// Makes an already validated config the running one (the caller holds the config lock):
/// the backend rebuilds its roster and restarts engines before their next run.
pub(crate) fn apply(
    shared: &Shared,
    live: &mut LiveConfig,
    source: ConfigSource,
    gateway: GatewayConfig,
    origin: &str,
) -> ReloadReport {
    let restart = restart_required(&live.gateway, &gateway);
    let mode = live.gateway.reload.mode;
    if matches!(mode, ReloadMode::Off | ReloadMode::Restart) {
        let restarting = mode == ReloadMode::Restart;
        let line = if restarting {
            format!("config changed ({origin}); gateway.reload.mode is \"restart\": restarting")
        } else {
            format!(
                "config written ({origin}); gateway.reload.mode is \"off\": the running \
                 gateway keeps its config until the next start"
            )
        };
        shared.log.line(&line);
        tracing::info!("{line}");
        if restarting {
            shared.request_restart();
        }
        return ReloadReport {
            applied: false,
            restart_required: restart,
            restarting,
        };
    }
    shared.backend.reload(&source.value);
    shared.channels.apply_config(&source.value);
    shared.heartbeat.reload(&source.value);
    live.source = source;
    live.gateway = gateway;
    live.rejected = None;
    let mut line = format!("config reloaded ({origin})");
    if !restart.is_empty() {
        line.push_str(&format!(
            "; restart required for {} (the running gateway keeps the old values)",
            restart.join(", ")
        ));
    }
    shared.log.line(&line);
    tracing::info!("{line}");
    ReloadReport {
        applied: true,
        restart_required: restart,
        restarting: false,
    }
}

/// Whether the running config watches its file, and its debounce.
fn watch_settings(shared: &Shared) -> (bool, Duration) {
    let reload = shared
        .config
        .read()
        .map(|c| c.gateway.reload)
        .unwrap_or_default();
    (
        reload.mode != ReloadMode::Off,
        Duration::from_millis(reload.debounce_ms),
    )
}

/// What identifies a version of the file on disk: (modified, size, inode).
type Stamp = Option<(SystemTime, u64, u64)>;

fn stamp(path: &Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Some((m.modified().ok()?, m.len(), inode))
}

/// Watches the config file until `stop`, reloading it when it changes.
pub(crate) fn spawn_watcher(
    shared: Arc<Shared>,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let path = match shared.config.read() {
            Ok(c) => c.source.path.clone(),
            Err(_) => return,
        };
        let mut seen = stamp(&path);
        let mut interval = tokio::time::interval(POLL);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = interval.tick() => {}
            }
            let (watch, debounce) = watch_settings(&shared);
            let now = stamp(&path);
            if !watch || now == seen || now.is_none() {
                continue;
            }
            // Let the writer finish: wait until the file has been still for the debounce.
            let mut settled = now;
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(debounce) => {}
                }
                let again = stamp(&path);
                if again == settled {
                    break;
                }
                settled = again;
            }
            seen = settled;
            reload_file(&shared, &path);
        }
    })
}

/// Reads the file and applies it, unless it is what is already running (the gateway's own
/// write) or it is invalid (logged with its position; the running config stays).
fn reload_file(shared: &Shared, path: &Path) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            shared.log.line(&format!(
                "config reload skipped: cannot read {}: {e}",
                path.display()
            ));
            return;
        }
    };
    let Ok(mut live) = shared.config.write() else {
        return;
    };
    if live.source.raw.as_deref() == Some(text.as_str()) {
        return;
    }
    match validate(path, &text) {
        Ok((value, gateway)) => {
            let source = ConfigSource {
                path: path.to_owned(),
                raw: Some(text),
                value,
            };
            apply(shared, &mut live, source, gateway, "file changed");
        }
        Err(e) => {
            let line = format!("config reload rejected: {e}; keeping the running config");
            shared.log.line(&line);
            tracing::warn!("{line}");
            live.rejected = Some(e.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_settings_fixed_at_start_need_a_restart() {
        let p = Path::new("openclaw.json");
        let gw = |v: Value| GatewayConfig::from_value(&v, Some((p, &v.to_string())), &|_| None);
        let old = gw(json!({"gateway": {"port": 1000, "auth": {"mode": "token", "token": "a"}}}))
            .unwrap();
        let same = gw(
            json!({"gateway": {"port": 1000, "auth": {"mode": "token", "token": "a"}},
            "agents": {"list": [{"id": "x"}]}}),
        )
        .unwrap();
        assert!(restart_required(&old, &same).is_empty());
        let new = gw(json!({"gateway": {"port": 1001, "auth": {"mode": "token", "token": "b"}}}))
            .unwrap();
        assert_eq!(
            restart_required(&old, &new),
            vec!["gateway.port", "gateway.auth"]
        );
    }

    #[test]
    fn an_invalid_file_is_refused_with_its_position() {
        let err = validate(Path::new("/x/openclaw.json"), "{\n  agents: {,\n}")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/x/openclaw.json:2:"), "{err}");
        let err = validate(
            Path::new("c.json"),
            "{\n gateway: {\n  port: \"high\"\n }\n}",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("c.json:3:") && err.contains("gateway.port"),
            "{err}"
        );
    }
}
