//! Applying agent events and conversation resets to the transcript.

use openclaw_core::message::{AssistantMessage, ContentBlock, Message, StopReason};
use openclaw_core::{AgentEvent, ToolOutput};

use super::{App, Reply};
use crate::backend::BackendEvent;
use crate::popup::{Item, Picker, PickerKind, Popup};
use crate::transcript::AssistantBlock;
use crate::transcript::{CellKind, NoticeLevel};

fn blocks_of(msg: &AssistantMessage) -> Vec<AssistantBlock> {
    msg.content
        .iter()
        .filter_map(|b| match b {
            ContentBlock::Text(t) => Some(AssistantBlock::Text(t.text.clone())),
            ContentBlock::Thinking(t) => Some(AssistantBlock::Thinking(t.thinking.clone())),
            _ => None,
        })
        .collect()
}

impl App {
    /// Applies one backend event.
    pub fn on_backend(&mut self, event: BackendEvent) {
        match event {
            BackendEvent::Agent(e) => self.on_agent(e),
            BackendEvent::State(s) => {
                self.state = s;
                self.ready = true;
            }
            BackendEvent::Reset(messages) => self.load_messages(&messages),
            BackendEvent::Notice(t) => self.notice(NoticeLevel::Info, t),
            BackendEvent::Warning(t) => self.notice(NoticeLevel::Warning, t),
            BackendEvent::Error(t) => self.notice(NoticeLevel::Error, t),
            BackendEvent::Approval(p) => self.on_approval(p),
            BackendEvent::ApprovalResolved { id, decision } => {
                self.on_approval_resolved(&id, decision)
            }
        }
    }

    /// Replaces the transcript with `messages` (resume, new session, fork).
    pub fn load_messages(&mut self, messages: &[Message]) {
        self.transcript.clear();
        self.totals = super::Totals::default();
        self.current = None;
        self.scroll = 0;
        for m in messages {
            match m {
                Message::User(u) => {
                    self.transcript.push(CellKind::User {
                        text: u.content.text(),
                    });
                }
                Message::Assistant(a) => {
                    self.finish_assistant_cell(None, a);
                    for call in a.tool_calls() {
                        self.transcript.push(CellKind::Tool {
                            id: call.id.clone(),
                            name: call.name.clone(),
                            args: call.arguments.clone(),
                            result: None,
                            is_error: false,
                            done: false,
                        });
                    }
                }
                Message::ToolResult(r) => {
                    let output = ToolOutput {
                        content: r.content.clone(),
                        details: r.details.clone(),
                    };
                    self.finish_tool(&r.tool_call_id, &r.tool_name, output, r.is_error);
                }
                Message::BashExecution(b) => {
                    self.transcript.push(CellKind::Tool {
                        id: String::new(),
                        name: "bash".into(),
                        args: serde_json::json!({ "command": b.command }),
                        result: Some(ToolOutput::text(b.output.clone())),
                        is_error: b.exit_code.is_some_and(|c| c != 0),
                        done: true,
                    });
                }
                Message::Custom(c) if c.display => self.notice(NoticeLevel::Info, c.content.text()),
                Message::Custom(_) => {}
                Message::BranchSummary(b) => {
                    self.notice(NoticeLevel::Info, format!("Branch summary: {}", b.summary))
                }
                Message::CompactionSummary(c) => self.notice(
                    NoticeLevel::Info,
                    format!(
                        "Compacted {} tokens of history:\n{}",
                        c.tokens_before, c.summary
                    ),
                ),
            }
        }
    }

    fn finish_assistant_cell(&mut self, index: Option<usize>, a: &AssistantMessage) {
        let aborted = a.stop_reason == StopReason::Aborted;
        let error = match a.stop_reason {
            StopReason::Aborted => {
                Some(a.error_message.clone().unwrap_or_else(|| "Aborted".into()))
            }
            StopReason::Error => Some(
                a.error_message
                    .clone()
                    .unwrap_or_else(|| "The model returned an error".into()),
            ),
            _ => None,
        };
        let kind = CellKind::Assistant {
            blocks: blocks_of(a),
            streaming: false,
            usage: Some(a.usage),
            model: Some(a.model.clone()),
            error,
            aborted,
        };
        match index.and_then(|i| self.transcript.get_mut(i)) {
            Some(cell) => *cell = kind,
            None => {
                self.transcript.push(kind);
            }
        }
        let u = a.usage;
        self.totals.input += u.input + u.cache_read + u.cache_write;
        self.totals.output += u.output;
        self.totals.cost += u.cost.total;
        let ctx = u.input + u.cache_read + u.cache_write + u.output;
        if ctx > 0 {
            self.totals.context = ctx;
        }
    }

    fn tool_cell(&self, id: &str) -> Option<usize> {
        if id.is_empty() {
            return None;
        }
        self.transcript
            .rposition(|c| matches!(c, CellKind::Tool { id: cid, .. } if cid == id))
    }

    fn finish_tool(&mut self, id: &str, name: &str, output: ToolOutput, error: bool) {
        match self.tool_cell(id).and_then(|i| self.transcript.get_mut(i)) {
            Some(CellKind::Tool {
                result,
                is_error,
                done,
                ..
            }) => {
                *result = Some(output);
                *is_error = error;
                *done = true;
            }
            _ => {
                self.transcript.push(CellKind::Tool {
                    id: id.to_string(),
                    name: name.to_string(),
                    args: serde_json::Value::Null,
                    result: Some(output),
                    is_error: error,
                    done: true,
                });
            }
        }
    }

    fn on_agent(&mut self, event: AgentEvent) {
        match event {
            AgentEvent::AgentStart => {
                self.streaming = true;
            }
            AgentEvent::AgentEnd { .. } => {
                self.streaming = false;
                if self.hint.as_deref() == Some("aborting…") {
                    self.hint = None;
                }
                self.pending_steer.clear();
                self.pending_follow_up.clear();
                if let Some(i) = self.current.take() {
                    if let Some(CellKind::Assistant { streaming, .. }) = self.transcript.get_mut(i)
                    {
                        *streaming = false;
                    }
                }
            }
            AgentEvent::MessageStart { message } => match &*message {
                Message::User(u) => {
                    let text = u.content.text();
                    remove_first(&mut self.pending_steer, &text);
                    remove_first(&mut self.pending_follow_up, &text);
                    self.transcript.push(CellKind::User { text });
                }
                Message::Assistant(_) => {
                    self.current = Some(self.transcript.push(CellKind::assistant()));
                }
                _ => {}
            },
            AgentEvent::MessageUpdate { message, .. } => {
                let Some(a) = message.as_assistant() else {
                    return;
                };
                let idx = match self.current {
                    Some(i) => i,
                    None => {
                        let i = self.transcript.push(CellKind::assistant());
                        self.current = Some(i);
                        i
                    }
                };
                if let Some(CellKind::Assistant { blocks, .. }) = self.transcript.get_mut(idx) {
                    *blocks = blocks_of(a);
                }
            }
            AgentEvent::MessageEnd { message } => {
                if let Message::Assistant(a) = &*message {
                    let idx = self.current.take();
                    self.finish_assistant_cell(idx, a);
                    for call in a.tool_calls() {
                        if self.tool_cell(&call.id).is_none() {
                            self.transcript.push(CellKind::Tool {
                                id: call.id.clone(),
                                name: call.name.clone(),
                                args: call.arguments.clone(),
                                result: None,
                                is_error: false,
                                done: false,
                            });
                        }
                    }
                }
            }
            AgentEvent::ToolExecutionStart {
                tool_call_id,
                tool_name,
                args,
            } => {
                if self.tool_cell(&tool_call_id).is_none() {
                    self.transcript.push(CellKind::Tool {
                        id: tool_call_id,
                        name: tool_name,
                        args,
                        result: None,
                        is_error: false,
                        done: false,
                    });
                }
            }
            AgentEvent::ToolExecutionUpdate {
                tool_call_id,
                partial_result,
                ..
            } => {
                if let Some(CellKind::Tool { result, .. }) = self
                    .tool_cell(&tool_call_id)
                    .and_then(|i| self.transcript.get_mut(i))
                {
                    *result = Some(partial_result);
                }
            }
            AgentEvent::ToolExecutionEnd {
                tool_call_id,
                tool_name,
                result,
                is_error,
            } => {
                self.finish_tool(&tool_call_id, &tool_name, result, is_error);
            }
            AgentEvent::QueueUpdate {
                steering,
                follow_up,
            } => {
                self.pending_steer = steering;
                self.pending_follow_up = follow_up;
            }
            AgentEvent::CompactionStart { reason } => {
                let why = format!("{reason:?}").to_lowercase();
                self.notice(NoticeLevel::Info, format!("Compacting context ({why})…"));
            }
            AgentEvent::CompactionEnd {
                result,
                aborted,
                error_message,
                ..
            } => {
                if let Some(r) = result {
                    self.notice(
                        NoticeLevel::Info,
                        format!("Compacted {} tokens of history.", r.tokens_before),
                    );
                } else if aborted {
                    self.notice(NoticeLevel::Warning, "Compaction aborted.");
                } else if let Some(e) = error_message {
                    self.notice(NoticeLevel::Error, format!("Compaction failed: {e}"));
                }
            }
            AgentEvent::AutoRetryStart {
                attempt,
                max_attempts,
                delay_ms,
                error_message,
            } => {
                self.notice(
                    NoticeLevel::Warning,
                    format!(
                        "{error_message} — retrying (attempt {attempt}/{max_attempts}) in {:.1}s",
                        delay_ms as f64 / 1000.0
                    ),
                );
            }
            AgentEvent::AutoRetryEnd {
                success,
                attempt,
                final_error,
            } => {
                if success {
                    self.notice(NoticeLevel::Info, format!("Retry {attempt} succeeded."));
                } else {
                    let e = final_error.unwrap_or_else(|| "unknown error".into());
                    self.notice(
                        NoticeLevel::Error,
                        format!("Giving up after {attempt} attempts: {e}"),
                    );
                }
            }
            AgentEvent::SessionInfoChanged { name } => self.state.session_name = Some(name),
            AgentEvent::ThinkingLevelChanged { level } => self.state.thinking = level,
            AgentEvent::ModelFallback {
                from_provider,
                from_model,
                to_provider,
                to_model,
                error_message,
            } => {
                self.notice(
                    NoticeLevel::Warning,
                    format!("{from_provider}/{from_model} failed ({error_message}); switched to {to_provider}/{to_model}"),
                );
            }
            AgentEvent::TurnStart | AgentEvent::TurnEnd { .. } => {}
        }
    }

    /// Applies the answer to an earlier [`super::Action`].
    pub fn on_reply(&mut self, reply: Reply) {
        match reply {
            Reply::ExtraCommands(commands) => {
                self.extra_commands = commands;
                self.refresh_completion();
            }
            Reply::Models(models) => {
                let current = self
                    .state
                    .model
                    .as_ref()
                    .map(|m| format!("{}/{}", m.provider, m.id));
                let items: Vec<Item> = models
                    .into_iter()
                    .map(|m| {
                        let key = format!("{}/{}", m.provider, m.id);
                        let mut detail = m.name.clone();
                        if !m.available {
                            detail.push_str(" · no API key");
                        }
                        if current.as_deref() == Some(key.as_str()) {
                            detail.push_str(" · current");
                        }
                        Item {
                            label: key.clone(),
                            detail,
                            value: key,
                            preview: None,
                        }
                    })
                    .collect();
                let mut picker = Picker::new(PickerKind::Model, "model", items);
                if let Some(pos) =
                    current.and_then(|c| picker.items.iter().position(|i| i.value == c))
                {
                    picker.selected = pos;
                }
                self.popup = Some(Popup::Picker(picker));
            }
            Reply::Sessions(sessions) => {
                let items = sessions
                    .into_iter()
                    .map(|s| Item {
                        label: s.name.clone().unwrap_or_else(|| first_line(&s.preview)),
                        detail: format!("{} · {} messages", s.modified, s.message_count),
                        value: s.id,
                        preview: Some(s.preview),
                    })
                    .collect();
                self.popup = Some(Popup::Picker(Picker::new(
                    PickerKind::Session,
                    "resume session",
                    items,
                )));
            }
            Reply::ForkPoints { points, for_tree } => {
                let items = points
                    .into_iter()
                    .rev()
                    .map(|p| Item {
                        label: first_line(&p.text),
                        detail: String::new(),
                        value: p.entry_id,
                        preview: None,
                    })
                    .collect();
                let (kind, title) = if for_tree {
                    (PickerKind::Tree, "go back to message")
                } else {
                    (PickerKind::Fork, "fork from message")
                };
                self.popup = Some(Popup::Picker(Picker::new(kind, title, items)));
            }
            Reply::Forked(text) => {
                self.composer.set_text(&text);
                self.notice(NoticeLevel::Info, "Forked into a new session.");
            }
            Reply::Exported(path) => self.notice(NoticeLevel::Info, format!("Exported to {path}")),
            Reply::State(s) => {
                self.state = s;
                self.ready = true;
            }
            Reply::Reset(messages) => self.load_messages(&messages),
            Reply::Restore(text) => {
                if self.composer.is_empty() {
                    self.composer.set_text(&text);
                }
            }
            Reply::Done(Some(text)) => self.notice(NoticeLevel::Info, text),
            Reply::Done(None) => {}
            Reply::Failed(e) => self.notice(NoticeLevel::Error, e),
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

fn remove_first(list: &mut Vec<String>, text: &str) {
    if let Some(i) = list.iter().position(|t| t == text) {
        list.remove(i);
    }
}
