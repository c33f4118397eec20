//! Engine operations outside a run: model and thinking-level selection, session switching
//! (new, open, fork, clone), compaction (manual and automatic) and the user's shell commands.

use std::path::PathBuf;
use std::sync::Arc;

use super::{Engine, EngineError, ForkResult, Inner, ModelCycle};
use crate::cancel::CancellationToken;
use crate::event::{AgentEvent, CompactionReason, CompactionResult};
use crate::message::{BashExecutionMessage, Message, now_ms};
use crate::model::{Model, ThinkingLevel};
use crate::provider::StreamOptions;
use crate::session::{self, SessionManager};
use crate::tool::shell::{BashResult, ShellCommand, run_rpc_bash};

impl Engine {
    /// Set the model and thinking level at startup: restored from an existing session, else
    /// the resolved model with the requested (or default) level, recorded in the new session.
    pub(super) fn restore_or_init(
        &self,
        model: Option<Model>,
        thinking: Option<ThinkingLevel>,
    ) -> Result<(), EngineError> {
        let mut st = self.inner.lock();
        let ctx = st.session.build_context();
        if !st.session.entries().is_empty() {
            st.messages = ctx.messages;
            let restored = ctx
                .model
                .and_then(|m| self.inner.catalog.find_available(&m.provider, &m.model_id));
            st.model = restored.or(model);
            let level = thinking.unwrap_or(ctx.thinking_level);
            st.thinking = clamp(level, st.model.as_ref());
            return Ok(());
        }
        let default = thinking
            .or(st.settings.default_thinking_level())
            .unwrap_or(ThinkingLevel::Medium);
        st.thinking = clamp(default, model.as_ref());
        st.model = model;
        let (model, level) = (st.model.clone(), st.thinking);
        record_model_and_level(&mut st.session, model.as_ref(), level)?;
        Ok(())
    }

    /// Switch to a model with credentials. Records a `model_change` entry, makes it the
    /// default, and re-clamps the thinking level (`thinking_level_changed` if it changes).
    pub fn set_model(&self, provider: &str, model_id: &str) -> Result<Model, EngineError> {
        let model = self
            .inner
            .catalog
            .find_available(provider, model_id)
            .ok_or_else(|| EngineError::ModelNotFound(format!("{provider}/{model_id}")))?;
        self.apply_model(model.clone())?;
        Ok(model)
    }

    /// Switch to the next available model; `None` when there is no other.
    pub fn cycle_model(&self) -> Result<Option<ModelCycle>, EngineError> {
        let models = self.inner.catalog.available();
        if models.len() <= 1 {
            return Ok(None);
        }
        let current = self.inner.lock().model.clone();
        let pos = current.as_ref().and_then(|c| {
            models
                .iter()
                .position(|m| m.provider == c.provider && m.id == c.id)
        });
        let next = models[pos.map_or(0, |p| (p + 1) % models.len())].clone();
        self.apply_model(next.clone())?;
        let thinking_level = self.inner.lock().thinking;
        Ok(Some(ModelCycle {
            model: next,
            thinking_level,
            is_scoped: false,
        }))
    }

    fn apply_model(&self, model: Model) -> Result<(), EngineError> {
        let changed = {
            let mut st = self.inner.lock();
            let was_reasoning = st.model.as_ref().is_some_and(|m| m.reasoning);
            st.session.append_model_change(&model.provider, &model.id)?;
            if let Err(e) = st.settings.set_default_model(&model.provider, &model.id) {
                tracing::warn!("{e}");
            }
            let wanted = if model.reasoning && !was_reasoning {
                st.settings
                    .default_thinking_level()
                    .unwrap_or(ThinkingLevel::Medium)
            } else {
                st.thinking
            };
            st.model = Some(model);
            let level = clamp(wanted, st.model.as_ref());
            set_level(&mut st, level)?
        };
        if let Some(level) = changed {
            self.inner.emit(&AgentEvent::ThinkingLevelChanged { level });
        }
        Ok(())
    }

    /// Set the thinking level, clamped to what the model supports (non-reasoning models stay
    /// `off`). Emits `thinking_level_changed` when the effective level changes.
    pub fn set_thinking_level(&self, level: ThinkingLevel) {
        let changed = {
            let mut st = self.inner.lock();
            let level = clamp(level, st.model.as_ref());
            set_level(&mut st, level)
        };
        match changed {
            Ok(Some(level)) => self.inner.emit(&AgentEvent::ThinkingLevelChanged { level }),
            Ok(None) => {}
            Err(e) => tracing::warn!("{e}"),
        }
    }

    /// Move to the next thinking level (off → minimal → … → high → off); `None` for a model
    /// without reasoning.
    pub fn cycle_thinking_level(&self) -> Option<ThinkingLevel> {
        let next = {
            let st = self.inner.lock();
            let model = st.model.as_ref().filter(|m| m.reasoning)?;
            let levels = ThinkingLevel::available_for(model);
            let pos = levels.iter().position(|l| *l == st.thinking).unwrap_or(0);
            levels[(pos + 1) % levels.len()]
        };
        self.set_thinking_level(next);
        Some(next)
    }

    /// Abort any run and start a new, empty session (a new file in the same directory).
    /// Returns whether the switch was cancelled (never, without extensions).
    pub async fn new_session(&self, parent_session: Option<PathBuf>) -> Result<bool, EngineError> {
        self.abort().await;
        let mut st = self.inner.lock();
        st.steering.clear();
        st.follow_up.clear();
        st.session
            .new_session(parent_session.map(|p| p.to_string_lossy().into_owned()));
        st.messages.clear();
        let (model, level) = (st.model.clone(), st.thinking);
        record_model_and_level(&mut st.session, model.as_ref(), level)?;
        Ok(false)
    }

    /// Abort any run and open another session file (a missing file becomes a new session
    /// there). Its model (if available) and thinking level are restored.
    pub async fn switch_session(&self, path: PathBuf) -> Result<bool, EngineError> {
        self.abort().await;
        let cwd = self.inner.cwd.to_string_lossy().into_owned();
        let session = SessionManager::open(path, &cwd)?;
        let mut st = self.inner.lock();
        st.session = session;
        st.steering.clear();
        st.follow_up.clear();
        self.reload_context(&mut st);
        Ok(false)
    }

    /// Fork at a user message: a new session file with the history before it. Returns the
    /// message's text.
    pub async fn fork(&self, entry_id: &str) -> Result<ForkResult, EngineError> {
        self.abort().await;
        let mut st = self.inner.lock();
        let text = st.session.fork(entry_id).map_err(|e| match e {
            session::SessionError::EntryNotFound(_) | session::SessionError::NotAUserMessage(_) => {
                EngineError::InvalidForkEntry
            }
            other => EngineError::Session(other),
        })?;
        self.reload_context(&mut st);
        Ok(ForkResult {
            text,
            cancelled: false,
        })
    }

    /// Copy the current branch into a new session file and continue there.
    pub async fn clone_session(&self) -> Result<bool, EngineError> {
        self.abort().await;
        let mut st = self.inner.lock();
        if st.session.leaf_id().is_none() {
            return Err(EngineError::NothingToClone);
        }
        st.session.clone_session()?;
        self.reload_context(&mut st);
        Ok(false)
    }

    fn reload_context(&self, st: &mut super::state::State) {
        let ctx = st.session.build_context();
        st.messages = ctx.messages;
        if let Some(m) = ctx
            .model
            .and_then(|m| self.inner.catalog.find_available(&m.provider, &m.model_id))
        {
            st.model = Some(m);
        }
        st.thinking = clamp(ctx.thinking_level, st.model.as_ref());
    }

    /// Summarise the older part of the conversation (aborting any run first). Emits
    /// `compaction_start` and `compaction_end`.
    pub async fn compact(
        &self,
        custom_instructions: Option<String>,
    ) -> Result<CompactionResult, EngineError> {
        self.abort().await;
        run_compaction(&self.inner, CompactionReason::Manual, custom_instructions, false)
            .await
            .map_err(EngineError::Compaction)
    }

    /// Run a shell command in the working directory for the user. The run is recorded as a
    /// `bashExecution` message (after the current run, if one is active); no events.
    pub async fn bash(&self, command: &str) -> Result<BashResult, EngineError> {
        let token = CancellationToken::new();
        let cmd = {
            let mut st = self.inner.lock();
            st.bash_cancel = Some(token.clone());
            ShellCommand {
                command: command.to_string(),
                cwd: self.inner.cwd.clone(),
                shell: self.inner.tool_env.shell_path.clone(),
                command_prefix: self.inner.tool_env.shell_command_prefix.clone(),
                bin_dir: self.inner.tool_env.bin_dir.clone(),
                timeout: None,
            }
        };
        let result = run_rpc_bash(&cmd, &token).await;
        let mut st = self.inner.lock();
        st.bash_cancel = None;
        let result = result?;
        let message = Message::BashExecution(BashExecutionMessage {
            command: command.to_string(),
            output: result.output.clone(),
            exit_code: result.exit_code,
            cancelled: result.cancelled,
            truncated: result.truncated,
            full_output_path: result.full_output_path.clone(),
            exclude_from_context: None,
            timestamp: now_ms(),
        });
        if st.streaming {
            st.deferred.push(message);
        } else {
            st.session.append_message(message.clone())?;
            st.messages.push(message);
        }
        Ok(result)
    }

    /// Kill the running shell command, if any.
    pub fn abort_bash(&self) {
        if let Some(t) = &self.inner.lock().bash_cancel {
            t.cancel();
        }
    }
}

fn clamp(level: ThinkingLevel, model: Option<&Model>) -> ThinkingLevel {
    match model {
        Some(m) => level.clamp_to(m),
        None => ThinkingLevel::Off,
    }
}

/// Set the level; when it changes, record it and make it the default. Returns the new level
/// when it changed.
fn set_level(
    st: &mut super::state::State,
    level: ThinkingLevel,
) -> Result<Option<ThinkingLevel>, EngineError> {
    if st.thinking == level {
        return Ok(None);
    }
    st.thinking = level;
    st.session.append_thinking_level_change(level)?;
    if let Err(e) = st.settings.set_default_thinking_level(level) {
        tracing::warn!("{e}");
    }
    Ok(Some(level))
}

fn record_model_and_level(
    session: &mut SessionManager,
    model: Option<&Model>,
    level: ThinkingLevel,
) -> Result<(), EngineError> {
    if let Some(m) = model {
        session.append_model_change(&m.provider, &m.id)?;
    }
    session.append_thinking_level_change(level)?;
    Ok(())
}

/// Compact the session at its leaf. Errors are reported in `compaction_end` and returned as
/// text ("Already compacted", …).
pub(super) async fn run_compaction(
    inner: &Arc<Inner>,
    reason: CompactionReason,
    custom_instructions: Option<String>,
    will_retry: bool,
) -> Result<CompactionResult, String> {
    let token = CancellationToken::new();
    let prepared = {
        let mut st = inner.lock();
        st.compacting = true;
        st.compaction_cancel = Some(token.clone());
        let settings = st.settings.compaction();
        let path = st.session.branch_entries();
        let prep = session::prepare_compaction(&path, &settings);
        (prep, st.model.clone())
    };
    inner.emit(&AgentEvent::CompactionStart { reason });
    let outcome = match prepared {
        (Err(e), _) => Err(e.to_string()),
        (Ok(_), None) => Err("No model selected".to_string()),
        (Ok(prep), Some(model)) => {
            let options = StreamOptions {
                api_key: inner.catalog.api_key(&model.provider),
                cancel: token.clone(),
                ..StreamOptions::default()
            };
            match super::catalog::provider_for(&model.api) {
                None => Err(format!("Model API \"{}\" is not supported", model.api)),
                Some(provider) => {
                    let summarize = |req| {
                        let provider = provider.clone();
                        let model = model.clone();
                        let options = options.clone();
                        async move {
                            session::compaction::summarize_with_provider(
                                provider.as_ref(),
                                &model,
                                &options,
                                req,
                            )
                            .await
                        }
                    };
                    session::compact(&prep, custom_instructions.as_deref(), summarize)
                        .await
                        .map_err(|e| e.to_string())
                }
            }
        }
    };
    let aborted = token.is_cancelled();
    let outcome = outcome.and_then(|result| {
        let mut st = inner.lock();
        st.session
            .append_compaction(&result, false)
            .map_err(|e| e.to_string())?;
        st.messages = st.session.build_context().messages;
        Ok(result)
    });
    {
        let mut st = inner.lock();
        st.compacting = false;
        st.compaction_cancel = None;
    }
    let event = match &outcome {
        Ok(result) => AgentEvent::CompactionEnd {
            reason,
            result: Some(result.clone()),
            aborted: false,
            will_retry,
            error_message: None,
        },
        Err(e) => AgentEvent::CompactionEnd {
            reason,
            result: None,
            aborted,
            will_retry: false,
            error_message: Some(format!("Compaction failed: {e}")),
        },
    };
    inner.emit(&event);
    outcome
}

/// After a run: compact when the context passed the threshold, or when the model reported a
/// context overflow (then the failed reply is dropped). Returns `true` when the run should be
/// retried (overflow compaction succeeded).
pub(super) async fn auto_compact(inner: &Arc<Inner>, overflow: bool) -> bool {
    let (enabled, over_threshold) = {
        let mut st = inner.lock();
        let settings = st.settings.compaction();
        let window = st.model.as_ref().map_or(0, |m| m.context_window);
        if overflow {
            if let Some(i) = st.messages.iter().rposition(|m| m.as_assistant().is_some()) {
                st.messages.remove(i);
            }
        }
        let tokens = session::estimate_context_tokens(&st.messages).tokens;
        (
            settings.enabled,
            window > 0 && session::should_compact(tokens, window, &settings),
        )
    };
    if !enabled {
        return false;
    }
    if overflow {
        return run_compaction(inner, CompactionReason::Overflow, None, true)
            .await
            .is_ok();
    }
    if over_threshold {
        let _ = run_compaction(inner, CompactionReason::Threshold, None, false).await;
    }
    false
}
