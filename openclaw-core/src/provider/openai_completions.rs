//! The `openai-completions` wire API: `POST {baseUrl}/chat/completions` with `stream: true`
//! (OpenAI, Ollama, vLLM, LM Studio, OpenRouter, Groq and other OpenAI-compatible servers),
//! including pi's `compat` switches, and the incremental decoder of its `chat.completion.chunk`s.

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::stream::BoxStream;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};

mod messages;

use self::messages::Messages;
use super::http::{self, ErrorStyle, First, SseDecoder};
use super::{LlmContext, Provider, StreamEvent, StreamOptions, TokenCounts};
use crate::message::StopReason;
use crate::model::{Model, ThinkingLevel};
use crate::tool::ToolSpec;

/// Requests never ask for more output tokens than this (pi's cap).
pub const MAX_OUTPUT_TOKENS_CAP: u64 = 32_000;

/// The `openai-completions` provider.
#[derive(Debug, Clone, Default)]
pub struct OpenAiCompletions;

fn compat_bool(model: &Model, key: &str, default: bool) -> bool {
    model
        .compat_flag(key)
        .and_then(Value::as_bool)
        .unwrap_or(default)
}

/// pi's `reasoning_effort` value for a thinking level (`None` = do not send one).
pub fn reasoning_effort(level: ThinkingLevel) -> Option<&'static str> {
    match level {
        ThinkingLevel::Off => None,
        ThinkingLevel::Minimal => Some("minimal"),
        ThinkingLevel::Low => Some("low"),
        ThinkingLevel::Medium => Some("medium"),
        ThinkingLevel::High => Some("high"),
        ThinkingLevel::Xhigh => Some("xhigh"),
    }
}

fn data_url(mime: &str, data: &str) -> String {
    format!("data:{mime};base64,{data}")
}

/// The chat-completions `messages` array for `context`.
pub fn convert_messages(model: &Model, context: &LlmContext) -> Vec<Value> {
    match serde_json::to_value(Messages { model, context }) {
        Ok(Value::Array(list)) => list,
        _ => Vec::new(),
    }
}

/// The request body, keys in pi's order: model, messages, stream, stream_options, store,
/// max_completion_tokens, temperature, tools, reasoning_effort.
pub fn request_body(model: &Model, context: &LlmContext, options: &StreamOptions) -> Value {
    serde_json::to_value(RequestBody::new(model, context, options)).unwrap_or(Value::Null)
}

/// The capacity to serialise the next request body into.
static BODY_SIZE_HINT: AtomicUsize = AtomicUsize::new(4096);

/// The request body as the provider serialises it: [`request_body`]'s keys and values, with
/// the tools' JSON schemas borrowed from the context instead of copied for every request.
struct RequestBody<'a> {
    fields: Vec<(Cow<'static, str>, Field<'a>)>,
}

enum Field<'a> {
    Value(Value),
    Messages(&'a Model, &'a LlmContext),
    /// The `tools` array; the flag adds `strict: false` to each function.
    Tools(&'a [ToolSpec], bool),
}

impl<'a> RequestBody<'a> {
    fn new(model: &'a Model, context: &'a LlmContext, options: &StreamOptions) -> Self {
        let mut fields: Vec<(Cow<'static, str>, Field<'a>)> = Vec::with_capacity(9);
        fields.push((Cow::Borrowed("model"), Field::Value(json!(model.id))));
        fields.push((Cow::Borrowed("messages"), Field::Messages(model, context)));
        let mut put = |k: &'static str, v: Value| fields.push((Cow::Borrowed(k), Field::Value(v)));
        put("stream", json!(true));
        if compat_bool(model, "supportsUsageInStreaming", true) {
            put("stream_options", json!({"include_usage": true}));
        }
        if compat_bool(model, "supportsStore", true) {
            put("store", json!(false));
        }
        let max_tokens = options
            .max_tokens
            .unwrap_or_else(|| model.max_tokens.min(MAX_OUTPUT_TOKENS_CAP));
        let field = model
            .compat_flag("maxTokensField")
            .and_then(Value::as_str)
            .unwrap_or("max_completion_tokens");
        fields.push((
            Cow::Owned(field.to_owned()),
            Field::Value(json!(max_tokens)),
        ));
        if let Some(t) = options.temperature {
            fields.push((Cow::Borrowed("temperature"), Field::Value(json!(t))));
        }
        if !context.tools.is_empty() {
            let strict = compat_bool(model, "supportsStrictMode", true);
            fields.push((Cow::Borrowed("tools"), Field::Tools(&context.tools, strict)));
        }
        let level = options.thinking.clamp_to(model);
        if model.reasoning && compat_bool(model, "supportsReasoningEffort", true) {
            if let Some(effort) = reasoning_effort(level) {
                fields.push((
                    Cow::Borrowed("reasoning_effort"),
                    Field::Value(json!(effort)),
                ));
            }
        }
        RequestBody { fields }
    }
}

impl Serialize for RequestBody<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // Later keys replace earlier ones in place, as a map insert would.
        let mut seen: Vec<&str> = Vec::with_capacity(self.fields.len());
        let mut map = s.serialize_map(None)?;
        for (i, (k, v)) in self.fields.iter().enumerate() {
            if seen.contains(&k.as_ref()) {
                continue;
            }
            seen.push(k);
            let last = self.fields[i..]
                .iter()
                .rev()
                .find(|(k2, _)| k2 == k)
                .map_or(v, |(_, v2)| v2);
            match last {
                Field::Value(v) => map.serialize_entry(k, v)?,
                Field::Messages(model, context) => {
                    map.serialize_entry(k, &Messages { model, context })?
                }
                Field::Tools(tools, strict) => {
                    let list: Vec<ToolEntry<'_>> = tools
                        .iter()
                        .map(|t| ToolEntry {
                            kind: "function",
                            function: FunctionEntry {
                                name: &t.name,
                                description: &t.description,
                                parameters: &t.parameters,
                                strict: strict.then_some(false),
                            },
                        })
                        .collect();
                    map.serialize_entry(k, &list)?
                }
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
struct ToolEntry<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: FunctionEntry<'a>,
}

#[derive(Serialize)]
struct FunctionEntry<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    strict: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking(&'static str),
    Tool,
}

#[derive(Debug)]
struct Block {
    kind: Kind,
    /// For tool calls: the server's `tool_calls[].index` and `id`.
    tool_index: i64,
    tool_id: String,
}

/// Decodes `chat.completion.chunk` events. All blocks stay open until the stream finishes and
/// are then closed in order (pi's observed order; reasoning blocks carry the delta field's name
/// as their signature).
#[derive(Debug, Default)]
pub struct CompletionsDecoder {
    blocks: Vec<Block>,
    current: Option<usize>,
    saw_id: bool,
    finish: Option<StopReason>,
    filtered: bool,
    finished: bool,
}

/// The parts of a `chat.completion.chunk` the decoder reads (strings borrowed when possible).
#[derive(Deserialize)]
struct Chunk<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    choices: Option<First<Choice<'a>>>,
    /// Rare fields are boxed: the struct stays small, and it is moved while parsing.
    #[serde(default)]
    usage: Option<Box<Value>>,
    #[serde(default)]
    error: Option<Box<Value>>,
}

#[derive(Deserialize)]
struct Choice<'a> {
    #[serde(borrow, default)]
    delta: Option<Box<Delta<'a>>>,
    #[serde(borrow, default)]
    finish_reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(borrow, default)]
    content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning_content: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    reasoning_text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    tool_calls: Option<Vec<ToolDelta<'a>>>,
}

#[derive(Deserialize)]
struct ToolDelta<'a> {
    #[serde(default)]
    index: Option<i64>,
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    function: Option<FunctionDelta<'a>>,
}

#[derive(Deserialize)]
struct FunctionDelta<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<Cow<'a, str>>,
}

const REASONING_FIELDS: [&str; 3] = ["reasoning_content", "reasoning", "reasoning_text"];

impl CompletionsDecoder {
    /// A fresh decoder.
    pub fn new() -> Self {
        Self::default()
    }

    fn open(&mut self, kind: Kind, tool_index: i64, tool_id: String) -> usize {
        self.blocks.push(Block {
            kind,
            tool_index,
            tool_id,
        });
        let i = self.blocks.len() - 1;
        self.current = Some(i);
        i
    }

    fn current_of(&self, kind: Kind) -> Option<usize> {
        self.current.filter(|&i| self.blocks[i].kind == kind)
    }

    fn on_chunk(&mut self, chunk: Chunk<'_>, out: &mut Vec<StreamEvent>) {
        if !self.saw_id {
            if let Some(id) = chunk.id {
                self.saw_id = true;
                out.push(StreamEvent::ResponseId(id.into_owned()));
            }
        }
        if let Some(err) = chunk.error.filter(|e| !e.is_null()) {
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
        if let Some(usage) = chunk.usage.filter(|u| u.is_object()) {
            out.push(StreamEvent::Usage(usage_counts(&usage)));
        }
        let Some(choice) = chunk.choices.and_then(|c| c.0) else {
            return;
        };
        if let Some(delta) = choice.delta {
            self.on_delta(*delta, out);
        }
        if let Some(reason) = choice.finish_reason {
            self.finish = Some(match reason.as_ref() {
                "length" => StopReason::Length,
                "tool_calls" | "function_call" => StopReason::ToolUse,
                "content_filter" => {
                    self.filtered = true;
                    StopReason::Error
                }
                _ => StopReason::Stop,
            });
        }
    }

    fn on_delta(&mut self, delta: Delta<'_>, out: &mut Vec<StreamEvent>) {
        let reasoning = [
            (REASONING_FIELDS[0], delta.reasoning_content),
            (REASONING_FIELDS[1], delta.reasoning),
            (REASONING_FIELDS[2], delta.reasoning_text),
        ];
        if let Some((field, text)) = reasoning
            .into_iter()
            .find_map(|(f, t)| t.filter(|t| !t.is_empty()).map(|t| (f, t)))
        {
            let kind = Kind::Thinking(field);
            let index = match self.current_of(kind) {
                Some(i) => i,
                None => {
                    let i = self.open(kind, -1, String::new());
                    out.push(StreamEvent::ThinkingStart { index: i });
                    i
                }
            };
            out.push(StreamEvent::ThinkingDelta {
                index,
                delta: text.into_owned(),
            });
        }
        if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
            let index = match self.current_of(Kind::Text) {
                Some(i) => i,
                None => {
                    let i = self.open(Kind::Text, -1, String::new());
                    out.push(StreamEvent::TextStart { index: i });
                    i
                }
            };
            out.push(StreamEvent::TextDelta {
                index,
                delta: text.into_owned(),
            });
        }
        for call in delta.tool_calls.unwrap_or_default() {
            self.on_tool_delta(call, out);
        }
    }

    fn on_tool_delta(&mut self, call: ToolDelta<'_>, out: &mut Vec<StreamEvent>) {
        let tool_index = call.index.unwrap_or(0);
        let id = call.id.filter(|s| !s.is_empty());
        let (name, arguments) = match call.function {
            Some(f) => (f.name, f.arguments),
            None => (None, None),
        };
        let existing = self
            .blocks
            .iter()
            .rposition(|b| b.kind == Kind::Tool && b.tool_index == tool_index);
        let index = match (existing, id.as_deref()) {
            (Some(i), Some(id)) if self.blocks[i].tool_id == id => i,
            (Some(i), None) => i,
            _ => {
                let id = id.map(Cow::into_owned).unwrap_or_default();
                let name = name.map(Cow::into_owned).unwrap_or_default();
                let i = self.open(Kind::Tool, tool_index, id.clone());
                out.push(StreamEvent::ToolCallStart { index: i, id, name });
                i
            }
        };
        self.current = Some(index);
        if let Some(args) = arguments {
            out.push(StreamEvent::ToolCallDelta {
                index,
                delta: args.into_owned(),
            });
        }
    }

    fn close(&mut self, out: &mut Vec<StreamEvent>) {
        for (index, block) in self.blocks.iter().enumerate() {
            out.push(match block.kind {
                Kind::Text => StreamEvent::TextEnd {
                    index,
                    signature: None,
                },
                Kind::Thinking(field) => StreamEvent::ThinkingEnd {
                    index,
                    signature: Some(field.to_owned()),
                    redacted: false,
                },
                Kind::Tool => StreamEvent::ToolCallEnd {
                    index,
                    arguments: None,
                    thought_signature: None,
                },
            });
        }
        self.finished = true;
        if self.filtered {
            out.push(StreamEvent::Error {
                reason: StopReason::Error,
                message: "Provider finish_reason: content_filter".to_owned(),
            });
        } else {
            out.push(StreamEvent::Done {
                reason: self.finish.unwrap_or(StopReason::Stop),
            });
        }
    }
}

/// pi's usage mapping: input excludes cached tokens, output includes reasoning tokens.
pub fn usage_counts(usage: &Value) -> TokenCounts {
    let n = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
    let prompt = n(usage.get("prompt_tokens"));
    let cached = n(usage.pointer("/prompt_tokens_details/cached_tokens"));
    let completion = n(usage.get("completion_tokens"));
    let reasoning = n(usage.pointer("/completion_tokens_details/reasoning_tokens"));
    TokenCounts {
        input: prompt.saturating_sub(cached),
        output: completion + reasoning,
        cache_read: cached,
        cache_write: 0,
    }
}

impl SseDecoder for CompletionsDecoder {
    fn on_event(&mut self, _event: &str, data: &str, out: &mut Vec<StreamEvent>) {
        if self.finished {
            return;
        }
        let data = data.trim();
        if data == "[DONE]" {
            self.close(out);
            return;
        }
        if data.is_empty() {
            return;
        }
        match serde_json::from_str::<Chunk<'_>>(data) {
            Ok(chunk) => self.on_chunk(chunk, out),
            Err(e) => {
                self.finished = true;
                out.push(StreamEvent::Error {
                    reason: StopReason::Error,
                    message: format!("invalid chunk from server: {e}"),
                });
            }
        }
    }

    fn on_end(&mut self, out: &mut Vec<StreamEvent>) {
        if !self.finished && self.finish.is_some() {
            self.close(out);
        }
    }

    fn is_finished(&self) -> bool {
        self.finished
    }
}

impl Provider for OpenAiCompletions {
    fn api(&self) -> &str {
        "openai-completions"
    }

    fn stream(
        &self,
        model: &Model,
        context: &LlmContext,
        options: &StreamOptions,
    ) -> BoxStream<'static, StreamEvent> {
        let body = RequestBody::new(model, context, options);
        let mut req = http::client()
            .post(http::join_url(&model.base_url, "chat/completions"))
            .header("content-type", "application/json")
            .header("accept", "text/event-stream");
        if let Some(key) = options.api_key.as_deref() {
            req = req.bearer_auth(key);
        }
        req = http::with_headers(req, model, options);
        // Serialised into a buffer sized after the previous request's body (a request of tens
        // of KB otherwise grows its buffer by doubling, copying it each time).
        let mut buf = Vec::with_capacity(BODY_SIZE_HINT.load(Ordering::Relaxed));
        req = match serde_json::to_writer(&mut buf, &body) {
            Ok(()) => {
                BODY_SIZE_HINT.store(
                    (buf.len() + buf.len() / 8 + 256).min(1 << 20),
                    Ordering::Relaxed,
                );
                req.body(buf)
            }
            Err(_) => req.json(&body),
        };
        drop(body);
        http::send_and_decode(
            model.provider.clone(),
            req,
            CompletionsDecoder::new(),
            ErrorStyle::OpenAi,
            options.cancel.clone(),
        )
    }
}
