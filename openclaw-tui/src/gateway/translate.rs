//! Gateway `chat` / `agent` events → the agent events the chat screen renders.

use std::sync::Arc;

use openclaw_core::message::{AssistantMessage, ContentBlock, Message, StopReason};
use openclaw_core::{AgentEvent, AssistantMessageEvent, ToolOutput};
use serde_json::{Value, json};

use crate::backend::{ApprovalPrompt, BackendEvent, BackendState, ModelChoice};

/// An event frame as the translator reads it: `{type:"event", event, payload}`.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayEvent {
    pub event: String,
    pub payload: Value,
}

impl GatewayEvent {
    /// The event name and payload of an event frame.
    pub fn from_frame(mut frame: Value) -> Self {
        GatewayEvent {
            event: frame
                .get("event")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            payload: frame
                .get_mut("payload")
                .map(Value::take)
                .unwrap_or(Value::Null),
        }
    }
}

/// Per-connection translation state: the run being shown and the model it uses.
#[derive(Debug, Default)]
pub struct Translator {
    run: Option<String>,
    provider: String,
    model: String,
    /// Token counts from the run's `agent` `usage` stream (OpenClaw's `chat` final carries none).
    usage: Option<Value>,
}

/// `exec.approval.requested` / `.resolved` → an approval card / its outcome.
pub fn approval_event(ev: &GatewayEvent) -> Option<BackendEvent> {
    use openclaw_core::exec_policy::Decision;
    use openclaw_core::protocol::approvals::{ExecApprovalRequested, ExecApprovalResolved};
    match ev.event.as_str() {
        "exec.approval.requested" => {
            let r: ExecApprovalRequested = serde_json::from_value(ev.payload.clone()).ok()?;
            Some(BackendEvent::Approval(ApprovalPrompt {
                allow_always: r.request.allowed_decisions.contains(&Decision::AllowAlways),
                id: r.id,
                command: r.request.command,
                cwd: r.request.cwd,
                agent: r.request.agent_id,
                expires_at_ms: r.expires_at_ms,
            }))
        }
        "exec.approval.resolved" => {
            let r: ExecApprovalResolved = serde_json::from_value(ev.payload.clone()).ok()?;
            Some(BackendEvent::ApprovalResolved {
                id: r.id,
                decision: r.decision,
            })
        }
        _ => None,
    }
}

/// `2026-11-22 01:12` from epoch milliseconds.
pub fn ms_to_human(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .map(|d| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                d.year(),
                u8::from(d.month()),
                d.day(),
                d.hour(),
                d.minute()
            )
        })
        .unwrap_or_default()
}

/// A history row as a message (rows that do not parse are skipped).
pub fn history_message(v: Value) -> Option<Message> {
    if let Ok(m) = serde_json::from_value::<Message>(v.clone()) {
        return Some(m);
    }
    // Display-normalised assistant rows may lack api/usage: fill them in.
    if v.get("role").and_then(Value::as_str) == Some("assistant") {
        let content: Vec<ContentBlock> = serde_json::from_value(v.get("content")?.clone()).ok()?;
        let mut a = AssistantMessage::empty("gateway", "", "");
        a.content = content;
        a.timestamp = v
            .get("timestamp")
            .and_then(Value::as_i64)
            .unwrap_or(a.timestamp);
        return Some(Message::Assistant(a));
    }
    None
}

impl Translator {
    fn assistant(&self, payload: &Value) -> AssistantMessage {
        let mut a = AssistantMessage::empty("gateway", &self.provider, &self.model);
        if let Some(content) = payload
            .pointer("/message/content")
            .and_then(|c| serde_json::from_value::<Vec<ContentBlock>>(c.clone()).ok())
        {
            a.content = content;
        }
        if let Some(u) = payload.get("usage").or(self.usage.as_ref()) {
            a.usage.input = u
                .get("input")
                .or_else(|| u.get("inputTokens"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            a.usage.output = u
                .get("output")
                .or_else(|| u.get("outputTokens"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            a.usage.total_tokens = a.usage.input + a.usage.output;
        }
        a
    }

    fn start_if_needed(&mut self, run: &str, out: &mut Vec<BackendEvent>) {
        if self.run.as_deref() != Some(run) {
            self.run = Some(run.to_string());
            out.push(BackendEvent::Agent(AgentEvent::AgentStart));
            let empty = AssistantMessage::empty("gateway", &self.provider, &self.model);
            out.push(BackendEvent::Agent(AgentEvent::MessageStart {
                message: Message::Assistant(empty).into(),
            }));
        }
    }

    /// The screen events for one gateway event in session `key`.
    pub fn translate(&mut self, ev: &GatewayEvent, key: &str) -> Vec<BackendEvent> {
        let p = &ev.payload;
        let mut out = Vec::new();
        if let Some(k) = p.get("sessionKey").and_then(Value::as_str) {
            if k != key {
                return out;
            }
        }
        let run = p
            .get("runId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        match ev.event.as_str() {
            "chat" => match p.get("state").and_then(Value::as_str).unwrap_or_default() {
                "delta" => {
                    self.start_if_needed(&run, &mut out);
                    let msg = Arc::new(Message::Assistant(self.assistant(p)));
                    let delta = p
                        .get("deltaText")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    out.push(BackendEvent::Agent(AgentEvent::MessageUpdate {
                        assistant_message_event: AssistantMessageEvent::TextDelta {
                            content_index: 0,
                            delta,
                            partial: msg.clone(),
                        },
                        message: msg,
                    }));
                }
                state @ ("final" | "aborted" | "error") => {
                    self.start_if_needed(&run, &mut out);
                    let mut a = self.assistant(p);
                    match state {
                        "aborted" => {
                            a.stop_reason = StopReason::Aborted;
                            a.error_message = Some(
                                p.get("errorMessage")
                                    .and_then(Value::as_str)
                                    .unwrap_or("Aborted")
                                    .into(),
                            );
                        }
                        "error" => {
                            a.stop_reason = StopReason::Error;
                            a.error_message = Some(
                                p.get("errorMessage")
                                    .and_then(Value::as_str)
                                    .unwrap_or("The run failed")
                                    .into(),
                            );
                        }
                        _ => {}
                    }
                    out.push(BackendEvent::Agent(AgentEvent::MessageEnd {
                        message: Message::Assistant(a).into(),
                    }));
                    out.push(BackendEvent::Agent(AgentEvent::AgentEnd {
                        messages: Vec::new(),
                    }));
                    self.run = None;
                    self.usage = None;
                }
                _ => {}
            },
            "agent" => {
                let data = p.get("data").cloned().unwrap_or(Value::Null);
                match p.get("stream").and_then(Value::as_str).unwrap_or_default() {
                    "lifecycle" if data.get("phase").and_then(Value::as_str) == Some("model") => {
                        if let (Some(pr), Some(m)) = (
                            data.get("provider").and_then(Value::as_str),
                            data.get("model").and_then(Value::as_str),
                        ) {
                            if pr != self.provider || m != self.model {
                                self.provider = pr.into();
                                self.model = m.into();
                                out.push(BackendEvent::State(BackendState {
                                    model: Some(ModelChoice {
                                        provider: pr.into(),
                                        id: m.into(),
                                        name: m.into(),
                                        ..Default::default()
                                    }),
                                    session_name: Some(key.to_string()),
                                    session_id: Some(key.to_string()),
                                    ..Default::default()
                                }));
                            }
                        }
                    }
                    "usage" => self.usage = Some(data),
                    "item" if data.get("kind").and_then(Value::as_str) == Some("tool") => {
                        let id = data
                            .get("toolCallId")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string();
                        let name = data
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("tool")
                            .to_string();
                        let title = data
                            .get("title")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string();
                        match data.get("phase").and_then(Value::as_str) {
                            Some("start") => {
                                out.push(BackendEvent::Agent(AgentEvent::ToolExecutionStart {
                                    tool_call_id: id,
                                    tool_name: name,
                                    args: json!({ "title": title }),
                                }))
                            }
                            Some("end") => {
                                let status = data
                                    .get("status")
                                    .and_then(Value::as_str)
                                    .unwrap_or("completed");
                                out.push(BackendEvent::Agent(AgentEvent::ToolExecutionEnd {
                                    tool_call_id: id,
                                    tool_name: name,
                                    result: ToolOutput::text(format!("{title} ({status})")),
                                    is_error: status != "completed",
                                }));
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The server-to-client events of a recorded OpenClaw session (`None`: shared/ is missing,
    /// reported by `prereq`).
    fn frames(file: &str) -> Option<Vec<GatewayEvent>> {
        let relative = format!("reference/openclaw-frames/{file}");
        let path = openclaw_core::testing::prereq::shared_path(&relative)?;
        let text = std::fs::read_to_string(path).expect("read the recorded frames");
        let events = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v.get("dir").and_then(Value::as_str) == Some("s2c"))
            .filter_map(|v| v.get("json").cloned())
            .filter(|j| j.get("type").and_then(Value::as_str) == Some("event"))
            .map(|j| GatewayEvent {
                event: j["event"].as_str().unwrap_or_default().to_string(),
                payload: j["payload"].clone(),
            })
            .collect();
        Some(events)
    }

    #[test]
    fn recorded_tool_run_becomes_agent_events() {
        let Some(evs) = frames("14-wsclient-tool-call-stream.jsonl") else {
            return;
        };
        assert!(!evs.is_empty(), "the recording holds events");
        let mut tr = Translator::default();
        let out: Vec<BackendEvent> = evs
            .iter()
            .flat_map(|e| tr.translate(e, "agent:main:tooltest"))
            .collect();
        let kinds: Vec<&str> = out
            .iter()
            .map(|e| match e {
                BackendEvent::Agent(AgentEvent::AgentStart) => "agent_start",
                BackendEvent::Agent(AgentEvent::MessageStart { .. }) => "message_start",
                BackendEvent::Agent(AgentEvent::MessageUpdate { .. }) => "message_update",
                BackendEvent::Agent(AgentEvent::MessageEnd { .. }) => "message_end",
                BackendEvent::Agent(AgentEvent::AgentEnd { .. }) => "agent_end",
                BackendEvent::Agent(AgentEvent::ToolExecutionStart { .. }) => "tool_start",
                BackendEvent::Agent(AgentEvent::ToolExecutionEnd { .. }) => "tool_end",
                BackendEvent::State(_) => "state",
                _ => "other",
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                "state",
                "tool_start",
                "tool_end",
                "agent_start",
                "message_start",
                "message_update",
                "message_update",
                "message_end",
                "agent_end"
            ]
        );
        match &out[out.len() - 2] {
            BackendEvent::Agent(AgentEvent::MessageEnd { message }) => {
                let a = message.as_assistant().expect("an assistant message");
                assert_eq!(a.text(), "done: This file is read by the read tool.");
                assert_eq!(a.model, "fake-model");
                // From the run's `usage` stream, so the footer's token counts move.
                let usage = evs
                    .iter()
                    .rev()
                    .find(|e| e.payload["stream"] == "usage")
                    .map(|e| e.payload["data"]["outputTokens"].as_u64());
                assert_eq!(usage.flatten(), Some(a.usage.output));
                assert!(a.usage.output > 0);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
