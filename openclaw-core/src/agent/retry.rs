//! Auto-retry of transient model failures: pi's retryable-error patterns, its context-overflow
//! patterns (overflows are never retried here; compaction handles them), the settings, and the
//! driver that [`Agent::prompt`] runs after every run.
//!
//! The driver, after a run whose last assistant message is a retryable error: increments the
//! attempt; past `max_retries` emits `auto_retry_end {success:false, attempt:max_retries,
//! finalError}`; otherwise emits `auto_retry_start {attempt, maxAttempts, delayMs, errorMessage}`,
//! removes the error message from the context (listeners have already persisted it), sleeps
//! `base_delay_ms · 2^(attempt-1)` (cancellable with [`Agent::abort_retry`] / [`Agent::abort`],
//! which emits `auto_retry_end {success:false, attempt, finalError:"Retry cancelled"}`) and runs
//! again without a new user message. The first later assistant message that is not an error
//! emits `auto_retry_end {success:true, attempt}` right after its `message_end`.

use std::sync::Arc;
use std::sync::LazyLock;
use std::time::Duration;

use futures::future::select;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::Agent;
use super::run_loop::{self, RunStart};
use crate::cancel::CancellationToken;
use crate::event::AgentEvent;
use crate::message::{AssistantMessage, Message, StopReason};

/// pi's `retry` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RetrySettings {
    pub enabled: bool,
    pub max_retries: u32,
    pub base_delay_ms: u64,
    /// The longest server-requested delay (`retry-after`) a provider should honour. The
    /// loop's own backoff is not capped by it (pi's formula is `base · 2^(attempt-1)`).
    pub max_delay_ms: u64,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            enabled: true,
            max_retries: 3,
            base_delay_ms: 2000,
            max_delay_ms: 60_000,
        }
    }
}

impl RetrySettings {
    /// The wait before retry `attempt` (1-based): `base_delay_ms · 2^(attempt-1)`.
    pub fn delay_ms(&self, attempt: u32) -> u64 {
        let shift = attempt.saturating_sub(1).min(32);
        self.base_delay_ms.saturating_mul(1u64 << shift)
    }
}

/// pi 0.73.1's retryable-error pattern (`AgentSession._isRetryableError`), the one classifier:
/// auto-retry and the engine's model failover both ask [`is_retryable_error`].
static RETRYABLE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)overloaded|provider.?returned.?error|rate.?limit|too many requests|429|500|502|503|504|service.?unavailable|server.?error|internal.?error|network.?error|connection.?error|connection.?refused|connection.?lost|websocket.?closed|websocket.?error|other side closed|fetch failed|upstream.?connect|reset before headers|socket hang up|ended without|http2 request did not get a response|timed? out|timeout|terminated|retry delay",
    )
    .ok()
});

/// Whether an error text names a transient failure worth retrying (case-insensitive).
pub fn is_retryable_error(message: &str) -> bool {
    RETRYABLE.as_ref().is_some_and(|r| r.is_match(message))
}

/// Whether `message` shows the context did not fit: an error matching a provider's overflow
/// text, or a successful reply whose input (plus cache reads) exceeds `context_window`.
/// The error texts are recognised by [`crate::provider::is_context_overflow`], the one list
/// of the providers' overflow phrasings.
pub fn is_context_overflow(message: &AssistantMessage, context_window: u64) -> bool {
    match message.stop_reason {
        StopReason::Error => message
            .error_message
            .as_deref()
            .is_some_and(crate::provider::is_context_overflow),
        StopReason::Stop => {
            context_window > 0 && message.usage.input + message.usage.cache_read > context_window
        }
        _ => false,
    }
}

/// Whether the driver retries after `message`.
pub fn should_retry(
    message: &AssistantMessage,
    context_window: u64,
    overflow: &dyn Fn(&AssistantMessage, u64) -> bool,
) -> bool {
    if message.stop_reason != StopReason::Error {
        return false;
    }
    let Some(err) = message.error_message.as_deref() else {
        return false;
    };
    !overflow(message, context_window) && is_retryable_error(err)
}

impl Agent {
    /// Run `start`, then auto-retry while the last assistant message is retryable.
    pub(super) async fn drive(&self, start: RunStart) -> Vec<Arc<Message>> {
        let inner = &self.inner;
        let mut added = Vec::new();
        let mut next = Some(start);
        loop {
            let cancel = CancellationToken::new();
            {
                let mut slot = inner.slot();
                slot.cancel = Some(cancel.clone());
                slot.streaming = true;
            }
            let messages = run_loop::run(inner, next.take().unwrap_or_default(), &cancel).await;
            {
                let mut slot = inner.slot();
                slot.cancel = None;
                slot.streaming = false;
            }
            let last = messages
                .iter()
                .rev()
                .find_map(|m| m.as_assistant())
                .cloned();
            added.extend(messages);
            let Some(last) = last else { break };
            let (settings, window) = {
                let st = inner.state();
                (st.retry, st.model.context_window)
            };
            let overflow = inner.hooks().overflow.clone();
            if !settings.enabled || !should_retry(&last, window, &*overflow) {
                break;
            }
            let error_message = last.error_message.clone().unwrap_or_default();
            let attempt = {
                let mut slot = inner.slot();
                slot.retry_attempt += 1;
                slot.retry_attempt
            };
            if attempt > settings.max_retries {
                inner.slot().retry_attempt = 0;
                inner.emit(AgentEvent::AutoRetryEnd {
                    success: false,
                    attempt: attempt - 1,
                    final_error: Some(error_message),
                });
                break;
            }
            // The error leaves the context before anyone hears of the retry, so a `get_state`
            // sent on `auto_retry_start` already sees it gone.
            {
                let mut st = inner.state();
                if st.messages.last().is_some_and(|m| m.role() == "assistant") {
                    st.messages.pop();
                }
            }
            // The wait is armed before it is announced, so an `abort_retry` or a prompt sent on
            // `auto_retry_start` always finds it.
            let armed = self.arm_retry();
            let delay_ms = settings.delay_ms(attempt);
            inner.emit(AgentEvent::AutoRetryStart {
                attempt,
                max_attempts: settings.max_retries,
                delay_ms,
                error_message,
            });
            let retry = match armed {
                Some(token) => self.wait_for_retry(token, delay_ms).await,
                None => {
                    inner.emit(super::retry_cancelled(attempt));
                    false
                }
            };
            if !retry {
                break;
            }
        }
        added
    }

    /// Registers the retry wait's cancellation token; `None` when an abort came first.
    fn arm_retry(&self) -> Option<CancellationToken> {
        let mut slot = self.inner.slot();
        if slot.abort_requested {
            slot.retry_attempt = 0;
            return None;
        }
        let token = CancellationToken::new();
        slot.retry_cancel = Some(token.clone());
        Some(token)
    }

    /// The retry wait; `true` when the retry should run. A cancelled wait
    /// ([`Agent::abort_retry`], which has already emitted `auto_retry_end`) and a superseded one
    /// ([`Agent::supersede_retry`]) return `false`.
    async fn wait_for_retry(&self, token: CancellationToken, delay_ms: u64) -> bool {
        let sleep = futures_timer::Delay::new(Duration::from_millis(delay_ms));
        let _ = select(sleep, Box::pin(token.cancelled())).await;
        let mut slot = self.inner.slot();
        if slot.retry_cancel.take().is_none() {
            // abort_retry took the wait (and announced it), whichever finished first.
            return false;
        }
        if std::mem::take(&mut slot.retry_superseded) {
            slot.retry_carry = true;
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_patterns() {
        for m in [
            "529 overloaded",
            "Rate limit reached",
            "429 Too Many Requests",
            "500 internal server error",
            "503 Service Unavailable",
            "Connection error.",
            "connect ECONNREFUSED / connection refused",
            "other side closed",
            "TypeError: fetch failed",
            "upstream connect error or disconnect/reset before headers",
            "terminated",
            "fake: Connection error: error sending request: tcp connect error: Connection refused (os error 111)",
            "request timed out",
            "socket hang up",
            "stream ended without sending chunks",
        ] {
            assert!(is_retryable_error(m), "{m}");
        }
        for m in [
            "401 invalid api key",
            "400 bad request",
            "Request was aborted",
        ] {
            assert!(!is_retryable_error(m), "{m}");
        }
    }

    #[test]
    fn delays_double() {
        let s = RetrySettings::default();
        assert_eq!(
            (s.delay_ms(1), s.delay_ms(2), s.delay_ms(3)),
            (2000, 4000, 8000)
        );
    }

    #[test]
    fn overflow_is_not_retried() {
        let mut m = AssistantMessage::empty("a", "p", "m");
        m.stop_reason = StopReason::Error;
        m.error_message = Some("500 This model's maximum context length is 8192 tokens".into());
        assert!(is_context_overflow(&m, 8192));
        assert!(!should_retry(&m, 8192, &is_context_overflow));
        m.error_message = Some("500 internal server error".into());
        assert!(should_retry(&m, 8192, &is_context_overflow));
        let mut ok = AssistantMessage::empty("a", "p", "m");
        ok.usage.input = 9000;
        assert!(is_context_overflow(&ok, 8192));
    }
}
