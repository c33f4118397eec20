//! The `google-generative-ai` wire API: Gemini's
//! `POST {baseUrl}/models/{id}:streamGenerateContent?alt=sse`; parts (text, thought parts,
//! whole `functionCall`s with thought signatures) and `usageMetadata` are decoded from each
//! streamed `GenerateContentResponse`.

use std::borrow::Cow;

use futures::stream::BoxStream;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::http::{self, ErrorStyle, First, SseDecoder};
use super::openai_completions::MAX_OUTPUT_TOKENS_CAP;
use super::{LlmContext, Provider, StreamEvent, StreamOptions, TokenCounts};
use crate::message::{ContentBlock, Message, StopReason};
use crate::model::{Model, ThinkingLevel};

/// The `google-generative-ai` provider.
#[derive(Debug, Clone, Default)]
pub struct GoogleGenerativeAi;

/// Gemini `thinkingBudget` for a level (`None` = leave thinking unconfigured).
pub fn thinking_budget(model: &Model, level: ThinkingLevel) -> Option<i64> {
    let pro = model.id.contains("pro");
    match level {
        ThinkingLevel::Off => None,
        ThinkingLevel::Minimal => Some(128),
        ThinkingLevel::Low => Some(2048),
        ThinkingLevel::Medium => Some(8192),
        ThinkingLevel::High | ThinkingLevel::Xhigh => Some(if pro { 32768 } else { 24576 }),
    }
}

fn parts_of(blocks: &[ContentBlock], images: bool) -> Vec<Value> {
    let mut out = Vec::new();
    for b in blocks {
        match b {
            ContentBlock::Text(t) if !t.text.is_empty() => out.push(json!({"text": t.text})),
            ContentBlock::Image(i) if images => {
                out.push(json!({"inlineData": {"mimeType": i.mime_type, "data": i.data}}))
            }
            _ => {}
        }
    }
    out
}

/// The `contents` array for `context`.
pub fn convert_contents(model: &Model, context: &LlmContext) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut pending: Vec<Value> = Vec::new();
    let flush = |out: &mut Vec<Value>, pending: &mut Vec<Value>| {
        if !pending.is_empty() {
            out.push(json!({"role": "user", "parts": std::mem::take(pending)}));
        }
    };
    for message in &context.messages {
        match &**message {
            Message::User(u) => {
                flush(&mut out, &mut pending);
                let parts = parts_of(&u.content.blocks(), model.supports_images());
                if !parts.is_empty() {
                    out.push(json!({"role": "user", "parts": parts}));
                }
            }
            Message::Assistant(a) => {
                flush(&mut out, &mut pending);
                if matches!(a.stop_reason, StopReason::Error | StopReason::Aborted) {
                    continue;
                }
                let mut parts = Vec::new();
                for b in &a.content {
                    match b {
                        ContentBlock::Text(t) if !t.text.is_empty() => {
                            let mut p = Map::new();
                            p.insert("text".into(), json!(t.text));
                            if let Some(sig) = &t.text_signature {
                                p.insert("thoughtSignature".into(), json!(sig));
                            }
                            parts.push(Value::Object(p));
                        }
                        ContentBlock::Thinking(t) if !t.thinking.is_empty() => {
                            let mut p = Map::new();
                            p.insert("thought".into(), json!(true));
                            p.insert("text".into(), json!(t.thinking));
                            if let Some(sig) = &t.thinking_signature {
                                p.insert("thoughtSignature".into(), json!(sig));
                            }
                            parts.push(Value::Object(p));
                        }
                        ContentBlock::ToolCall(c) => {
                            let mut p = Map::new();
                            p.insert(
                                "functionCall".into(),
                                json!({"name": c.name, "args": c.arguments}),
                            );
                            if let Some(sig) = &c.thought_signature {
                                p.insert("thoughtSignature".into(), json!(sig));
                            }
                            parts.push(Value::Object(p));
                        }
                        _ => {}
                    }
                }
                if !parts.is_empty() {
                    out.push(json!({"role": "model", "parts": parts}));
                }
            }
            Message::ToolResult(r) => {
                let text = crate::message::join_text(&r.content);
                let response = if r.is_error {
                    json!({"error": text})
                } else {
                    json!({"output": text})
                };
                pending
                    .push(json!({"functionResponse": {"name": r.tool_name, "response": response}}));
            }
            _ => {}
        }
    }
    flush(&mut out, &mut pending);
    out
}

/// The request body: contents, systemInstruction, generationConfig, tools.
pub fn request_body(model: &Model, context: &LlmContext, options: &StreamOptions) -> Value {
    let mut body = Map::new();
    body.insert(
        "contents".into(),
        Value::Array(convert_contents(model, context)),
    );
    if !context.system_prompt.is_empty() {
        body.insert(
            "systemInstruction".into(),
            json!({"parts": [{"text": context.system_prompt}]}),
        );
    }
    let mut config = Map::new();
    let max = options
        .max_tokens
        .unwrap_or_else(|| model.max_tokens.min(MAX_OUTPUT_TOKENS_CAP));
    config.insert("maxOutputTokens".into(), json!(max));
    if let Some(t) = options.temperature {
        config.insert("temperature".into(), json!(t));
    }
    if model.reasoning {
        if let Some(b) = thinking_budget(model, options.thinking.clamp_to(model)) {
            config.insert(
                "thinkingConfig".into(),
                json!({"includeThoughts": true, "thinkingBudget": b}),
            );
        }
    }
    body.insert("generationConfig".into(), Value::Object(config));
    if !context.tools.is_empty() {
        let decls: Vec<Value> = context
            .tools
            .iter()
            .map(|t| json!({"name": t.name, "description": t.description, "parameters": t.parameters}))
            .collect();
        body.insert("tools".into(), json!([{"functionDeclarations": decls}]));
    }
    Value::Object(body)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
}

/// Decodes streamed `GenerateContentResponse`s; a change of part kind closes the open block.
#[derive(Debug, Default)]
pub struct GeminiDecoder {
    current: Option<(usize, Kind, Option<String>)>,
    next_index: usize,
    saw_id: bool,
    tool_calls: usize,
    finish: Option<StopReason>,
    finish_text: Option<String>,
    finished: bool,
}

impl GeminiDecoder {
    /// A fresh decoder.
    pub fn new() -> Self {
        Self::default()
    }

    fn close_current(&mut self, out: &mut Vec<StreamEvent>) {
        if let Some((index, kind, sig)) = self.current.take() {
            out.push(match kind {
                Kind::Text => StreamEvent::TextEnd {
                    index,
                    signature: sig,
                },
                Kind::Thinking => StreamEvent::ThinkingEnd {
                    index,
                    signature: sig,
                    redacted: false,
                },
            });
        }
    }

    fn on_part(&mut self, part: Part<'_>, out: &mut Vec<StreamEvent>) {
        let sig = part.thought_signature.map(Cow::into_owned);
        if let Some(text) = part.text {
            let kind = if part.thought == Some(true) {
                Kind::Thinking
            } else {
                Kind::Text
            };
            if self.current.as_ref().is_none_or(|c| c.1 != kind) {
                self.close_current(out);
                let index = self.next_index;
                self.next_index += 1;
                out.push(match kind {
                    Kind::Text => StreamEvent::TextStart { index },
                    Kind::Thinking => StreamEvent::ThinkingStart { index },
                });
                self.current = Some((index, kind, None));
            }
            if let Some(cur) = self.current.as_mut() {
                if sig.is_some() {
                    cur.2 = sig.clone();
                }
                let index = cur.0;
                let delta = text.into_owned();
                out.push(match kind {
                    Kind::Text => StreamEvent::TextDelta { index, delta },
                    Kind::Thinking => StreamEvent::ThinkingDelta { index, delta },
                });
            }
        }
        if let Some(call) = part.function_call {
            self.close_current(out);
            let index = self.next_index;
            self.next_index += 1;
            let name = call
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            self.tool_calls += 1;
            let id = call
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{name}_{}", self.tool_calls));
            let args = call
                .get("args")
                .cloned()
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({}));
            out.push(StreamEvent::ToolCallStart { index, id, name });
            out.push(StreamEvent::ToolCallDelta {
                index,
                delta: args.to_string(),
            });
            out.push(StreamEvent::ToolCallEnd {
                index,
                arguments: Some(args),
                thought_signature: sig,
            });
        }
    }

    fn on_response(&mut self, v: GeminiChunk<'_>, out: &mut Vec<StreamEvent>) {
        if let Some(err) = v.error.filter(|e| !e.is_null()) {
            let msg = err
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| err.to_string());
            self.finished = true;
            out.push(StreamEvent::Error {
                reason: StopReason::Error,
                message: msg,
            });
            return;
        }
        if !self.saw_id {
            if let Some(id) = v.response_id {
                self.saw_id = true;
                out.push(StreamEvent::ResponseId(id.into_owned()));
            }
        }
        if let Some(c) = v.candidates.and_then(|c| c.0) {
            let parts = c.content.and_then(|c| c.parts).unwrap_or_default();
            for p in parts {
                self.on_part(p, out);
            }
            if let Some(r) = c.finish_reason {
                self.finish = Some(match r.as_ref() {
                    "STOP" => StopReason::Stop,
                    "MAX_TOKENS" => StopReason::Length,
                    other => {
                        self.finish_text = Some(format!("Gemini stopped: {other}"));
                        StopReason::Error
                    }
                });
            }
        }
        if let Some(u) = v.usage_metadata {
            let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
            let cached = n("cachedContentTokenCount");
            out.push(StreamEvent::Usage(TokenCounts {
                input: n("promptTokenCount").saturating_sub(cached),
                output: n("candidatesTokenCount") + n("thoughtsTokenCount"),
                cache_read: cached,
                cache_write: 0,
            }));
        }
    }
}

/// The parts of a streamed `GenerateContentResponse` the decoder reads.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GeminiChunk<'a> {
    #[serde(borrow, default)]
    candidates: Option<First<Candidate<'a>>>,
    /// Rare fields are boxed: the struct stays small, and it is moved while parsing.
    #[serde(default)]
    usage_metadata: Option<Box<Value>>,
    #[serde(borrow, default)]
    response_id: Option<Cow<'a, str>>,
    #[serde(default)]
    error: Option<Box<Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate<'a> {
    #[serde(borrow, default)]
    content: Option<CandidateContent<'a>>,
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct CandidateContent<'a> {
    #[serde(borrow, default)]
    parts: Option<Vec<Part<'a>>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part<'a> {
    #[serde(borrow, default)]
    text: Option<Cow<'a, str>>,
    #[serde(default)]
    thought: Option<bool>,
    #[serde(borrow, default)]
    thought_signature: Option<Cow<'a, str>>,
    #[serde(default)]
    function_call: Option<Box<Value>>,
}

impl SseDecoder for GeminiDecoder {
    fn on_event(&mut self, _event: &str, data: &str, out: &mut Vec<StreamEvent>) {
        if self.finished || data.trim().is_empty() {
            return;
        }
        match serde_json::from_str::<GeminiChunk<'_>>(data) {
            Ok(v) => self.on_response(v, out),
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
        if self.finished || self.finish.is_none() {
            return;
        }
        self.close_current(out);
        self.finished = true;
        match (self.finish, self.finish_text.take()) {
            (Some(StopReason::Error), Some(message)) => out.push(StreamEvent::Error {
                reason: StopReason::Error,
                message,
            }),
            (Some(StopReason::Stop), _) if self.tool_calls > 0 => out.push(StreamEvent::Done {
                reason: StopReason::ToolUse,
            }),
            (reason, _) => out.push(StreamEvent::Done {
                reason: reason.unwrap_or(StopReason::Stop),
            }),
        }
    }

    fn is_finished(&self) -> bool {
        self.finished
    }
}

impl Provider for GoogleGenerativeAi {
    fn api(&self) -> &str {
        "google-generative-ai"
    }

    fn stream(
        &self,
        model: &Model,
        context: &LlmContext,
        options: &StreamOptions,
    ) -> BoxStream<'static, StreamEvent> {
        let body = request_body(model, context, options);
        let url = http::join_url(
            &model.base_url,
            &format!("models/{}:streamGenerateContent?alt=sse", model.id),
        );
        let mut req = http::client()
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "text/event-stream");
        if let Some(key) = options.api_key.as_deref() {
            req = req.header("x-goog-api-key", key);
        }
        req = http::with_headers(req, model, options).json(&body);
        http::send_and_decode(
            model.provider.clone(),
            req,
            GeminiDecoder::new(),
            ErrorStyle::Google,
            options.cancel.clone(),
        )
    }
}
