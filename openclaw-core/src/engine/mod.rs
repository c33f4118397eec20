//! The agent engine: one agent session (pi's `AgentSession`) that every front end drives — the
//! RPC mode, the gateway and the TUI.
//!
//! An [`Engine`] owns the conversation and its session file, the selected model and thinking
//! level, the tools for its working directory, the settings, the steering and follow-up queues,
//! auto-retry and auto-compaction. Its methods are the operations a user can perform; what
//! happens as a consequence is reported as [`AgentEvent`]s to the listeners registered with
//! [`Engine::subscribe`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), openclaw_core::engine::EngineError> {
//! use openclaw_core::engine::{Engine, EngineConfig, PromptInput};
//! let (engine, warnings) = Engine::start(EngineConfig::new(std::env::current_dir().unwrap())).await?;
//! let _sub = engine.subscribe(|event| println!("{}", serde_json::to_string(event).unwrap()));
//! drop(engine.prompt(PromptInput::text("hello")).await?); // dropping the ticket starts the run
//! engine.wait_until_idle().await;
//! # Ok(()) }
//! ```
//!
//! Listeners run synchronously on the emitting task: an event caused by a call is delivered
//! before that call returns. Calls are cheap and never block on a run, except the ones
//! documented as waiting (`abort`, `new_session`, `compact`, …).

mod events;
pub mod export;
mod memory_flush;
mod ops;
mod run;
mod setup;
mod state;
mod types;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

pub use events::Subscription;
pub use run::PromptTicket;
pub use types::{EngineState, ForkPoint, ForkResult, ModelCycle, PromptInput, StreamingBehavior};

pub use crate::session::SessionStats;
pub use crate::tool::shell::BashResult;

use crate::agent::Agent;
use crate::event::AgentEvent;
use crate::message::Message;
use crate::model::{Model, ThinkingLevel};
use crate::provider::ModelRegistry;
use crate::settings::QueueMode;
use crate::tool::ToolEnv;

use events::Listeners;
use state::State;

/// Why an engine operation failed. The messages are pi's where pi has one.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// `--provider`/`--model` could not be resolved (pi's texts).
    #[error(transparent)]
    Resolve(#[from] crate::provider::ResolveError),
    #[error("Model not found: {0}")]
    ModelNotFound(String),
    #[error(
        "No models available. Configure a provider in openclaw.json (models.providers) or pass --provider and --model."
    )]
    NoModel,
    #[error(
        "No API key found for {0}. Set the provider's apiKey in openclaw.json or pass --api-key."
    )]
    NoApiKey(String),
    #[error("Model API \"{0}\" is not supported")]
    UnsupportedApi(String),
    #[error(
        "Agent is already processing. Specify streamingBehavior ('steer' or 'followUp') to queue the message."
    )]
    AlreadyProcessing,
    #[error("Session name cannot be empty")]
    EmptySessionName,
    #[error("Invalid entry ID for forking")]
    InvalidForkEntry,
    #[error("Cannot clone session: no current entry selected")]
    NothingToClone,
    #[error("{0}")]
    Compaction(String),
    #[error("configuration error: {0}")]
    Config(String),
    #[error("{0}")]
    Session(#[from] crate::session::SessionError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Where the engine keeps its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionTarget {
    /// Nothing is written (`--no-session`).
    InMemory,
    /// A new session file in this directory (written once the first reply arrives).
    NewIn(PathBuf),
    /// Open this session file (created if missing).
    Open(PathBuf),
    /// The most recent session of this directory, else a new one there (`--continue`).
    ContinueRecent(PathBuf),
}

/// Which built-in tools are active.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ToolSelection {
    /// pi's default set: read, bash, edit, write.
    #[default]
    Default,
    /// Exactly these (unknown names are ignored).
    Only(Vec<String>),
    /// No tools.
    None,
}

/// How to start an engine.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The working directory: tools resolve paths here, `bash` runs here.
    pub cwd: PathBuf,
    /// The state directory (settings, default session location, `openclaw.json`).
    pub state_dir: PathBuf,
    /// `None`: a new session in `<state dir>/sessions/<encoded cwd>/`.
    pub session: Option<SessionTarget>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub thinking: Option<ThinkingLevel>,
    pub tools: ToolSelection,
    /// Replaces the default system prompt.
    pub system_prompt: Option<String>,
    /// Appended to the system prompt.
    pub append_system_prompt: Option<String>,
    /// Overrides the credentials of the selected provider.
    pub api_key: Option<String>,
    /// Fold `AGENTS.md`/`CLAUDE.md` files (cwd and its ancestors, the state dir) into the
    /// system prompt, as pi does (`--no-context-files` turns this off).
    pub context_files: bool,
    /// Reuse the model registry and `openclaw.json` parsed by an earlier engine of this
    /// process while `openclaw.json` and pi's `models.json` are unchanged on disk (same
    /// modification time, size and inode), instead of reading them again: for hosts that
    /// start many engines (the gateway). Off by default.
    pub reuse_config: bool,
    /// What bounds `bash` (timeout, output file cap, resource limits); `None`: `tools.exec`
    /// of `openclaw.json`, else the defaults.
    pub exec: Option<crate::tool::ExecSettings>,
    /// Where `bash` runs: the host (default), a sandbox, or refused (see `sandbox`).
    pub exec_target: crate::sandbox::ExecTarget,
    /// The exec policy gate in front of `bash`, `write` and `edit` (`None`: they run ungated,
    /// pi's behaviour).
    pub exec_gate: Option<Arc<crate::exec_policy::GateContext>>,
    /// Which skills and prompt templates the session has (pi's places by default).
    pub skills: SkillSetting,
    /// Tools the host adds to the built-ins (the gateway: MCP servers' tools). They go through
    /// the same exec gate as the built-ins.
    pub extra_tools: ExtraTools,
    /// The pre-compaction memory flush (`None`: off, pi's behaviour).
    pub memory_flush: Option<MemoryFlush>,
}

pub use memory_flush::{FlushPrompt, MemoryFlush};

/// [`EngineConfig::extra_tools`]: a list of tools that prints as their names.
#[derive(Clone, Default)]
pub struct ExtraTools(pub Vec<Arc<dyn crate::tool::Tool>>);

impl std::fmt::Debug for ExtraTools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|t| t.name()))
            .finish()
    }
}

/// Where an engine's skills and prompt templates come from.
#[derive(Debug, Clone, Default)]
pub enum SkillSetting {
    /// pi's places for the cwd and pi's agent dir (`$PI_CODING_AGENT_DIR`, `~/.pi/agent`).
    #[default]
    Pi,
    /// pi's places, without skills (`--no-skills`) and/or without templates
    /// (`--no-prompt-templates`).
    PiWithout { skills: bool, templates: bool },
    /// A catalogue the host built (the gateway: OpenClaw's places for the agent).
    Catalog(Arc<crate::skills::SkillCatalog>),
    /// None at all.
    Off,
}

impl EngineConfig {
    /// Defaults for `cwd`: state in [`crate::config::state_dir`], a new persisted session,
    /// default tools, the configured default model.
    pub fn new(cwd: impl Into<PathBuf>) -> Self {
        EngineConfig {
            cwd: cwd.into(),
            state_dir: crate::config::state_dir(),
            session: None,
            provider: None,
            model: None,
            thinking: None,
            tools: ToolSelection::Default,
            system_prompt: None,
            append_system_prompt: None,
            api_key: None,
            context_files: true,
            reuse_config: false,
            exec: None,
            exec_target: crate::sandbox::ExecTarget::Host,
            exec_gate: None,
            skills: SkillSetting::Pi,
            extra_tools: ExtraTools::default(),
            memory_flush: None,
        }
    }

    /// The directory sessions of this cwd go to by default.
    pub fn default_session_dir(&self) -> PathBuf {
        self.state_dir
            .join("sessions")
            .join(crate::session::encode_cwd(&self.cwd.to_string_lossy()))
    }
}

/// One agent session. Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    cwd: PathBuf,
    /// The agent loop: context, model, tools, queues, auto-retry.
    agent: Agent,
    registry: Arc<ModelRegistry>,
    /// Session, settings and engine-level flags.
    state: Mutex<State>,
    listeners: Arc<Listeners>,
    tool_env: Arc<ToolEnv>,
    /// The session's skills and prompt templates.
    skills: Arc<crate::skills::SkillCatalog>,
    /// `true` from an accepted prompt until its run, retries and automatic compaction are over.
    busy: tokio::sync::watch::Sender<bool>,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A listener that panicked must not wedge the engine.
        crate::sync::lock(&self.state)
    }

    /// Emit an engine event through the agent's bus, so it is ordered with the loop's events.
    /// Never call this (or any agent method that emits) while holding the state lock.
    fn emit(&self, event: AgentEvent) {
        self.agent.emit(event);
    }

    /// The agent's events, seen by the engine first: messages are persisted at their
    /// `message_end` (as pi does) and run boundaries tracked, then listeners are called.
    fn on_agent_event(&self, event: &AgentEvent) {
        match event {
            AgentEvent::AgentStart => {
                let mut st = self.lock();
                st.streaming = true;
                st.starting = false;
            }
            AgentEvent::AgentEnd { .. } => self.lock().streaming = false,
            AgentEvent::MessageEnd { message } => {
                if let Err(e) = self.lock().session.append_message(message.clone()) {
                    tracing::warn!("cannot append to the session: {e}");
                }
            }
            _ => {}
        }
        self.listeners.emit(event);
    }
}

impl Engine {
    /// Load configuration and settings, resolve the model, open the session. Returns the
    /// engine and warnings for the user (e.g. an unknown model id used as a custom model).
    pub async fn start(config: EngineConfig) -> Result<(Engine, Vec<String>), EngineError> {
        let parts = setup::prepare(&config)?;
        let (busy, _) = tokio::sync::watch::channel(false);
        let inner = Arc::new_cyclic(|weak: &Weak<Inner>| {
            let weak = weak.clone();
            parts.agent.subscribe(Arc::new(move |event: &AgentEvent| {
                if let Some(inner) = weak.upgrade() {
                    inner.on_agent_event(event);
                }
            }));
            Inner {
                cwd: config.cwd.clone(),
                agent: parts.agent,
                registry: parts.registry,
                state: Mutex::new(parts.state),
                listeners: Arc::default(),
                tool_env: parts.tool_env,
                skills: parts.skills,
                busy,
            }
        });
        let engine = Engine { inner };
        engine.restore_or_init(parts.thinking)?;
        Ok((engine, parts.warnings))
    }

    /// Register a listener for every event from now on; dropping the [`Subscription`]
    /// unregisters it.
    pub fn subscribe(
        &self,
        listener: impl Fn(&AgentEvent) + Send + Sync + 'static,
    ) -> Subscription {
        self.inner.listeners.add(Arc::new(listener))
    }

    /// The working directory.
    pub fn cwd(&self) -> &Path {
        &self.inner.cwd
    }

    /// The session's skills and prompt templates (read when the engine started).
    pub fn skills(&self) -> &Arc<crate::skills::SkillCatalog> {
        &self.inner.skills
    }

    /// A snapshot of the session state.
    pub fn state(&self) -> EngineState {
        let agent = &self.inner.agent;
        let st = self.inner.lock();
        EngineState {
            model: Some(agent.model()),
            thinking_level: agent.thinking_level(),
            is_streaming: st.streaming,
            is_compacting: st.compacting,
            steering_mode: agent.steering_mode(),
            follow_up_mode: agent.follow_up_mode(),
            session_file: st.session.session_file().map(Path::to_path_buf),
            session_id: st.session.session_id().to_string(),
            session_name: st.session.session_name().map(String::from),
            auto_compaction_enabled: st.settings.compaction().enabled,
            message_count: agent.with_messages(<[Arc<Message>]>::len),
            pending_message_count: agent.pending_message_count(),
        }
    }

    /// The current context: what the model will see next (after a compaction, the summary
    /// followed by the kept messages).
    pub fn messages(&self) -> Vec<Arc<Message>> {
        self.inner.agent.messages()
    }

    /// Whether a run is active.
    pub fn is_streaming(&self) -> bool {
        self.inner.lock().streaming
    }

    /// The agent loop underneath (for embedders that need its lower-level controls).
    pub fn agent(&self) -> &Agent {
        &self.inner.agent
    }

    /// The model registry the engine selects models from.
    pub fn registry(&self) -> &ModelRegistry {
        &self.inner.registry
    }

    /// Wait until no run, retry delay or automatic compaction is in progress.
    pub async fn wait_until_idle(&self) {
        let mut rx = self.inner.busy.subscribe();
        let _ = rx.wait_for(|busy| !*busy).await;
    }

    /// Models the user can switch to (their provider has credentials).
    pub fn available_models(&self) -> Vec<Model> {
        self.inner.registry.available_models()
    }

    /// The text of the last assistant message with content, trimmed.
    pub fn last_assistant_text(&self) -> Option<String> {
        self.inner
            .agent
            .messages()
            .iter()
            .rev()
            .find_map(|m| match &**m {
                Message::Assistant(a) => {
                    let aborted_empty =
                        matches!(a.stop_reason, crate::message::StopReason::Aborted)
                            && a.content.is_empty();
                    (!aborted_empty).then(|| a.text().trim().to_string())
                }
                _ => None,
            })
    }

    /// The id of the session's current leaf entry (`None` for an empty session).
    pub fn leaf_id(&self) -> Option<String> {
        self.inner.lock().session.leaf_id().map(str::to_owned)
    }

    /// Counts and token totals over the current context.
    pub fn session_stats(&self) -> SessionStats {
        let messages = self.inner.agent.messages();
        let window = self.inner.agent.model().context_window;
        crate::session::session_stats(&self.inner.lock().session, &messages, window)
    }

    /// User messages one can fork at.
    pub fn fork_points(&self) -> Vec<ForkPoint> {
        self.inner
            .lock()
            .session
            .fork_messages()
            .into_iter()
            .map(|f| ForkPoint {
                entry_id: f.entry_id,
                text: f.text,
            })
            .collect()
    }

    /// Set how steering messages are delivered (persisted to the global settings).
    pub fn set_steering_mode(&self, mode: QueueMode) {
        self.inner.agent.set_steering_mode(mode);
        if let Err(e) = self.inner.lock().settings.set_steering_mode(mode) {
            tracing::warn!("{e}");
        }
    }

    /// Set how follow-up messages are delivered (persisted to the global settings).
    pub fn set_follow_up_mode(&self, mode: QueueMode) {
        self.inner.agent.set_follow_up_mode(mode);
        if let Err(e) = self.inner.lock().settings.set_follow_up_mode(mode) {
            tracing::warn!("{e}");
        }
    }

    /// Turn automatic compaction on or off (persisted to the global settings).
    pub fn set_auto_compaction(&self, enabled: bool) {
        let mut st = self.inner.lock();
        if let Err(e) = st.settings.set_compaction_enabled(enabled) {
            tracing::warn!("{e}");
        }
    }

    /// Turn automatic retries on or off (persisted to the global settings).
    pub fn set_auto_retry(&self, enabled: bool) {
        let retry = {
            let mut st = self.inner.lock();
            if let Err(e) = st.settings.set_retry_enabled(enabled) {
                tracing::warn!("{e}");
            }
            let mut retry = st.settings.retry();
            retry.enabled = enabled;
            retry
        };
        self.inner.agent.set_retry_settings(retry);
    }

    /// Name the session (trimmed; must not be empty). Emits `session_info_changed`.
    pub fn set_session_name(&self, name: &str) -> Result<(), EngineError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(EngineError::EmptySessionName);
        }
        self.inner.lock().session.append_session_info(name)?;
        self.inner.emit(AgentEvent::SessionInfoChanged {
            name: name.to_string(),
        });
        Ok(())
    }

    /// Render the current context as a self-contained HTML page. Without `path`, the file goes
    /// next to the session file (or into the cwd) as `<session id>.html`. Returns the path.
    pub fn export_html(&self, path: Option<&Path>) -> Result<PathBuf, EngineError> {
        let messages = self.inner.agent.messages();
        let (title, default_path) = {
            let st = self.inner.lock();
            let id = st.session.session_id().to_string();
            let title = st
                .session
                .session_name()
                .map(String::from)
                .unwrap_or_else(|| format!("Session {id}"));
            let dir = st
                .session
                .session_file()
                .and_then(Path::parent)
                .map(Path::to_path_buf)
                .unwrap_or_else(|| self.inner.cwd.clone());
            (title, dir.join(format!("openclaw-session-{id}.html")))
        };
        let target = match path {
            Some(p) if p.is_absolute() => p.to_path_buf(),
            Some(p) => self.inner.cwd.join(p),
            None => default_path,
        };
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&target, export::render_html(&title, &messages))?;
        Ok(target)
    }

    /// Stop background work when the front end goes away: abort the run, the retry delay and
    /// any shell command. Does not wait.
    pub fn shutdown(&self) {
        drop(self.inner.agent.abort_retry());
        let run = self.inner.agent.clone();
        let st = self.inner.lock();
        for token in [&st.bash_cancel, &st.compaction_cancel]
            .into_iter()
            .flatten()
        {
            token.cancel();
        }
        drop(st);
        // `Agent::abort` cancels at once and then waits; the waiting part is left to the runtime
        // (outside one, only the retry wait and side work are cancelled).
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move { run.abort().await });
        }
    }
}
