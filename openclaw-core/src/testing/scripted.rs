//! A scripted in-process [`Provider`] for tests: replies are queued up
//! front, and every call's context is recorded so a test can assert what the model saw.
//!
//! Runtime-agnostic: chunk delays use `futures-timer` and honour the call's cancellation token
//! (a cancelled stream ends with `Error {reason: Aborted, message: "Request was aborted"}`,
//! keeping what was already streamed).
//!
//! ```
//! use openclaw_core::testing::scripted::{Reply, ScriptedProvider};
//! let provider = ScriptedProvider::new();
//! provider.push(Reply::text("Hello world"));
//! provider.push(Reply::tool_call("call_1", "read", serde_json::json!({"path": "a.txt"})));
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use futures::future::{Either, select};
use futures::stream::BoxStream;
use serde_json::Value;

use crate::message::StopReason;
use crate::model::{Model, ModelCost, ThinkingLevel};
use crate::provider::{LlmContext, Provider, StreamEvent, StreamOptions, TokenCounts};

/// One block of a scripted reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Text, streamed as the given deltas.
    Text(Vec<String>),
    /// Thinking, streamed as the given deltas.
    Thinking(Vec<String>),
    /// A tool call; arguments streamed as one JSON delta.
    ToolCall {
        id: String,
        name: String,
        arguments: Value,
    },
}

/// One scripted model reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub parts: Vec<Part>,
    /// `None`: finish normally (`toolUse` when there are tool calls, else `stop`).
    /// `Some(text)`: fail with `stopReason:"error"` and this `errorMessage` after the parts.
    pub error: Option<String>,
    pub usage: TokenCounts,
    /// Wait before every stream event (lets tests steer or abort mid-stream).
    pub chunk_delay: Option<Duration>,
    pub response_id: Option<String>,
}

impl Reply {
    fn with_parts(parts: Vec<Part>) -> Self {
        Reply {
            parts,
            error: None,
            usage: TokenCounts {
                input: 10,
                output: 5,
                cache_read: 0,
                cache_write: 0,
            },
            chunk_delay: None,
            response_id: Some("resp_scripted".into()),
        }
    }

    /// A text reply in one delta.
    pub fn text(text: &str) -> Self {
        Reply::with_parts(vec![Part::Text(vec![text.to_string()])])
    }

    /// A text reply streamed as these deltas.
    pub fn chunks(deltas: &[&str]) -> Self {
        Reply::with_parts(vec![Part::Text(
            deltas.iter().map(|d| d.to_string()).collect(),
        )])
    }

    /// One tool call.
    pub fn tool_call(id: &str, name: &str, arguments: Value) -> Self {
        Reply::with_parts(Vec::new()).and_tool_call(id, name, arguments)
    }

    /// A failed call (HTTP error before any content), e.g. `"529 overloaded"`.
    pub fn error(message: &str) -> Self {
        let mut r = Reply::with_parts(Vec::new());
        r.error = Some(message.to_string());
        r.usage = TokenCounts::default();
        r.response_id = None;
        r
    }

    /// Add a thinking block before the other parts.
    #[must_use]
    pub fn with_thinking(mut self, thinking: &str) -> Self {
        self.parts
            .insert(0, Part::Thinking(vec![thinking.to_string()]));
        self
    }

    /// Add a tool call after the other parts.
    #[must_use]
    pub fn and_tool_call(mut self, id: &str, name: &str, arguments: Value) -> Self {
        self.parts.push(Part::ToolCall {
            id: id.to_string(),
            name: name.to_string(),
            arguments,
        });
        self
    }

    #[must_use]
    pub fn with_usage(mut self, input: u64, output: u64) -> Self {
        self.usage.input = input;
        self.usage.output = output;
        self
    }

    #[must_use]
    pub fn with_chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = Some(delay);
        self
    }

    /// Fail with `message` after streaming the parts.
    #[must_use]
    pub fn then_error(mut self, message: &str) -> Self {
        self.error = Some(message.to_string());
        self
    }

    /// The stream events of this reply.
    pub fn events(&self) -> Vec<StreamEvent> {
        let mut ev = Vec::new();
        if self.error.is_some() && self.parts.is_empty() {
            ev.push(StreamEvent::Error {
                reason: StopReason::Error,
                message: self.error.clone().unwrap_or_default(),
            });
            return ev;
        }
        if let Some(id) = &self.response_id {
            ev.push(StreamEvent::ResponseId(id.clone()));
        }
        let mut has_calls = false;
        for (index, part) in self.parts.iter().enumerate() {
            match part {
                Part::Text(deltas) => {
                    ev.push(StreamEvent::TextStart { index });
                    ev.extend(deltas.iter().map(|d| StreamEvent::TextDelta {
                        index,
                        delta: d.clone(),
                    }));
                    ev.push(StreamEvent::TextEnd {
                        index,
                        signature: None,
                    });
                }
                Part::Thinking(deltas) => {
                    ev.push(StreamEvent::ThinkingStart { index });
                    ev.extend(deltas.iter().map(|d| StreamEvent::ThinkingDelta {
                        index,
                        delta: d.clone(),
                    }));
                    ev.push(StreamEvent::ThinkingEnd {
                        index,
                        signature: None,
                        redacted: false,
                    });
                }
                Part::ToolCall {
                    id,
                    name,
                    arguments,
                } => {
                    has_calls = true;
                    ev.push(StreamEvent::ToolCallStart {
                        index,
                        id: id.clone(),
                        name: name.clone(),
                    });
                    ev.push(StreamEvent::ToolCallDelta {
                        index,
                        delta: arguments.to_string(),
                    });
                    ev.push(StreamEvent::ToolCallEnd {
                        index,
                        arguments: None,
                        thought_signature: None,
                    });
                }
            }
        }
        ev.push(StreamEvent::Usage(self.usage));
        ev.push(match &self.error {
            Some(message) => StreamEvent::Error {
                reason: StopReason::Error,
                message: message.clone(),
            },
            None => StreamEvent::Done {
                reason: if has_calls {
                    StopReason::ToolUse
                } else {
                    StopReason::Stop
                },
            },
        });
        ev
    }
}

/// What one call of the provider received.
#[derive(Debug, Clone)]
pub struct RecordedCall {
    pub model: Model,
    pub context: LlmContext,
    pub api_key: Option<String>,
    pub thinking: ThinkingLevel,
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    calls: Vec<RecordedCall>,
}

/// The scripted provider. Clones share the script.
#[derive(Clone, Default)]
pub struct ScriptedProvider {
    script: Arc<Mutex<Script>>,
}

impl ScriptedProvider {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Script> {
        crate::sync::lock(&self.script)
    }

    /// Queue the next reply.
    pub fn push(&self, reply: Reply) {
        self.lock().replies.push_back(reply);
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.lock().calls.clone()
    }

    /// Replies not consumed yet.
    pub fn remaining(&self) -> usize {
        self.lock().replies.len()
    }
}

/// A model description for tests (`api` `scripted`, provider `test`, id `test-model`).
pub fn test_model() -> Model {
    Model {
        id: "test-model".into(),
        name: "test-model".into(),
        api: "scripted".into(),
        provider: "test".into(),
        base_url: "http://127.0.0.1:1/v1".into(),
        reasoning: false,
        input: vec!["text".into()],
        cost: ModelCost::default(),
        context_window: 128_000,
        max_tokens: 4096,
        headers: None,
        compat: None,
    }
}

impl Provider for ScriptedProvider {
    fn api(&self) -> &str {
        "scripted"
    }

    fn stream(
        &self,
        model: &Model,
        context: &LlmContext,
        options: &StreamOptions,
    ) -> BoxStream<'static, StreamEvent> {
        let reply = {
            let mut s = self.lock();
            s.calls.push(RecordedCall {
                model: model.clone(),
                context: context.clone(),
                api_key: options.api_key.clone(),
                thinking: options.thinking,
            });
            s.replies.pop_front()
        };
        let Some(reply) = reply else {
            return futures::stream::iter(vec![StreamEvent::Error {
                reason: StopReason::Error,
                message: "scripted provider: no reply queued".into(),
            }])
            .boxed();
        };
        let events: VecDeque<StreamEvent> = reply.events().into();
        let delay = reply.chunk_delay;
        let cancel = options.cancel.clone();
        futures::stream::unfold(Some(events), move |state| {
            let cancel = cancel.clone();
            async move {
                let mut events = state?;
                let aborted = || {
                    Some((
                        StreamEvent::Error {
                            reason: StopReason::Aborted,
                            message: "Request was aborted".into(),
                        },
                        None,
                    ))
                };
                if cancel.is_cancelled() {
                    return aborted();
                }
                if let Some(d) = delay {
                    let sleep = futures_timer::Delay::new(d);
                    if let Either::Right(_) = select(sleep, Box::pin(cancel.cancelled())).await {
                        return aborted();
                    }
                }
                let ev = events.pop_front()?;
                Some((ev, Some(events)))
            }
        })
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancelled_stream_ends_aborted() {
        let p = ScriptedProvider::new();
        p.push(Reply::chunks(&["a", "b", "c"]).with_chunk_delay(Duration::from_millis(20)));
        let opts = StreamOptions::default();
        let cancel = opts.cancel.clone();
        let mut s = p.stream(&test_model(), &LlmContext::default(), &opts);
        let got = futures::executor::block_on(async {
            let mut got = Vec::new();
            while let Some(ev) = s.next().await {
                if matches!(ev, StreamEvent::TextDelta { .. }) {
                    cancel.cancel();
                }
                got.push(ev);
            }
            got
        });
        assert!(matches!(
            got.last(),
            Some(StreamEvent::Error {
                reason: StopReason::Aborted,
                ..
            })
        ));
        assert_eq!(p.calls().len(), 1);
    }
}
