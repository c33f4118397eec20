//! The seam between the chat screen and what drives it.
//!
//! [`ChatBackend`] is implemented by the in-process engine adapter (in `openclaw-cli`) and by
//! the gateway client ([`crate::gateway::GatewayBackend`]); the screen only ever talks to this
//! trait, so the same keys and cells work in both modes. Commands are async calls; everything
//! the agent does comes back as [`BackendEvent`]s on the receiver returned by
//! [`ChatBackend::subscribe`].

use async_trait::async_trait;
use openclaw_core::exec_policy::Decision;
use openclaw_core::message::Message;
use openclaw_core::{AgentEvent, ThinkingLevel};

/// A failure of a backend call, shown to the user as one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The backend cannot do this at all (e.g. /fork over a gateway).
    #[error("{0} is not supported here")]
    Unsupported(&'static str),
    /// The call was refused or failed; the message says why.
    #[error("{0}")]
    Failed(String),
    /// The connection to the engine or gateway is gone.
    #[error("disconnected: {0}")]
    Disconnected(String),
}

/// Result of a backend call.
pub type BackendResult<T> = Result<T, BackendError>;

/// A model the user can pick.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelChoice {
    pub provider: String,
    pub id: String,
    pub name: String,
    pub context_window: u64,
    pub reasoning: bool,
    /// Whether credentials for its provider are present.
    pub available: bool,
}

/// A command a skill or prompt template adds (`/skill:name`, `/template`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtraCommand {
    /// Typed after the `/`.
    pub name: String,
    pub description: String,
    /// `skill` or `prompt`.
    pub source: String,
}

/// A stored session the user can resume.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionChoice {
    /// What [`ChatBackend::switch_session`] takes (a path or a session key).
    pub id: String,
    pub name: Option<String>,
    /// Human time of the last change, e.g. `2026-11-22 01:12`.
    pub modified: String,
    pub message_count: usize,
    /// The first user message (or the latest text), for the picker's preview pane.
    pub preview: String,
}

/// An earlier user message the conversation can be forked from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ForkPoint {
    pub entry_id: String,
    pub text: String,
}

/// What the status line shows about the engine.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BackendState {
    pub model: Option<ModelChoice>,
    pub thinking: ThinkingLevel,
    pub session_name: Option<String>,
    pub session_id: Option<String>,
    pub streaming: bool,
}

/// An exec approval the user is asked for (a command the agent wants to run).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApprovalPrompt {
    pub id: String,
    pub command: String,
    pub cwd: Option<String>,
    pub agent: Option<String>,
    /// When it expires (Unix ms).
    pub expires_at_ms: u64,
    /// Whether "allow always" is offered.
    pub allow_always: bool,
}

/// Something the backend tells the screen.
#[derive(Debug, Clone, PartialEq)]
pub enum BackendEvent {
    /// An event of the agent's stream.
    Agent(AgentEvent),
    /// Model, thinking level or session changed; re-read the state.
    State(BackendState),
    /// The conversation was replaced (new session, resume, fork): show these messages.
    Reset(Vec<Message>),
    /// A line of information for the transcript.
    Notice(String),
    /// Something the user should fix but that does not stop the chat (e.g. a bad setting).
    Warning(String),
    /// The connection failed; the screen keeps running and shows this.
    Error(String),
    /// The agent waits for an exec approval: show a card.
    Approval(ApprovalPrompt),
    /// An approval ended (here or elsewhere): `None` when it expired or was withdrawn.
    ApprovalResolved {
        id: String,
        decision: Option<Decision>,
    },
}

/// Everything the chat screen needs from an engine.
#[async_trait]
pub trait ChatBackend: Send + Sync {
    /// Where the agent runs, for the status line: `local` or the gateway URL.
    fn location(&self) -> String;
    /// The event stream. Called once, before anything else.
    fn subscribe(&self) -> tokio::sync::mpsc::UnboundedReceiver<BackendEvent>;
    /// Current model, thinking level and session.
    async fn state(&self) -> BackendResult<BackendState>;
    /// The conversation so far.
    async fn messages(&self) -> BackendResult<Vec<Message>>;
    /// Starts a run with a new user prompt.
    async fn prompt(&self, text: String) -> BackendResult<()>;
    /// Queues a steering message for the running turn.
    async fn steer(&self, text: String) -> BackendResult<()>;
    /// Queues a message for after the run ends.
    async fn follow_up(&self, text: String) -> BackendResult<()>;
    /// Aborts the current run.
    async fn abort(&self) -> BackendResult<()>;
    /// Models the user can pick.
    async fn models(&self) -> BackendResult<Vec<ModelChoice>>;
    /// Switches model.
    async fn set_model(&self, provider: &str, id: &str) -> BackendResult<()>;
    /// Sets the thinking level.
    async fn set_thinking(&self, level: ThinkingLevel) -> BackendResult<()>;
    /// Starts a fresh session.
    async fn new_session(&self) -> BackendResult<()>;
    /// Stored sessions, newest first.
    async fn sessions(&self) -> BackendResult<Vec<SessionChoice>>;
    /// Resumes a stored session.
    async fn switch_session(&self, id: &str) -> BackendResult<()>;
    /// Earlier user messages to fork from.
    async fn fork_points(&self) -> BackendResult<Vec<ForkPoint>> {
        Err(BackendError::Unsupported("/fork"))
    }
    /// Forks a new session at an earlier user message; returns that message's text.
    async fn fork(&self, _entry_id: &str) -> BackendResult<String> {
        Err(BackendError::Unsupported("/fork"))
    }
    /// Moves the session's leaf to an earlier entry (in-place branch).
    async fn branch(&self, _entry_id: &str) -> BackendResult<()> {
        Err(BackendError::Unsupported("/tree"))
    }
    /// Compacts the context now.
    async fn compact(&self) -> BackendResult<()> {
        Err(BackendError::Unsupported("/compact"))
    }
    /// Names the session.
    async fn set_session_name(&self, _name: &str) -> BackendResult<()> {
        Err(BackendError::Unsupported("/name"))
    }
    /// Exports the session to HTML; returns the file written.
    async fn export_html(&self, _path: Option<&str>) -> BackendResult<String> {
        Err(BackendError::Unsupported("/export"))
    }
    /// The commands the session's skills and prompt templates add (none by default).
    async fn extra_commands(&self) -> BackendResult<Vec<ExtraCommand>> {
        Ok(Vec::new())
    }
    /// Answers a pending exec approval.
    async fn resolve_approval(&self, _id: &str, _decision: Decision) -> BackendResult<()> {
        Err(BackendError::Unsupported("exec approvals"))
    }
}
