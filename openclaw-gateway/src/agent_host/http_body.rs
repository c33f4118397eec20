//! The request bodies of `POST /v1/chat/completions` and `POST /v1/responses`, typed, and the
//! rule "honour or refuse, never ignore": a field the agent endpoint does not act on gets a 400
//! naming it, unless it is `null` or asks for what happens anyway (`n: 1`, `tools: []`, …).
//!
//! Honoured: `model` (the agent), `messages` / `input` (one user message: the turn), `stream`,
//! `user` (the session) and, on Chat Completions, `stream_options.include_usage`. Refused:
//! sampling and length settings (`temperature`, `max_tokens`, …: the agent's model settings
//! decide), client tools, other roles (the agent has its own system prompt and the session its
//! own history: send only the new user message and name the session with `user`), non-text
//! content parts, and any field this module does not know.

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// A refused request: the field (OpenAI's `param`) and the message.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub param: String,
    pub message: String,
}

impl Refusal {
    fn new(param: impl Into<String>, why: &str) -> Refusal {
        let param = param.into();
        Refusal {
            message: format!("{param}: not supported by the openclaw agent endpoint ({why})"),
            param,
        }
    }

    fn invalid(param: impl Into<String>, message: impl Into<String>) -> Refusal {
        Refusal {
            param: param.into(),
            message: message.into(),
        }
    }
}

/// `stream_options` of Chat Completions.
#[derive(Deserialize)]
pub(crate) struct StreamOptions {
    #[serde(default)]
    pub include_usage: Option<bool>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

/// A `POST /v1/chat/completions` body.
#[derive(Deserialize)]
pub(crate) struct ChatBody {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    messages: Option<Vec<InputMessage>>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    stream_options: Option<StreamOptions>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

/// A `POST /v1/responses` body.
#[derive(Deserialize)]
pub(crate) struct ResponsesBody {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    input: Option<ResponsesInput>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ResponsesInput {
    Text(String),
    Items(Vec<InputMessage>),
}

/// A message of `messages` or an item of `input`.
#[derive(Deserialize)]
struct InputMessage {
    #[serde(default)]
    role: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    content: Option<Content>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<Part>),
}

#[derive(Deserialize)]
struct Part {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(flatten)]
    rest: Map<String, Value>,
}

/// A refusable field: its name, whether a value asks only for what happens anyway, and why
/// anything else is refused.
type Rule = (&'static str, fn(&Value) -> bool, &'static str);

const SAMPLING: &str = "sampling and length come from the agent's model settings";
const TOOLS: &str = "the agent runs its own tools; client-side tools are not offered to the model";
const FORMAT: &str = "the reply is the agent's plain text";
const NOT_KEPT: &str = "the gateway does not keep or report it";

fn never(_: &Value) -> bool {
    false
}
fn empty(v: &Value) -> bool {
    v.as_array().is_some_and(Vec::is_empty) || v.as_object().is_some_and(Map::is_empty)
}
fn one(v: &Value) -> bool {
    v.as_f64() == Some(1.0)
}
fn zero(v: &Value) -> bool {
    v.as_f64() == Some(0.0)
}
fn is_false(v: &Value) -> bool {
    v == &json!(false)
}
fn is_true(v: &Value) -> bool {
    v == &json!(true)
}
fn auto_or_none(v: &Value) -> bool {
    matches!(v.as_str(), Some("auto" | "none"))
}
fn auto(v: &Value) -> bool {
    v.as_str() == Some("auto")
}
fn text_format(v: &Value) -> bool {
    v == &json!({"type": "text"}) || v == &json!({"format": {"type": "text"}})
}
fn text_only(v: &Value) -> bool {
    v == &json!(["text"])
}
fn disabled(v: &Value) -> bool {
    v.as_str() == Some("disabled")
}

const CHAT_RULES: &[Rule] = &[
    ("max_tokens", never, SAMPLING),
    ("max_completion_tokens", never, SAMPLING),
    ("temperature", never, SAMPLING),
    ("top_p", one, SAMPLING),
    ("presence_penalty", zero, SAMPLING),
    ("frequency_penalty", zero, SAMPLING),
    ("logit_bias", empty, SAMPLING),
    ("seed", never, SAMPLING),
    ("stop", empty, "stop sequences are not passed to the model"),
    ("n", one, "an agent turn has one reply"),
    ("tools", empty, TOOLS),
    ("tool_choice", auto_or_none, TOOLS),
    ("functions", empty, TOOLS),
    ("function_call", auto_or_none, TOOLS),
    ("parallel_tool_calls", is_true, TOOLS),
    ("response_format", text_format, FORMAT),
    ("modalities", text_only, FORMAT),
    ("audio", never, FORMAT),
    ("prediction", never, FORMAT),
    (
        "logprobs",
        is_false,
        "the run does not report token probabilities",
    ),
    (
        "top_logprobs",
        zero,
        "the run does not report token probabilities",
    ),
    (
        "reasoning_effort",
        never,
        "the session's thinking level decides",
    ),
    ("store", is_false, NOT_KEPT),
    ("metadata", empty, NOT_KEPT),
    ("service_tier", auto, NOT_KEPT),
    ("web_search_options", never, TOOLS),
];

const RESPONSES_RULES: &[Rule] = &[
    ("max_output_tokens", never, SAMPLING),
    ("temperature", never, SAMPLING),
    ("top_p", one, SAMPLING),
    (
        "top_logprobs",
        zero,
        "the run does not report token probabilities",
    ),
    ("tools", empty, TOOLS),
    ("tool_choice", auto_or_none, TOOLS),
    ("parallel_tool_calls", is_true, TOOLS),
    ("max_tool_calls", never, TOOLS),
    ("text", text_format, FORMAT),
    ("reasoning", never, "the session's thinking level decides"),
    (
        "instructions",
        never,
        "the agent has its own system prompt (its workspace's AGENTS.md, SOUL.md, …)",
    ),
    (
        "previous_response_id",
        never,
        "responses are not stored; name the session with `user` to continue it",
    ),
    (
        "conversation",
        never,
        "name the session with `user` to continue it",
    ),
    ("store", is_true, NOT_KEPT),
    ("metadata", empty, NOT_KEPT),
    ("include", empty, NOT_KEPT),
    ("service_tier", auto, NOT_KEPT),
    (
        "truncation",
        disabled,
        "the session compacts its own context",
    ),
    ("background", is_false, "runs answer on this request only"),
    ("stream_options", empty, NOT_KEPT),
];

/// Refuses the first field of `rest` that is not `null`, not a default, or not known.
fn check_rest(prefix: &str, rest: &Map<String, Value>, rules: &[Rule]) -> Result<(), Refusal> {
    for (name, value) in rest {
        if value.is_null() {
            continue;
        }
        let param = format!("{prefix}{name}");
        match rules.iter().find(|(n, _, _)| n == name) {
            Some((_, default, _)) if default(value) => {}
            Some((_, _, why)) => return Err(Refusal::new(param, why)),
            None => return Err(Refusal::new(param, "unknown field")),
        }
    }
    Ok(())
}

const ONE_USER_MESSAGE: &str = "send only the new user message: the agent has its own system \
     prompt and the session its own history (name it with `user`)";

/// The text of the one user message `items` must hold (`param` names the list).
fn turn_text(param: &str, items: &[InputMessage]) -> Result<String, Refusal> {
    let [m] = items else {
        return Err(Refusal::new(
            param,
            &format!("{} messages; {ONE_USER_MESSAGE}", items.len()),
        ));
    };
    let at = format!("{param}[0]");
    if m.role.as_deref() != Some("user") {
        return Err(Refusal::new(format!("{at}.role"), ONE_USER_MESSAGE));
    }
    if m.kind.as_deref().is_some_and(|k| k != "message") {
        return Err(Refusal::new(
            format!("{at}.type"),
            "only message items are taken",
        ));
    }
    check_rest(&format!("{at}."), &m.rest, &[])?;
    match &m.content {
        Some(Content::Text(t)) => Ok(t.clone()),
        Some(Content::Parts(parts)) => {
            let mut text = Vec::with_capacity(parts.len());
            for (i, p) in parts.iter().enumerate() {
                let at = format!("{at}.content[{i}]");
                if !matches!(p.kind.as_str(), "text" | "input_text") {
                    return Err(Refusal::new(
                        format!("{at}.type"),
                        "only text parts reach the agent",
                    ));
                }
                check_rest(&format!("{at}."), &p.rest, &[])?;
                text.push(p.text.as_deref().unwrap_or_default());
            }
            Ok(text.join("\n"))
        }
        None => Err(Refusal::invalid(
            format!("{at}.content"),
            "the user message has no content",
        )),
    }
}

impl ChatBody {
    /// Checks every field; returns the turn's text and whether usage is asked for in a stream.
    pub fn validate(&self) -> Result<(String, bool), Refusal> {
        check_rest("", &self.rest, CHAT_RULES)?;
        let usage = match &self.stream_options {
            Some(o) => {
                check_rest("stream_options.", &o.rest, &[])?;
                o.include_usage == Some(true)
            }
            None => false,
        };
        let Some(messages) = &self.messages else {
            return Err(Refusal::invalid("messages", "messages must be an array"));
        };
        Ok((turn_text("messages", messages)?, usage))
    }
}

impl ResponsesBody {
    /// Checks every field; returns the turn's text.
    pub fn validate(&self) -> Result<String, Refusal> {
        check_rest("", &self.rest, RESPONSES_RULES)?;
        match &self.input {
            Some(ResponsesInput::Text(t)) => Ok(t.clone()),
            Some(ResponsesInput::Items(items)) => turn_text("input", items),
            None => Err(Refusal::invalid(
                "input",
                "input must be a string or an array of items",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(v: Value) -> Result<(String, bool), Refusal> {
        serde_json::from_value::<ChatBody>(v).unwrap().validate()
    }

    #[test]
    fn defaults_and_nulls_pass_and_the_rest_is_named() {
        let ok = chat(
            json!({"model": "openclaw", "n": 1, "tools": [], "temperature": null,
            "stream_options": {"include_usage": true},
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}),
        );
        assert_eq!(ok.unwrap(), ("hi".to_owned(), true));
        for (field, body) in [
            ("n", json!({"n": 2})),
            ("tools", json!({"tools": [{"type": "function"}]})),
            ("max_tokens", json!({"max_tokens": 5})),
            ("bogus", json!({"bogus": 1})),
        ] {
            let mut body = body;
            body["messages"] = json!([{"role": "user", "content": "x"}]);
            let e = chat(body).unwrap_err();
            assert_eq!(e.param, field);
            assert!(e.message.starts_with(&format!("{field}: not supported")));
        }
        let e = chat(json!({"messages": [{"role": "system", "content": "s"},
            {"role": "user", "content": "x"}]}))
        .unwrap_err();
        assert_eq!(e.param, "messages");
        let e = chat(json!({"messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "x"}}]}]}))
        .unwrap_err();
        assert_eq!(e.param, "messages[0].content[0].type");
    }
}
