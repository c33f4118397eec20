//! The `anthropic-messages` wire API: `POST {baseUrl}/v1/messages` with `stream: true`
//! (content blocks with text, thinking, signature and tool-input deltas, extended-thinking
//! budgets per level, prompt-caching markers), and the decoder of its typed SSE events.

use std::borrow::Cow;

use futures::stream::BoxStream;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::http::{self, ErrorStyle, SseDecoder};
use super::{LlmContext, Provider, StreamEvent, StreamOptions, TokenCounts};
use crate::message::{ContentBlock, Message, StopReason};
use crate::model::{Model, ThinkingLevel};

/// The Messages API version header value.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The `anthropic-messages` provider.
#[derive(Debug, Clone, Default)]
pub struct AnthropicMessages;

/// Extended-thinking budget for a level (`None` = thinking disabled).
pub fn thinking_budget(level: ThinkingLevel) -> Option<u64> {
    match level {
        ThinkingLevel::Off => None,
        ThinkingLevel::Minimal => Some(1024),
        ThinkingLevel::Low => Some(2048),
        ThinkingLevel::Medium => Some(8192),
        ThinkingLevel::High | ThinkingLevel::Xhigh => Some(16384),
    }
}

fn content_blocks(blocks: &[ContentBlock], images: bool) -> Vec<Value> {
    let mut out = Vec::with_capacity(blocks.len());
    for b in blocks {
        match b {
            ContentBlock::Text(t) if !t.text.is_empty() => {
                out.push(json!({"type": "text", "text": t.text}))
            }
            ContentBlock::Image(i) if images => out.push(json!({"type": "image", "source": {
                "type": "base64", "media_type": i.mime_type, "data": i.data}})),
            _ => {}
        }
    }
    out
}

/// The Messages API `messages` array (consecutive tool results share one user message).
pub fn convert_messages(model: &Model, context: &LlmContext) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(context.messages.len());
    let mut pending_results: Vec<Value> = Vec::new();
    let flush = |out: &mut Vec<Value>, pending: &mut Vec<Value>| {
        if !pending.is_empty() {
            out.push(json!({"role": "user", "content": std::mem::take(pending)}));
        }
    };
    for message in &context.messages {
        match &**message {
            Message::User(u) => {
                flush(&mut out, &mut pending_results);
                let blocks = content_blocks(&u.content.blocks(), model.supports_images());
                if !blocks.is_empty() {
                    out.push(json!({"role": "user", "content": blocks}));
                }
            }
            Message::Assistant(a) => {
                flush(&mut out, &mut pending_results);
                if matches!(a.stop_reason, StopReason::Error | StopReason::Aborted)
                    && a.content.is_empty()
                {
                    continue;
                }
                let mut blocks = Vec::new();
                for b in &a.content {
                    match b {
                        ContentBlock::Text(t) if !t.text.is_empty() => {
                            blocks.push(json!({"type": "text", "text": t.text}))
                        }
                        ContentBlock::Thinking(t) => match (&t.thinking_signature, t.redacted) {
                            (Some(sig), Some(true)) => {
                                blocks.push(json!({"type": "redacted_thinking", "data": sig}))
                            }
                            (Some(sig), _) if !sig.is_empty() => blocks.push(
                                json!({"type": "thinking", "thinking": t.thinking, "signature": sig}),
                            ),
                            _ if !t.thinking.is_empty() => {
                                blocks.push(json!({"type": "text", "text": t.thinking}))
                            }
                            _ => {}
                        },
                        ContentBlock::ToolCall(c) => blocks.push(json!({
                            "type": "tool_use", "id": c.id, "name": c.name, "input": c.arguments})),
                        _ => {}
                    }
                }
                if !blocks.is_empty() {
                    out.push(json!({"role": "assistant", "content": blocks}));
                }
            }
            Message::ToolResult(r) => {
                let mut content = content_blocks(&r.content, model.supports_images());
                if content.is_empty() {
                    content.push(json!({"type": "text", "text": "(no output)"}));
                }
                pending_results.push(json!({"type": "tool_result", "tool_use_id": r.tool_call_id,
                    "content": content, "is_error": r.is_error}));
            }
            _ => {}
        }
    }
    flush(&mut out, &mut pending_results);
    out
}

/// The request body: model, messages, system, max_tokens, stream, temperature, tools, thinking.
pub fn request_body(model: &Model, context: &LlmContext, options: &StreamOptions) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(model.id));
    body.insert(
        "messages".into(),
        Value::Array(convert_messages(model, context)),
    );
    if !context.system_prompt.is_empty() {
        body.insert(
            "system".into(),
            json!([{"type": "text", "text": context.system_prompt,
                    "cache_control": {"type": "ephemeral"}}]),
        );
    }
    let level = options.thinking.clamp_to(model);
    let budget = if model.reasoning {
        thinking_budget(level)
    } else {
        None
    };
    let base = options.max_tokens.unwrap_or_else(|| {
        model
            .max_tokens
            .min(super::openai_completions::MAX_OUTPUT_TOKENS_CAP)
    });
    let max_tokens = match budget {
        Some(b) => (base + b).min(model.max_tokens.max(b + 1024)),
        None => base,
    };
    body.insert("max_tokens".into(), json!(max_tokens));
    body.insert("stream".into(), json!(true));
    if let (Some(t), None) = (options.temperature, budget) {
        body.insert("temperature".into(), json!(t));
    }
    if !context.tools.is_empty() {
        let tools: Vec<Value> = context
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}))
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(b) = budget {
        body.insert(
            "thinking".into(),
            json!({"type": "enabled", "budget_tokens": b}),
        );
    }
    Value::Object(body)
}

#[derive(Debug)]
enum Open {
    Text,
    Thinking { signature: String, redacted: bool },
    Tool,
}

/// Decodes Messages API stream events.
#[derive(Debug, Default)]
pub struct MessagesDecoder {
    /// Server block index -> (our index, state).
    blocks: Vec<(i64, usize, Open)>,
    next_index: usize,
    usage: TokenCounts,
    stop: Option<StopReason>,
    finished: bool,
}

fn n(v: Option<&Value>) -> Option<u64> {
    v.and_then(Value::as_u64)
}

/// The hot event, `content_block_delta`, parsed without building a `Value`.
#[derive(Deserialize)]
struct DeltaEvent<'a> {
    #[serde(default)]
    index: i64,
    #[serde(borrow)]
    delta: BlockDelta<'a>,
}

#[derive(Deserialize)]
struct BlockDelta<'a> {
    #[serde(borrow, rename = "type")]
    ty: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    thinking: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    partial_json: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    signature: Option<Cow<'a, str>>,
}

impl MessagesDecoder {
    fn on_delta(&mut self, ev: DeltaEvent<'_>, out: &mut Vec<StreamEvent>) {
        let d = ev.delta;
        let Some((_, index, open)) = self.find(ev.index) else {
            return;
        };
        let index = *index;
        let take = |v: Option<Cow<'_, str>>| v.map(Cow::into_owned).unwrap_or_default();
        match (d.ty.as_ref(), open) {
            ("text_delta", Open::Text) => out.push(StreamEvent::TextDelta {
                index,
                delta: take(d.text),
            }),
            ("thinking_delta", Open::Thinking { .. }) => out.push(StreamEvent::ThinkingDelta {
                index,
                delta: take(d.thinking),
            }),
            ("signature_delta", Open::Thinking { signature, .. }) => {
                signature.push_str(d.signature.as_deref().unwrap_or_default())
            }
            ("input_json_delta", Open::Tool) => out.push(StreamEvent::ToolCallDelta {
                index,
                delta: take(d.partial_json),
            }),
            _ => {}
        }
    }

    /// A fresh decoder.
    pub fn new() -> Self {
        Self::default()
    }

    fn update_usage(&mut self, u: &Value, out: &mut Vec<StreamEvent>) {
        if let Some(v) = n(u.get("input_tokens")) {
            self.usage.input = v;
        }
        if let Some(v) = n(u.get("output_tokens")) {
            self.usage.output = v;
        }
        if let Some(v) = n(u.get("cache_read_input_tokens")) {
            self.usage.cache_read = v;
        }
        if let Some(v) = n(u.get("cache_creation_input_tokens")) {
            self.usage.cache_write = v;
        }
        out.push(StreamEvent::Usage(self.usage));
    }

    fn find(&mut self, server: i64) -> Option<&mut (i64, usize, Open)> {
        self.blocks.iter_mut().rev().find(|b| b.0 == server)
    }

    fn on_json(&mut self, v: &Value, out: &mut Vec<StreamEvent>) {
        let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
        let server = v.get("index").and_then(Value::as_i64).unwrap_or(0);
        match kind {
            "message_start" => {
                if let Some(id) = v.pointer("/message/id").and_then(Value::as_str) {
                    out.push(StreamEvent::ResponseId(id.to_owned()));
                }
                if let Some(u) = v.pointer("/message/usage") {
                    self.update_usage(u, out);
                }
            }
            "content_block_start" => {
                let block = v.get("content_block").cloned().unwrap_or(Value::Null);
                let index = self.next_index;
                let open = match block.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        out.push(StreamEvent::TextStart { index });
                        Open::Text
                    }
                    Some("thinking") => {
                        out.push(StreamEvent::ThinkingStart { index });
                        Open::Thinking {
                            signature: String::new(),
                            redacted: false,
                        }
                    }
                    Some("redacted_thinking") => {
                        out.push(StreamEvent::ThinkingStart { index });
                        out.push(StreamEvent::ThinkingDelta {
                            index,
                            delta: "[Reasoning redacted]".to_owned(),
                        });
                        Open::Thinking {
                            signature: block
                                .get("data")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned(),
                            redacted: true,
                        }
                    }
                    Some("tool_use") => {
                        let s = |k: &str| {
                            block
                                .get(k)
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_owned()
                        };
                        out.push(StreamEvent::ToolCallStart {
                            index,
                            id: s("id"),
                            name: s("name"),
                        });
                        Open::Tool
                    }
                    _ => return,
                };
                self.next_index += 1;
                self.blocks.push((server, index, open));
            }
            "content_block_delta" => {
                let Some(delta) = v.get("delta") else { return };
                let text = |k: &str| {
                    delta
                        .get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                let dtype = delta
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let Some((_, index, open)) = self.find(server) else {
                    return;
                };
                let index = *index;
                match (dtype, open) {
                    ("text_delta", Open::Text) => out.push(StreamEvent::TextDelta {
                        index,
                        delta: text("text"),
                    }),
                    ("thinking_delta", Open::Thinking { .. }) => {
                        out.push(StreamEvent::ThinkingDelta {
                            index,
                            delta: text("thinking"),
                        })
                    }
                    ("signature_delta", Open::Thinking { signature, .. }) => {
                        signature.push_str(&text("signature"))
                    }
                    ("input_json_delta", Open::Tool) => out.push(StreamEvent::ToolCallDelta {
                        index,
                        delta: text("partial_json"),
                    }),
                    _ => {}
                }
            }
            "content_block_stop" => {
                let Some(pos) = self.blocks.iter().rposition(|b| b.0 == server) else {
                    return;
                };
                let (_, index, open) = self.blocks.remove(pos);
                out.push(match open {
                    Open::Text => StreamEvent::TextEnd {
                        index,
                        signature: None,
                    },
                    Open::Thinking {
                        signature,
                        redacted,
                    } => StreamEvent::ThinkingEnd {
                        index,
                        signature: Some(signature).filter(|s| !s.is_empty()),
                        redacted,
                    },
                    Open::Tool => StreamEvent::ToolCallEnd {
                        index,
                        arguments: None,
                        thought_signature: None,
                    },
                });
            }
            "message_delta" => {
                if let Some(r) = v.pointer("/delta/stop_reason").and_then(Value::as_str) {
                    self.stop = Some(match r {
                        "max_tokens" => StopReason::Length,
                        "tool_use" => StopReason::ToolUse,
                        "refusal" => StopReason::Error,
                        _ => StopReason::Stop,
                    });
                }
                if let Some(u) = v.get("usage") {
                    self.update_usage(u, out);
                }
            }
            "message_stop" => self.done(out),
            "error" => {
                self.finished = true;
                let msg = v
                    .pointer("/error/message")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string());
                out.push(StreamEvent::Error {
                    reason: StopReason::Error,
                    message: msg,
                });
            }
            _ => {}
        }
    }

    fn done(&mut self, out: &mut Vec<StreamEvent>) {
        self.finished = true;
        match self.stop {
            Some(StopReason::Error) => out.push(StreamEvent::Error {
                reason: StopReason::Error,
                message: "The model refused to answer (stop_reason: refusal)".to_owned(),
            }),
            other => out.push(StreamEvent::Done {
                reason: other.unwrap_or(StopReason::Stop),
            }),
        }
    }
}

impl SseDecoder for MessagesDecoder {
    fn on_event(&mut self, _event: &str, data: &str, out: &mut Vec<StreamEvent>) {
        if self.finished || data.trim().is_empty() {
            return;
        }
        if data.contains("\"content_block_delta\"") {
            if let Ok(ev) = serde_json::from_str::<DeltaEvent<'_>>(data) {
                self.on_delta(ev, out);
                return;
            }
        }
        match serde_json::from_str::<Value>(data) {
            Ok(v) => self.on_json(&v, out),
            Err(e) => {
                self.finished = true;
                out.push(StreamEvent::Error {
                    reason: StopReason::Error,
                    message: format!("invalid event from server: {e}"),
                });
            }
        }
    }

    fn on_end(&mut self, out: &mut Vec<StreamEvent>) {
        if !self.finished && self.stop.is_some() && self.blocks.is_empty() {
            self.done(out);
        }
    }

    fn is_finished(&self) -> bool {
        self.finished
    }
}

impl Provider for AnthropicMessages {
    fn api(&self) -> &str {
        "anthropic-messages"
    }

    fn stream(
        &self,
        model: &Model,
        context: &LlmContext,
        options: &StreamOptions,
    ) -> BoxStream<'static, StreamEvent> {
        let body = request_body(model, context, options);
        let mut req = http::client()
            .post(http::join_url(&model.base_url, "v1/messages"))
            .header("content-type", "application/json")
            .header("accept", "text/event-stream")
            .header("anthropic-version", ANTHROPIC_VERSION)
            .header("anthropic-beta", "fine-grained-tool-streaming-2025-05-14");
        if let Some(key) = options.api_key.as_deref() {
            req = req.header("x-api-key", key);
        }
        req = http::with_headers(req, model, options).json(&body);
        http::send_and_decode(
            model.provider.clone(),
            req,
            MessagesDecoder::new(),
            ErrorStyle::Anthropic,
            options.cancel.clone(),
        )
    }
}
