//! The pre-compaction memory flush (OpenClaw's `compaction.memoryFlush`): when the context is
//! within a soft margin of the auto-compaction threshold, once per compaction cycle, a silent
//! turn runs on a private copy of the conversation — same model, tools (behind the same exec
//! gate) and system prompt plus the host's flush instructions — so the agent can write what
//! matters to today's daily note before compaction summarises it away. The copy emits nothing
//! to the engine's listeners and its messages never enter the session; its file writes stay.

use std::sync::Arc;
use std::time::Duration;

use crate::agent::{Agent, AgentOptions};

use super::Inner;

/// A flush turn is given up after this.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(180);

/// The texts of one flush turn: the user prompt and what is appended to the system prompt.
pub type FlushPrompt = Arc<dyn Fn() -> (String, String) + Send + Sync>;

/// [`super::EngineConfig::memory_flush`]: when and what to ask.
#[derive(Clone)]
pub struct MemoryFlush {
    /// Built at flush time (it names today's note).
    pub prompt: FlushPrompt,
    /// Flush when the context is within this many tokens of the compaction threshold
    /// (OpenClaw's `softThresholdTokens`, default 4000).
    pub soft_threshold_tokens: u64,
}

impl std::fmt::Debug for MemoryFlush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryFlush")
            .field("soft_threshold_tokens", &self.soft_threshold_tokens)
            .finish_non_exhaustive()
    }
}

/// Runs the flush when it is due: configured, near the threshold, not yet done this cycle.
/// Returns whether a flush turn ran.
pub(super) async fn flush_if_due(inner: &Arc<Inner>, tokens: u64, window: u64) -> bool {
    let (flush, settings, due) = {
        let st = inner.lock();
        let Some(flush) = st.memory_flush.clone() else {
            return false;
        };
        let settings = st.settings.compaction();
        let due = st.flushed_cycle != Some(st.compactions);
        (flush, settings, due)
    };
    let near = crate::session::should_compact(
        tokens.saturating_add(flush.soft_threshold_tokens),
        window,
        &settings,
    );
    if !due || !near {
        return false;
    }
    {
        let mut st = inner.lock();
        st.flushed_cycle = Some(st.compactions);
    }
    let (prompt, system) = (flush.prompt)();
    let main = &inner.agent;
    let mut options = AgentOptions::new(main.model());
    options.system_prompt = format!("{}\n\n{system}", main.system_prompt());
    options.tools = main.tools();
    options.messages = main.messages();
    options.thinking_level = main.thinking_level();
    options.tool_execution = main.tool_execution();
    options.retry = main.retry_settings();
    let copy = Agent::new(
        options,
        Arc::new(super::setup::resolver(inner.registry.clone())),
    );
    match tokio::time::timeout(FLUSH_TIMEOUT, copy.prompt_text(&prompt)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!("the memory flush turn failed: {e}"),
        Err(_) => {
            copy.abort().await;
            tracing::warn!("the memory flush turn timed out");
        }
    }
    true
}
