//! The chat-completions `messages` array, serialised straight from the context's messages
//! (borrowing their text) instead of being built as `serde_json::Value`s first.
//! [`super::convert_messages`] is this array as values, so both share one set of rules.

use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};

use super::{compat_bool, data_url};
use crate::message::{ContentBlock, Message, StopReason, UserContent, join_text};
use crate::model::Model;
use crate::provider::LlmContext;

/// The `messages` of a request for `model` (system prompt first when there is one).
pub(super) struct Messages<'a> {
    pub model: &'a Model,
    pub context: &'a LlmContext,
}

#[derive(Serialize)]
#[serde(tag = "type")]
enum Part<'a> {
    #[serde(rename = "text")]
    Text { text: &'a str },
    #[serde(rename = "image_url")]
    ImageUrl { image_url: Url },
}

#[derive(Serialize)]
struct Url {
    url: String,
}

#[derive(Serialize)]
struct Plain<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct WithParts<'a> {
    role: &'static str,
    content: Vec<Part<'a>>,
}

#[derive(Serialize)]
struct Assistant<'a> {
    role: &'static str,
    /// `null` when the message only calls tools.
    content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<Call<'a>>,
}

#[derive(Serialize)]
struct Call<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: CallFunction<'a>,
}

#[derive(Serialize)]
struct CallFunction<'a> {
    name: &'a str,
    arguments: String,
}

#[derive(Serialize)]
struct ToolMessage<'a> {
    role: &'static str,
    content: String,
    tool_call_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

/// The user-visible parts of `blocks`: text, and images when the model takes them.
fn parts(blocks: &[ContentBlock], images: bool) -> Vec<Part<'_>> {
    blocks
        .iter()
        .filter_map(|b| match b {
            ContentBlock::Text(t) => Some(Part::Text { text: &t.text }),
            ContentBlock::Image(img) if images => Some(Part::ImageUrl {
                image_url: Url {
                    url: data_url(&img.mime_type, &img.data),
                },
            }),
            _ => None,
        })
        .collect()
}

impl Serialize for Messages<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (model, context) = (self.model, self.context);
        let mut seq = s.serialize_seq(None)?;
        if !context.system_prompt.is_empty() {
            let role = if model.reasoning && compat_bool(model, "supportsDeveloperRole", true) {
                "developer"
            } else {
                "system"
            };
            seq.serialize_element(&Plain {
                role,
                content: &context.system_prompt,
            })?;
        }
        let name_results = compat_bool(model, "requiresToolResultName", false);
        let images = model.supports_images();
        for message in &context.messages {
            match &**message {
                Message::User(u) => {
                    let content = match &u.content {
                        UserContent::Text(t) => vec![Part::Text { text: t }],
                        UserContent::Blocks(b) => parts(b, images),
                    };
                    if !content.is_empty() {
                        seq.serialize_element(&WithParts {
                            role: "user",
                            content,
                        })?;
                    }
                }
                Message::Assistant(a) => {
                    if matches!(a.stop_reason, StopReason::Error | StopReason::Aborted)
                        && a.content.is_empty()
                    {
                        continue;
                    }
                    let text = a.text();
                    let tool_calls: Vec<Call<'_>> = a
                        .tool_calls()
                        .map(|c| Call {
                            id: &c.id,
                            kind: "function",
                            function: CallFunction {
                                name: &c.name,
                                arguments: c.arguments.to_string(),
                            },
                        })
                        .collect();
                    let content = if text.is_empty() && !tool_calls.is_empty() {
                        None
                    } else {
                        Some(text)
                    };
                    seq.serialize_element(&Assistant {
                        role: "assistant",
                        content,
                        tool_calls,
                    })?;
                }
                Message::ToolResult(r) => {
                    seq.serialize_element(&ToolMessage {
                        role: "tool",
                        content: join_text(&r.content),
                        tool_call_id: &r.tool_call_id,
                        name: name_results.then_some(r.tool_name.as_str()),
                    })?;
                    let has_images = r
                        .content
                        .iter()
                        .any(|b| matches!(b, ContentBlock::Image(_)));
                    if has_images && images {
                        let mut content = vec![Part::Text {
                            text: "Attached image(s) from tool result:",
                        }];
                        content.extend(
                            parts(&r.content, true)
                                .into_iter()
                                .filter(|p| matches!(p, Part::ImageUrl { .. })),
                        );
                        seq.serialize_element(&WithParts {
                            role: "user",
                            content,
                        })?;
                    }
                }
                _ => {}
            }
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value, json};

    // The `Value`-building conversion this module replaced, kept as the reference.
    fn user_parts(blocks: &[ContentBlock], images: bool) -> Vec<Value> {
        let mut parts = Vec::with_capacity(blocks.len());
        for block in blocks {
            match block {
                ContentBlock::Text(t) => parts.push(json!({"type": "text", "text": t.text})),
                ContentBlock::Image(img) if images => parts.push(json!({
                    "type": "image_url",
                    "image_url": {"url": data_url(&img.mime_type, &img.data)}
                })),
                _ => {}
            }
        }
        parts
    }

    /// The chat-completions `messages` array for `context`.
    fn old_convert_messages(model: &Model, context: &LlmContext) -> Vec<Value> {
        let mut out = Vec::with_capacity(context.messages.len() + 1);
        if !context.system_prompt.is_empty() {
            let role = if model.reasoning && compat_bool(model, "supportsDeveloperRole", true) {
                "developer"
            } else {
                "system"
            };
            out.push(json!({"role": role, "content": context.system_prompt}));
        }
        let name_results = compat_bool(model, "requiresToolResultName", false);
        for message in &context.messages {
            match &**message {
                Message::User(u) => {
                    let parts = user_parts(&u.content.blocks(), model.supports_images());
                    if !parts.is_empty() {
                        out.push(json!({"role": "user", "content": parts}));
                    }
                }
                Message::Assistant(a) => {
                    if matches!(a.stop_reason, StopReason::Error | StopReason::Aborted)
                        && a.content.is_empty()
                    {
                        continue;
                    }
                    let text = a.text();
                    let calls: Vec<Value> = a
                        .tool_calls()
                        .map(|c| {
                            json!({"id": c.id, "type": "function", "function": {
                                "name": c.name, "arguments": c.arguments.to_string()}})
                        })
                        .collect();
                    let mut m = Map::new();
                    m.insert("role".into(), json!("assistant"));
                    m.insert(
                        "content".into(),
                        if text.is_empty() && !calls.is_empty() {
                            Value::Null
                        } else {
                            Value::String(text)
                        },
                    );
                    if !calls.is_empty() {
                        m.insert("tool_calls".into(), Value::Array(calls));
                    }
                    out.push(Value::Object(m));
                }
                Message::ToolResult(r) => {
                    let text = crate::message::join_text(&r.content);
                    let mut m = Map::new();
                    m.insert("role".into(), json!("tool"));
                    m.insert("content".into(), json!(text));
                    m.insert("tool_call_id".into(), json!(r.tool_call_id));
                    if name_results {
                        m.insert("name".into(), json!(r.tool_name));
                    }
                    out.push(Value::Object(m));
                    let has_images = r
                        .content
                        .iter()
                        .any(|b| matches!(b, ContentBlock::Image(_)));
                    if has_images && model.supports_images() {
                        let mut parts = vec![
                            json!({"type": "text", "text": "Attached image(s) from tool result:"}),
                        ];
                        parts.extend(
                            user_parts(&r.content, true)
                                .into_iter()
                                .filter(|p| p["type"] == "image_url"),
                        );
                        out.push(json!({"role": "user", "content": parts}));
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn context() -> LlmContext {
        let img = json!({"type": "image", "data": "QUJD", "mimeType": "image/png"});
        let messages: Vec<std::sync::Arc<Message>> = serde_json::from_value(json!([
            {"role": "user", "content": "plain \"text\"", "timestamp": 1},
            {"role": "user", "content": [{"type": "text", "text": "look"}, img, {"type": "text", "text": "é"}], "timestamp": 2},
            {"role": "user", "content": [img], "timestamp": 3},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm"}, {"type": "text", "text": "a"}, {"type": "text", "text": "b"},
                {"type": "toolCall", "id": "c1", "name": "read", "arguments": {"path": "x", "n": 1.5}}],
                "api": "openai-completions", "provider": "p", "model": "m", "usage": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 0,
                "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0}}, "stopReason": "toolUse", "timestamp": 4},
            {"role": "toolResult", "toolCallId": "c1", "toolName": "read", "content": [{"type": "text", "text": "one"}, img, {"type": "text", "text": "two"}], "isError": false, "timestamp": 5},
            {"role": "assistant", "content": [{"type": "toolCall", "id": "c2", "name": "ls", "arguments": {}}],
                "api": "openai-completions", "provider": "p", "model": "m", "usage": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 0,
                "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0}}, "stopReason": "toolUse", "timestamp": 6},
            {"role": "assistant", "content": [],
                "api": "openai-completions", "provider": "p", "model": "m", "usage": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 0,
                "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0}}, "stopReason": "aborted", "timestamp": 7},
            {"role": "assistant", "content": [],
                "api": "openai-completions", "provider": "p", "model": "m", "usage": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "totalTokens": 0,
                "cost": {"input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0, "total": 0}}, "stopReason": "stop", "timestamp": 8}
        ]))
        .unwrap();
        LlmContext {
            system_prompt: "You are \n helpful".into(),
            messages,
            tools: Vec::new(),
        }
    }

    #[test]
    fn typed_messages_match_the_value_conversion_byte_for_byte() {
        let ctx = context();
        let mut empty = ctx.clone();
        empty.system_prompt.clear();
        for (images, reasoning, compat) in [
            (false, false, None),
            (true, true, None),
            (
                true,
                true,
                Some(json!({"supportsDeveloperRole": false, "requiresToolResultName": true})),
            ),
        ] {
            let mut model = crate::testing::scripted::test_model();
            if images {
                model.input.push("image".into());
            }
            model.reasoning = reasoning;
            model.compat = compat;
            for c in [&ctx, &empty] {
                let typed = serde_json::to_string(&Messages {
                    model: &model,
                    context: c,
                })
                .unwrap();
                let reference = Value::Array(old_convert_messages(&model, c)).to_string();
                assert_eq!(typed, reference);
            }
        }
    }
}
