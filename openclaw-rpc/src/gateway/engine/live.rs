//! Live sessions and their runs. A [`Live`] is one session key with its engine (created
//! lazily, dropped when idle) and a run lock that serialises runs on that key; a [`RunState`]
//! is the run in progress, which turns the engine's [`AgentEvent`]s into OpenClaw's `agent`
//! events (streams `lifecycle`, `assistant`, `tool`, `compaction`, `usage`) and `chat` events
//! (`delta` throttled to one per 150 ms with v4 `deltaText`, then `final` / `aborted` /
//! `error`). Both carry the run's own `seq`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openclaw_core::engine::{Engine, Subscription};
use openclaw_core::event::AgentEvent;
use openclaw_core::message::{AssistantMessage, Message};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::gateway::backend::EventSink;
use crate::gateway::state::now_ms;

const DELTA_THROTTLE: Duration = Duration::from_millis(150);

/// One session key's live state.
pub(crate) struct Live {
    pub key: String,
    pub agent_id: String,
    /// Held for the whole of a run: runs on one key go one at a time, in arrival order.
    pub run_lock: tokio::sync::Mutex<()>,
    engine: Mutex<Option<(Engine, Subscription)>>,
    pub current: Arc<Mutex<Option<RunState>>>,
    /// Runs queued or running on this key.
    pub pending: AtomicUsize,
    pub last_used: AtomicU64,
}

impl Live {
    pub fn new(key: &str, agent_id: &str) -> Self {
        Live {
            key: key.to_owned(),
            agent_id: agent_id.to_owned(),
            run_lock: tokio::sync::Mutex::new(()),
            engine: Mutex::new(None),
            current: Arc::new(Mutex::new(None)),
            pending: AtomicUsize::new(0),
            last_used: AtomicU64::new(now_ms()),
        }
    }

    pub fn engine(&self) -> Option<Engine> {
        self.engine
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|(e, _)| e.clone())
    }

    pub fn set_engine(&self, engine: Engine, sub: Subscription) {
        *self.engine.lock().unwrap_or_else(|p| p.into_inner()) = Some((engine, sub));
    }

    /// Drops the engine (the next run starts a new one from the transcript).
    pub fn drop_engine(&self) -> Option<Engine> {
        self.engine
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .map(|(e, _)| e)
    }

    pub fn touch(&self) {
        self.last_used.store(now_ms(), Ordering::Release);
    }

    /// Whether nothing runs or waits on this key.
    pub fn is_idle(&self) -> bool {
        self.pending.load(Ordering::Acquire) == 0
    }

    pub fn with_run<R>(&self, f: impl FnOnce(&mut RunState) -> R) -> Option<R> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
            .map(f)
    }

    pub fn current_run_id(&self) -> Option<String> {
        self.with_run(|r| r.run_id.clone())
    }
}

/// What a run streams to an HTTP caller.
pub(crate) enum Tap {
    Delta(String),
}

/// A tool call's title and short description, as OpenClaw shows them ("Read from a.txt").
fn tool_title(name: &str, args: &Value) -> (String, String) {
    let arg = |k: &str| args.get(k).and_then(Value::as_str).unwrap_or_default();
    let meta = match name {
        "read" => format!("from {}", arg("path")),
        "write" => format!("to {}", arg("path")),
        "edit" | "ls" => arg("path").to_string(),
        "bash" => arg("command").chars().take(80).collect(),
        "grep" | "find" => arg("pattern").to_string(),
        _ => String::new(),
    };
    let verb = match name {
        "read" => "Read",
        "write" => "Write",
        "edit" => "Edit",
        "bash" => "Run",
        "grep" => "Search",
        "find" => "Find",
        "ls" => "List",
        other => other,
    };
    let title = if meta.is_empty() {
        verb.to_string()
    } else {
        format!("{verb} {meta}")
    };
    (title, meta)
}

/// The run in progress on a [`Live`].
pub(crate) struct RunState {
    pub run_id: String,
    pub session_key: String,
    pub agent_id: String,
    pub session_id: String,
    /// The connection that started the run (it gets the run's events without subscribing).
    pub origin: Option<String>,
    /// Agent-to-agent depth (0 for a user's run) and the session keys of the calling runs.
    pub depth: u32,
    pub chain: Vec<String>,
    pub tap: Option<mpsc::UnboundedSender<Tap>>,
    pub sink: Option<EventSink>,
    seq: u64,
    text: String,
    sent_len: usize,
    last_delta: Option<Instant>,
    replace_next: bool,
    /// The messages the run added (from `agent_end`).
    pub added: Vec<Message>,
    pub usage_output: u64,
    /// Tool calls in flight: id → (started at, title, meta), for their `item` end events.
    tools: std::collections::HashMap<String, (u64, String, String)>,
}

/// How a run is started.
pub(crate) struct RunSpec {
    pub run_id: String,
    pub origin: Option<String>,
    pub depth: u32,
    pub chain: Vec<String>,
    pub tap: Option<mpsc::UnboundedSender<Tap>>,
}

impl RunState {
    pub fn new(spec: &RunSpec, live: &Live, session_id: String, sink: Option<EventSink>) -> Self {
        RunState {
            run_id: spec.run_id.clone(),
            session_key: live.key.clone(),
            agent_id: live.agent_id.clone(),
            session_id,
            origin: spec.origin.clone(),
            depth: spec.depth,
            chain: spec.chain.clone(),
            tap: spec.tap.clone(),
            sink,
            seq: 0,
            text: String::new(),
            sent_len: 0,
            last_delta: None,
            replace_next: false,
            added: Vec::new(),
            usage_output: 0,
            tools: std::collections::HashMap::new(),
        }
    }

    /// An `agent` event on `stream`.
    pub fn agent_event(&mut self, stream: &str, data: Value) {
        self.seq += 1;
        let Some(sink) = &self.sink else { return };
        let payload = json!({
            "runId": self.run_id,
            "stream": stream,
            "data": data,
            "sessionKey": self.session_key,
            "sessionId": self.session_id,
            "agentId": self.agent_id,
            "seq": self.seq,
            "ts": now_ms(),
        });
        sink.broadcast_run_event("agent", payload, self.origin.as_deref());
    }

    /// A `chat` event in `state` with `extra` fields, carrying the current run seq.
    pub fn chat_event(&mut self, state: &str, extra: Map<String, Value>) {
        let Some(sink) = &self.sink else { return };
        let mut payload = Map::new();
        payload.insert("runId".into(), json!(self.run_id));
        payload.insert("sessionKey".into(), json!(self.session_key));
        payload.insert("agentId".into(), json!(self.agent_id));
        payload.insert("seq".into(), json!(self.seq));
        payload.insert("state".into(), json!(state));
        payload.extend(extra);
        sink.broadcast_run_event("chat", Value::Object(payload), self.origin.as_deref());
    }

    /// Sends a `chat` delta for unsent text (at most one per 150 ms unless `force`).
    pub fn flush_delta(&mut self, force: bool) {
        if self.text.len() == self.sent_len {
            return;
        }
        if !force
            && self
                .last_delta
                .is_some_and(|t| t.elapsed() < DELTA_THROTTLE)
        {
            return;
        }
        let delta = self.text[self.sent_len..].to_owned();
        let mut extra = Map::new();
        if self.replace_next {
            extra.insert("deltaText".into(), json!(self.text));
            extra.insert("replace".into(), json!(true));
            self.replace_next = false;
        } else {
            extra.insert("deltaText".into(), json!(delta));
        }
        extra.insert("message".into(), text_message(&self.text, now_ms()));
        self.chat_event("delta", extra);
        self.sent_len = self.text.len();
        self.last_delta = Some(Instant::now());
    }

    /// Maps one engine event.
    pub fn on_event(&mut self, event: &AgentEvent) {
        match event {
            AgentEvent::MessageStart {
                message: Message::Assistant(_),
            } => {
                if !self.text.is_empty() {
                    // A later assistant message replaces the streamed text.
                    self.replace_next = true;
                }
                self.text.clear();
                self.sent_len = 0;
            }
            AgentEvent::MessageUpdate { message, .. } => {
                if let Message::Assistant(a) = message.as_ref() {
                    let now = a.text();
                    if now.len() > self.text.len() && now.starts_with(&self.text) {
                        let delta = now[self.text.len()..].to_owned();
                        self.text = now;
                        self.agent_event("assistant", json!({"text": self.text, "delta": delta}));
                        if let Some(tap) = &self.tap {
                            let _ = tap.send(Tap::Delta(delta));
                        }
                        self.flush_delta(false);
                    }
                }
            }
            AgentEvent::MessageEnd {
                message: Message::Assistant(a),
            } => {
                self.usage_output += a.usage.output;
                if a.usage.output > 0 || a.usage.input > 0 {
                    self.agent_event(
                        "usage",
                        json!({"inputTokens": a.usage.input, "outputTokens": a.usage.output}),
                    );
                }
            }
            // OpenClaw reports tool calls as `item` events of kind `tool` (start, then end with
            // a status), as the captured frames show; partial results are not streamed.
            AgentEvent::ToolExecutionStart {
                tool_call_id,
                tool_name,
                args,
            } => {
                let (title, meta) = tool_title(tool_name, args);
                let started = now_ms();
                self.tools
                    .insert(tool_call_id.clone(), (started, title.clone(), meta.clone()));
                self.agent_event(
                    "item",
                    json!({"itemId": format!("tool:{tool_call_id}"), "toolCallId": tool_call_id,
                           "name": tool_name, "kind": "tool", "phase": "start", "title": title,
                           "status": "running", "meta": meta, "commandBearing": tool_name == "bash",
                           "startedAt": started}),
                )
            }
            AgentEvent::ToolExecutionEnd {
                tool_call_id,
                tool_name,
                is_error,
                ..
            } => {
                let (started, title, meta) = self
                    .tools
                    .remove(tool_call_id)
                    .unwrap_or_else(|| (now_ms(), tool_name.clone(), String::new()));
                self.agent_event(
                    "item",
                    json!({"itemId": format!("tool:{tool_call_id}"), "toolCallId": tool_call_id,
                           "name": tool_name, "kind": "tool", "phase": "end", "title": title,
                           "status": if *is_error { "failed" } else { "completed" }, "meta": meta,
                           "commandBearing": tool_name == "bash", "startedAt": started,
                           "endedAt": now_ms()}),
                )
            }
            AgentEvent::CompactionStart { .. } => {
                self.agent_event("compaction", json!({"phase": "start"}))
            }
            AgentEvent::CompactionEnd { aborted, .. } => {
                self.agent_event("compaction", json!({"phase": "end", "aborted": aborted}))
            }
            AgentEvent::AgentEnd { messages } => self.added.extend(messages.iter().cloned()),
            _ => {}
        }
    }

    /// The last assistant message the run added.
    pub fn last_assistant(&self) -> Option<&AssistantMessage> {
        self.added.iter().rev().find_map(|m| match m {
            Message::Assistant(a) => Some(a),
            _ => None,
        })
    }
}

/// `{role:"assistant", content:[{type:"text", text}], timestamp}`.
pub(crate) fn text_message(text: &str, ts: u64) -> Value {
    json!({"role": "assistant", "content": [{"type": "text", "text": text}], "timestamp": ts})
}
