//! The `openai-responses` wire API (what OpenAI's own models use): `POST {baseUrl}/responses`
//! with `stream: true`; output items (messages, reasoning with summaries, function calls) are
//! decoded from the typed `response.*` events.

use std::borrow::Cow;

use futures::stream::BoxStream;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::http::{self, ErrorStyle, SseDecoder};
use super::openai_completions::{MAX_OUTPUT_TOKENS_CAP, reasoning_effort};
use super::{LlmContext, Provider, StreamEvent, StreamOptions, TokenCounts};
use crate::message::{ContentBlock, Message, StopReason};
use crate::model::Model;

/// The `openai-responses` provider.
#[derive(Debug, Clone, Default)]
pub struct OpenAiResponses;

fn user_content(blocks: &[ContentBlock], images: bool) -> Vec<Value> {
    let mut out = Vec::new();
    for b in blocks {
        match b {
            ContentBlock::Text(t) => out.push(json!({"type": "input_text", "text": t.text})),
            ContentBlock::Image(i) if images => out
                .push(json!({"type": "input_image", "detail": "auto",
                "image_url": format!("data:{};base64,{}", i.mime_type, i.data)})),
            _ => {}
        }
    }
    out
}

/// The `input` items for `context` (system prompt first).
pub fn convert_input(model: &Model, context: &LlmContext) -> Vec<Value> {
    let mut out = Vec::with_capacity(context.messages.len() + 1);
    if !context.system_prompt.is_empty() {
        let role = if model.reasoning {
            "developer"
        } else {
            "system"
        };
        out.push(json!({"role": role, "content": context.system_prompt}));
    }
    for message in &context.messages {
        match &**message {
            Message::User(u) => {
                let content = user_content(&u.content.blocks(), model.supports_images());
                if !content.is_empty() {
                    out.push(json!({"role": "user", "content": content}));
                }
            }
            Message::Assistant(a) => {
                if matches!(a.stop_reason, StopReason::Error | StopReason::Aborted) {
                    continue;
                }
                for b in &a.content {
                    match b {
                        ContentBlock::Thinking(t) => {
                            if let Some(item) = t
                                .thinking_signature
                                .as_deref()
                                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                                .filter(Value::is_object)
                            {
                                out.push(item);
                            }
                        }
                        ContentBlock::Text(t) if !t.text.is_empty() => {
                            let mut item = Map::new();
                            item.insert("type".into(), json!("message"));
                            item.insert("role".into(), json!("assistant"));
                            item.insert(
                                "content".into(),
                                json!([{"type": "output_text", "text": t.text, "annotations": []}]),
                            );
                            item.insert("status".into(), json!("completed"));
                            if let Some(id) = t
                                .text_signature
                                .as_deref()
                                .filter(|s| s.starts_with("msg_"))
                            {
                                item.insert("id".into(), json!(id));
                            }
                            out.push(Value::Object(item));
                        }
                        ContentBlock::ToolCall(c) => {
                            let (call_id, item_id) = match c.id.split_once('|') {
                                Some((a, b)) => (a, Some(b)),
                                None => (c.id.as_str(), None),
                            };
                            let mut item = Map::new();
                            item.insert("type".into(), json!("function_call"));
                            if let Some(id) = item_id {
                                item.insert("id".into(), json!(id));
                            }
                            item.insert("call_id".into(), json!(call_id));
                            item.insert("name".into(), json!(c.name));
                            item.insert("arguments".into(), json!(c.arguments.to_string()));
                            out.push(Value::Object(item));
                        }
                        _ => {}
                    }
                }
            }
            Message::ToolResult(r) => {
                let call_id = r.tool_call_id.split('|').next().unwrap_or_default();
                out.push(json!({"type": "function_call_output", "call_id": call_id,
                    "output": crate::message::join_text(&r.content)}));
            }
            _ => {}
        }
    }
    out
}

/// The request body.
pub fn request_body(model: &Model, context: &LlmContext, options: &StreamOptions) -> Value {
    let mut body = Map::new();
    body.insert("model".into(), json!(model.id));
    body.insert("input".into(), Value::Array(convert_input(model, context)));
    body.insert("stream".into(), json!(true));
    if let Some(s) = &options.session_id {
        body.insert("prompt_cache_key".into(), json!(s));
    }
    body.insert("store".into(), json!(false));
    let max = options
        .max_tokens
        .unwrap_or_else(|| model.max_tokens.min(MAX_OUTPUT_TOKENS_CAP));
    body.insert("max_output_tokens".into(), json!(max));
    if let Some(t) = options.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if !context.tools.is_empty() {
        let tools: Vec<Value> = context
            .tools
            .iter()
            .map(|t| {
                json!({"type": "function", "name": t.name, "description": t.description,
                "parameters": t.parameters, "strict": false})
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    if model.reasoning {
        if let Some(effort) = reasoning_effort(options.thinking.clamp_to(model)) {
            body.insert(
                "reasoning".into(),
                json!({"effort": effort, "summary": "auto"}),
            );
            body.insert("include".into(), json!(["reasoning.encrypted_content"]));
        }
    }
    Value::Object(body)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    Tool,
}

/// Decodes `response.*` events.
#[derive(Debug, Default)]
pub struct ResponsesDecoder {
    /// Server output_index -> (our index, kind), for open items.
    open: Vec<(i64, usize, Kind)>,
    next_index: usize,
    saw_tool: bool,
    finished: bool,
}

/// The hot `*.delta` events, parsed without building a `Value`.
#[derive(Deserialize)]
struct DeltaEvent<'a> {
    #[serde(borrow, rename = "type")]
    ty: Cow<'a, str>,
    #[serde(default)]
    output_index: i64,
    #[serde(borrow, default)]
    delta: Cow<'a, str>,
}

impl ResponsesDecoder {
    fn on_delta(&mut self, ev: DeltaEvent<'_>, out: &mut Vec<StreamEvent>) {
        let kind = match ev.ty.as_ref() {
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                Kind::Thinking
            }
            "response.output_text.delta" | "response.refusal.delta" => Kind::Text,
            "response.function_call_arguments.delta" => Kind::Tool,
            _ => return,
        };
        let Some(index) = self
            .open
            .iter()
            .rev()
            .find(|(o, _, k)| *o == ev.output_index && *k == kind)
            .map(|(_, i, _)| *i)
        else {
            return;
        };
        let delta = ev.delta.into_owned();
        out.push(match kind {
            Kind::Thinking => StreamEvent::ThinkingDelta { index, delta },
            Kind::Text => StreamEvent::TextDelta { index, delta },
            Kind::Tool => StreamEvent::ToolCallDelta { index, delta },
        });
    }

    /// A fresh decoder.
    pub fn new() -> Self {
        Self::default()
    }

    fn lookup(&self, v: &Value, kind: Kind) -> Option<usize> {
        let oi = v.get("output_index").and_then(Value::as_i64).unwrap_or(0);
        self.open
            .iter()
            .rev()
            .find(|(o, _, k)| *o == oi && *k == kind)
            .map(|(_, i, _)| *i)
    }

    fn fail(&mut self, message: String, out: &mut Vec<StreamEvent>) {
        self.finished = true;
        out.push(StreamEvent::Error {
            reason: StopReason::Error,
            message,
        });
    }

    fn on_json(&mut self, v: &Value, out: &mut Vec<StreamEvent>) {
        let ty = v.get("type").and_then(Value::as_str).unwrap_or_default();
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        match ty {
            "response.created" => {
                if let Some(id) = v.pointer("/response/id").and_then(Value::as_str) {
                    out.push(StreamEvent::ResponseId(id.to_owned()));
                }
            }
            "response.output_item.added" => {
                let oi = v.get("output_index").and_then(Value::as_i64).unwrap_or(0);
                let item = v.get("item").cloned().unwrap_or(Value::Null);
                let index = self.next_index;
                let kind = match item.get("type").and_then(Value::as_str) {
                    Some("reasoning") => {
                        out.push(StreamEvent::ThinkingStart { index });
                        Kind::Thinking
                    }
                    Some("message") => {
                        out.push(StreamEvent::TextStart { index });
                        Kind::Text
                    }
                    Some("function_call") => {
                        let f = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or_default();
                        self.saw_tool = true;
                        out.push(StreamEvent::ToolCallStart {
                            index,
                            id: format!("{}|{}", f("call_id"), f("id")),
                            name: f("name").to_owned(),
                        });
                        Kind::Tool
                    }
                    _ => return,
                };
                self.next_index += 1;
                self.open.push((oi, index, kind));
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                if let Some(index) = self.lookup(v, Kind::Thinking) {
                    out.push(StreamEvent::ThinkingDelta {
                        index,
                        delta: s("delta"),
                    });
                }
            }
            "response.reasoning_summary_part.done" => {
                if let Some(index) = self.lookup(v, Kind::Thinking) {
                    out.push(StreamEvent::ThinkingDelta {
                        index,
                        delta: "\n\n".to_owned(),
                    });
                }
            }
            "response.output_text.delta" | "response.refusal.delta" => {
                if let Some(index) = self.lookup(v, Kind::Text) {
                    out.push(StreamEvent::TextDelta {
                        index,
                        delta: s("delta"),
                    });
                }
            }
            "response.function_call_arguments.delta" => {
                if let Some(index) = self.lookup(v, Kind::Tool) {
                    out.push(StreamEvent::ToolCallDelta {
                        index,
                        delta: s("delta"),
                    });
                }
            }
            "response.output_item.done" => {
                let oi = v.get("output_index").and_then(Value::as_i64).unwrap_or(0);
                let Some(pos) = self.open.iter().rposition(|(o, _, _)| *o == oi) else {
                    return;
                };
                let (_, index, kind) = self.open.remove(pos);
                let item = v.get("item").cloned().unwrap_or(Value::Null);
                out.push(match kind {
                    Kind::Thinking => StreamEvent::ThinkingEnd {
                        index,
                        signature: Some(item.to_string()),
                        redacted: false,
                    },
                    Kind::Text => StreamEvent::TextEnd {
                        index,
                        signature: item.get("id").and_then(Value::as_str).map(str::to_owned),
                    },
                    Kind::Tool => StreamEvent::ToolCallEnd {
                        index,
                        arguments: item
                            .get("arguments")
                            .and_then(Value::as_str)
                            .and_then(|a| serde_json::from_str::<Value>(a).ok())
                            .filter(Value::is_object),
                        thought_signature: None,
                    },
                });
            }
            "response.completed" | "response.incomplete" | "response.done" => {
                let response = v.get("response").cloned().unwrap_or(Value::Null);
                if let Some(u) = response.get("usage").filter(|u| u.is_object()) {
                    let n = |p: &str| u.pointer(p).and_then(Value::as_u64).unwrap_or(0);
                    let cached = n("/input_tokens_details/cached_tokens");
                    out.push(StreamEvent::Usage(TokenCounts {
                        input: n("/input_tokens").saturating_sub(cached),
                        output: n("/output_tokens"),
                        cache_read: cached,
                        cache_write: 0,
                    }));
                }
                let status = response
                    .get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("completed");
                let reason = match status {
                    "incomplete" => StopReason::Length,
                    "failed" | "cancelled" => {
                        return self.fail(format!("response {status}"), out);
                    }
                    _ if self.saw_tool => StopReason::ToolUse,
                    _ => StopReason::Stop,
                };
                self.finished = true;
                out.push(StreamEvent::Done { reason });
            }
            "response.failed" => {
                let msg = v
                    .pointer("/response/error/message")
                    .and_then(Value::as_str)
                    .unwrap_or("response failed")
                    .to_owned();
                self.fail(msg, out);
            }
            "error" => {
                let code = s("code");
                let message = s("message");
                let text = if code.is_empty() {
                    message
                } else {
                    format!("Error Code {code}: {message}")
                };
                self.fail(text, out);
            }
            _ => {}
        }
    }
}

impl SseDecoder for ResponsesDecoder {
    fn on_event(&mut self, _event: &str, data: &str, out: &mut Vec<StreamEvent>) {
        if self.finished || data.trim().is_empty() || data.trim() == "[DONE]" {
            return;
        }
        if data.contains("_text.delta\"") || data.contains("arguments.delta\"") {
            if let Ok(ev) = serde_json::from_str::<DeltaEvent<'_>>(data) {
                self.on_delta(ev, out);
                return;
            }
        }
        match serde_json::from_str::<Value>(data) {
            Ok(v) => self.on_json(&v, out),
            Err(e) => self.fail(format!("invalid event from server: {e}"), out),
        }
    }

    fn on_end(&mut self, _out: &mut Vec<StreamEvent>) {}

    fn is_finished(&self) -> bool {
        self.finished
    }
}

impl Provider for OpenAiResponses {
    fn api(&self) -> &str {
        "openai-responses"
    }

    fn stream(
        &self,
        model: &Model,
        context: &LlmContext,
        options: &StreamOptions,
    ) -> BoxStream<'static, StreamEvent> {
        let body = request_body(model, context, options);
        let mut req = http::client()
            .post(http::join_url(&model.base_url, "responses"))
            .header("content-type", "application/json")
            .header("accept", "text/event-stream");
        if let Some(key) = options.api_key.as_deref() {
            req = req.bearer_auth(key);
        }
        req = http::with_headers(req, model, options).json(&body);
        http::send_and_decode(
            model.provider.clone(),
            req,
            ResponsesDecoder::new(),
            ErrorStyle::OpenAi,
            options.cancel.clone(),
        )
    }
}
