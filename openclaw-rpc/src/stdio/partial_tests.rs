//! The incremental encoder against plain `serde_json` over realistic streams.

use std::sync::Arc;

use openclaw_core::event::{AgentEvent, AssistantMessageEvent};
use openclaw_core::message::{AssistantMessage, ContentBlock, Message, StopReason};
use openclaw_core::model::{Model, ModelCost};
use openclaw_core::provider::{MessageBuilder, StreamEvent, TokenCounts};

use super::UpdateEncoder;
use crate::stdio::framing::encode_line;

fn model() -> Model {
    Model {
        id: "fake-model".into(),
        name: "fake".into(),
        api: "openai-completions".into(),
        provider: "fake".into(),
        base_url: "http://127.0.0.1:1".into(),
        reasoning: true,
        input: vec!["text".into()],
        cost: ModelCost {
            input: 3.0,
            output: 15.0,
            cache_read: 0.3,
            cache_write: 3.75,
        },
        context_window: 1000,
        max_tokens: 100,
        headers: None,
        compat: None,
    }
}

fn joined(pieces: Vec<bytes::Bytes>) -> Vec<u8> {
    pieces.concat()
}

fn update(sub: AssistantMessageEvent) -> AgentEvent {
    let message = sub.partial().clone();
    AgentEvent::MessageUpdate {
        assistant_message_event: sub,
        message,
    }
}

/// Feed `events` through a builder; check every update's bytes; return how many were checked.
/// With `keep`, every event is kept alive (so the builder copies instead of moving).
fn check_stream(enc: &mut UpdateEncoder, events: Vec<StreamEvent>, keep: bool) -> usize {
    let mut builder = MessageBuilder::new(&model());
    let mut kept = Vec::new();
    let mut checked = 0;
    for ev in events {
        for sub in builder.apply(ev) {
            let event = update(sub);
            let fast = joined(enc.encode(&event).unwrap());
            let plain = encode_line(&event).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&plain),
                "update {checked} differs"
            );
            checked += 1;
            if keep {
                kept.push((event, plain));
            }
        }
    }
    // Kept snapshots were never changed behind their holders' backs.
    for (i, (event, bytes)) in kept.iter().enumerate() {
        assert_eq!(
            &encode_line(event).unwrap(),
            bytes,
            "kept update {i} changed"
        );
    }
    checked
}

fn text(index: usize, delta: &str) -> StreamEvent {
    StreamEvent::TextDelta {
        index,
        delta: delta.into(),
    }
}

fn thinking(index: usize, delta: &str) -> StreamEvent {
    StreamEvent::ThinkingDelta {
        index,
        delta: delta.into(),
    }
}

/// Thinking, text and a tool call with escapes split across deltas, usage arriving mid-way,
/// signatures, then a final text block left open by an abort.
fn realistic() -> Vec<StreamEvent> {
    let mut v = vec![
        StreamEvent::ResponseId("resp\"1\\".into()),
        StreamEvent::ThinkingStart { index: 0 },
    ];
    for d in [
        "Let me think \u{2028} about",
        " \"quotes\" and back\\",
        "\\slash\\",
        "\"",
        "\u{1}\u{1f}\t\n\r\u{7f}",
        "é😀\u{2029}",
        "",
        " done </think>",
    ] {
        v.push(thinking(0, d));
    }
    v.push(StreamEvent::ThinkingEnd {
        index: 0,
        signature: Some("sig\"nature\n".into()),
        redacted: true,
    });
    v.push(StreamEvent::TextStart { index: 1 });
    for d in [
        "Hello, ",
        "wörld \\",
        "\"",
        "\u{2028}\u{2029}",
        "\u{0}",
        "\r",
        "\n",
    ] {
        v.push(text(1, d));
    }
    v.push(StreamEvent::Usage(TokenCounts {
        input: 12,
        output: 7,
        cache_read: 3,
        cache_write: 1,
    }));
    for i in 0..300 {
        v.push(text(
            1,
            &format!(" t{i}{}", ["\"", "\\", "\u{2028}", "\n", "é"][i % 5]),
        ));
    }
    v.push(StreamEvent::TextEnd {
        index: 1,
        signature: Some("{\"v\":1}".into()),
    });
    v.push(StreamEvent::ToolCallStart {
        index: 2,
        id: "call_1".into(),
        name: "write".into(),
    });
    for d in [
        "{\"path\": \"a\\",
        "\\b.txt\", \"content\": \"x\u{2028}",
        "\\\"quoted\\\" \\u00e9",
        "\\n\"}",
    ] {
        v.push(StreamEvent::ToolCallDelta {
            index: 2,
            delta: d.into(),
        });
    }
    v.push(StreamEvent::ToolCallEnd {
        index: 2,
        arguments: None,
        thought_signature: Some("ts".into()),
    });
    v.push(StreamEvent::ThinkingStart { index: 3 });
    v.push(thinking(3, "second thought"));
    v.push(StreamEvent::TextStart { index: 4 });
    for i in 0..50 {
        v.push(text(4, &format!("tail {i} ")));
    }
    v.push(StreamEvent::Error {
        reason: StopReason::Aborted,
        message: "Request was aborted".into(),
    });
    v
}

#[test]
fn incremental_bytes_equal_plain_serialisation() {
    let mut enc = UpdateEncoder::new();
    let n = check_stream(&mut enc, realistic(), false);
    assert!(n > 370, "{n}");
    // The same encoder goes on with a second message without a reset in between: its blocks
    // differ from the cached ones and must be rebuilt, not appended to.
    assert_eq!(check_stream(&mut enc, realistic(), true), n);
    let other = vec![
        StreamEvent::TextStart { index: 0 },
        text(0, "Let me"),
        text(0, " write"),
        StreamEvent::Done {
            reason: StopReason::Stop,
        },
    ];
    assert_eq!(check_stream(&mut enc, other, false), 4);
}

#[test]
fn long_streams_and_other_events() {
    let mut enc = UpdateEncoder::new();
    let mut events = vec![StreamEvent::TextStart { index: 0 }];
    for i in 0..3000 {
        events.push(text(0, &format!("t{i} ")));
        if i % 1000 == 999 {
            events.push(StreamEvent::Usage(TokenCounts {
                input: 5,
                output: i,
                cache_read: 0,
                cache_write: 0,
            }));
        }
    }
    events.push(StreamEvent::Done {
        reason: StopReason::Stop,
    });
    assert_eq!(check_stream(&mut enc, events, false), 3002);
    // Any other event is serialised plainly (and resets the cache).
    let end = AgentEvent::MessageEnd {
        message: Message::Assistant(AssistantMessage::empty("a", "p", "m")).into(),
    };
    assert_eq!(
        joined(enc.encode(&end).unwrap()),
        encode_line(&end).unwrap()
    );
}

#[test]
fn hand_made_partials_that_do_not_extend_the_cache() {
    // Partials that shrink, change a block's kind or rewrite text: all serialised exactly.
    let mut enc = UpdateEncoder::new();
    let mut m = AssistantMessage::empty("openai-completions", "fake", "m");
    let steps: Vec<Vec<ContentBlock>> = vec![
        vec![ContentBlock::text("abc\"")],
        vec![ContentBlock::text("abc\"def")],
        vec![ContentBlock::text("ab")],
        vec![ContentBlock::text("xyz"), ContentBlock::text("\u{2028}")],
        vec![ContentBlock::text("xyz")],
        vec![
            ContentBlock::text("xyz"),
            ContentBlock::text("\u{2028}more"),
        ],
        vec![
            ContentBlock::text("xyz"),
            ContentBlock::ToolCall(Box::new(openclaw_core::message::ToolCall {
                id: "c".into(),
                name: "read".into(),
                arguments: serde_json::json!({"b": 1, "a": "\u{2028}"}),
                thought_signature: None,
            })),
        ],
        vec![ContentBlock::text("xyz"), ContentBlock::text("new")],
        vec![ContentBlock::text("é"), ContentBlock::text("new")],
        vec![ContentBlock::text("éé"), ContentBlock::text("new")],
    ];
    for (i, content) in steps.into_iter().enumerate() {
        m.content = content;
        m.error_message = (i % 3 == 0).then(|| format!("e{i}"));
        m.response_id = (i % 2 == 0).then(|| format!("r{i}"));
        let partial = Arc::new(Message::Assistant(m.clone()));
        let event = AgentEvent::MessageUpdate {
            assistant_message_event: AssistantMessageEvent::TextDelta {
                content_index: 0,
                delta: "d".into(),
                partial: partial.clone(),
            },
            message: partial,
        };
        assert_eq!(
            String::from_utf8(joined(enc.encode(&event).unwrap())).unwrap(),
            String::from_utf8(encode_line(&event).unwrap()).unwrap(),
            "step {i}"
        );
    }
}
