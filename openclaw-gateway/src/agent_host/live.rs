//! Live sessions and their runs. A [`Live`] is one session key with its engine (created
//! lazily, dropped when idle) and a run lock that serialises runs on that key; a [`RunState`]
//! is the run in progress, which turns the engine's [`AgentEvent`]s into OpenClaw's `agent`
//! events (streams `lifecycle`, `assistant`, `tool`, `compaction`, `usage`) and `chat` events
//! (`delta` with v4 `deltaText`, then `final` / `aborted` / `error`). Both carry the run's own
//! `seq`.
//!
//! Streamed text is coalesced so that a reply costs a constant times its size on the wire,
//! not its square: OpenClaw's `assistant` event and `chat` delta both repeat the whole text so
//! far. OpenClaw's clients read the reply's text from `chat` events only (2026.9.6: the TUI's
//! stream assembler draws each delta's cumulative `message`, the Control UI appends
//! `deltaText` and treats an `assistant` event as a sign of activity), so a message's
//! `assistant` stream is its first text alone, sent at once with the first `chat` delta.
//! After that a `chat` delta goes out at most once per [`DELTA_THROTTLE`] (OpenClaw's chat
//! throttle) and only once the text has grown to [`GROWTH`] times what the last delta
//! carried, so the deltas' cumulative texts together come to less than
//! `GROWTH / (GROWTH - 1)` times the reply and their `deltaText`s to less than the reply once;
//! the whole text goes out once more, in the terminal `chat` event. A reply thus costs less
//! than 3.5 times its size plus the frames' envelopes, about 2 to 2.5 times when its end does
//! not fall just after a delta.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openclaw_core::engine::{Engine, Subscription};
use openclaw_core::event::{AgentEvent, AssistantMessageEvent};
use openclaw_core::message::{AssistantMessage, ContentBlock, Message};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::tap::{Tap, TapSender};
use crate::backend::EventSink;
use crate::state::now_ms;

/// The shortest time between two `chat` deltas of a run (OpenClaw throttles its chat deltas
/// to 150 ms).
const DELTA_THROTTLE: Duration = Duration::from_millis(150);
/// A `chat` delta goes out only once the text is this many times as long as what the last
/// one carried: the cumulative texts of a reply's deltas then form a geometric series. A
/// larger factor saves bytes when the reply ends just after a delta (2 + G/(G-1) times the
/// reply at worst) but leaves longer gaps between updates (G - 1 times the time so far).
const GROWTH: usize = 3;

/// Whether the next `chat` delta is due for a text of `len` bytes, when the last one went at
/// `last` carrying `carried` bytes: the first at once, then after the throttle and growth.
fn delta_due(last: Option<Instant>, carried: usize, len: usize) -> bool {
    carried == 0
        || last.is_none_or(|t| t.elapsed() >= DELTA_THROTTLE)
            && len >= carried.saturating_mul(GROWTH)
}

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
    /// The config generation the engine was started under (see `Core::reload`).
    pub generation: AtomicU64,
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
            generation: AtomicU64::new(0),
        }
    }

    pub fn engine(&self) -> Option<Engine> {
        openclaw_core::sync::lock(&self.engine)
            .as_ref()
            .map(|(e, _)| e.clone())
    }

    pub fn set_engine(&self, engine: Engine, sub: Subscription) {
        *openclaw_core::sync::lock(&self.engine) = Some((engine, sub));
    }

    /// Drops the engine (the next run starts a new one from the transcript).
    pub fn drop_engine(&self) -> Option<Engine> {
        openclaw_core::sync::lock(&self.engine)
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
        openclaw_core::sync::lock(&self.current).as_mut().map(f)
    }

    pub fn current_run_id(&self) -> Option<String> {
        self.with_run(|r| r.run_id.clone())
    }
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
    /// The surface the turn came in on (see [`RunSpec::channel`]).
    pub channel: &'static str,
    /// Started by an operator connection with `operator.admin` (see [`RunSpec::admin`]).
    pub admin: bool,
    /// Agent-to-agent depth (0 for a user's run) and the session keys of the calling runs.
    pub depth: u32,
    pub chain: Vec<String>,
    pub tap: Option<TapSender>,
    pub sink: Option<EventSink>,
    seq: u64,
    /// The current assistant message's text.
    text: String,
    /// Text carried by the last `chat` delta, and when it went.
    sent_len: usize,
    last_delta: Option<Instant>,
    /// Whether the current message's `assistant` event went out.
    announced: bool,
    replace_next: bool,
    /// The messages the run added (from `agent_end`).
    pub added: Vec<Arc<Message>>,
    pub usage_output: u64,
    /// Tool calls in flight: id → (started at, title, meta), for their `item` end events.
    tools: std::collections::HashMap<String, (u64, String, String)>,
}

/// `turnSourceChannel` of a turn from a WebSocket client's `chat.send` / `agent` (OpenClaw's
/// internal channel, also for agent-to-agent turns).
pub(crate) const CHANNEL_WEBCHAT: &str = "webchat";
/// `turnSourceChannel` of a turn from the HTTP API (`/v1/chat/completions`, `/v1/responses`)
/// and of a `/tools/invoke` call.
pub(crate) const CHANNEL_HTTP: &str = "http";
/// `turnSourceChannel` of a scheduled (cron) run.
pub(crate) const CHANNEL_CRON: &str = "cron";
/// `turnSourceChannel` of a run from a Telegram message.
pub(crate) const CHANNEL_TELEGRAM: &str = "telegram";

/// The `turnSourceChannel` of a run from messaging channel `channel`.
pub(crate) fn channel_source(channel: &str) -> &'static str {
    match channel {
        "telegram" => CHANNEL_TELEGRAM,
        _ => "channel",
    }
}
/// `turnSourceChannel` of a heartbeat turn. Its runs send no `agent`/`chat` events: a silent
/// acknowledgement must reach nobody (the `heartbeat` event reports the beat).
pub(crate) const CHANNEL_HEARTBEAT: &str = "heartbeat";

/// How a run is started.
pub(crate) struct RunSpec {
    pub run_id: String,
    pub origin: Option<String>,
    /// The surface the turn came in on, as an approval's `turnSourceChannel`:
    /// [`CHANNEL_WEBCHAT`], [`CHANNEL_HTTP`], [`CHANNEL_CRON`] or a messaging channel's id
    /// ([`channel_source`]).
    pub channel: &'static str,
    /// Asked for by an operator connection holding `operator.admin` (the Control UI's
    /// administrator): the `automations` tool may manage every job in such a turn.
    pub admin: bool,
    pub depth: u32,
    pub chain: Vec<String>,
    /// Where an HTTP caller reads the reply text (bounded; see [`super::tap`]).
    pub tap: Option<mpsc::Sender<Tap>>,
}

impl RunState {
    pub fn new(spec: &RunSpec, live: &Live, session_id: String, sink: Option<EventSink>) -> Self {
        RunState {
            run_id: spec.run_id.clone(),
            session_key: live.key.clone(),
            agent_id: live.agent_id.clone(),
            session_id,
            origin: spec.origin.clone(),
            channel: spec.channel,
            admin: spec.admin,
            depth: spec.depth,
            chain: spec.chain.clone(),
            tap: spec.tap.clone().map(TapSender::new),
            sink: sink.filter(|_| spec.channel != CHANNEL_HEARTBEAT),
            seq: 0,
            text: String::new(),
            sent_len: 0,
            last_delta: None,
            announced: false,
            replace_next: false,
            added: Vec::new(),
            usage_output: 0,
            tools: std::collections::HashMap::new(),
        }
    }

    /// An `agent` event on `stream` whose `data` is any serialisable value (a struct, or a
    /// `json!` map for rare events), serialised once straight into the frame text.
    pub fn agent_event(&mut self, stream: &str, data: impl Serialize) {
        self.seq += 1;
        let Some(sink) = &self.sink else { return };
        let payload = AgentPayload {
            run_id: &self.run_id,
            stream,
            data: &data,
            session_key: &self.session_key,
            session_id: &self.session_id,
            agent_id: &self.agent_id,
            seq: self.seq,
            ts: now_ms(),
        };
        let json = serde_json::to_string(&payload).unwrap_or_default();
        sink.broadcast_run_event_json("agent", &json, self.origin.as_deref());
    }

    /// A `chat` event in `state` with the fields of `extra` (a struct or map) after the common
    /// ones, carrying the current run seq.
    pub fn chat_event(&mut self, state: &str, extra: impl Serialize) {
        let Some(sink) = &self.sink else { return };
        let payload = ChatPayload {
            run_id: &self.run_id,
            session_key: &self.session_key,
            agent_id: &self.agent_id,
            seq: self.seq,
            state,
            extra: &extra,
        };
        let json = serde_json::to_string(&payload).unwrap_or_default();
        sink.broadcast_run_event_json("chat", &json, self.origin.as_deref());
    }

    /// Sends the message's `assistant` event (its first text) if it has not gone out.
    fn announce(&mut self) {
        if self.announced || self.text.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.text);
        self.agent_event(
            "assistant",
            &AssistantData {
                text: &text,
                delta: &text,
            },
        );
        self.text = text;
        self.announced = true;
    }

    /// Sends a `chat` delta for unsent text (unless `force`, only when [`delta_due`]).
    pub fn flush_delta(&mut self, force: bool) {
        if self.text.len() == self.sent_len
            || !(force || delta_due(self.last_delta, self.sent_len, self.text.len()))
        {
            return;
        }
        let text = std::mem::take(&mut self.text);
        let extra = DeltaExtra {
            delta_text: if self.replace_next {
                &text
            } else {
                &text[self.sent_len..]
            },
            replace: self.replace_next.then_some(true),
            message: TextMessage::new(&text, now_ms()),
        };
        self.replace_next = false;
        self.chat_event("delta", &extra);
        self.text = text;
        self.sent_len = self.text.len();
        self.last_delta = Some(Instant::now());
    }

    /// Takes in the message's text after an update. A text delta to the last text block is
    /// appended (the cost of a token, not of the whole text); other text events re-read the
    /// message's text; thinking and tool-call updates leave it alone.
    fn append_text(&mut self, a: &AssistantMessage, ev: &AssistantMessageEvent) {
        let grown = match ev {
            AssistantMessageEvent::TextDelta {
                content_index,
                delta,
                ..
            } if !delta.is_empty()
                && a.content
                    .iter()
                    .rposition(|b| matches!(b, ContentBlock::Text(_)))
                    == Some(*content_index) =>
            {
                self.text.push_str(delta);
                delta.len()
            }
            AssistantMessageEvent::TextDelta { .. }
            | AssistantMessageEvent::TextStart { .. }
            | AssistantMessageEvent::TextEnd { .. } => {
                let now = a.text();
                if now.len() <= self.text.len() || !now.starts_with(&self.text) {
                    return;
                }
                let n = now.len() - self.text.len();
                self.text = now;
                n
            }
            _ => return,
        };
        if grown > 0
            && let Some(tap) = &mut self.tap
        {
            tap.grew(&self.text);
        }
    }

    /// Maps one engine event.
    pub fn on_event(&mut self, event: &AgentEvent) {
        match event {
            AgentEvent::MessageStart { message } if message.role() == "assistant" => {
                if !self.text.is_empty() {
                    // A later assistant message replaces the streamed text.
                    self.replace_next = true;
                    if let Some(tap) = &mut self.tap {
                        tap.new_message();
                    }
                }
                self.text.clear();
                self.sent_len = 0;
                self.announced = false;
            }
            AgentEvent::MessageUpdate {
                message,
                assistant_message_event,
            } => {
                if let Message::Assistant(a) = message.as_ref() {
                    self.append_text(a, assistant_message_event);
                    // Also after thinking or tool-call deltas: pending text goes out when due.
                    self.announce();
                    self.flush_delta(false);
                }
            }
            AgentEvent::MessageEnd { message } => {
                if let Some(a) = message.as_assistant() {
                    if a.stop_reason == openclaw_core::message::StopReason::ToolUse {
                        // More follows (tools, then another message): show the text now. A
                        // last message's text goes out with the run's terminal `chat` event.
                        self.flush_delta(true);
                    }
                    self.usage_output += a.usage.output;
                    if a.usage.output > 0 || a.usage.input > 0 {
                        self.agent_event(
                            "usage",
                            &UsageData {
                                input_tokens: a.usage.input,
                                output_tokens: a.usage.output,
                            },
                        );
                    }
                }
            }
            // OpenClaw reports tool calls as `item` events of kind `tool` (start, then end with
            // a status), as the captured frames show; partial results are not streamed, except
            // an approval wait.
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
            // A gated call waiting for a human says so, a tool reporting progress too (see
            // `tool_wait`).
            AgentEvent::ToolExecutionUpdate {
                tool_call_id,
                tool_name,
                partial_result,
                ..
            } => {
                let (started, title, _) = self.tools.get(tool_call_id).cloned().unwrap_or_default();
                let item = super::tool_wait::approval_wait_item(
                    tool_call_id,
                    tool_name,
                    partial_result,
                    (started, &title),
                );
                if let Some(item) = item {
                    self.agent_event("item", item);
                } else if let Some(item) = super::tool_wait::progress_item(
                    tool_call_id,
                    tool_name,
                    partial_result,
                    (started, &title),
                ) {
                    self.agent_event("item", item);
                }
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
        self.added.iter().rev().find_map(|m| m.as_assistant())
    }
}

/// `{role:"assistant", content:[{type:"text", text}], timestamp}`.
pub(crate) fn text_message(text: &str, ts: u64) -> Value {
    json!({"role": "assistant", "content": [{"type": "text", "text": text}], "timestamp": ts})
}

// Typed run-event payloads, serialised straight into the frame text. Their key order and
// omissions are those of the `json!` maps they replace (see the tests).

/// An `agent` event's payload.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AgentPayload<'a, D: Serialize + ?Sized> {
    run_id: &'a str,
    stream: &'a str,
    data: &'a D,
    session_key: &'a str,
    session_id: &'a str,
    agent_id: &'a str,
    seq: u64,
    ts: u64,
}

/// A `chat` event's payload: the common fields, then `extra`'s.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ChatPayload<'a, E: Serialize + ?Sized> {
    run_id: &'a str,
    session_key: &'a str,
    agent_id: &'a str,
    seq: u64,
    state: &'a str,
    #[serde(flatten)]
    extra: &'a E,
}

/// `data` of the `assistant` stream.
#[derive(Serialize)]
struct AssistantData<'a> {
    text: &'a str,
    delta: &'a str,
}

/// `data` of the `usage` stream.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UsageData {
    input_tokens: u64,
    output_tokens: u64,
}

/// A `chat` delta's own fields.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeltaExtra<'a> {
    delta_text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    replace: Option<bool>,
    message: TextMessage<'a>,
}

/// [`text_message`] as a typed value.
#[derive(Serialize)]
pub(crate) struct TextMessage<'a> {
    role: &'static str,
    content: [TextPart<'a>; 1],
    timestamp: u64,
}

impl<'a> TextMessage<'a> {
    pub(crate) fn new(text: &'a str, timestamp: u64) -> Self {
        TextMessage {
            role: "assistant",
            content: [TextPart { kind: "text", text }],
            timestamp,
        }
    }
}

#[derive(Serialize)]
struct TextPart<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_payloads_match_the_json_maps_byte_for_byte() {
        let data = AssistantData {
            text: "echo: \"hi\"",
            delta: "\"hi\"",
        };
        let typed = AgentPayload {
            run_id: "r1",
            stream: "assistant",
            data: &data,
            session_key: "agent:main:main",
            session_id: "s1",
            agent_id: "main",
            seq: 3,
            ts: 1_700_000_000_000,
        };
        let want = json!({"runId": "r1", "stream": "assistant",
            "data": {"text": "echo: \"hi\"", "delta": "\"hi\""},
            "sessionKey": "agent:main:main", "sessionId": "s1", "agentId": "main", "seq": 3,
            "ts": 1_700_000_000_000u64});
        assert_eq!(serde_json::to_string(&typed).unwrap(), want.to_string());
        let usage = UsageData {
            input_tokens: 10,
            output_tokens: 5,
        };
        assert_eq!(
            serde_json::to_string(&usage).unwrap(),
            json!({"inputTokens": 10, "outputTokens": 5}).to_string()
        );

        for replace in [None, Some(true)] {
            let extra = DeltaExtra {
                delta_text: "é\n",
                replace,
                message: TextMessage::new("echo: é\n", 42),
            };
            let typed = ChatPayload {
                run_id: "r1",
                session_key: "k",
                agent_id: "main",
                seq: 2,
                state: "delta",
                extra: &extra,
            };
            let mut map = serde_json::Map::new();
            map.insert("runId".into(), json!("r1"));
            map.insert("sessionKey".into(), json!("k"));
            map.insert("agentId".into(), json!("main"));
            map.insert("seq".into(), json!(2));
            map.insert("state".into(), json!("delta"));
            map.insert("deltaText".into(), json!("é\n"));
            if replace.is_some() {
                map.insert("replace".into(), json!(true));
            }
            map.insert("message".into(), text_message("echo: é\n", 42));
            assert_eq!(
                serde_json::to_string(&typed).unwrap(),
                Value::Object(map).to_string()
            );
        }
    }
}
