//! Engine operations outside a run: model and thinking-level selection, session switching
//! (new, open, fork, clone), compaction (manual and automatic) and the user's shell commands.

use std::path::PathBuf;
use std::sync::Arc;

use super::{Engine, EngineError, ForkResult, Inner, ModelCycle};
use crate::cancel::CancellationToken;
use crate::event::{AgentEvent, CompactionReason, CompactionResult};
use crate::message::{BashExecutionMessage, Message, now_ms};
use crate::model::{Model, ThinkingLevel};
use crate::provider::{StreamOptions, provider_for_api};
use crate::session::{self, SessionManager};
use crate::tool::shell::{BashResult, ShellCommand, run_rpc_bash};

impl Engine {
    /// Set the model and thinking level at startup: restored from an existing session, else
    /// the chosen model with the requested (or default) level, recorded in the new session.
    pub(super) fn restore_or_init(
        &self,
        thinking: Option<ThinkingLevel>,
    ) -> Result<(), EngineError> {
        let agent = &self.inner.agent;
        let (has_entries, ctx) = {
            let st = self.inner.lock();
            (!st.session.entries().is_empty(), st.session.build_context())
        };
        if has_entries {
            agent.replace_messages(ctx.messages);
            if let Some(m) = ctx
                .model
                .and_then(|m| self.available(&m.provider, &m.model_id))
            {
                agent.set_model(m);
            }
            let level = thinking
                .unwrap_or(ctx.thinking_level)
                .clamp_to(&agent.model());
            agent.set_thinking_level(level);
            return Ok(());
        }
        let default = {
            let st = self.inner.lock();
            thinking
                .or(st.settings.default_thinking_level())
                .unwrap_or(ThinkingLevel::Medium)
        };
        let model = agent.model();
        let level = default.clamp_to(&model);
        agent.set_thinking_level(level);
        record_model_and_level(&mut self.inner.lock().session, &model, level)?;
        Ok(())
    }

    fn available(&self, provider: &str, id: &str) -> Option<Model> {
        let r = &self.inner.registry;
        r.find(provider, id).filter(|_| r.has_credentials(provider))
    }

    /// Switch to a model with credentials. Records a `model_change` entry, makes it the
    /// default, and re-clamps the thinking level (`thinking_level_changed` if it changes).
    pub fn set_model(&self, provider: &str, model_id: &str) -> Result<Model, EngineError> {
        let model = self
            .available(provider, model_id)
            .ok_or_else(|| EngineError::ModelNotFound(format!("{provider}/{model_id}")))?;
        self.apply_model(model.clone())?;
        Ok(model)
    }

    /// Switch to the next available model; `None` when there is no other.
    pub fn cycle_model(&self) -> Result<Option<ModelCycle>, EngineError> {
        let models = self.inner.registry.available_models();
        if models.len() <= 1 {
            return Ok(None);
        }
        let current = self.inner.agent.model();
        let pos = models
            .iter()
            .position(|m| m.provider == current.provider && m.id == current.id);
        let next = models[pos.map_or(0, |p| (p + 1) % models.len())].clone();
        self.apply_model(next.clone())?;
        Ok(Some(ModelCycle {
            model: next,
            thinking_level: self.inner.agent.thinking_level(),
            is_scoped: false,
        }))
    }

    fn apply_model(&self, model: Model) -> Result<(), EngineError> {
        let agent = &self.inner.agent;
        let was_reasoning = agent.model().reasoning;
        let wanted = {
            let mut st = self.inner.lock();
            st.session.append_model_change(&model.provider, &model.id)?;
            if let Err(e) = st.settings.set_default_model(&model.provider, &model.id) {
                tracing::warn!("{e}");
            }
            if model.reasoning && !was_reasoning {
                st.settings
                    .default_thinking_level()
                    .unwrap_or(ThinkingLevel::Medium)
            } else {
                agent.thinking_level()
            }
        };
        let level = wanted.clamp_to(&model);
        agent.set_model(model);
        self.change_level(level)
    }

    /// Set the level; when it changes, record it, make it the default and emit
    /// `thinking_level_changed`.
    fn change_level(&self, level: ThinkingLevel) -> Result<(), EngineError> {
        let agent = &self.inner.agent;
        if agent.thinking_level() == level {
            return Ok(());
        }
        agent.set_thinking_level(level);
        {
            let mut st = self.inner.lock();
            st.session.append_thinking_level_change(level)?;
            if let Err(e) = st.settings.set_default_thinking_level(level) {
                tracing::warn!("{e}");
            }
        }
        self.inner.emit(AgentEvent::ThinkingLevelChanged { level });
        Ok(())
    }

    /// Set the thinking level, clamped to what the model supports (non-reasoning models stay
    /// `off`). Emits `thinking_level_changed` when the effective level changes.
    pub fn set_thinking_level(&self, level: ThinkingLevel) {
        let level = level.clamp_to(&self.inner.agent.model());
        if let Err(e) = self.change_level(level) {
            tracing::warn!("{e}");
        }
    }

    /// Move to the next thinking level (off → minimal → … → high → off); `None` for a model
    /// without reasoning.
    pub fn cycle_thinking_level(&self) -> Option<ThinkingLevel> {
        let model = self.inner.agent.model();
        if !model.reasoning {
            return None;
        }
        let levels = ThinkingLevel::available_for(&model);
        let current = self.inner.agent.thinking_level();
        let pos = levels.iter().position(|l| *l == current).unwrap_or(0);
        let next = levels[(pos + 1) % levels.len()];
        self.set_thinking_level(next);
        Some(next)
    }

    /// Abort any run and start a new, empty session (a new file in the same directory).
    /// Returns whether the switch was cancelled (never, without extensions).
    pub async fn new_session(&self, parent_session: Option<PathBuf>) -> Result<bool, EngineError> {
        self.abort().await;
        let agent = &self.inner.agent;
        agent.clear_queues();
        agent.replace_messages(Vec::new());
        let (model, level) = (agent.model(), agent.thinking_level());
        let id = {
            let mut st = self.inner.lock();
            st.deferred.clear();
            st.session
                .new_session(parent_session.map(|p| p.to_string_lossy().into_owned()));
            record_model_and_level(&mut st.session, &model, level)?;
            st.session.session_id().to_string()
        };
        agent.set_session_id(Some(id));
        Ok(false)
    }

    /// Abort any run and open another session file (a missing file becomes a new session
    /// there). Its model (if available) and thinking level are restored.
    pub async fn switch_session(&self, path: PathBuf) -> Result<bool, EngineError> {
        self.abort().await;
        let cwd = self.inner.cwd.to_string_lossy().into_owned();
        let session = SessionManager::open(path, &cwd)?;
        self.inner.agent.clear_queues();
        self.inner.lock().session = session;
        self.reload_context();
        Ok(false)
    }

    /// Fork at a user message: a new session file with the history before it. Returns the
    /// message's text.
    pub async fn fork(&self, entry_id: &str) -> Result<ForkResult, EngineError> {
        self.abort().await;
        let text = self
            .inner
            .lock()
            .session
            .fork(entry_id)
            .map_err(|e| match e {
                session::SessionError::EntryNotFound(_)
                | session::SessionError::NotAUserMessage(_) => EngineError::InvalidForkEntry,
                other => EngineError::Session(other),
            })?;
        self.reload_context();
        Ok(ForkResult {
            text,
            cancelled: false,
        })
    }

    /// Branch in place (the TUI's `/tree`): move the session's leaf to just before a user
    /// message, so the next prompt starts a sibling branch in the same file; the abandoned
    /// branch stays in the file. Returns the message's text (for re-editing).
    pub async fn branch(&self, entry_id: &str) -> Result<String, EngineError> {
        self.abort().await;
        let text = {
            let mut st = self.inner.lock();
            let entry = st
                .session
                .entry(entry_id)
                .ok_or(EngineError::InvalidForkEntry)?;
            let Some(Message::User(user)) = entry.message() else {
                return Err(EngineError::InvalidForkEntry);
            };
            let text = user.content.text();
            match entry.parent_id().map(str::to_owned) {
                Some(parent) => st.session.branch(&parent)?,
                None => st.session.reset_leaf(),
            }
            text
        };
        self.reload_context();
        Ok(text)
    }

    /// Copy the current branch into a new session file and continue there.
    pub async fn clone_session(&self) -> Result<bool, EngineError> {
        self.abort().await;
        {
            let mut st = self.inner.lock();
            if st.session.leaf_id().is_none() {
                return Err(EngineError::NothingToClone);
            }
            st.session.clone_session()?;
        }
        self.reload_context();
        Ok(false)
    }

    /// Load the agent's context, model and thinking level from the session's leaf.
    fn reload_context(&self) {
        let (ctx, id) = {
            let st = self.inner.lock();
            (
                st.session.build_context(),
                st.session.session_id().to_string(),
            )
        };
        let agent = &self.inner.agent;
        agent.replace_messages(ctx.messages);
        agent.set_session_id(Some(id));
        if let Some(m) = ctx
            .model
            .and_then(|m| self.available(&m.provider, &m.model_id))
        {
            agent.set_model(m);
        }
        agent.set_thinking_level(ctx.thinking_level.clamp_to(&agent.model()));
    }

    /// Summarise the older part of the conversation (aborting any run first). Emits
    /// `compaction_start` and `compaction_end`.
    pub async fn compact(
        &self,
        custom_instructions: Option<String>,
    ) -> Result<CompactionResult, EngineError> {
        self.abort().await;
        run_compaction(
            &self.inner,
            CompactionReason::Manual,
            custom_instructions,
            false,
        )
        .await
        .map_err(EngineError::Compaction)
    }

    /// Run a shell command in the working directory for the user. The run is recorded as a
    /// `bashExecution` message (after the current run, if one is active); no events.
    pub async fn bash(&self, command: &str) -> Result<BashResult, EngineError> {
        let token = CancellationToken::new();
        self.inner.lock().bash_cancel = Some(token.clone());
        let env = &self.inner.tool_env;
        let cmd = ShellCommand {
            command: command.to_string(),
            cwd: self.inner.cwd.clone(),
            shell: env.shell_path.clone(),
            command_prefix: env.shell_command_prefix.clone(),
            bin_dir: env.bin_dir.clone(),
            timeout: None,
            limits: env.exec.limits,
            target: env.exec_target.clone(),
            env: env.extra_env.clone(),
        };
        let result = run_rpc_bash(&cmd, &token, (&env.spill, env.exec.output_file_max_bytes)).await;
        self.inner.lock().bash_cancel = None;
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
        // During a run the record waits for its end, keeping tool calls and results adjacent.
        if self.inner.agent.is_busy() {
            self.inner.lock().deferred.push(message);
            super::run::flush_deferred(&self.inner);
        } else {
            self.inner.lock().session.append_message(message.clone())?;
            self.inner.agent.append_message(message);
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

fn record_model_and_level(
    session: &mut SessionManager,
    model: &Model,
    level: ThinkingLevel,
) -> Result<(), EngineError> {
    session.append_model_change(&model.provider, &model.id)?;
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
    let model = inner.agent.model();
    let prepared = {
        let mut st = inner.lock();
        st.compacting = true;
        st.compaction_cancel = Some(token.clone());
        let settings = st.settings.compaction();
        let path = st.session.branch_entries();
        session::prepare_compaction(&path, &settings)
    };
    inner.emit(AgentEvent::CompactionStart { reason });
    let outcome = match prepared {
        Err(e) => Err(e.to_string()),
        Ok(prep) => match provider_for_api(&model.api) {
            None => Err(format!("Model API \"{}\" is not supported", model.api)),
            Some(provider) => {
                let options = StreamOptions {
                    api_key: inner.registry.api_key(&model.provider),
                    cancel: token.clone(),
                    ..StreamOptions::default()
                };
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
        },
    };
    let aborted = token.is_cancelled();
    let outcome = outcome.and_then(|result| {
        let messages = {
            let mut st = inner.lock();
            st.session
                .append_compaction(&result, false)
                .map_err(|e| e.to_string())?;
            st.session.build_context().messages
        };
        inner.agent.replace_messages(messages);
        inner.lock().compactions += 1;
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
    inner.emit(event);
    outcome
}

/// After a run: compact when the context passed the threshold, or when the model reported a
/// context overflow (the failed reply is then dropped from the context). Returns `true` when
/// the run should be retried (the overflow compaction succeeded).
pub(super) async fn auto_compact(inner: &Arc<Inner>, overflow: bool) -> bool {
    let (enabled, settings) = {
        let st = inner.lock();
        let settings = st.settings.compaction();
        (settings.enabled, settings)
    };
    if !enabled {
        return false;
    }
    if overflow {
        let ok = run_compaction(inner, CompactionReason::Overflow, None, true)
            .await
            .is_ok();
        if ok {
            // The failed reply stays in the file but must not be the last word of the context.
            let mut messages = inner.agent.messages();
            if messages
                .last()
                .and_then(|m| m.as_assistant())
                .is_some_and(|a| a.stop_reason == crate::message::StopReason::Error)
            {
                messages.pop();
                inner.agent.replace_messages(messages);
            }
        }
        return ok;
    }
    let window = inner.agent.model().context_window;
    let tokens = inner
        .agent
        .with_messages(|m| session::estimate_context_tokens(m).tokens);
    if window > 0 {
        super::memory_flush::flush_if_due(inner, tokens, window).await;
    }
    if window > 0 && session::should_compact(tokens, window, &settings) {
        let _ = run_compaction(inner, CompactionReason::Threshold, None, false).await;
    }
    false
}
