//! Tests of the message builder: blocks, arguments, usage, aborts and snapshot sharing.

use super::*;
use crate::model::ModelCost;

fn model() -> Model {
    Model {
        id: "m".into(),
        name: "m".into(),
        api: "openai-completions".into(),
        provider: "fake".into(),
        base_url: "http://x".into(),
        reasoning: false,
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

#[test]
fn builds_text_and_tool_calls() {
    let mut b = MessageBuilder::new(&model());
    b.apply(StreamEvent::ResponseId("r1".into()));
    b.apply(StreamEvent::TextStart { index: 0 });
    b.apply(StreamEvent::TextDelta {
        index: 0,
        delta: "Hel".into(),
    });
    b.apply(StreamEvent::TextDelta {
        index: 0,
        delta: "lo".into(),
    });
    let end = b.apply(StreamEvent::TextEnd {
        index: 0,
        signature: None,
    });
    assert!(
        matches!(&end[0], AssistantMessageEvent::TextEnd { content, .. } if content == "Hello")
    );
    b.apply(StreamEvent::ToolCallStart {
        index: 1,
        id: "c1".into(),
        name: "read".into(),
    });
    b.apply(StreamEvent::ToolCallDelta {
        index: 1,
        delta: "{\"path\": \"a.t".into(),
    });
    assert_eq!(
        b.message().tool_calls().next().unwrap().arguments,
        serde_json::json!({"path": "a.t"})
    );
    b.apply(StreamEvent::ToolCallDelta {
        index: 1,
        delta: "xt\"}".into(),
    });
    let end = b.apply(StreamEvent::ToolCallEnd {
        index: 1,
        arguments: None,
        thought_signature: None,
    });
    assert!(
        matches!(&end[0], AssistantMessageEvent::ToolCallEnd { tool_call, .. }
        if tool_call.arguments == serde_json::json!({"path": "a.txt"}))
    );
    b.apply(StreamEvent::Usage(TokenCounts {
        input: 1_000_000,
        output: 1000,
        cache_read: 0,
        cache_write: 0,
    }));
    b.apply(StreamEvent::Done {
        reason: StopReason::ToolUse,
    });
    let m = b.finish();
    assert_eq!(m.text(), "Hello");
    assert_eq!(m.usage.total_tokens, 1_001_000);
    assert!((m.usage.cost.total - 3.015).abs() < 1e-9);
    assert_eq!(m.response_id.as_deref(), Some("r1"));
    assert_eq!(m.stop_reason, StopReason::ToolUse);
}

#[test]
fn abort_closes_open_text_and_keeps_it() {
    let mut b = MessageBuilder::new(&model());
    b.apply(StreamEvent::TextStart { index: 0 });
    b.apply(StreamEvent::TextDelta {
        index: 0,
        delta: "t0 t1 ".into(),
    });
    let ev = b.apply(StreamEvent::Error {
        reason: StopReason::Aborted,
        message: "Request was aborted".into(),
    });
    assert_eq!(ev.len(), 1);
    let m = b.finish();
    assert_eq!(m.stop_reason, StopReason::Aborted);
    assert_eq!(m.text(), "t0 t1 ");
    assert_eq!(m.error_message.as_deref(), Some("Request was aborted"));
}

#[test]
fn a_stream_without_final_event_is_an_error() {
    let mut b = MessageBuilder::new(&model());
    b.apply(StreamEvent::TextDelta {
        index: 0,
        delta: "x".into(),
    });
    let m = b.finish();
    assert_eq!(m.stop_reason, StopReason::Error);
}

#[test]
fn snapshots_move_the_message_unless_someone_holds_them() {
    fn content_ptr(partial: &Arc<Message>) -> *const ContentBlock {
        match partial.as_ref() {
            Message::Assistant(m) => m.content.as_ptr(),
            _ => std::ptr::null(),
        }
    }
    let mut b = MessageBuilder::new(&model());
    b.apply(StreamEvent::TextStart { index: 0 });
    let first = b.apply(StreamEvent::TextDelta {
        index: 0,
        delta: "a".into(),
    });
    let before = content_ptr(first[0].partial());
    drop(first);
    // Nobody holds the last snapshot: the next one is the same message, moved.
    let second = b.apply(StreamEvent::TextDelta {
        index: 0,
        delta: "b".into(),
    });
    assert_eq!(content_ptr(second[0].partial()), before);
    // A held snapshot is copied from, and keeps what it had.
    let third = b.apply(StreamEvent::TextDelta {
        index: 0,
        delta: "c".into(),
    });
    assert_ne!(content_ptr(third[0].partial()), before);
    let text = |e: &AssistantMessageEvent| match e.partial().as_ref() {
        Message::Assistant(m) => m.text(),
        _ => String::new(),
    };
    assert_eq!(text(&second[0]), "ab");
    assert_eq!(text(&third[0]), "abc");
    assert_eq!(b.message().text(), "abc");
    drop(second);
    b.apply(StreamEvent::Done {
        reason: StopReason::Stop,
    });
    assert_eq!(text(&third[0]), "abc");
    let m = b.finish();
    assert_eq!(m.text(), "abc");
    assert_eq!(m.provider, "fake");
}

#[test]
fn partial_objects() {
    assert_eq!(
        parse_partial_object("{\"a\": 1, \"b"),
        Some(serde_json::json!({"a": 1}))
    );
    assert_eq!(
        parse_partial_object("{\"a\": [1, 2"),
        Some(serde_json::json!({"a": [1, 2]}))
    );
    assert_eq!(parse_partial_object(""), None);
}
