//! The RPC envelopes: incoming command lines and outgoing responses, with pi 0.73.1's exact
//! error behaviour for lines that are not commands.

use serde::Serialize;
use serde_json::{Map, Value};

use super::framing::Line;

/// A response record: `{id?, type:"response", command?, success, data?, error?}` in that order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Response {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    pub success: bool,
    /// `Some(Value::Null)` is written as `"data":null`; `None` leaves the key out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Response {
    /// A success without data.
    pub fn ok(id: Option<Value>, command: &str) -> Self {
        Response {
            id,
            kind: "response",
            command: Some(command.to_string()),
            success: true,
            data: None,
            error: None,
        }
    }

    /// A success with data.
    pub fn data(id: Option<Value>, command: &str, data: Value) -> Self {
        Response {
            data: Some(data),
            ..Response::ok(id, command)
        }
    }

    /// A failure.
    pub fn error(id: Option<Value>, command: &str, error: impl Into<String>) -> Self {
        Response {
            id,
            kind: "response",
            command: Some(command.to_string()),
            success: false,
            data: None,
            error: Some(error.into()),
        }
    }
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// The optional `id`, echoed verbatim in the response.
    pub id: Option<Value>,
    /// The `type`.
    pub kind: String,
    /// The whole object (fields are read by the handlers).
    pub body: Map<String, Value>,
}

impl Command {
    /// A string field.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.body.get(key).and_then(Value::as_str)
    }

    /// A required string field, or the error naming it.
    pub fn require_str(&self, key: &str) -> Result<&str, String> {
        match self.body.get(key) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(format!(
                "Invalid field \"{key}\": expected a string, got {}",
                type_name(other)
            )),
            None => Err(format!("Missing required field \"{key}\"")),
        }
    }

    /// A boolean field.
    pub fn bool(&self, key: &str) -> Option<bool> {
        self.body.get(key).and_then(Value::as_bool)
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// What one input line turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Command(Command),
    /// Not a command: answer with this response and carry on.
    Reject(Response),
}

/// Classify an input line as pi does: invalid JSON is a `parse` error; JSON that is not an
/// object with a string `type` is `Unknown command: undefined` with neither id nor command.
pub fn parse_line(line: Line) -> Incoming {
    let text = match line {
        Line::Text(t) => t,
        Line::InvalidUtf8 => return Incoming::Reject(parse_error("input is not valid UTF-8")),
        Line::TooLong { len } => {
            return Incoming::Reject(parse_error(&format!(
                "command line of {len} bytes exceeds the {} byte limit",
                super::framing::DEFAULT_MAX_LINE_BYTES
            )));
        }
    };
    let value: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return Incoming::Reject(parse_error(&json_error_text(&text, &e))),
    };
    let Value::Object(body) = value else {
        return Incoming::Reject(unknown_undefined());
    };
    let kind = match body.get("type") {
        Some(Value::String(s)) => s.clone(),
        _ => return Incoming::Reject(unknown_undefined()),
    };
    let id = body.get("id").cloned();
    Incoming::Command(Command { id, kind, body })
}

fn parse_error(detail: &str) -> Response {
    Response {
        id: None,
        kind: "response",
        command: Some("parse".into()),
        success: false,
        data: None,
        error: Some(format!("Failed to parse command: {detail}")),
    }
}

fn unknown_undefined() -> Response {
    Response {
        id: None,
        kind: "response",
        command: None,
        success: false,
        data: None,
        error: Some("Unknown command: undefined".into()),
    }
}

/// The response to an unknown `type` (pi drops the id here).
pub fn unknown_command(kind: &str) -> Response {
    Response::error(None, kind, format!("Unknown command: {kind}"))
}

/// A JSON syntax error worded like JavaScript's `JSON.parse` for the common cases, so clients
/// that match on pi's texts keep working.
fn json_error_text(text: &str, e: &serde_json::Error) -> String {
    if text.trim().is_empty() || e.is_eof() {
        return "Unexpected end of JSON input".into();
    }
    let position = byte_position(text, e.line(), e.column());
    let chars_before = text[..position].chars().count();
    let msg = e.to_string();
    let what = if msg.starts_with("key must be a string") {
        "Expected property name or '}'".to_string()
    } else if msg.starts_with("trailing characters") {
        "Unexpected non-whitespace character after JSON".to_string()
    } else {
        let token = text[position..]
            .chars()
            .next()
            .map(|c| c.to_string())
            .unwrap_or_default();
        format!(
            "Unexpected token '{token}', \"{}\" is not valid JSON",
            preview(text)
        )
    };
    format!(
        "{what} in JSON at position {chars_before} (line {} column {})",
        e.line(),
        e.column()
    )
}

/// The byte offset of serde_json's (line, byte column), moved back to the start of the
/// character it falls in (the column counts bytes, so it can point inside a multi-byte one).
fn byte_position(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    let mut position = text.len();
    for (i, l) in text.split('\n').enumerate() {
        if i + 1 == line {
            position = offset + column.saturating_sub(1).min(l.len());
            break;
        }
        offset += l.len() + 1;
    }
    while !text.is_char_boundary(position) {
        position -= 1;
    }
    position
}

fn preview(text: &str) -> String {
    if text.chars().count() <= 10 {
        text.to_string()
    } else {
        format!("{}...", text.chars().take(10).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reject(line: &str) -> String {
        match parse_line(Line::Text(line.into())) {
            Incoming::Reject(r) => serde_json::to_string(&r).unwrap(),
            Incoming::Command(c) => panic!("parsed as a command: {c:?}"),
        }
    }

    /// Found by the `rpc_lines` fuzz target: the error column pointed inside a two-byte
    /// character and slicing there panicked.
    #[test]
    fn error_inside_a_multibyte_character_is_reported_not_panicked() {
        // `\u00` then a two-byte character: the bad escape's column is its second byte.
        let text = reject("{\"a\\u00\u{214}\"}");
        assert!(text.contains("Failed to parse command"), "{text}");
        assert!(text.contains("(line 1 column"), "{text}");
    }

    #[test]
    fn rejects_exactly_as_pi() {
        assert_eq!(
            reject("{this is not json"),
            r#"{"type":"response","command":"parse","success":false,"error":"Failed to parse command: Expected property name or '}' in JSON at position 1 (line 1 column 2)"}"#
        );
        assert_eq!(
            reject("[1,2,3]"),
            r#"{"type":"response","success":false,"error":"Unknown command: undefined"}"#
        );
        assert_eq!(
            reject("\"just a string\""),
            r#"{"type":"response","success":false,"error":"Unknown command: undefined"}"#
        );
        assert_eq!(
            reject(r#"{"id":"u3"}"#),
            r#"{"type":"response","success":false,"error":"Unknown command: undefined"}"#
        );
        assert_eq!(
            reject(""),
            r#"{"type":"response","command":"parse","success":false,"error":"Failed to parse command: Unexpected end of JSON input"}"#
        );
    }

    #[test]
    fn responses_keep_pi_key_order() {
        let r = Response::data(Some(Value::String("s1".into())), "cycle_model", Value::Null);
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"id":"s1","type":"response","command":"cycle_model","success":true,"data":null}"#
        );
        assert_eq!(
            serde_json::to_string(&unknown_command("frobnicate")).unwrap(),
            r#"{"type":"response","command":"frobnicate","success":false,"error":"Unknown command: frobnicate"}"#
        );
    }

    #[test]
    fn commands_keep_their_fields() {
        match parse_line(Line::Text(
            r#"{"id":"p1","type":"prompt","message":"hi"}"#.into(),
        )) {
            Incoming::Command(c) => {
                assert_eq!(c.kind, "prompt");
                assert_eq!(c.require_str("message"), Ok("hi"));
                assert_eq!(
                    c.require_str("nope"),
                    Err("Missing required field \"nope\"".to_string())
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
