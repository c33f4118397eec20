//! Accumulates a provider's [`StreamEvent`]s into an [`AssistantMessage`] and produces pi's
//! `message_update` sub-events (each carrying the partial message), so every provider shares
//! one implementation of block bookkeeping, argument parsing, usage totals and cost.
//!
//! Snapshots are cheap: the message moves into the snapshot's `Arc` and the builder takes it
//! back before the next change. The message is copied only when someone still holds the
//! previous snapshot at that point (a streamed token then costs a copy of the message, as it
//! always did); otherwise a delta costs time proportional to the delta.

use std::sync::Arc;

use serde_json::Value;

use super::{StreamEvent, TokenCounts};
use crate::event::AssistantMessageEvent;
use crate::message::{
    AssistantMessage, ContentBlock, Cost, Message, StopReason, TextContent, ThinkingContent,
    ToolCall, Usage,
};
use crate::model::{Model, ModelCost};

/// Builds one assistant message from stream deltas.
#[derive(Debug, Clone)]
pub struct MessageBuilder {
    /// The message, unless it is lent to the last snapshot (then this is a placeholder).
    message: AssistantMessage,
    /// The last snapshot while it holds the message.
    lent: Option<Arc<Message>>,
    prices: ModelCost,
    /// Provider block index -> position in `message.content`.
    positions: Vec<Option<usize>>,
    /// Per content position: raw argument JSON of tool calls.
    partial_args: Vec<String>,
    /// Per content position: whether the block is still open.
    open: Vec<bool>,
    finished: bool,
}

impl MessageBuilder {
    /// An empty message for `model`, stamped now.
    pub fn new(model: &Model) -> Self {
        MessageBuilder {
            message: AssistantMessage::empty(&model.api, &model.provider, &model.id),
            lent: None,
            prices: model.cost,
            positions: Vec::new(),
            partial_args: Vec::new(),
            open: Vec::new(),
            finished: false,
        }
    }

    /// The message so far.
    pub fn message(&self) -> &AssistantMessage {
        match self.lent.as_deref() {
            Some(Message::Assistant(m)) => m,
            _ => &self.message,
        }
    }

    /// Whether a `Done` or `Error` event was applied.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Consume the builder. A message whose stream ended without `Done`/`Error` is marked as an
    /// error so that it never passes for a complete reply.
    pub fn finish(mut self) -> AssistantMessage {
        self.take_back();
        if !self.finished {
            self.close_open_blocks();
            self.message.stop_reason = StopReason::Error;
            self.message.error_message = Some(format!(
                "{} stream ended without a final event",
                self.message.provider
            ));
        }
        self.message
    }

    /// The message so far as a shared snapshot (what `message_update` events carry).
    pub fn snapshot(&mut self) -> Arc<Message> {
        self.take_back();
        let message = std::mem::replace(&mut self.message, placeholder());
        let shared = Arc::new(Message::Assistant(message));
        self.lent = Some(shared.clone());
        shared
    }

    /// Take the message back from the last snapshot: moved when nobody else holds that
    /// snapshot any more, copied otherwise.
    fn take_back(&mut self) {
        let Some(shared) = self.lent.take() else {
            return;
        };
        match Arc::try_unwrap(shared) {
            Ok(Message::Assistant(m)) => self.message = m,
            Err(shared) => {
                if let Message::Assistant(m) = shared.as_ref() {
                    self.message = m.clone();
                }
            }
            // Never: snapshots are made from `self.message`.
            Ok(_) => {}
        }
    }

    fn position(&self, index: usize) -> Option<usize> {
        self.positions.get(index).copied().flatten()
    }

    fn open_block(&mut self, index: usize, block: ContentBlock) -> usize {
        let pos = self.message.content.len();
        self.message.content.push(block);
        self.partial_args.push(String::new());
        self.open.push(true);
        if self.positions.len() <= index {
            self.positions.resize(index + 1, None);
        }
        self.positions[index] = Some(pos);
        pos
    }

    /// Apply one event; returns the `message_update` sub-events it produces (none for
    /// bookkeeping events such as usage, more than one when an error closes open blocks).
    pub fn apply(&mut self, event: StreamEvent) -> Vec<AssistantMessageEvent> {
        if self.finished {
            return Vec::new();
        }
        self.take_back();
        match event {
            StreamEvent::ResponseId(id) => {
                self.message.response_id = Some(id);
                Vec::new()
            }
            StreamEvent::TextStart { index } => {
                let pos = self.open_block(index, ContentBlock::text(""));
                vec![AssistantMessageEvent::TextStart {
                    content_index: pos,
                    partial: self.snapshot(),
                }]
            }
            StreamEvent::TextDelta { index, delta } => {
                let pos = match self.position(index) {
                    Some(p) => p,
                    None => self.open_block(index, ContentBlock::text("")),
                };
                if let Some(ContentBlock::Text(t)) = self.message.content.get_mut(pos) {
                    t.text.push_str(&delta);
                }
                vec![AssistantMessageEvent::TextDelta {
                    content_index: pos,
                    delta,
                    partial: self.snapshot(),
                }]
            }
            StreamEvent::TextEnd { index, signature } => {
                let Some(pos) = self.position(index) else {
                    return Vec::new();
                };
                let mut content = String::new();
                if let Some(ContentBlock::Text(t)) = self.message.content.get_mut(pos) {
                    if signature.is_some() {
                        t.text_signature = signature;
                    }
                    content = t.text.clone();
                }
                self.open[pos] = false;
                vec![AssistantMessageEvent::TextEnd {
                    content_index: pos,
                    content,
                    partial: self.snapshot(),
                }]
            }
            StreamEvent::ThinkingStart { index } => {
                let block = ContentBlock::Thinking(ThinkingContent {
                    thinking: String::new(),
                    thinking_signature: None,
                    redacted: None,
                });
                let pos = self.open_block(index, block);
                vec![AssistantMessageEvent::ThinkingStart {
                    content_index: pos,
                    partial: self.snapshot(),
                }]
            }
            StreamEvent::ThinkingDelta { index, delta } => {
                let pos = match self.position(index) {
                    Some(p) => p,
                    None => self.open_block(
                        index,
                        ContentBlock::Thinking(ThinkingContent {
                            thinking: String::new(),
                            thinking_signature: None,
                            redacted: None,
                        }),
                    ),
                };
                if let Some(ContentBlock::Thinking(t)) = self.message.content.get_mut(pos) {
                    t.thinking.push_str(&delta);
                }
                vec![AssistantMessageEvent::ThinkingDelta {
                    content_index: pos,
                    delta,
                    partial: self.snapshot(),
                }]
            }
            StreamEvent::ThinkingEnd {
                index,
                signature,
                redacted,
            } => {
                let Some(pos) = self.position(index) else {
                    return Vec::new();
                };
                let mut content = String::new();
                if let Some(ContentBlock::Thinking(t)) = self.message.content.get_mut(pos) {
                    if signature.is_some() {
                        t.thinking_signature = signature;
                    }
                    if redacted {
                        t.redacted = Some(true);
                    }
                    content = t.thinking.clone();
                }
                self.open[pos] = false;
                vec![AssistantMessageEvent::ThinkingEnd {
                    content_index: pos,
                    content,
                    partial: self.snapshot(),
                }]
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                let block = ContentBlock::ToolCall(Box::new(ToolCall {
                    id,
                    name,
                    arguments: Value::Object(Default::default()),
                    thought_signature: None,
                }));
                let pos = self.open_block(index, block);
                vec![AssistantMessageEvent::ToolCallStart {
                    content_index: pos,
                    partial: self.snapshot(),
                }]
            }
            StreamEvent::ToolCallDelta { index, delta } => {
                let Some(pos) = self.position(index) else {
                    return Vec::new();
                };
                self.partial_args[pos].push_str(&delta);
                if let Some(v) = parse_partial_object(&self.partial_args[pos]) {
                    if let Some(ContentBlock::ToolCall(c)) = self.message.content.get_mut(pos) {
                        c.arguments = v;
                    }
                }
                vec![AssistantMessageEvent::ToolCallDelta {
                    content_index: pos,
                    delta,
                    partial: self.snapshot(),
                }]
            }
            StreamEvent::ToolCallEnd {
                index,
                arguments,
                thought_signature,
            } => {
                let Some(pos) = self.position(index) else {
                    return Vec::new();
                };
                let raw = std::mem::take(&mut self.partial_args[pos]);
                let mut call = None;
                if let Some(ContentBlock::ToolCall(c)) = self.message.content.get_mut(pos) {
                    c.arguments = match arguments {
                        Some(v) => v,
                        None => serde_json::from_str::<Value>(&raw)
                            .ok()
                            .filter(Value::is_object)
                            .unwrap_or_else(|| Value::Object(Default::default())),
                    };
                    if thought_signature.is_some() {
                        c.thought_signature = thought_signature;
                    }
                    call = Some(c.clone());
                }
                self.open[pos] = false;
                match call {
                    Some(tool_call) => vec![AssistantMessageEvent::ToolCallEnd {
                        content_index: pos,
                        tool_call: *tool_call,
                        partial: self.snapshot(),
                    }],
                    None => Vec::new(),
                }
            }
            StreamEvent::Usage(counts) => {
                self.message.usage = usage_with_cost(counts, &self.prices);
                Vec::new()
            }
            StreamEvent::Done { reason } => {
                let events = self.close_open_blocks();
                self.message.stop_reason = reason;
                self.finished = true;
                events
            }
            StreamEvent::Error { reason, message } => {
                let events = self.close_open_blocks();
                self.message.stop_reason = match reason {
                    StopReason::Aborted => StopReason::Aborted,
                    _ => StopReason::Error,
                };
                self.message.error_message = Some(message);
                self.finished = true;
                events
            }
        }
    }

    /// Emit the `*_end` events of blocks still open (an abort keeps partial text and closes it).
    /// The message is the builder's own again afterwards.
    fn close_open_blocks(&mut self) -> Vec<AssistantMessageEvent> {
        let mut events = Vec::new();
        for pos in 0..self.open.len() {
            if !self.open[pos] {
                continue;
            }
            self.open[pos] = false;
            self.take_back();
            let (is_text, content) = match self.message.content.get(pos) {
                Some(ContentBlock::Text(TextContent { text, .. })) => (true, text.clone()),
                Some(ContentBlock::Thinking(t)) => (false, t.thinking.clone()),
                _ => continue,
            };
            let partial = self.snapshot();
            events.push(if is_text {
                AssistantMessageEvent::TextEnd {
                    content_index: pos,
                    content,
                    partial,
                }
            } else {
                AssistantMessageEvent::ThinkingEnd {
                    content_index: pos,
                    content,
                    partial,
                }
            });
        }
        self.take_back();
        events
    }
}

/// What `message` holds while the message is lent to a snapshot (allocates nothing).
fn placeholder() -> AssistantMessage {
    AssistantMessage {
        content: Vec::new(),
        api: String::new(),
        provider: String::new(),
        model: String::new(),
        usage: Usage::default(),
        stop_reason: StopReason::Stop,
        timestamp: 0,
        response_id: None,
        error_message: None,
    }
}

/// Usage with `totalTokens` and the dollar cost from per-million prices.
pub fn usage_with_cost(counts: TokenCounts, prices: &ModelCost) -> Usage {
    let per = |tokens: u64, price: f64| tokens as f64 * price / 1_000_000.0;
    let input = per(counts.input, prices.input);
    let output = per(counts.output, prices.output);
    let cache_read = per(counts.cache_read, prices.cache_read);
    let cache_write = per(counts.cache_write, prices.cache_write);
    Usage {
        input: counts.input,
        output: counts.output,
        cache_read: counts.cache_read,
        cache_write: counts.cache_write,
        total_tokens: counts.input + counts.output + counts.cache_read + counts.cache_write,
        cost: Cost {
            input,
            output,
            cache_read,
            cache_write,
            total: input + output + cache_read + cache_write,
        },
    }
}

/// Best-effort parse of an incomplete JSON object (streamed tool arguments): closes open
/// strings, arrays and objects and drops a dangling key or separator.
fn parse_partial_object(raw: &str) -> Option<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(raw) {
        return v.is_object().then_some(v);
    }
    let mut stack = Vec::new();
    let mut in_string = false;
    let mut escaped = false;
    for ch in raw.chars() {
        if in_string {
            match (escaped, ch) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match ch {
            '"' => in_string = true,
            '{' => stack.push('}'),
            '[' => stack.push(']'),
            '}' | ']' => {
                stack.pop();
            }
            _ => {}
        }
    }
    let mut fixed = raw.to_string();
    if escaped {
        fixed.pop();
    }
    if in_string {
        fixed.push('"');
    }
    for closer in stack.iter().rev() {
        let trimmed = fixed.trim_end();
        let trimmed = trimmed.strip_suffix(',').unwrap_or(trimmed).to_string();
        fixed = trimmed;
        fixed.push(*closer);
    }
    match serde_json::from_str::<Value>(&fixed) {
        Ok(v) if v.is_object() => Some(v),
        _ => {
            // A dangling `"key"` or `"key":` without a value: cut back to the last comma or brace.
            let cut = raw.rfind([',', '{'])?;
            let head = if raw.as_bytes().get(cut) == Some(&b'{') {
                &raw[..=cut]
            } else {
                &raw[..cut]
            };
            if head.len() >= raw.len() {
                return None;
            }
            parse_partial_object(head)
        }
    }
}

#[cfg(test)]
#[path = "builder_tests.rs"]
mod tests;
