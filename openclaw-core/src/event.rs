//! The agent's event stream, in pi 0.73.1's wire shapes.
//!
//! [`AgentEvent`] is what the loop emits and what `--mode rpc` prints line by line; its JSON is
//! byte-compatible with pi's (key names, nesting, key order, omission of absent fields).
//! [`AssistantMessageEvent`] is the streaming sub-event carried by `message_update`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::message::{ContentBlock, Message, ToolCall};
use crate::model::ThinkingLevel;

/// A tool's (partial or final) result as events carry it: `{content, details?}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ToolOutput {
    pub content: Vec<ContentBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl ToolOutput {
    /// One text block, no details.
    pub fn text(text: impl Into<String>) -> Self {
        ToolOutput {
            content: vec![ContentBlock::text(text)],
            details: None,
        }
    }

    /// Attach `details`.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }
}

/// A streaming update of the assistant message (`message_update.assistantMessageEvent`).
/// Every variant carries `partial`: the whole assistant message so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AssistantMessageEvent {
    #[serde(rename_all = "camelCase")]
    TextStart {
        content_index: usize,
        partial: Arc<Message>,
    },
    #[serde(rename_all = "camelCase")]
    TextDelta {
        content_index: usize,
        delta: String,
        partial: Arc<Message>,
    },
    #[serde(rename_all = "camelCase")]
    TextEnd {
        content_index: usize,
        content: String,
        partial: Arc<Message>,
    },
    #[serde(rename_all = "camelCase")]
    ThinkingStart {
        content_index: usize,
        partial: Arc<Message>,
    },
    #[serde(rename_all = "camelCase")]
    ThinkingDelta {
        content_index: usize,
        delta: String,
        partial: Arc<Message>,
    },
    #[serde(rename_all = "camelCase")]
    ThinkingEnd {
        content_index: usize,
        content: String,
        partial: Arc<Message>,
    },
    #[serde(rename = "toolcall_start", rename_all = "camelCase")]
    ToolCallStart {
        content_index: usize,
        partial: Arc<Message>,
    },
    #[serde(rename = "toolcall_delta", rename_all = "camelCase")]
    ToolCallDelta {
        content_index: usize,
        delta: String,
        partial: Arc<Message>,
    },
    #[serde(rename = "toolcall_end", rename_all = "camelCase")]
    ToolCallEnd {
        content_index: usize,
        #[serde(with = "tagged_tool_call")]
        tool_call: ToolCall,
        partial: Arc<Message>,
    },
}

impl AssistantMessageEvent {
    /// The partial message this update carries.
    pub fn partial(&self) -> &Arc<Message> {
        match self {
            AssistantMessageEvent::TextStart { partial, .. }
            | AssistantMessageEvent::TextDelta { partial, .. }
            | AssistantMessageEvent::TextEnd { partial, .. }
            | AssistantMessageEvent::ThinkingStart { partial, .. }
            | AssistantMessageEvent::ThinkingDelta { partial, .. }
            | AssistantMessageEvent::ThinkingEnd { partial, .. }
            | AssistantMessageEvent::ToolCallStart { partial, .. }
            | AssistantMessageEvent::ToolCallDelta { partial, .. }
            | AssistantMessageEvent::ToolCallEnd { partial, .. } => partial,
        }
    }
}

/// `toolcall_end.toolCall` carries its `"type":"toolCall"` tag, as a content block does.
mod tagged_tool_call {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::message::{ContentBlock, ToolCall};

    pub fn serialize<S: Serializer>(call: &ToolCall, s: S) -> Result<S::Ok, S::Error> {
        ContentBlock::ToolCall(Box::new(call.clone())).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ToolCall, D::Error> {
        match ContentBlock::deserialize(d)? {
            ContentBlock::ToolCall(c) => Ok(*c),
            _ => Err(serde::de::Error::custom("expected a toolCall block")),
        }
    }
}

/// Why a compaction ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CompactionReason {
    Manual,
    Threshold,
    Overflow,
}

/// Files a compaction saw being read or modified (`compaction.details`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompactionDetails {
    pub read_files: Vec<String>,
    pub modified_files: Vec<String>,
}

/// The outcome of a compaction (`compact` response data, `compaction_end.result`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompactionResult {
    pub summary: String,
    pub first_kept_entry_id: String,
    pub tokens_before: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<CompactionDetails>,
}

/// One event of the agent's stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    AgentStart,
    /// Every message added during this run.
    AgentEnd {
        messages: Vec<Arc<Message>>,
    },
    TurnStart,
    #[serde(rename_all = "camelCase")]
    TurnEnd {
        message: Arc<Message>,
        tool_results: Vec<Arc<Message>>,
    },
    MessageStart {
        message: Arc<Message>,
    },
    #[serde(rename_all = "camelCase")]
    MessageUpdate {
        assistant_message_event: AssistantMessageEvent,
        message: Arc<Message>,
    },
    /// The finished message, shared with the context and the session that keep it.
    MessageEnd {
        message: Arc<Message>,
    },
    #[serde(rename_all = "camelCase")]
    ToolExecutionStart {
        tool_call_id: String,
        tool_name: String,
        args: Value,
    },
    #[serde(rename_all = "camelCase")]
    ToolExecutionUpdate {
        tool_call_id: String,
        tool_name: String,
        args: Value,
        partial_result: ToolOutput,
    },
    #[serde(rename_all = "camelCase")]
    ToolExecutionEnd {
        tool_call_id: String,
        tool_name: String,
        result: ToolOutput,
        is_error: bool,
    },
    #[serde(rename_all = "camelCase")]
    QueueUpdate {
        steering: Vec<String>,
        follow_up: Vec<String>,
    },
    CompactionStart {
        reason: CompactionReason,
    },
    #[serde(rename_all = "camelCase")]
    CompactionEnd {
        reason: CompactionReason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<CompactionResult>,
        aborted: bool,
        will_retry: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error_message: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    AutoRetryStart {
        attempt: u32,
        max_attempts: u32,
        delay_ms: u64,
        error_message: String,
    },
    #[serde(rename_all = "camelCase")]
    AutoRetryEnd {
        success: bool,
        attempt: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        final_error: Option<String>,
    },
    SessionInfoChanged {
        name: String,
    },
    ThinkingLevelChanged {
        level: ThinkingLevel,
    },
    /// openclaw-rs extension: the router moved to another model after a retryable failure.
    #[serde(rename_all = "camelCase")]
    ModelFallback {
        from_provider: String,
        from_model: String,
        to_provider: String,
        to_model: String,
        error_message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_events_round_trip_pi_bytes() {
        for line in [
            r#"{"type":"tool_execution_start","toolCallId":"call_1_bf864e","toolName":"bash","args":{"command":"echo second"}}"#,
            r#"{"type":"tool_execution_update","toolCallId":"call_1_bf864e","toolName":"bash","args":{"command":"echo second"},"partialResult":{"content":[]}}"#,
            r#"{"type":"tool_execution_update","toolCallId":"call_1_bf864e","toolName":"bash","args":{"command":"echo second"},"partialResult":{"content":[{"type":"text","text":"second\n"}],"details":{}}}"#,
            r#"{"type":"tool_execution_end","toolCallId":"call_1_bf864e","toolName":"bash","result":{"content":[{"type":"text","text":"second\n"}]},"isError":false}"#,
            r#"{"type":"agent_start"}"#,
            r#"{"type":"turn_start"}"#,
            r#"{"type":"queue_update","steering":["steer B"],"followUp":[]}"#,
            r#"{"type":"auto_retry_start","attempt":1,"maxAttempts":3,"delayMs":2000,"errorMessage":"500 internal server error"}"#,
            r#"{"type":"auto_retry_end","success":false,"attempt":1,"finalError":"Retry cancelled"}"#,
            r#"{"type":"compaction_start","reason":"manual"}"#,
            r#"{"type":"thinking_level_changed","level":"medium"}"#,
        ] {
            let e: AgentEvent = serde_json::from_str(line).unwrap();
            assert_eq!(serde_json::to_string(&e).unwrap(), line);
        }
    }

    #[test]
    fn message_update_round_trips() {
        let line = r#"{"type":"message_update","assistantMessageEvent":{"type":"toolcall_end","contentIndex":0,"toolCall":{"type":"toolCall","id":"c","name":"read","arguments":{"path":"a.txt"}},"partial":{"role":"assistant","content":[{"type":"toolCall","id":"c","name":"read","arguments":{"path":"a.txt"}}],"api":"openai-completions","provider":"fake","model":"fake-model","usage":{"input":10,"output":5,"cacheRead":0,"cacheWrite":0,"totalTokens":15,"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"total":0}},"stopReason":"stop","timestamp":1,"responseId":"r"}},"message":{"role":"assistant","content":[{"type":"toolCall","id":"c","name":"read","arguments":{"path":"a.txt"}}],"api":"openai-completions","provider":"fake","model":"fake-model","usage":{"input":10,"output":5,"cacheRead":0,"cacheWrite":0,"totalTokens":15,"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"total":0}},"stopReason":"stop","timestamp":1,"responseId":"r"}}"#;
        let e: AgentEvent = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), line);
    }
}
