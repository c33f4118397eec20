//! Incremental serialisation of `message_update` events.
//!
//! Every `message_update` repeats the whole partial assistant message twice, so serialising it
//! from scratch makes a streamed message cost O(n²). [`UpdateEncoder`] keeps, per content block,
//! the JSON-escaped text (or thinking) it serialised last time together with the raw text it
//! came from. When the block's text still starts with that raw text, only the new suffix is
//! escaped and appended; otherwise the block is escaped afresh. Nothing is assumed about who
//! changed the message or how: the cache is checked against the message every time.
//!
//! The escaped text lives in a [`Rope`] of shared [`Bytes`] segments, so a line refers to it
//! twice without copying and the stdout writer hands the pieces to the kernel as they are.

use bytes::Bytes;
use openclaw_core::event::AgentEvent;
use openclaw_core::message::{
    AssistantMessage, ContentBlock, Message, StopReason, TextContent, ThinkingContent, TimestampMs,
    Usage,
};
use serde::Serialize;

/// Pieces shorter than this are copied into the line rather than shared.
const SHARE_AT: usize = 512;

/// One output line as pieces to be written back to back.
pub type Pieces = Vec<Bytes>;

/// Append-only JSON-escaped text made of shared segments whose sizes shrink from left to
/// right (two neighbours are merged once the right one is not smaller), so a text of n bytes
/// has O(log n) segments and every byte is copied O(log n) times.
#[derive(Default)]
struct Rope {
    segments: Vec<Bytes>,
}

impl Rope {
    fn push(&mut self, piece: Bytes) {
        if piece.is_empty() {
            return;
        }
        self.segments.push(piece);
        while let [.., left, right] = self.segments.as_slice() {
            if right.len() < left.len() {
                break;
            }
            let mut merged = Vec::with_capacity(left.len() + right.len());
            merged.extend_from_slice(left);
            merged.extend_from_slice(right);
            self.segments.pop();
            self.segments.pop();
            self.segments.push(Bytes::from(merged));
        }
    }
}

/// A block's streamed text as last serialised.
#[derive(Default)]
struct CachedText {
    raw: String,
    escaped: Rope,
}

impl CachedText {
    /// Bring the cache up to `text`: append the escaped suffix when `text` extends what was
    /// cached, start over otherwise.
    fn update(&mut self, text: &str) -> Result<&Rope, serde_json::Error> {
        let extends = text.len() >= self.raw.len()
            && text.as_bytes().starts_with(self.raw.as_bytes())
            && text.is_char_boundary(self.raw.len());
        if !extends {
            self.raw.clear();
            self.escaped = Rope::default();
        }
        let new = &text[self.raw.len()..];
        if !new.is_empty() {
            self.escaped.push(escape(new)?);
            self.raw.push_str(new);
        }
        Ok(&self.escaped)
    }
}

/// The JSON-escaped contents of `s`, without the quotes (escaping is per character, so the
/// escapes of two strings concatenate to the escape of their concatenation).
fn escape(s: &str) -> Result<Bytes, serde_json::Error> {
    let quoted = Bytes::from(serde_json::to_vec(s)?);
    Ok(quoted.slice(1..quoted.len().saturating_sub(1)))
}

/// Collects a line: small bytes are copied together, large shared pieces are kept as they are.
#[derive(Default)]
struct LineBuf {
    done: Pieces,
    current: Vec<u8>,
}

impl LineBuf {
    fn put(&mut self, bytes: &[u8]) {
        self.current.extend_from_slice(bytes);
    }

    fn put_json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), serde_json::Error> {
        serde_json::to_writer(&mut self.current, value)
    }

    fn share(&mut self, piece: &Bytes) {
        if piece.len() < SHARE_AT {
            self.current.extend_from_slice(piece);
            return;
        }
        self.cut();
        self.done.push(piece.clone());
    }

    fn cut(&mut self) {
        if !self.current.is_empty() {
            self.done
                .push(Bytes::from(std::mem::take(&mut self.current)));
        }
    }

    fn finish(mut self) -> Pieces {
        self.cut();
        self.done
    }
}

/// The fields after `content`, in `AssistantMessage`'s order and with its omission rules.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Tail<'a> {
    api: &'a str,
    provider: &'a str,
    model: &'a str,
    usage: &'a Usage,
    stop_reason: &'a StopReason,
    timestamp: &'a TimestampMs,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_id: Option<&'a String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a String>,
}

/// Serialises `message_update` events incrementally; other events are serialised plainly.
#[derive(Default)]
pub struct UpdateEncoder {
    blocks: Vec<CachedText>,
}

impl UpdateEncoder {
    /// A fresh encoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serialise `event` as one output line (ending in `\n`), byte for byte what
    /// `serde_json` writes for it.
    pub fn encode(&mut self, event: &AgentEvent) -> Result<Pieces, serde_json::Error> {
        let AgentEvent::MessageUpdate {
            assistant_message_event,
            message,
        } = event
        else {
            // The streamed message is over (or not begun): free the cache.
            self.blocks = Vec::new();
            return Ok(vec![Bytes::from(super::framing::encode_line(event)?)]);
        };
        let Message::Assistant(partial) = message.as_ref() else {
            return Ok(vec![Bytes::from(super::output::encode_event(event)?)]);
        };
        let partial = self.encode_partial(partial)?;
        let mut line = LineBuf::default();
        line.put(br#"{"type":"message_update","assistantMessageEvent":"#);
        let sub = serde_json::to_vec(&super::output::SubEventWithoutPartial(
            assistant_message_event,
        ))?;
        // `sub` ends with `}`; reopen it to append `partial`.
        line.put(&sub[..sub.len().saturating_sub(1)]);
        line.put(br#","partial":"#);
        for piece in &partial {
            line.share(piece);
        }
        line.put(br#"},"message":"#);
        for piece in &partial {
            line.share(piece);
        }
        line.put(b"}\n");
        Ok(line.finish())
    }

    /// The partial message's JSON as pieces.
    fn encode_partial(&mut self, m: &AssistantMessage) -> Result<Pieces, serde_json::Error> {
        // Spelled out in full so that a new field fails to compile here instead of going
        // missing from the output.
        let AssistantMessage {
            content,
            api,
            provider,
            model,
            usage,
            stop_reason,
            timestamp,
            response_id,
            error_message,
        } = m;
        self.blocks.truncate(content.len());
        self.blocks.resize_with(content.len(), CachedText::default);
        let mut out = LineBuf::default();
        out.put(br#"{"role":"assistant","content":["#);
        for (i, (block, cache)) in content.iter().zip(&mut self.blocks).enumerate() {
            if i > 0 {
                out.put(b",");
            }
            match block {
                ContentBlock::Text(TextContent {
                    text,
                    text_signature,
                }) => {
                    out.put(br#"{"type":"text","text":""#);
                    for piece in &cache.update(text)?.segments {
                        out.share(piece);
                    }
                    out.put(b"\"");
                    if let Some(signature) = text_signature {
                        out.put(br#","textSignature":"#);
                        out.put_json(signature)?;
                    }
                    out.put(b"}");
                }
                ContentBlock::Thinking(ThinkingContent {
                    thinking,
                    thinking_signature,
                    redacted,
                }) => {
                    out.put(br#"{"type":"thinking","thinking":""#);
                    for piece in &cache.update(thinking)?.segments {
                        out.share(piece);
                    }
                    out.put(b"\"");
                    if let Some(signature) = thinking_signature {
                        out.put(br#","thinkingSignature":"#);
                        out.put_json(signature)?;
                    }
                    if let Some(redacted) = redacted {
                        out.put(br#","redacted":"#);
                        out.put_json(redacted)?;
                    }
                    out.put(b"}");
                }
                other => {
                    *cache = CachedText::default();
                    out.put_json(other)?;
                }
            }
        }
        out.put(b"]");
        let tail = serde_json::to_vec(&Tail {
            api,
            provider,
            model,
            usage,
            stop_reason,
            timestamp,
            response_id: response_id.as_ref(),
            error_message: error_message.as_ref(),
        })?;
        // `tail` is `{"api":…}`: its fields continue the message, its `}` closes it.
        out.put(b",");
        out.put(tail.get(1..).unwrap_or_default());
        Ok(out.finish())
    }
}

#[cfg(test)]
#[path = "partial_tests.rs"]
mod tests;
