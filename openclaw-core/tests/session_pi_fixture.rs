//! A session file written by the real pi 0.73.1 (tool call, session name, compaction): load,
//! re-serialise exactly, rebuild pi's context and statistics, re-derive its compaction, continue.

use std::fs;
use std::path::{Path, PathBuf};

use futures::executor::block_on;
use openclaw_core::message::{AssistantMessage, ContentBlock, Message, Usage, UserMessage};
use openclaw_core::session::file::{parse_session, render};
use openclaw_core::session::{
    CompactionError, CompactionSettings, SessionManager, compact, prepare_compaction, session_stats,
};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn copy_to_tmp(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(name);
    fs::copy(fixture(name), &path).unwrap();
    (tmp, path)
}

#[test]
fn pi_written_file_round_trips_and_continues() {
    let original = fs::read_to_string(fixture("pi_0.73.1_session.jsonl")).unwrap();
    let loaded = parse_session(&original);
    assert!(loaded.warnings.is_empty());
    assert_eq!(
        render(loaded.header.as_ref().unwrap(), &loaded.entries),
        original
    );

    let (_tmp, path) = copy_to_tmp("pi_0.73.1_session.jsonl");
    let mut m = SessionManager::open(&path, "/unused").unwrap();
    assert_eq!(m.session_name(), Some("fixture session"));
    assert_eq!(m.leaf_id(), Some("f5f2c878"));
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
            "user",
            "assistant",
            "user",
            "assistant"
        ]
    );
    let model = ctx.model.unwrap();
    assert_eq!(
        (model.provider.as_str(), model.model_id.as_str()),
        ("fake", "fake-model")
    );

    // pi's own get_session_stats at the end of that run.
    let pi: Value =
        serde_json::from_str(&fs::read_to_string(fixture("pi_0.73.1_session_stats.json")).unwrap())
            .unwrap();
    let mut ours = serde_json::to_value(session_stats(&m, &ctx.messages, 128000)).unwrap();
    ours["sessionFile"] = pi["data"]["sessionFile"].clone();
    assert_eq!(
        serde_json::to_string(&ours).unwrap(),
        serde_json::to_string(&pi["data"]).unwrap()
    );

    // Continue: two more entries appended as whole lines after pi's bytes.
    let u = m
        .append_message(Message::User(UserMessage::new("continued", Vec::new())))
        .unwrap();
    let mut a = AssistantMessage::empty("openai-completions", "fake", "fake-model");
    a.content.push(ContentBlock::text("echo: continued"));
    a.usage = Usage {
        input: 10,
        output: 5,
        total_tokens: 15,
        ..Usage::default()
    };
    let a_id = m.append_message(Message::Assistant(a)).unwrap();
    let now = fs::read_to_string(&path).unwrap();
    assert!(now.starts_with(&original));
    let added: Vec<Value> = now[original.len()..]
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(added.len(), 2);
    assert_eq!(added[0]["parentId"], "f5f2c878");
    assert_eq!(added[0]["id"], u.as_str());
    assert_eq!(added[1]["parentId"], u.as_str());
    let reread = SessionManager::open(&path, "/unused").unwrap();
    assert_eq!(reread.leaf_id(), Some(a_id.as_str()));
    assert_eq!(render(reread.header(), reread.entries()), now);
}

#[test]
fn pi_compaction_is_rederived() {
    let text = fs::read_to_string(fixture("pi_0.73.1_session.jsonl")).unwrap();
    let loaded = parse_session(&text);
    let idx = loaded
        .entries
        .iter()
        .position(|e| e.id() == "41d2be10")
        .unwrap();
    let path: Vec<_> = loaded.entries[..idx].iter().collect();
    let prep = prepare_compaction(&path, &CompactionSettings::default()).unwrap();
    assert_eq!(prep.first_kept_entry_id, "4dfd2729");
    assert_eq!(prep.tokens_before, 15);
    assert!(prep.messages_to_summarize.is_empty());
    let result = block_on(compact(&prep, None, |req| async move {
        assert!(req.prompt.to_lowercase().contains("summar"));
        Ok::<_, String>("Summary: the conversation so far.".to_string())
    }))
    .unwrap();
    let ours = serde_json::to_value(&result).unwrap();
    let pi = r#"{"summary":"Summary: the conversation so far.","firstKeptEntryId":"4dfd2729","tokensBefore":15,"details":{"readFiles":[],"modifiedFiles":[]}}"#;
    assert_eq!(serde_json::to_string(&ours).unwrap(), pi);
}

#[test]
fn compact_golden_is_reproduced() {
    // golden compact.jsonl: compact an empty session, then after two prompts, then again.
    let tmp = tempfile::tempdir().unwrap();
    let mut m = SessionManager::create(tmp.path(), "/p");
    let mc = m.append_model_change("fake", "fake-model").unwrap();
    m.append_thinking_level_change(Default::default()).unwrap();
    let settings = CompactionSettings::default();
    let summarize =
        |_req| async { Ok::<_, String>("Summary: the conversation so far.".to_string()) };

    let prep = prepare_compaction(&m.branch_entries(), &settings).unwrap();
    assert_eq!(
        (prep.first_kept_entry_id.as_str(), prep.tokens_before),
        (mc.as_str(), 0)
    );
    let r = block_on(compact(&prep, None, summarize)).unwrap();
    m.append_compaction(&r, false).unwrap();
    assert!(
        !m.session_file().unwrap().exists(),
        "still no assistant message"
    );

    let mut first_user = String::new();
    for text in ["first message to compact", "second message to compact"] {
        let id = m
            .append_message(Message::User(UserMessage::new(text, Vec::new())))
            .unwrap();
        if first_user.is_empty() {
            first_user = id;
        }
        let mut a = AssistantMessage::empty("openai-completions", "fake", "fake-model");
        a.content.push(ContentBlock::text(format!("echo: {text}")));
        a.usage = Usage {
            input: 10,
            output: 5,
            total_tokens: 15,
            ..Usage::default()
        };
        m.append_message(Message::Assistant(a)).unwrap();
    }
    let prep = prepare_compaction(&m.branch_entries(), &settings).unwrap();
    assert_eq!(prep.first_kept_entry_id, first_user);
    assert_eq!(prep.tokens_before, 15);
    assert_eq!(
        prep.previous_summary.as_deref(),
        Some("Summary: the conversation so far.")
    );
    let r = block_on(compact(
        &prep,
        None,
        |req: openclaw_core::session::SummaryRequest| async move {
            assert!(req.prompt.contains(
                "<previous-summary>\nSummary: the conversation so far.\n</previous-summary>"
            ));
            Ok::<_, String>("Summary: the conversation so far.".to_string())
        },
    ))
    .unwrap();
    m.append_compaction(&r, false).unwrap();
    assert_eq!(
        prepare_compaction(&m.branch_entries(), &settings).unwrap_err(),
        CompactionError::AlreadyCompacted
    );
    assert_eq!(
        CompactionError::AlreadyCompacted.to_string(),
        "Already compacted"
    );

    let ctx = m.build_context();
    assert_eq!(ctx.messages.len(), 5);
    assert_eq!(ctx.messages[0].role(), "compactionSummary");
    // golden get_session_stats after the second compaction.
    let stats = serde_json::to_value(session_stats(&m, &ctx.messages, 128000)).unwrap();
    let expected = r#"{"userMessages":2,"assistantMessages":2,"toolCalls":0,"toolResults":0,"totalMessages":5,"tokens":{"input":20,"output":10,"cacheRead":0,"cacheWrite":0,"total":30},"cost":0,"contextUsage":{"tokens":null,"contextWindow":128000,"percent":null}}"#;
    let mut s = stats.as_object().unwrap().clone();
    s.shift_remove("sessionFile");
    s.shift_remove("sessionId");
    assert_eq!(serde_json::to_string(&s).unwrap(), expected);

    // The file: same entry sequence as pi's (types and parent chain).
    let lines: Vec<Value> = fs::read_to_string(m.session_file().unwrap())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<String> = lines
        .iter()
        .map(|l| match l["type"].as_str().unwrap() {
            "message" => format!("message:{}", l["message"]["role"].as_str().unwrap()),
            t => t.to_string(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "session",
            "model_change",
            "thinking_level_change",
            "compaction",
            "message:user",
            "message:assistant",
            "message:user",
            "message:assistant",
            "compaction"
        ]
    );
    assert_eq!(
        serde_json::to_string(&lines[3]["details"]).unwrap(),
        r#"{"readFiles":[],"modifiedFiles":[]}"#
    );
    assert_eq!(lines[3]["fromHook"], false);
}
