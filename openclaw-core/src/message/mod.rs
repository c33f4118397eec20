//! Messages and content blocks, in pi's wire shapes (camelCase JSON).
//!
//! These types are what a session file stores, what the RPC mode prints and what the agent loop
//! hands to a provider. Field order follows pi 0.73.1's output, and optional fields are omitted
//! rather than written as `null`, so that a value serialised here is byte-for-byte what pi writes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::num;

mod de;

/// Milliseconds since the Unix epoch, as pi's `timestamp` fields on messages.
pub type TimestampMs = i64;

/// The current time in milliseconds since the Unix epoch.
pub fn now_ms() -> TimestampMs {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A content block of a message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ContentBlock {
    /// Plain text.
    Text(TextContent),
    /// Model reasoning.
    Thinking(ThinkingContent),
    /// A base64 image.
    Image(ImageContent),
    /// A tool call made by the assistant (boxed: it is the largest kind, and boxing it keeps
    /// every text block of a long conversation half the size).
    ToolCall(Box<ToolCall>),
}

impl ContentBlock {
    /// A text block.
    pub fn text(text: impl Into<String>) -> Self {
        ContentBlock::Text(TextContent {
            text: text.into(),
            text_signature: None,
        })
    }

    /// The text of a text block, `None` for other kinds.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            ContentBlock::Text(t) => Some(&t.text),
            _ => None,
        }
    }
}

/// `{type:"text", text, textSignature?}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextContent {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_signature: Option<String>,
}

/// `{type:"thinking", thinking, thinkingSignature?, redacted?}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThinkingContent {
    pub thinking: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking_signature: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redacted: Option<bool>,
}

/// `{type:"image", data, mimeType}` with base64 `data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageContent {
    pub data: String,
    pub mime_type: String,
}

/// `{type:"toolCall", id, name, arguments, thoughtSignature?}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The parsed arguments object (pi keeps the model's key order).
    pub arguments: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought_signature: Option<String>,
}

/// A user message's content: pi accepts a bare string on input but always writes an array.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum UserContent {
    Text(String),
    Blocks(Vec<ContentBlock>),
}

impl UserContent {
    /// All text of the content, text blocks joined with `\n`.
    pub fn text(&self) -> String {
        match self {
            UserContent::Text(s) => s.clone(),
            UserContent::Blocks(blocks) => join_text(blocks),
        }
    }

    /// The content as blocks (a bare string becomes one text block).
    pub fn blocks(&self) -> Vec<ContentBlock> {
        match self {
            UserContent::Text(s) => vec![ContentBlock::text(s.clone())],
            UserContent::Blocks(b) => b.clone(),
        }
    }
}

/// The text blocks of `blocks`, joined with `\n`.
pub fn join_text(blocks: &[ContentBlock]) -> String {
    let mut out = String::new();
    for b in blocks {
        if let ContentBlock::Text(t) = b {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&t.text);
        }
    }
    out
}

/// Why an assistant message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum StopReason {
    #[default]
    Stop,
    Length,
    ToolUse,
    Error,
    Aborted,
}

/// Dollar cost of a message, from the model's per-million prices.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    #[serde(with = "num")]
    pub input: f64,
    #[serde(with = "num")]
    pub output: f64,
    #[serde(with = "num")]
    pub cache_read: f64,
    #[serde(with = "num")]
    pub cache_write: f64,
    #[serde(with = "num")]
    pub total: f64,
}

/// Token usage of one assistant message.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub total_tokens: u64,
    pub cost: Cost,
}

/// `{role:"user", content, timestamp}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserMessage {
    pub content: UserContent,
    pub timestamp: TimestampMs,
}

impl UserMessage {
    /// A user message holding one text block (and the given images after it), stamped now.
    pub fn new(text: impl Into<String>, images: Vec<ImageContent>) -> Self {
        let mut blocks = vec![ContentBlock::text(text)];
        blocks.extend(images.into_iter().map(ContentBlock::Image));
        UserMessage {
            content: UserContent::Blocks(blocks),
            timestamp: now_ms(),
        }
    }
}

/// An assistant message: `{role:"assistant", content, api, provider, model, usage, stopReason,
/// timestamp, responseId?, errorMessage?}` (pi writes `errorMessage` last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssistantMessage {
    pub content: Vec<ContentBlock>,
    pub api: String,
    pub provider: String,
    pub model: String,
    pub usage: Usage,
    pub stop_reason: StopReason,
    pub timestamp: TimestampMs,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

impl AssistantMessage {
    /// An empty assistant message for the given model, stamped now (what `message_start` shows).
    pub fn empty(api: &str, provider: &str, model: &str) -> Self {
        AssistantMessage {
            content: Vec::new(),
            api: api.to_string(),
            provider: provider.to_string(),
            model: model.to_string(),
            usage: Usage::default(),
            stop_reason: StopReason::Stop,
            timestamp: now_ms(),
            response_id: None,
            error_message: None,
        }
    }

    /// Concatenated text blocks.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for b in &self.content {
            if let ContentBlock::Text(t) = b {
                out.push_str(&t.text);
            }
        }
        out
    }

    /// The tool calls of this message, in source order.
    pub fn tool_calls(&self) -> impl Iterator<Item = &ToolCall> {
        self.content.iter().filter_map(|b| match b {
            ContentBlock::ToolCall(c) => Some(&**c),
            _ => None,
        })
    }
}

/// `{role:"toolResult", toolCallId, toolName, content, details?, isError, timestamp}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolResultMessage {
    pub tool_call_id: String,
    pub tool_name: String,
    pub content: Vec<ContentBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    pub is_error: bool,
    pub timestamp: TimestampMs,
}

/// A shell command the user ran outside the model (RPC `bash`, the TUI's `!cmd`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BashExecutionMessage {
    pub command: String,
    pub output: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub cancelled: bool,
    pub truncated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_output_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_from_context: Option<bool>,
    pub timestamp: TimestampMs,
}

/// An extension-injected message that reaches the model as user content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomMessage {
    pub custom_type: String,
    pub content: UserContent,
    pub display: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    pub timestamp: TimestampMs,
}

/// The summary of an abandoned branch, shown to the model as user content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BranchSummaryMessage {
    pub summary: String,
    pub from_id: String,
    pub timestamp: TimestampMs,
}

/// The summary that replaces compacted history, shown to the model as user content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompactionSummaryMessage {
    pub summary: String,
    pub tokens_before: u64,
    pub timestamp: TimestampMs,
}

/// Any message of the agent's conversation (pi's `AgentMessage`), tagged by `role`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "role", rename_all = "camelCase")]
pub enum Message {
    User(UserMessage),
    Assistant(AssistantMessage),
    ToolResult(ToolResultMessage),
    BashExecution(BashExecutionMessage),
    Custom(CustomMessage),
    BranchSummary(BranchSummaryMessage),
    CompactionSummary(CompactionSummaryMessage),
}

impl Message {
    /// The message's `timestamp` in ms.
    pub fn timestamp(&self) -> TimestampMs {
        match self {
            Message::User(m) => m.timestamp,
            Message::Assistant(m) => m.timestamp,
            Message::ToolResult(m) => m.timestamp,
            Message::BashExecution(m) => m.timestamp,
            Message::Custom(m) => m.timestamp,
            Message::BranchSummary(m) => m.timestamp,
            Message::CompactionSummary(m) => m.timestamp,
        }
    }

    /// The role name as written on the wire.
    pub fn role(&self) -> &'static str {
        match self {
            Message::User(_) => "user",
            Message::Assistant(_) => "assistant",
            Message::ToolResult(_) => "toolResult",
            Message::BashExecution(_) => "bashExecution",
            Message::Custom(_) => "custom",
            Message::BranchSummary(_) => "branchSummary",
            Message::CompactionSummary(_) => "compactionSummary",
        }
    }

    /// The assistant message, if this is one.
    pub fn as_assistant(&self) -> Option<&AssistantMessage> {
        match self {
            Message::Assistant(m) => Some(m),
            _ => None,
        }
    }
}

impl From<UserMessage> for Message {
    fn from(m: UserMessage) -> Self {
        Message::User(m)
    }
}
impl From<AssistantMessage> for Message {
    fn from(m: AssistantMessage) -> Self {
        Message::Assistant(m)
    }
}
impl From<ToolResultMessage> for Message {
    fn from(m: ToolResultMessage) -> Self {
        Message::ToolResult(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assistant_message_round_trips_pi_bytes() {
        let line = r#"{"role":"assistant","content":[{"type":"text","text":"t0 t1 "}],"api":"openai-completions","provider":"fake","model":"fake-model","usage":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"totalTokens":0,"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"total":0}},"stopReason":"aborted","timestamp":1795306966919,"responseId":"chatcmpl-ac5962846a21","errorMessage":"Request was aborted"}"#;
        let m: Message = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), line);
    }

    #[test]
    fn tool_result_and_bash_round_trip() {
        for line in [
            r#"{"role":"toolResult","toolCallId":"call_0_2e1e33","toolName":"read","content":[{"type":"text","text":"first file\n"}],"isError":false,"timestamp":1795307010347}"#,
            r#"{"role":"bashExecution","command":"echo failing; exit 7","output":"failing\n","exitCode":7,"cancelled":false,"truncated":false,"timestamp":1795306993783}"#,
            r#"{"role":"user","content":[{"type":"text","text":"hi"},{"type":"image","data":"AAAA","mimeType":"image/png"}],"timestamp":1}"#,
            r#"{"role":"assistant","content":[{"type":"thinking","thinking":"hmm","thinkingSignature":"reasoning_content"},{"type":"toolCall","id":"c1","name":"read","arguments":{"path":"a.txt","limit":2}}],"api":"openai-completions","provider":"fake","model":"m","usage":{"input":10,"output":5,"cacheRead":0,"cacheWrite":0,"totalTokens":15,"cost":{"input":0.0015,"output":0,"cacheRead":0,"cacheWrite":0,"total":0.0015}},"stopReason":"toolUse","timestamp":2}"#,
        ] {
            let m: Message = serde_json::from_str(line).unwrap();
            assert_eq!(serde_json::to_string(&m).unwrap(), line);
        }
    }

    #[test]
    fn user_content_accepts_a_bare_string() {
        let m: Message =
            serde_json::from_str(r#"{"role":"user","content":"hello","timestamp":5}"#).unwrap();
        match m {
            Message::User(u) => assert_eq!(u.content.text(), "hello"),
            other => panic!("not a user message: {other:?}"),
        }
    }
}
