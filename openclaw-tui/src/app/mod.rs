//! The chat screen's state machine.
//!
//! State that lives here: the transcript (the only record of what is shown), the composer, the
//! open popup, scroll position, display toggles, the pending steer/follow-up queue and the
//! status figures. It is mutated only by [`App::on_backend`] (agent events and resets),
//! [`App::on_reply`] (answers to commands the app asked for) and [`App::on_key`] /
//! [`App::on_paste`] / [`App::on_scroll`] (the user). Those return [`Action`]s, which the
//! terminal loop in [`crate::run`] carries out against a [`crate::ChatBackend`]; the app itself
//! never waits on the backend, so it is fully testable by feeding it events.

mod approvals;
mod events;
mod keys;
mod slash_cmd;

use std::path::PathBuf;
use std::time::Instant;

use openclaw_core::ThinkingLevel;

use crate::backend::{BackendState, ForkPoint, ModelChoice, SessionChoice};
use crate::composer::{Composer, InputHistory};
use crate::mention::FileIndex;
use crate::popup::Popup;
use crate::transcript::{CellKind, NoticeLevel, RenderOpts, Transcript};

/// Something the app wants done by the backend or the terminal.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Prompt(String),
    Steer(String),
    FollowUp(String),
    Abort,
    LoadModels,
    SetModel {
        provider: String,
        id: String,
    },
    SetThinking(ThinkingLevel),
    NewSession,
    LoadSessions,
    SwitchSession(String),
    LoadForkPoints {
        for_tree: bool,
    },
    Fork(String),
    Branch(String),
    Compact,
    SetName(String),
    Export(Option<String>),
    /// Put text on the clipboard (OSC 52).
    Copy(String),
    /// Re-read model/session state.
    RefreshState,
    /// Answer an exec approval.
    ResolveApproval {
        id: String,
        decision: openclaw_core::exec_policy::Decision,
    },
    Quit,
}

/// The answer to an [`Action`] that asked for data.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Models(Vec<ModelChoice>),
    /// The commands the session's skills and prompt templates add.
    ExtraCommands(Vec<crate::backend::ExtraCommand>),
    Sessions(Vec<SessionChoice>),
    ForkPoints {
        points: Vec<ForkPoint>,
        for_tree: bool,
    },
    /// A fork was made at a message whose text goes back into the composer.
    Forked(String),
    Exported(String),
    State(BackendState),
    /// The conversation was replaced (new session, resume, fork, branch, compaction).
    Reset(Vec<openclaw_core::message::Message>),
    /// A prompt could not be sent: give its text back to the composer.
    Restore(String),
    /// An action finished; the text (if any) is shown as a notice.
    Done(Option<String>),
    Failed(String),
}

/// Where the user's files are and where input history is kept.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// Root for `@path` completion.
    pub cwd: PathBuf,
    /// Input history file (`None`: history is not persisted).
    pub history_path: Option<PathBuf>,
    /// Where the agent runs (`local` or a gateway URL), for the status line.
    pub location: String,
    /// A prompt to send as soon as the backend is ready (`openclaw "fix the bug"`).
    pub initial_prompt: Option<String>,
}

/// Totals for the status line.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Totals {
    pub input: u64,
    pub output: u64,
    pub cost: f64,
    /// Tokens in context after the latest answer.
    pub context: u64,
}

/// The chat screen's whole state.
#[derive(Debug)]
pub struct App {
    pub(crate) transcript: Transcript,
    pub(crate) composer: Composer,
    pub(crate) popup: Option<Popup>,
    pub(crate) opts: RenderOpts,
    /// Rows scrolled up from the bottom (0 follows new output).
    pub(crate) scroll: usize,
    /// Total transcript rows at the last frame (to keep a scrolled view still while output grows).
    pub(crate) last_rows: usize,
    /// Page size for PageUp/PageDown, updated at each frame.
    pub(crate) page: usize,
    pub(crate) streaming: bool,
    pub(crate) pending_steer: Vec<String>,
    pub(crate) pending_follow_up: Vec<String>,
    pub(crate) state: BackendState,
    pub(crate) totals: Totals,
    pub(crate) location: String,
    pub(crate) files: FileIndex,
    /// `/skill:name` and `/template` commands of the session, listed after the built-ins.
    pub(crate) extra_commands: Vec<crate::backend::ExtraCommand>,
    ctrl_c_at: Option<Instant>,
    /// A transient hint under the composer (e.g. "press ctrl+c again to quit").
    pub(crate) hint: Option<String>,
    pub(crate) quit: bool,
    /// Whether the backend has reported its state at least once.
    pub(crate) ready: bool,
    pub(crate) tick: usize,
    /// Index of the assistant cell being streamed.
    current: Option<usize>,
    /// Open approval cards, oldest first: (approval id, cell index).
    pub(crate) approvals: Vec<(String, usize)>,
}

impl App {
    /// A fresh screen.
    pub fn new(options: AppOptions) -> Self {
        App {
            transcript: Transcript::new(),
            composer: Composer::new(InputHistory::load(options.history_path)),
            popup: None,
            opts: RenderOpts::default(),
            scroll: 0,
            last_rows: 0,
            page: 20,
            streaming: false,
            pending_steer: Vec::new(),
            pending_follow_up: Vec::new(),
            state: BackendState::default(),
            totals: Totals::default(),
            location: options.location,
            files: FileIndex::new(options.cwd),
            extra_commands: Vec::new(),
            ctrl_c_at: None,
            hint: None,
            quit: false,
            ready: false,
            tick: 0,
            current: None,
            approvals: Vec::new(),
        }
    }

    /// Whether the user asked to leave.
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// Whether an answer is being streamed.
    pub fn is_streaming(&self) -> bool {
        self.streaming
    }

    /// The transcript (read-only).
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// The composer's current text.
    pub fn composer_text(&self) -> &str {
        self.composer.text()
    }

    /// Advances the spinner.
    pub fn on_tick(&mut self) {
        self.tick = self.tick.wrapping_add(1);
        if !self.approvals.is_empty() {
            let now = u64::try_from(openclaw_core::message::now_ms()).unwrap_or(0);
            self.expire_approvals(now);
        }
        if let Some(at) = self.ctrl_c_at {
            if at.elapsed().as_secs() >= 2 {
                self.ctrl_c_at = None;
                self.hint = None;
            }
        }
    }

    pub(crate) fn notice(&mut self, level: NoticeLevel, text: impl Into<String>) {
        self.transcript.push(CellKind::Notice {
            level,
            text: text.into(),
        });
    }

    /// Scrolls by `delta` rows (positive = towards older output).
    pub fn on_scroll(&mut self, delta: isize) {
        let max = self.last_rows.saturating_sub(1);
        self.scroll = (self.scroll as isize + delta).clamp(0, max as isize) as usize;
    }
}
