//! The request bodies of `POST /v1/chat/completions` and `POST /v1/responses`, typed, and the
//! rule "honour or refuse, never ignore": a field the agent endpoint does not act on gets a 400
//! naming it, unless it is `null` or asks for what happens anyway (`n: 1`, `tools: []`, …).
//!
//! Honoured: `model` (the agent), `messages` / `input` (as OpenClaw builds a turn from them: see
//! [`Turn`]), `stream`, `user` (the session) and, on Chat Completions,
//! `stream_options.include_usage`. Refused: sampling and length settings (`temperature`,
//! `max_tokens`, …: the agent's model settings decide), client tools and `tool` messages,
//! non-text content parts, and any field this module does not know.

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

/// OpenClaw's markers around earlier turns sent in one request.
const HISTORY_MARKER: &str = "[Chat messages since your last reply - for context]";
const CURRENT_MARKER: &str = "[Current message - respond to this]";

/// What a request's messages become, as OpenClaw builds it: `system`/`developer` messages are
/// the run's extra system prompt; the last user message is the turn; earlier user and
/// assistant messages come before it as a history block with OpenClaw's markers.
#[derive(Debug, PartialEq)]
pub(crate) struct Turn {
    pub message: String,
    pub system: Option<String>,
}

impl Turn {
    fn text(message: String) -> Turn {
        Turn {
            message,
            system: None,
        }
    }
}

/// The text of one message (`at` names it for a refusal).
fn message_text(at: &str, m: &InputMessage) -> Result<String, Refusal> {
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
                if !matches!(p.kind.as_str(), "text" | "input_text" | "output_text") {
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
            "the message has no content",
        )),
    }
}

/// The turn `items` make (`param` names the list).
fn turn_of(param: &str, items: &[InputMessage]) -> Result<Turn, Refusal> {
    let mut system = Vec::new();
    let mut turns: Vec<(&'static str, String)> = Vec::new();
    for (i, m) in items.iter().enumerate() {
        let at = format!("{param}[{i}]");
        let sender = match m.role.as_deref() {
            Some("system" | "developer") => None,
            Some("user") => Some("User"),
            Some("assistant") => Some("Assistant"),
            _ => {
                return Err(Refusal::new(
                    format!("{at}.role"),
                    "only system, developer, user and assistant messages are taken (the agent \
                     runs its own tools)",
                ));
            }
        };
        let text = message_text(&at, m)?;
        match sender {
            None if !text.trim().is_empty() => system.push(text.trim().to_owned()),
            None => {}
            Some(s) => turns.push((s, text)),
        }
    }
    let Some(current) = turns.iter().rposition(|(s, _)| *s == "User") else {
        return Err(Refusal::invalid(param, "no user message to send"));
    };
    let history: Vec<String> = turns[..current]
        .iter()
        .filter(|(_, t)| !t.trim().is_empty())
        .map(|(s, t)| format!("{s}: {}", t.trim()))
        .collect();
    let body = turns[current].1.clone();
    let message = if history.is_empty() {
        body
    } else {
        format!(
            "{HISTORY_MARKER}\n{}\n\n{CURRENT_MARKER}\nUser: {}",
            history.join("\n"),
            body.trim()
        )
    };
    Ok(Turn {
        message,
        system: (!system.is_empty()).then(|| system.join("\n\n")),
    })
}

impl ChatBody {
    /// Checks every field; returns the turn and whether usage is asked for in a stream.
    pub fn validate(&self) -> Result<(Turn, bool), Refusal> {
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
        Ok((turn_of("messages", messages)?, usage))
    }
}

impl ResponsesBody {
    /// Checks every field; returns the turn.
    pub fn validate(&self) -> Result<Turn, Refusal> {
        check_rest("", &self.rest, RESPONSES_RULES)?;
        match &self.input {
            Some(ResponsesInput::Text(t)) => Ok(Turn::text(t.clone())),
            Some(ResponsesInput::Items(items)) => turn_of("input", items),
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
        let (turn, usage) = serde_json::from_value::<ChatBody>(v).unwrap().validate()?;
        Ok((turn.message, usage))
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
        let e = chat(json!({"messages": [{"role": "tool", "content": "r"},
            {"role": "user", "content": "x"}]}))
        .unwrap_err();
        assert_eq!(e.param, "messages[0].role");
        let e = chat(json!({"messages": [{"role": "assistant", "content": "a"}]})).unwrap_err();
        assert_eq!(e.param, "messages");
        let e = chat(json!({"messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "x"}}]}]}))
        .unwrap_err();
        assert_eq!(e.param, "messages[0].content[0].type");
    }

    /// OpenClaw's shape: system/developer messages become the extra system prompt, earlier turns
    /// a history block before the last user message.
    #[test]
    fn system_messages_and_earlier_turns_become_what_openclaw_sends() {
        let body: ChatBody = serde_json::from_value(json!({"messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "My name is Ada."},
            {"role": "assistant", "content": [{"type": "text", "text": "Hello Ada."}]},
            {"role": "developer", "content": "Answer in English."},
            {"role": "user", "content": "What is my name?"}]}))
        .unwrap();
        let (turn, _) = body.validate().unwrap();
        assert_eq!(
            turn.system.as_deref(),
            Some("Be brief.\n\nAnswer in English.")
        );
        assert_eq!(
            turn.message,
            "[Chat messages since your last reply - for context]\nUser: My name is Ada.\n\
             Assistant: Hello Ada.\n\n[Current message - respond to this]\nUser: What is my name?"
        );
        let one: ChatBody =
            serde_json::from_value(json!({"messages": [{"role": "user", "content": "hi"}]}))
                .unwrap();
        assert_eq!(
            one.validate().unwrap().0,
            Turn {
                message: "hi".into(),
                system: None
            }
        );
    }
}
