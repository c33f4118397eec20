//! The in-process engine as a [`ChatBackend`]: the TUI and the REPL drive an
//! `openclaw_core::engine::Engine` through this adapter.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use openclaw_core::engine::{Engine, EngineError, PromptInput, Subscription};
use openclaw_core::exec_policy::{ApprovalOutcome, ApprovalRequest, Approver, Decision};
use openclaw_core::message::Message;
use openclaw_core::model::Model;
use openclaw_core::session::list_sessions;
use openclaw_core::{CancellationToken, ThinkingLevel};
use openclaw_tui::{
    ApprovalPrompt, BackendError, BackendEvent, BackendResult, BackendState, ChatBackend,
    ExtraCommand, ForkPoint, ModelChoice, SessionChoice,
};
use tokio::sync::{mpsc, oneshot};

use crate::output::format_time;

fn err(e: EngineError) -> BackendError {
    match &e {
        EngineError::NoApiKey(provider) => BackendError::Failed(format!(
            "{e} Hint: {}.",
            crate::cmd::models::key_hint(provider)
        )),
        _ => BackendError::Failed(e.to_string()),
    }
}

fn choice(m: &Model, available: bool) -> ModelChoice {
    ModelChoice {
        provider: m.provider.clone(),
        id: m.id.clone(),
        name: m.name.clone(),
        context_window: m.context_window,
        reasoning: m.reasoning,
        available,
    }
}

/// The TUI as the in-process engine's approver: a request becomes a card on the screen and waits
/// for the user's key (at most the policy's timeout). Without a screen subscribed nobody can be
/// asked, and the gate applies `askFallback` at once.
#[derive(Default)]
pub struct ScreenApprover {
    events: Mutex<Option<mpsc::UnboundedSender<BackendEvent>>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<Decision>>>,
}

impl ScreenApprover {
    fn send(&self, e: BackendEvent) -> bool {
        openclaw_core::sync::lock(&self.events)
            .as_ref()
            .is_some_and(|tx| tx.send(e).is_ok())
    }

    fn answer(&self, id: &str, decision: Decision) -> BackendResult<()> {
        let tx = openclaw_core::sync::lock(&self.waiting).remove(id);
        let Some(tx) = tx else {
            return Err(BackendError::Failed(format!(
                "approval {id} is no longer pending"
            )));
        };
        let _ = tx.send(decision);
        self.send(BackendEvent::ApprovalResolved {
            id: id.to_owned(),
            decision: Some(decision),
        });
        Ok(())
    }
}

#[async_trait]
impl Approver for ScreenApprover {
    async fn request(&self, req: ApprovalRequest, cancel: CancellationToken) -> ApprovalOutcome {
        let (tx, rx) = oneshot::channel();
        openclaw_core::sync::lock(&self.waiting).insert(req.id.clone(), tx);
        let prompt = ApprovalPrompt {
            id: req.id.clone(),
            command: req.command.clone(),
            cwd: Some(req.cwd.clone()),
            agent: Some(req.agent_id.clone()),
            expires_at_ms: openclaw_state::now_ms() + req.timeout.as_millis() as u64,
            allow_always: req.allow_always,
        };
        if !self.send(BackendEvent::Approval(prompt)) {
            openclaw_core::sync::lock(&self.waiting).remove(&req.id);
            return ApprovalOutcome::NoRoute;
        }
        let outcome = tokio::select! {
            d = rx => d.map_or(ApprovalOutcome::Expired, ApprovalOutcome::Decided),
            _ = tokio::time::sleep(req.timeout) => ApprovalOutcome::Expired,
            _ = cancel.cancelled() => ApprovalOutcome::Failed("the run was aborted".into()),
        };
        if openclaw_core::sync::lock(&self.waiting)
            .remove(&req.id)
            .is_some()
        {
            self.send(BackendEvent::ApprovalResolved {
                id: req.id,
                decision: None,
            });
        }
        outcome
    }
}

/// The engine plus the listener feeding the screen.
pub struct InProcessBackend {
    engine: Engine,
    default_session_dir: PathBuf,
    /// Start-up warnings, shown once the screen subscribes.
    warnings: Vec<String>,
    subscription: Mutex<Option<Subscription>>,
    /// Answers the engine's exec approvals through the screen (the TUI only).
    approver: Option<Arc<ScreenApprover>>,
}

impl InProcessBackend {
    /// Wraps a started engine; `default_session_dir` is where /resume looks when the current
    /// session has no file yet.
    pub fn new(engine: Engine, default_session_dir: PathBuf, warnings: Vec<String>) -> Self {
        InProcessBackend {
            engine,
            default_session_dir,
            warnings,
            subscription: Mutex::new(None),
            approver: None,
        }
    }

    /// Lets the screen answer the engine's exec approvals through `approver`.
    pub fn with_approver(mut self, approver: Arc<ScreenApprover>) -> Self {
        self.approver = Some(approver);
        self
    }

    /// The engine's start-up warnings.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    fn session_dir(&self) -> PathBuf {
        self.engine
            .state()
            .session_file
            .and_then(|f| f.parent().map(Path::to_path_buf))
            .unwrap_or_else(|| self.default_session_dir.clone())
    }
}

#[async_trait]
impl ChatBackend for InProcessBackend {
    fn location(&self) -> String {
        "local".into()
    }

    fn subscribe(&self) -> mpsc::UnboundedReceiver<BackendEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        for w in &self.warnings {
            let _ = tx.send(BackendEvent::Warning(w.clone()));
        }
        if let Some(a) = &self.approver {
            *openclaw_core::sync::lock(&a.events) = Some(tx.clone());
        }
        let sub = self.engine.subscribe(move |e| {
            let _ = tx.send(BackendEvent::Agent(e.clone()));
        });
        if let Ok(mut s) = self.subscription.lock() {
            *s = Some(sub);
        }
        rx
    }

    async fn state(&self) -> BackendResult<BackendState> {
        let s = self.engine.state();
        Ok(BackendState {
            model: s.model.as_ref().map(|m| choice(m, true)),
            thinking: s.thinking_level,
            session_name: s.session_name,
            session_id: Some(s.session_id),
            streaming: s.is_streaming,
        })
    }

    async fn messages(&self) -> BackendResult<Vec<Message>> {
        Ok(self
            .engine
            .messages()
            .iter()
            .map(|m| Message::clone(m))
            .collect())
    }

    async fn prompt(&self, text: String) -> BackendResult<()> {
        // `agent_end` reaches listeners just before the engine turns idle; a prompt sent right
        // after it (a pipe, a fast typist) waits for that instead of failing as "busy".
        self.engine.wait_until_idle().await;
        let ticket = self
            .engine
            .prompt(PromptInput::text(text))
            .await
            .map_err(err)?;
        ticket.start();
        Ok(())
    }

    async fn steer(&self, text: String) -> BackendResult<()> {
        self.engine.steer(PromptInput::text(text)).map_err(err)
    }

    async fn follow_up(&self, text: String) -> BackendResult<()> {
        self.engine.follow_up(PromptInput::text(text)).map_err(err)
    }

    async fn abort(&self) -> BackendResult<()> {
        self.engine.abort().await;
        Ok(())
    }

    async fn models(&self) -> BackendResult<Vec<ModelChoice>> {
        // Every known model, those with credentials first, so the picker also says which keys
        // are missing.
        let reg = self.engine.registry();
        let mut all: Vec<ModelChoice> = reg
            .all_models()
            .iter()
            .map(|m| choice(m, reg.has_credentials(&m.provider)))
            .collect();
        all.sort_by_key(|m| !m.available);
        Ok(all)
    }

    async fn extra_commands(&self) -> BackendResult<Vec<ExtraCommand>> {
        Ok(self
            .engine
            .skills()
            .rpc_commands()
            .into_iter()
            .map(|c| ExtraCommand {
                name: c.name,
                description: c.description,
                source: c.source.to_owned(),
            })
            .collect())
    }

    async fn set_model(&self, provider: &str, id: &str) -> BackendResult<()> {
        self.engine.set_model(provider, id).map(|_| ()).map_err(err)
    }

    async fn set_thinking(&self, level: ThinkingLevel) -> BackendResult<()> {
        self.engine.set_thinking_level(level);
        Ok(())
    }

    async fn new_session(&self) -> BackendResult<()> {
        self.engine.new_session(None).await.map(|_| ()).map_err(err)
    }

    async fn sessions(&self) -> BackendResult<Vec<SessionChoice>> {
        let dir = self.session_dir();
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let list = list_sessions(&dir).map_err(|e| BackendError::Failed(e.to_string()))?;
        Ok(list
            .into_iter()
            .map(|s| SessionChoice {
                id: s.path.to_string_lossy().into_owned(),
                name: s.name,
                modified: format_time(s.modified),
                message_count: s.message_count,
                preview: s.first_message,
            })
            .collect())
    }

    async fn switch_session(&self, id: &str) -> BackendResult<()> {
        self.engine
            .switch_session(PathBuf::from(id))
            .await
            .map(|_| ())
            .map_err(err)
    }

    async fn fork_points(&self) -> BackendResult<Vec<ForkPoint>> {
        Ok(self
            .engine
            .fork_points()
            .into_iter()
            .map(|p| ForkPoint {
                entry_id: p.entry_id,
                text: p.text,
            })
            .collect())
    }

    async fn fork(&self, entry_id: &str) -> BackendResult<String> {
        self.engine
            .fork(entry_id)
            .await
            .map(|r| r.text)
            .map_err(err)
    }

    async fn branch(&self, entry_id: &str) -> BackendResult<()> {
        self.engine.branch(entry_id).await.map(|_| ()).map_err(err)
    }

    async fn compact(&self) -> BackendResult<()> {
        self.engine.compact(None).await.map(|_| ()).map_err(err)
    }

    async fn set_session_name(&self, name: &str) -> BackendResult<()> {
        self.engine.set_session_name(name).map_err(err)
    }

    async fn resolve_approval(&self, id: &str, decision: Decision) -> BackendResult<()> {
        match &self.approver {
            Some(a) => a.answer(id, decision),
            None => Err(BackendError::Unsupported("exec approvals")),
        }
    }

    async fn export_html(&self, path: Option<&str>) -> BackendResult<String> {
        self.engine
            .export_html(path.map(Path::new))
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(err)
    }
}
