//! The engine's own mutable state (the agent keeps the context, model, tools and queues): the
//! session, the settings and engine-level flags. Behind one mutex that is never held across an
//! await or while calling into the agent.

use crate::cancel::CancellationToken;
use crate::message::Message;
use crate::model::Model;
use crate::session::SessionManager;
use crate::settings::Settings;

pub(crate) struct State {
    pub(crate) session: SessionManager,
    pub(crate) settings: Settings,
    /// Shell runs recorded while a run was active; added when it ends.
    pub(crate) deferred: Vec<Message>,
    /// Between `agent_start` and `agent_end` (pi's `isStreaming`).
    pub(crate) streaming: bool,
    /// A prompt was accepted and its run has not emitted `agent_start` yet.
    pub(crate) starting: bool,
    /// A prompt was accepted between runs (during a retry wait or the bookkeeping after
    /// `agent_end`) and starts once the engine is idle.
    pub(crate) waiting: bool,
    pub(crate) compacting: bool,
    pub(crate) bash_cancel: Option<CancellationToken>,
    pub(crate) compaction_cancel: Option<CancellationToken>,
    /// The configured model chain (primary first) when the session runs on one of its models;
    /// empty otherwise. Failover walks it in order.
    pub(crate) fallbacks: Vec<Model>,
    /// The pre-compaction memory flush, when the host turned it on.
    pub(crate) memory_flush: Option<super::MemoryFlush>,
    /// Compactions this engine ran (the memory flush runs once per cycle between them).
    pub(crate) compactions: u64,
    /// The value of `compactions` when the flush last ran.
    pub(crate) flushed_cycle: Option<u64>,
}

impl State {
    pub(crate) fn new(session: SessionManager, settings: Settings, fallbacks: Vec<Model>) -> State {
        State {
            session,
            settings,
            deferred: Vec::new(),
            streaming: false,
            starting: false,
            waiting: false,
            compacting: false,
            bash_cancel: None,
            compaction_cancel: None,
            fallbacks,
            memory_flush: None,
            compactions: 0,
            flushed_cycle: None,
        }
    }
}
