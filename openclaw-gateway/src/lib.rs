//! The OpenClaw gateway: one port serving OpenClaw's WebSocket control protocol (v3 and v4)
//! and HTTP.
//!
//! - [`config`]: `openclaw.json` and the typed `gateway.*` settings (`config_reader`: typed reads);
//! - `conn` / `handshake`: a socket's life: challenge, `connect` checks, request loop;
//! - [`auth`], [`device`], [`pairing`]: shared secrets with rate limiting, device proofs, pairing;
//!   [`first_token`]: the token made on first start when none is configured;
//! - `origin`, `upgrade`: browser Origin/Host checks, the bounded pre-auth WebSocket upgrade;
//! - [`hub`]: connections, per-connection `seq`, scoped broadcasts, back-pressure;
//! - `methods`: the engine-free methods; [`backend`]: the [`GatewayBackend`] seam for the rest;
//! - `http`: probes and bearer-authenticated routes.
//!
//! Start with [`GatewayOptions::from_env`] and [`run`], or [`Gateway::start`] in tests (bind
//! port 0 and read [`Gateway::local_addr`]).

pub mod agent_host;
pub mod approvals;
pub mod auth;
pub mod backend;
pub mod channels;
pub mod config;
mod config_reader;
mod conn;
pub mod control_ui;
pub mod cron;
pub mod device;
pub mod first_token;
#[doc(hidden)]
pub mod fuzzing;
mod handshake;
mod hooks;
mod hooks_map;
mod http;
pub mod hub;
mod json5_insert;
mod methods;
mod origin;
pub mod pairing;
pub mod preauth;
pub mod reload;
pub mod roster;
mod serve;
pub mod skills;
pub mod skills_watch;
mod state;
mod upgrade;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use openclaw_core::CancellationToken;
use openclaw_core::protocol::{PresenceEntry, ShutdownEvent, TickEvent};
use serde_json::{Map, Value, json};

pub use backend::{CallContext, EventSink, GatewayBackend, NoEngine};
pub use config::{
    AuthConfig, AuthMode, BindMode, ConfigError, ConfigSource, ControlUiConfig, GatewayConfig,
    RateLimitConfig, RunLanes,
};
pub use first_token::{LocalCredentials, TokenHome, local_credentials};
pub use reload::{ReloadMode, ReloadSettings};
pub use state::{DEFAULT_MAX_PREAUTH_CONNECTIONS, DEFAULT_MAX_PREAUTH_PER_IP, Limits};

use auth::Authenticator;
use pairing::PairingStore;
use state::{GatewayLog, LiveConfig, Shared, now_ms};

/// Why the gateway could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "refusing to bind {addr} with gateway.auth.mode \"none\": remove it (a token is then made \
         on first start), set gateway.auth.token or gateway.auth.password, or bind loopback"
    )]
    InsecureBind { addr: SocketAddr },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("gateway I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Token(#[from] first_token::FirstTokenError),
    #[error(transparent)]
    State(#[from] openclaw_state::StateError),
    #[error(transparent)]
    Locked(#[from] openclaw_state::lock::LockError),
}

/// Everything the gateway needs to start.
pub struct GatewayOptions {
    /// The typed `gateway.*` settings (port 0 picks a free port).
    pub config: GatewayConfig,
    /// The whole config file (for `config.*`, agents and models).
    pub source: ConfigSource,
    /// The state directory (pairing store, logs).
    pub state_dir: PathBuf,
    /// What answers the engine methods: [`NoEngine`] from [`GatewayOptions::from_env`], the agent
    /// host from `agent_host::options_from_env` / `agent_host::with_engine`.
    pub backend: Arc<dyn GatewayBackend>,
    pub limits: Limits,
    /// The version reported in `hello-ok.server.version`.
    pub version: String,
    /// Treat loopback clients as remote for pairing (tests of the pairing flow).
    pub loopback_is_local: bool,
}

impl GatewayOptions {
    /// Reads the config file named by the environment (`OPENCLAW_CONFIG_PATH`, else
    /// `$OPENCLAW_STATE_DIR/openclaw.json`, else `~/.openclaw/openclaw.json`).
    pub fn from_env() -> Result<Self, GatewayError> {
        let env = config::process_env;
        let source = config::load(&config::config_path(&env))?;
        Self::from_source(source, config::state_dir(&env), &env)
    }

    /// Builds options from an already-read config (the shared loader can call this).
    pub fn from_source(
        source: ConfigSource,
        state_dir: PathBuf,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, GatewayError> {
        let text = source.raw.clone();
        let located = text.as_deref().map(|t| (source.path.as_path(), t));
        let config = GatewayConfig::from_value(&source.value, located, env)?;
        let limits = Limits {
            max_preauth_connections: config.max_preauth,
            max_preauth_per_ip: config.max_preauth_per_ip,
            ..Limits::default()
        };
        Ok(Self {
            config,
            source,
            state_dir,
            backend: Arc::new(NoEngine),
            limits,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            loopback_is_local: true,
        })
    }
}

/// A running gateway.
pub struct Gateway {
    addr: SocketAddr,
    token_home: Option<TokenHome>,
    shared: Arc<Shared>,
    stop: CancellationToken,
    server: tokio::task::JoinHandle<()>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// One gateway per state dir: held until the gateway is dropped.
    _lock: openclaw_state::GatewayLock,
}

fn host_name() -> Option<String> {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Presence entries listed at most (the newest connections win).
pub const MAX_PRESENCE: usize = 200;

/// Whether a client mode is a one-shot command (`cli`, `probe`, `backend`): such connections
/// are neither listed in presence nor announced (OpenClaw 2026.9.6 does the same: a CLI's
/// hello-ok lists only the gateway, and no `presence` event follows its connect).
pub(crate) fn is_transient_mode(mode: &str) -> bool {
    matches!(mode, "cli" | "probe" | "backend")
}

/// The presence list: the gateway itself, then the lasting connections (at most
/// [`MAX_PRESENCE`]).
pub(crate) fn presence_list(shared: &Shared) -> Value {
    serde_json::to_value(presence_entries(shared, None)).unwrap_or(Value::Array(vec![]))
}

/// The gateway's own entry, then the lasting connections, plus `joining` (a connection not yet
/// in the hub, listed last when it is lasting); at most [`MAX_PRESENCE`] connections, the
/// newest win. One-shot clients are never listed, so a `hello-ok` stays small however many
/// CLI connections are open.
pub(crate) fn presence_entries(
    shared: &Shared,
    joining: Option<&hub::Connection>,
) -> Vec<PresenceEntry> {
    let conns = shared.hub.connections();
    let lasting: Vec<&PresenceEntry> = conns
        .iter()
        .map(|c| &**c)
        .chain(joining)
        .filter(|c| !is_transient_mode(&c.client_mode))
        .map(|c| &c.presence)
        .collect();
    let skip = lasting.len().saturating_sub(MAX_PRESENCE);
    let mut list = Vec::with_capacity(1 + lasting.len() - skip);
    list.push(shared.self_presence.clone());
    list.extend(lasting.into_iter().skip(skip).cloned());
    list
}

/// Announces a presence change. Changes within 100 ms are coalesced into one `presence`
/// event, so a burst of connects costs one broadcast rather than one per connection.
pub(crate) fn broadcast_presence(shared: &Arc<Shared>) {
    if shared.presence_pending.swap(true, Ordering::AcqRel) {
        return;
    }
    let shared = shared.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        shared.presence_pending.store(false, Ordering::Release);
        let sv = shared.hub.bump_presence();
        shared.hub.broadcast(
            "presence",
            Some(json!({"presence": presence_list(&shared)})),
            Some(sv),
        );
    });
}

/// The gateway's own presence entry.
fn self_presence(addr: SocketAddr, version: &str) -> PresenceEntry {
    PresenceEntry {
        host: host_name(),
        ip: Some(addr.ip().to_string()),
        version: Some(version.to_owned()),
        platform: Some(std::env::consts::OS.to_owned()),
        device_family: None,
        mode: Some("gateway".into()),
        reason: Some("self".into()),
        device_id: None,
        roles: None,
        scopes: None,
        instance_id: Some(uuid::Uuid::new_v4().to_string()),
        text: None,
        ts: now_ms(),
        extra: Map::new(),
    }
}

impl Gateway {
    /// Binds and starts serving; returns once the port accepts connections.
    pub async fn start(mut opts: GatewayOptions) -> Result<Gateway, GatewayError> {
        let addr = SocketAddr::new(opts.config.bind.ip(), opts.config.port);
        if !addr.ip().is_loopback() && opts.config.auth.mode == AuthMode::None {
            return Err(GatewayError::InsecureBind { addr });
        }
        let mut lock = openclaw_state::GatewayLock::acquire(&opts.state_dir)?;
        let token_home = if opts.config.auth.needs_token() {
            let made = first_token::ensure_token(&opts.source, &opts.state_dir)?;
            opts.config.auth.token = Some(made.token);
            opts.source = made.source;
            Some(made.home)
        } else {
            None
        };
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| GatewayError::Bind { addr, source })?;
        let addr = listener.local_addr()?;
        lock.set_port(addr.port())?;
        let log = GatewayLog::open(opts.state_dir.join("logs").join("gateway.log"));
        log.line(&format!(
            "gateway listening on {addr} (auth {})",
            opts.config.auth.mode.as_str()
        ));
        if let Some(home) = &token_home {
            log.line(&format!("gateway token kept in {}", home.path().display()));
        }
        if opts.config.auth.mode == AuthMode::None {
            log.line("WARNING: gateway.auth.mode is \"none\": any local process or web page can control this gateway");
        }
        let self_presence = self_presence(addr, &opts.version);
        let hub: Arc<hub::Hub> = Arc::default();
        // The always-on services (approvals, heartbeats, cron, channels) write rarely: they
        // share one connection (one migration check, one page cache) beside the sessions'.
        let services_db = Arc::new(openclaw_state::SqliteStore::open(&opts.state_dir)?);
        let approvals =
            approvals::Approvals::open(services_db.clone(), hub.clone(), opts.state_dir.clone())?;
        let clock: Arc<dyn cron::Clock> = Arc::new(cron::SystemClock);
        let heartbeat = cron::heartbeat::HeartbeatService::new(
            services_db.clone(),
            clock.clone(),
            opts.backend.clone(),
            opts.state_dir.clone(),
            &opts.source.value,
        );
        let cron = cron::CronService::new(
            services_db.clone(),
            clock,
            opts.backend.clone(),
            cron::CronConfig::from_config(&opts.source.value, &config::process_env),
        );
        let channels = channels::ChannelService::new(
            services_db.clone(),
            opts.backend.clone(),
            config::process_env,
        );
        channels.apply_config(&opts.source.value);
        channels.attach_approvals(&approvals);
        cron.set_heartbeat(heartbeat.clone());
        cron.set_channels(channels.clone());
        heartbeat.set_channels(channels.clone());
        opts.backend.attach_cron(Arc::downgrade(&cron));
        let hooks = match hooks::Hooks::from_config(
            &opts.source.value,
            opts.config.auth.token.as_deref(),
            opts.config.auth.rate_limit,
        ) {
            Ok(Some(h)) => {
                log.line(&format!(
                    "hooks listening on {}/wake and {}/agent",
                    h.path(),
                    h.path()
                ));
                Some(h)
            }
            Ok(None) => None,
            Err(why) => {
                log.line(&why);
                tracing::error!("{why}");
                None
            }
        };
        let shared = Arc::new(Shared {
            cron,
            channels,
            heartbeat,
            hooks,
            origin: origin::OriginPolicy::new(&opts.config, addr),
            preauth: preauth::PreauthBudget::new(
                opts.limits.max_preauth_connections,
                opts.limits.max_preauth_per_ip,
            ),
            limits: opts.limits,
            auth: Authenticator::new(opts.config.auth.clone()),
            gateway: opts.config.clone(),
            config: std::sync::RwLock::new(LiveConfig {
                // The file's own settings (the running ones may differ by command-line
                // overrides such as the port).
                gateway: GatewayConfig::from_value(&opts.source.value, None, &config::process_env)
                    .unwrap_or(opts.config),
                source: opts.source,
                rejected: None,
            }),
            approvals: Some(approvals),
            hub,
            backend: opts.backend,
            pairing: PairingStore::new(&opts.state_dir),
            state_dir: opts.state_dir,
            started: Instant::now(),
            boot_id: uuid::Uuid::new_v4().to_string(),
            version: opts.version,
            self_presence,
            draining: AtomicBool::new(false),
            restart: CancellationToken::new(),
            presence_pending: AtomicBool::new(false),
            log,
            loopback_is_local: opts.loopback_is_local,
        });
        shared.backend.attach(EventSink {
            hub: shared.hub.clone(),
            approvals: shared.approvals.clone(),
        });
        shared.cron.attach(EventSink {
            hub: shared.hub.clone(),
            approvals: shared.approvals.clone(),
        });
        shared.heartbeat.attach(EventSink {
            hub: shared.hub.clone(),
            approvals: shared.approvals.clone(),
        });
        let stop = CancellationToken::new();
        let app = http::router(shared.clone());
        let header_timeout = Duration::from_millis(shared.gateway.handshake_timeout_ms.max(1));
        let server = tokio::spawn(serve::serve(listener, app, stop.clone(), header_timeout));
        let mut tasks = vec![
            spawn_ticker(shared.clone(), stop.clone()),
            spawn_health(shared.clone(), stop.clone()),
            reload::spawn_watcher(shared.clone(), stop.clone()),
        ];
        tasks.extend(skills_watch::spawn(shared.clone(), stop.clone()));
        tasks.extend(shared.cron.start());
        tasks.push(shared.channels.start());
        tasks.push(shared.heartbeat.start());
        Ok(Gateway {
            addr,
            token_home,
            shared,
            stop,
            server,
            tasks,
            _lock: lock,
        })
    }

    /// The address of the built-in Control UI (`None` when `gateway.controlUi.enabled` is
    /// false); with `with_token`, the gateway token follows in the URL fragment.
    pub fn control_ui_url(&self, with_token: bool) -> Option<String> {
        if !control_ui::enabled(&self.shared) {
            return None;
        }
        let token = with_token
            .then_some(self.shared.gateway.auth.token.as_deref())
            .flatten();
        Some(control_ui::url(
            &self.shared.gateway,
            self.addr.port(),
            token,
        ))
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where the token made on this start (or an earlier one) is kept, when the config had
    /// no secret.
    pub fn token_home(&self) -> Option<&TokenHome> {
        self.token_home.as_ref()
    }

    /// Broadcasts events to connected clients.
    pub fn events(&self) -> EventSink {
        EventSink {
            hub: self.shared.hub.clone(),
            approvals: self.shared.approvals.clone(),
        }
    }

    /// How many clients are connected and authenticated.
    pub fn connection_count(&self) -> usize {
        self.shared.hub.connections().len()
    }

    /// Graceful stop: refuse new connects, let the backend abort its runs, send `shutdown`,
    /// close every socket with 1012 and release the port. Takes well under a second.
    pub async fn shutdown(self, reason: &str) {
        self.stop_serving(reason, None).await;
    }

    /// Resolves when the gateway asks to be restarted with its config file
    /// (`gateway.reload.mode: "restart"`).
    pub async fn restart_requested(&self) {
        self.shared.restart.cancelled().await;
    }

    /// Graceful stop; `restart_expected_ms` tells clients a new gateway follows.
    async fn stop_serving(self, reason: &str, restart_expected_ms: Option<u64>) {
        let shared = &self.shared;
        shared.draining.store(true, Ordering::Release);
        shared.log.line(&format!("gateway stopping: {reason}"));
        shared.cron.stop();
        shared.channels.stop();
        shared.heartbeat.stop();
        // Before the runs are aborted (which would withdraw them as `run-aborted`).
        if let Some(a) = &shared.approvals {
            a.expire_all("gateway-restart");
        }
        let _ = tokio::time::timeout(Duration::from_millis(300), shared.backend.shutdown()).await;
        let payload = serde_json::to_value(ShutdownEvent {
            reason: reason.to_owned(),
            restart_expected_ms,
        })
        .ok();
        shared.hub.broadcast("shutdown", payload, None);
        for c in shared.hub.connections() {
            c.out.close(1012, "service restart");
        }
        let deadline = Instant::now() + Duration::from_millis(400);
        while !shared.hub.connections().is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for c in shared.hub.connections() {
            c.out.kill();
        }
        self.stop.cancel();
        for t in &self.tasks {
            t.abort();
        }
        let mut server = self.server;
        if tokio::time::timeout(Duration::from_millis(200), &mut server)
            .await
            .is_err()
        {
            server.abort();
            // Wait for the cancelled task to drop the listener, so the port is free at once
            // (a restart binds it again).
            let _ = server.await;
        }
    }
}

fn spawn_ticker(shared: Arc<Shared>, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let period = Duration::from_millis(shared.limits.tick_interval_ms.max(1));
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = interval.tick() => {
                    let payload = serde_json::to_value(TickEvent { ts: now_ms() }).ok();
                    shared.hub.broadcast("tick", payload, None);
                }
            }
        }
    })
}

fn spawn_health(shared: Arc<Shared>, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let period = Duration::from_millis(shared.limits.health_interval_ms.max(1));
        let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = interval.tick() => {
                    let roster = roster::Roster::from_config(&shared.config_value(), &shared.state_dir);
                    let summary = methods::system::health_summary(&shared, &roster);
                    let sv = shared.hub.bump_health();
                    shared.hub.broadcast("health", Some(summary), Some(sv));
                }
            }
        }
    })
}

/// Waits for ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Why [`run`] returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Ctrl-C or SIGTERM: the process should exit.
    Signal,
    /// The config changed under `gateway.reload.mode: "restart"`: the caller starts the gateway
    /// again with options read afresh (same process, so the same pid; the port is the new
    /// config's).
    Restart,
}

/// Runs the gateway until ctrl-c or SIGTERM (or a restart request), then stops it gracefully.
pub async fn run(opts: GatewayOptions) -> Result<Stopped, GatewayError> {
    let none = opts.config.auth.mode == AuthMode::None;
    let gateway = Gateway::start(opts).await?;
    tracing::info!("gateway listening on ws://{}", gateway.local_addr());
    if none {
        tracing::warn!("gateway.auth.mode is \"none\": no secret is required");
        eprintln!(
            "WARNING: gateway.auth.mode is \"none\": every local process and user can control this \
             gateway, run tools and read your sessions. Remove it to use a token."
        );
    }
    match gateway.token_home() {
        Some(TokenHome::Config(path)) => {
            tracing::info!(
                "gateway token stored as gateway.auth.token in {}",
                path.display()
            );
            eprintln!(
                "openclaw gateway: no gateway.auth was configured; a token was generated and saved as \
                 gateway.auth.token in {} (owner-only). Clients on this machine read it from there.",
                path.display()
            );
        }
        Some(TokenHome::File(path)) => {
            tracing::info!("gateway token stored in {}", path.display());
            eprintln!(
                "openclaw gateway: no gateway.auth was configured; the gateway token is in {} \
                 (owner-only; the config file could not be edited safely). Pass it with --token, \
                 or set gateway.auth.token.",
                path.display()
            );
        }
        None => {}
    }
    // The one line a person starting the gateway in a terminal needs (stderr: stdout stays clean).
    eprintln!(
        "openclaw gateway listening on ws://{} (http on the same port); Ctrl+C to stop",
        gateway.local_addr()
    );
    // The browser UI. The token goes in the fragment only when a person is watching (a
    // terminal), never into a redirected stderr or the gateway log.
    use std::io::IsTerminal;
    if let Some(url) = gateway.control_ui_url(std::io::stderr().is_terminal()) {
        eprintln!("Control UI: {url}  (or run `openclaw dashboard`)");
    }
    tokio::select! {
        _ = shutdown_signal() => {
            gateway.shutdown("gateway stopping").await;
            Ok(Stopped::Signal)
        }
        _ = gateway.restart_requested() => {
            gateway.stop_serving("config changed; restarting", Some(RESTART_EXPECTED_MS)).await;
            Ok(Stopped::Restart)
        }
    }
}

/// How long clients are told a restart takes (`shutdown.restartExpectedMs`).
pub const RESTART_EXPECTED_MS: u64 = 2_000;
