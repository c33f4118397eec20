//! Session files against real files: pi-written goldens round-trip byte-for-byte, torn lines,
//! migration, lazy persistence, branching, fork and clone, listing.

use std::fs;
use std::path::{Path, PathBuf};

use openclaw_core::message::{
    AssistantMessage, ContentBlock, Message, StopReason, Usage, UserMessage,
};
use openclaw_core::session::entry::SessionEntry;
use openclaw_core::session::file::parse_session;
use openclaw_core::session::{
    SessionManager, encode_cwd, list_sessions, most_recent_session, session_file_name,
};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn user(text: &str) -> Message {
    Message::User(UserMessage::new(text, Vec::new()))
}

fn assistant(text: &str, total: u64) -> Message {
    let mut a = AssistantMessage::empty("openai-completions", "fake", "fake-model");
    a.content.push(ContentBlock::text(text));
    a.usage = Usage {
        input: total - 5,
        output: 5,
        total_tokens: total,
        ..Usage::default()
    };
    a.stop_reason = StopReason::Stop;
    Message::Assistant(a)
}

fn lines(path: &Path) -> Vec<Value> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_golden_session_file_round_trips_byte_for_byte() {
    let dir = fixtures().join("golden_sessions");
    let mut n = 0;
    for f in fs::read_dir(&dir).unwrap() {
        let path = f.unwrap().path();
        let text = fs::read_to_string(&path).unwrap();
        let loaded = parse_session(&text);
        assert!(
            loaded.warnings.is_empty(),
            "{}: {:?}",
            path.display(),
            loaded.warnings
        );
        let header = loaded.header.expect("header");
        assert_eq!(header.version, 3);
        for (line, e) in text.lines().skip(1).zip(&loaded.entries) {
            assert!(!matches!(e, SessionEntry::Other(_)), "untyped entry {line}");
            assert_eq!(e.to_line(), line);
        }
        assert_eq!(
            openclaw_core::session::file::render(&header, &loaded.entries),
            text
        );
        n += 1;
    }
    assert_eq!(n, 4, "expected the four pi-written session files");
}

#[test]
fn golden_files_found_in_the_conformance_suite_round_trip_too() {
    // The raw goldens (when this machine has them) hold the parsed entries of pi's files.
    let Some(golden) = openclaw_core::testing::prereq::shared_path("conformance/rpc/golden") else {
        return;
    };
    let rd = fs::read_dir(&golden).unwrap();
    for f in rd {
        let path = f.unwrap().path();
        if path.extension().is_none_or(|x| x != "jsonl") {
            continue;
        }
        for record in fs::read_to_string(&path).unwrap().lines() {
            let r: Value = serde_json::from_str(record).unwrap();
            if r["kind"] != "session_file" {
                continue;
            }
            for e in r["entries"].as_array().unwrap().iter().skip(1) {
                let line = serde_json::to_string(e).unwrap();
                assert_eq!(SessionEntry::parse(&line).unwrap().to_line(), line);
            }
        }
    }
}

#[test]
fn a_torn_last_line_is_skipped_and_appends_continue_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("s.jsonl");
    let good = fs::read_to_string(fixtures().join("golden_sessions/new_session_0.jsonl")).unwrap();
    fs::write(&path, format!("{good}{{\"type\":\"message\",\"id\":\"dead")).unwrap();
    let mut m = SessionManager::open(&path, "/cwd").unwrap();
    assert_eq!(m.entries().len(), 4);
    let leaf = m.leaf_id().unwrap().to_string();
    assert_eq!(leaf, "86b51f0a");
    let id = m.append_message(user("after the crash")).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.starts_with(&good), "earlier lines are untouched");
    let reread = parse_session(&text);
    assert_eq!(reread.warnings.len(), 1, "only the torn line is skipped");
    let last = reread.entries.last().unwrap();
    assert_eq!(last.id(), id);
    assert_eq!(last.parent_id(), Some(leaf.as_str()));
    assert!(text.ends_with('\n'));
}

#[test]
fn a_damaged_header_is_left_alone_by_a_read_and_set_aside_by_the_first_write() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bad.jsonl");
    let original = "garbage\n{\"type\":\"mess\n";
    fs::write(&path, original).unwrap();
    let m = SessionManager::open(&path, "/here").unwrap();
    assert!(m.entries().is_empty());
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        original,
        "a read never writes"
    );
    // Buffered entries reach a new file with the first assistant message; the damaged one is
    // kept under a new name.
    let mut m = m;
    let u = m.append_message(user("q")).unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), original);
    m.append_message(assistant("a", 15)).unwrap();
    let l = lines(&path);
    assert_eq!(l.len(), 3);
    assert_eq!(l[0]["type"], "session");
    assert_eq!(l[0]["cwd"], "/here");
    assert_eq!(l[0]["id"], m.session_id());
    assert_eq!(l[1]["id"], u.as_str());
    assert_eq!(l[2]["parentId"], u.as_str());
    let kept: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("bad.jsonl.damaged.")
        })
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(fs::read_to_string(kept[0].path()).unwrap(), original);
}

#[test]
fn v1_files_migrate_to_v3_and_are_rewritten() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("v1.jsonl");
    let v1 = [
        r#"{"type":"session","id":"old","timestamp":"2025-01-01T00:00:00.000Z","cwd":"/p"}"#,
        r#"{"type":"message","timestamp":"2025-01-01T00:00:01.000Z","message":{"role":"user","content":"one","timestamp":1}}"#,
        r#"{"type":"message","timestamp":"2025-01-01T00:00:02.000Z","message":{"role":"hookMessage","customType":"h","content":"hooked","display":true,"timestamp":2}}"#,
        r#"{"type":"compaction","timestamp":"2025-01-01T00:00:03.000Z","summary":"S","firstKeptEntryIndex":2,"tokensBefore":7}"#,
    ];
    fs::write(&path, v1.join("\n") + "\n").unwrap();
    let mut m = SessionManager::open(&path, "/p").unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        v1.join("\n") + "\n",
        "a read never writes"
    );
    assert_eq!(m.header().version, 3);
    let e = m.entries().to_vec();
    assert_eq!(e.len(), 3);
    assert_eq!(e[0].parent_id(), None);
    assert_eq!(e[1].parent_id(), Some(e[0].id()));
    assert_eq!(e[2].parent_id(), Some(e[1].id()));
    let SessionEntry::Compaction(c) = &e[2] else {
        panic!("not a compaction: {:?}", e[2])
    };
    assert_eq!(
        c.first_kept_entry_id,
        e[1].id(),
        "line 2 is the second entry"
    );
    assert!(
        matches!(e[1].message(), Some(Message::Custom(_))),
        "hookMessage became custom"
    );
    // Context: summary, then the kept custom message.
    let ctx = m.build_context();
    assert_eq!(ctx.messages.len(), 2);
    assert_eq!(ctx.messages[0].role(), "compactionSummary");
    assert_eq!(ctx.messages[1].role(), "custom");
    // The first write rewrites it: v3 header, ids, no firstKeptEntryIndex.
    m.append_message(user("q")).unwrap();
    m.append_message(assistant("a", 15)).unwrap();
    let l = lines(&path);
    assert_eq!(l.len(), 6);
    assert_eq!(l[0]["version"], 3);
    assert_eq!(l[2]["message"]["role"], "custom");
    assert!(l[3].get("firstKeptEntryIndex").is_none());
    assert_eq!(
        l[3]["firstKeptEntryId"],
        Value::String(e[1].id().to_string())
    );
    assert!(!parse_session(&fs::read_to_string(&path).unwrap()).migrated);
}

#[test]
fn v2_hook_messages_become_custom() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("v2.jsonl");
    let v2 = [
        r#"{"type":"session","version":2,"id":"old","timestamp":"2025-01-01T00:00:00.000Z","cwd":"/p"}"#,
        r#"{"type":"message","id":"aaaaaaaa","parentId":null,"timestamp":"2025-01-01T00:00:02.000Z","message":{"role":"hookMessage","customType":"h","content":"hooked","display":false,"timestamp":2}}"#,
    ];
    fs::write(&path, v2.join("\n") + "\n").unwrap();
    let mut m = SessionManager::open(&path, "/p").unwrap();
    assert_eq!(m.entries()[0].id(), "aaaaaaaa");
    assert_eq!(fs::read_to_string(&path).unwrap(), v2.join("\n") + "\n");
    m.append_message(user("q")).unwrap();
    m.append_message(assistant("a", 15)).unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap().lines().nth(1).unwrap(),
        r#"{"type":"message","id":"aaaaaaaa","parentId":null,"timestamp":"2025-01-01T00:00:02.000Z","message":{"role":"custom","customType":"h","content":"hooked","display":false,"timestamp":2}}"#
    );
}

#[test]
fn nothing_is_written_before_the_first_assistant_message() {
    let tmp = tempfile::tempdir().unwrap();
    let mut m = SessionManager::create(tmp.path(), "/proj");
    let path = m.session_file().unwrap().to_path_buf();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        name,
        session_file_name(&m.header().timestamp, m.session_id())
    );
    assert!(name.ends_with(&format!("_{}.jsonl", m.session_id())));
    assert!(!name.contains(':'));
    m.append_model_change("fake", "fake-model").unwrap();
    m.append_thinking_level_change(Default::default()).unwrap();
    m.append_message(user("hi")).unwrap();
    assert!(!path.exists(), "no file before an assistant message");
    m.append_message(assistant("echo: hi", 15)).unwrap();
    let l = lines(&path);
    assert_eq!(l.len(), 5);
    assert_eq!(l[0]["type"], "session");
    assert_eq!(l[1]["parentId"], Value::Null);
    for i in 2..5 {
        assert_eq!(l[i]["parentId"], l[i - 1]["id"]);
    }
    m.append_message(user("more")).unwrap();
    let l = lines(&path);
    assert_eq!(l.len(), 6);
    assert_eq!(l[5]["parentId"], l[4]["id"]);
    // Re-opening gives the same tree and leaf.
    let again = SessionManager::open(&path, "/x").unwrap();
    assert_eq!(again.entries(), m.entries());
    assert_eq!(again.leaf_id(), m.leaf_id());
    assert_eq!(again.cwd(), "/proj");
}

#[test]
fn in_memory_sessions_never_touch_the_disk() {
    let mut m = SessionManager::in_memory("/p");
    m.append_message(user("a")).unwrap();
    m.append_message(assistant("b", 15)).unwrap();
    assert!(m.session_file().is_none());
    assert_eq!(m.build_context().messages.len(), 2);
}

#[test]
fn branching_stays_in_the_file_and_changes_the_context() {
    let tmp = tempfile::tempdir().unwrap();
    let mut m = SessionManager::create(tmp.path(), "/p");
    let u1 = m.append_message(user("one")).unwrap();
    let a1 = m.append_message(assistant("r1", 15)).unwrap();
    let u2 = m.append_message(user("two")).unwrap();
    m.append_message(assistant("r2", 15)).unwrap();
    m.branch(&a1).unwrap();
    let u2b = m.append_message(user("two again")).unwrap();
    assert_eq!(m.entry(&u2b).unwrap().parent_id(), Some(a1.as_str()));
    let kids: Vec<&str> = m.children(Some(&a1)).iter().map(|e| e.id()).collect();
    assert_eq!(kids, [u2.as_str(), u2b.as_str()]);
    let texts: Vec<String> = m
        .build_context()
        .messages
        .iter()
        .map(|msg| match &**msg {
            Message::User(u) => u.content.text(),
            Message::Assistant(a) => a.text(),
            other => other.role().to_string(),
        })
        .collect();
    assert_eq!(texts, ["one", "r1", "two again"]);
    assert!(m.branch("nope").is_err());

    let bs = m
        .branch_with_summary(Some(&u1), "tried two things", None, None)
        .unwrap();
    let ctx = m.build_context();
    assert_eq!(ctx.messages.len(), 2);
    assert_eq!(ctx.messages[1].role(), "branchSummary");
    assert_eq!(m.entry(&bs).unwrap().parent_id(), Some(u1.as_str()));

    m.reset_leaf();
    let root = m.append_message(user("fresh root")).unwrap();
    assert_eq!(m.entry(&root).unwrap().parent_id(), None);
    assert_eq!(m.children(None).len(), 2);
    // Everything is in one file, in append order.
    let reread = SessionManager::open(m.session_file().unwrap(), "/p").unwrap();
    assert_eq!(reread.entries().len(), 7);
    assert_eq!(reread.leaf_id(), Some(root.as_str()));
}

#[test]
fn fork_writes_a_new_file_up_to_the_parent_of_the_user_message() {
    let tmp = tempfile::tempdir().unwrap();
    let mut m = SessionManager::create(tmp.path(), "/p");
    m.append_model_change("fake", "fake-model").unwrap();
    m.append_thinking_level_change(Default::default()).unwrap();
    let u1 = m.append_message(user("first")).unwrap();
    m.append_message(assistant("r1", 15)).unwrap();
    m.append_label(&u1, Some("start")).unwrap();
    let u2 = m.append_message(user("second")).unwrap();
    m.append_message(assistant("r2", 15)).unwrap();
    let old_path = m.session_file().unwrap().to_path_buf();
    let old_ids: Vec<String> = m.entries().iter().map(|e| e.id().to_string()).collect();
    let forks: Vec<(String, String)> = m
        .fork_messages()
        .into_iter()
        .map(|f| (f.entry_id, f.text))
        .collect();
    assert_eq!(
        forks,
        [(u1.clone(), "first".into()), (u2.clone(), "second".into())]
    );

    assert!(
        m.fork(&old_ids[3]).is_err(),
        "an assistant message cannot be forked from"
    );
    let text = m.fork(&u2).unwrap();
    assert_eq!(text, "second");
    let new_path = m.session_file().unwrap().to_path_buf();
    assert_ne!(new_path, old_path);
    let l = lines(&new_path);
    assert_eq!(l[0]["parentSession"], old_path.to_string_lossy().as_ref());
    assert_eq!(l[0]["id"], m.session_id());
    // model_change, thinking, u1, a1 with the same ids, then the label re-created at the end.
    let ids: Vec<&str> = l[1..5].iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        old_ids[..4].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(l.len(), 6);
    assert_eq!(l[5]["type"], "label");
    assert_eq!(l[5]["targetId"], u1.as_str());
    assert_eq!(l[5]["parentId"], old_ids[3].as_str());
    assert_eq!(m.label(&u1), Some("start"));
    // The old file is unchanged.
    assert_eq!(lines(&old_path).len(), 8);

    // clone copies the current branch into yet another file.
    let cloned = m.clone_session().unwrap().unwrap();
    let c = lines(&cloned);
    assert_eq!(c[0]["parentSession"], new_path.to_string_lossy().as_ref());
    assert_eq!(c.len(), 6);
    assert_eq!(c[4]["id"], old_ids[3].as_str());
}

#[test]
fn forking_a_root_user_message_starts_an_empty_session() {
    let tmp = tempfile::tempdir().unwrap();
    let mut m = SessionManager::create(tmp.path(), "/p");
    let u = m.append_message(user("root")).unwrap();
    m.append_message(assistant("r", 15)).unwrap();
    let old = m.session_file().unwrap().to_string_lossy().into_owned();
    assert_eq!(m.fork(&u).unwrap(), "root");
    assert!(m.entries().is_empty());
    assert_eq!(m.header().parent_session.as_deref(), Some(old.as_str()));
}

#[test]
fn listing_and_most_recent() {
    let tmp = tempfile::tempdir().unwrap();
    let mut a = SessionManager::create(tmp.path(), "/p");
    a.append_message(user("alpha question")).unwrap();
    a.append_message(assistant("x", 15)).unwrap();
    a.append_session_info("  named  ").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mut b = SessionManager::create(tmp.path(), "/p");
    b.append_message(user("beta")).unwrap();
    b.append_message(assistant("y", 15)).unwrap();
    fs::write(tmp.path().join("junk.jsonl"), "nope\n").unwrap();
    let list = list_sessions(tmp.path()).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].id, b.session_id());
    assert_eq!(list[1].name.as_deref(), Some("named"));
    assert_eq!(list[1].first_message, "alpha question");
    assert_eq!(list[1].message_count, 2);
    assert_eq!(most_recent_session(tmp.path()).as_deref(), b.session_file());
    let cont = SessionManager::continue_recent(tmp.path(), "/p").unwrap();
    assert_eq!(cont.session_id(), b.session_id());
    assert_eq!(a.session_name(), Some("named"));
}

#[test]
fn cwd_encoding_matches_pi() {
    assert_eq!(encode_cwd("/tmp/x/work"), "--tmp-x-work--");
    assert_eq!(encode_cwd("C:\\Users\\me"), "--C--Users-me--");
}

/// The session keeps the very message it was given, and the context built from it shares it:
/// a message appended by the engine is the same allocation as the agent's copy.
#[test]
fn appended_messages_are_shared_with_the_context() {
    let mut m = SessionManager::in_memory("/p");
    let first = std::sync::Arc::new(user("hello"));
    let reply = std::sync::Arc::new(assistant("hi", 5));
    m.append_message(first.clone()).unwrap();
    m.append_message(reply.clone()).unwrap();
    let ctx = m.build_context();
    assert_eq!(ctx.messages.len(), 2);
    assert!(std::sync::Arc::ptr_eq(&ctx.messages[0], &first));
    assert!(std::sync::Arc::ptr_eq(&ctx.messages[1], &reply));
    match &m.entries()[0] {
        SessionEntry::Message(e) => assert!(std::sync::Arc::ptr_eq(&e.message, &first)),
        other => panic!("unexpected entry {other:?}"),
    }
}
