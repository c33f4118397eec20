//! What every connection and method shares: limits, the live config, the authenticator, the
//! hub, the backend, the pairing store and the gateway's own log file.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use openclaw_core::protocol::PresenceEntry;
use serde_json::Value;

use super::auth::Authenticator;
use super::backend::GatewayBackend;
use super::config::{ConfigSource, GatewayConfig};
use super::hub::Hub;
use super::origin::OriginPolicy;
use super::pairing::PairingStore;

/// Protocol limits advertised in `hello-ok.policy` and enforced per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame accepted after the handshake.
    pub max_payload: u64,
    /// Outbound bytes queued for one client before it is disconnected.
    pub max_buffered_bytes: u64,
    /// `tick` cadence.
    pub tick_interval_ms: u64,
    /// `health` broadcast cadence.
    pub health_interval_ms: u64,
    /// Sockets that may be upgraded but not yet authenticated at once; more are refused with
    /// 503 (`gateway.maxPreauthConnections`, env `OPENCLAW_GATEWAY_MAX_PREAUTH`).
    pub max_preauth_connections: usize,
    /// The same from one client address (`gateway.maxPreauthConnectionsPerIp`, env
    /// `OPENCLAW_MAX_PREAUTH_CONNECTIONS_PER_IP` as OpenClaw's).
    pub max_preauth_per_ip: usize,
}

pub use crate::preauth::{DEFAULT_MAX_PREAUTH_CONNECTIONS, DEFAULT_MAX_PREAUTH_PER_IP};

impl Default for Limits {
    fn default() -> Self {
        use openclaw_core::protocol::*;
        Self {
            max_payload: DEFAULT_MAX_PAYLOAD,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
            tick_interval_ms: DEFAULT_TICK_INTERVAL_MS,
            health_interval_ms: 60_000,
            max_preauth_connections: DEFAULT_MAX_PREAUTH_CONNECTIONS,
            max_preauth_per_ip: DEFAULT_MAX_PREAUTH_PER_IP,
        }
    }
}

/// The config file as the gateway currently knows it.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    pub source: ConfigSource,
    /// The typed `gateway.*` settings of `source` (what a reload compares to find the keys
    /// that need a restart).
    pub gateway: GatewayConfig,
    /// Why the file on disk was last refused (with its position), until a valid one is applied.
    pub rejected: Option<String>,
}

impl LiveConfig {
    pub fn value(&self) -> &Value {
        &self.source.value
    }
}

/// Appends one line per notable gateway event to `<state>/logs/gateway.log` (no secrets).
#[derive(Debug)]
pub struct GatewayLog {
    pub path: PathBuf,
    file: Mutex<Option<std::fs::File>>,
}

impl GatewayLog {
    pub fn open(path: PathBuf) -> Self {
        let file = path
            .parent()
            .and_then(|d| std::fs::create_dir_all(d).ok())
            .and_then(|_| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .ok()
            });
        Self {
            path,
            file: Mutex::new(file),
        }
    }

    pub fn line(&self, msg: &str) {
        let ts = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        if let Ok(mut guard) = self.file.lock() {
            if let Some(f) = guard.as_mut() {
                let _ = writeln!(f, "{ts} {msg}");
            }
        }
    }
}

pub(crate) struct Shared {
    pub limits: Limits,
    pub gateway: GatewayConfig,
    pub config: RwLock<LiveConfig>,
    pub auth: Authenticator,
    pub hub: Arc<Hub>,
    pub backend: Arc<dyn GatewayBackend>,
    /// Exec approvals (`None`: the state database could not hold them; the methods are then
    /// neither answered nor advertised).
    pub approvals: Option<Arc<crate::approvals::Approvals>>,
    /// The cron service (jobs, scheduler, `cron.*`).
    pub cron: Arc<crate::cron::CronService>,
    /// The messaging channels (accounts, inbound queue, dispatcher, `channels.*`, `send`).
    pub channels: Arc<crate::channels::ChannelService>,
    /// The heartbeat runner (`wake`, `last-heartbeat`, `set-heartbeats`).
    pub heartbeat: Arc<crate::cron::heartbeat::HeartbeatService>,
    /// Inbound hooks (`None`: off).
    pub hooks: Option<Arc<crate::hooks::Hooks>>,
    pub pairing: PairingStore,
    pub state_dir: PathBuf,
    pub started: Instant,
    pub boot_id: String,
    pub version: String,
    pub self_presence: PresenceEntry,
    pub draining: AtomicBool,
    /// Cancelled when the gateway should restart with its config file (`gateway.reload.mode:
    /// "restart"`).
    pub restart: openclaw_core::CancellationToken,
    /// A coalesced `presence` broadcast is scheduled.
    pub presence_pending: AtomicBool,
    pub log: GatewayLog,
    pub loopback_is_local: bool,
    /// Browser origin and host checks.
    pub origin: OriginPolicy,
    /// Permits for sockets between upgrade and an accepted `connect`.
    pub preauth: Arc<crate::preauth::PreauthBudget>,
}

impl Shared {
    /// Asks the serving loop to restart the gateway with its config file, a moment from now
    /// (so the answer of the method that wrote the file goes out first).
    pub fn request_restart(&self) {
        let token = self.restart.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            token.cancel();
        });
    }

    pub fn uptime_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    pub fn config_value(&self) -> Value {
        self.config
            .read()
            .map(|c| c.value().clone())
            .unwrap_or(Value::Null)
    }
}

pub use openclaw_state::now_ms;
