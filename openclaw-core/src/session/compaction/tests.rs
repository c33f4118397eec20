use futures::executor::block_on;
use serde_json::json;

use super::*;
use crate::message::{AssistantMessage, ToolCall, ToolResultMessage, UserMessage};
use crate::session::context::build_context;
use crate::session::manager::SessionManager;

fn user(text: &str) -> Message {
    Message::User(UserMessage::new(text, Vec::new()))
}

fn assistant(blocks: Vec<ContentBlock>, total: u64) -> Message {
    let mut a = AssistantMessage::empty("openai-completions", "fake", "fake-model");
    a.content = blocks;
    a.usage.total_tokens = total;
    Message::Assistant(a)
}

fn call(name: &str, path: &str) -> ContentBlock {
    ContentBlock::ToolCall(Box::new(ToolCall {
        id: format!("c-{name}-{path}"),
        name: name.into(),
        arguments: json!({"path": path}),
        thought_signature: None,
    }))
}

fn result(text: &str) -> Message {
    Message::ToolResult(ToolResultMessage {
        tool_call_id: "c".into(),
        tool_name: "read".into(),
        content: vec![ContentBlock::text(text)],
        details: None,
        is_error: false,
        timestamp: 0,
    })
}

#[test]
fn token_estimates_follow_chars_over_four() {
    assert_eq!(estimate_tokens(&user("abcd")), 1);
    assert_eq!(estimate_tokens(&user("abcde")), 2);
    assert_eq!(
        estimate_tokens(&assistant(vec![call("read", "a")], 0)),
        ("read".len() + r#"{"path":"a"}"#.len()).div_ceil(4) as u64
    );
    let msgs = vec![
        user("x"),
        assistant(vec![ContentBlock::text("y")], 100),
        user(&"z".repeat(40)),
    ];
    let msgs: Vec<Arc<Message>> = msgs.into_iter().map(Arc::new).collect();
    let est = estimate_context_tokens(&msgs);
    assert_eq!(
        (est.tokens, est.usage_tokens, est.trailing_tokens),
        (110, 100, 10)
    );
    // Errors and aborts do not count as usage.
    let mut aborted = AssistantMessage::empty("a", "p", "m");
    aborted.stop_reason = StopReason::Aborted;
    aborted.usage.total_tokens = 999;
    let est = estimate_context_tokens(&[user("abcd").into(), Message::Assistant(aborted).into()]);
    assert_eq!(est.last_usage_index, None);
    assert_eq!(est.tokens, 1);
}

#[test]
fn threshold_is_window_minus_reserve() {
    let s = CompactionSettings::default();
    assert!(!should_compact(128000 - 16384, 128000, &s));
    assert!(should_compact(128000 - 16383, 128000, &s));
    assert!(!should_compact(
        1_000_000,
        128000,
        &CompactionSettings {
            enabled: false,
            ..s
        }
    ));
}

/// Turns of (user, assistant+read call, tool result, assistant text), each message ~`size` tokens.
fn session_of_turns(turns: usize, size: usize) -> SessionManager {
    let mut m = SessionManager::in_memory("/p");
    m.append_model_change("fake", "fake-model").unwrap();
    let body = "w".repeat(size * 4);
    for t in 0..turns {
        m.append_message(user(&format!("{t}{body}"))).unwrap();
        m.append_message(assistant(
            vec![
                ContentBlock::text(body.clone()),
                call("read", &format!("f{t}.txt")),
            ],
            0,
        ))
        .unwrap();
        m.append_message(result(&body)).unwrap();
        m.append_message(assistant(vec![ContentBlock::text(body.clone())], 0))
            .unwrap();
    }
    m
}

#[test]
fn cut_point_keeps_recent_turns_at_a_user_message() {
    // 10 turns × 4 messages × ~1000 tokens; keep 6000 → the cut falls in turn 8 and snaps to
    // a user message only if one is at or after the threshold entry.
    let m = session_of_turns(10, 1000);
    let path = m.branch_entries();
    let cut = find_cut_point(&path, 0, path.len(), 8000);
    // 8 messages from the end reach 8000 tokens: that is exactly turn 8's user message.
    assert_eq!(cut.first_kept_entry_index, path.len() - 8);
    assert!(matches!(
        path[cut.first_kept_entry_index].message(),
        Some(Message::User(_))
    ));
    assert!(!cut.is_split_turn);

    let prep = prepare_compaction(
        &path,
        &CompactionSettings {
            keep_recent_tokens: 8000,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(prep.first_kept_entry_id, path[path.len() - 8].id());
    assert_eq!(prep.messages_to_summarize.len(), 32);
    let d = prep.file_ops.details();
    assert_eq!(d.read_files.len(), 8);
    assert!(d.modified_files.is_empty());
}

#[test]
fn a_cut_inside_a_turn_summarises_the_turn_prefix_separately() {
    let m = session_of_turns(4, 1000);
    let path = m.branch_entries();
    // 3000 tokens from the end: the last assistant text, tool result, assistant call → the
    // cut lands on that assistant message (tool results are not cut points).
    let cut = find_cut_point(&path, 0, path.len(), 3000);
    let kept = path[cut.first_kept_entry_index];
    assert!(matches!(kept.message(), Some(Message::Assistant(_))));
    assert!(cut.is_split_turn);
    assert_eq!(cut.turn_start_index, Some(path.len() - 4));

    let settings = CompactionSettings {
        keep_recent_tokens: 3000,
        ..Default::default()
    };
    let prep = prepare_compaction(&path, &settings).unwrap();
    assert_eq!(prep.turn_prefix_messages.len(), 1);
    assert_eq!(prep.messages_to_summarize.len(), 12);
    let calls = std::sync::Mutex::new(Vec::new());
    let r = block_on(compact(&prep, Some("focus on files"), |req| {
        calls.lock().unwrap().push(req.clone());
        let answer = if req.prompt.contains("first part of a turn") {
            "PREFIX"
        } else {
            "HISTORY"
        };
        async move { Ok::<_, String>(answer.to_string()) }
    }))
    .unwrap();
    let calls = calls.into_inner().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].max_tokens, 13107);
    assert!(calls[0].prompt.contains("Additional focus: focus on files"));
    assert!(calls[0].prompt.contains("[User]: 0www"));
    assert!(
        calls[0]
            .prompt
            .contains("[Assistant tool calls]: read(path=\"f0.txt\")")
    );
    assert!(
        r.summary
            .starts_with("HISTORY\n\n---\n\n**Turn Context (split turn):**\n\nPREFIX")
    );
    assert!(
        r.summary
            .ends_with("<read-files>\nf0.txt\nf1.txt\nf2.txt\n</read-files>")
    );
    assert_eq!(r.first_kept_entry_id, kept.id());
}

#[test]
fn summarisation_errors_surface() {
    let m = session_of_turns(2, 10);
    let prep = prepare_compaction(&m.branch_entries(), &CompactionSettings::default()).unwrap();
    let err = block_on(compact(&prep, None, |_| async {
        Err::<String, _>("boom".to_string())
    }))
    .unwrap_err();
    assert_eq!(err, CompactionError::Summarization("boom".into()));
    let empty = SessionManager::in_memory("/p");
    assert_eq!(
        prepare_compaction(&empty.branch_entries(), &CompactionSettings::default()).unwrap_err(),
        CompactionError::NothingToCompact
    );
}

#[test]
fn context_after_compaction_starts_with_the_summary_then_kept_then_new() {
    let mut m = session_of_turns(3, 10);
    let path = m.branch_entries();
    let keep = path[path.len() - 4].id().to_string();
    let before = build_context(&path).messages.len();
    assert_eq!(before, 12);
    let res = CompactionResult {
        summary: "S".into(),
        first_kept_entry_id: keep.clone(),
        tokens_before: 42,
        details: None,
    };
    m.append_compaction(&res, false).unwrap();
    m.append_message(user("after")).unwrap();
    let ctx = m.build_context();
    let roles: Vec<&str> = ctx.messages.iter().map(|m| m.role()).collect();
    assert_eq!(
        roles,
        [
            "compactionSummary",
            "user",
            "assistant",
            "toolResult",
            "assistant",
            "user"
        ]
    );
    match &*ctx.messages[0] {
        Message::CompactionSummary(c) => {
            assert_eq!((c.summary.as_str(), c.tokens_before), ("S", 42))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ctx.model.as_ref().unwrap().model_id, "fake-model");
    m.append_thinking_level_change(crate::model::ThinkingLevel::High)
        .unwrap();
    assert_eq!(m.thinking_level(), crate::model::ThinkingLevel::High);
}
