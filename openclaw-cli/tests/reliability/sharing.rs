//! One state dir, several writers: a second gateway, the CLI while the gateway runs, and the
//! import of an OpenClaw 2026.5 session index.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_gateway_on_the_same_state_dir_names_the_first_and_a_killed_one_does_not_block() {
    let model = fake_model(1, Duration::ZERO).await;
    let port = free_port();
    let dir = state_dir(&format!("{}/v1", model.url()), port);
    let first = Gateway::start(dir.path(), port).await;
    let pid = first.child.id();
    let out = gateway_exits(dir.path(), free_port());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the second gateway must not run");
    assert!(
        err.contains(&format!("pid {pid}")) && err.contains(&format!("port {port}")),
        "{err}"
    );
    // The first one still serves.
    let c = first.client().await;
    assert_eq!(turn(&c, "main", "still here", "r1").await, "final");
    first.kill9();
    // A lock left by a killed gateway is no lock.
    let again = Gateway::start(dir.path(), port).await;
    let c = again.client().await;
    let h = c
        .call("chat.history", Some(json!({"sessionKey": "main"})))
        .await;
    assert_eq!(
        h.expect("history")["messages"].as_array().map(Vec::len),
        Some(2)
    );
}

fn listed_keys(state: &std::path::Path) -> Vec<String> {
    let out = cli(state, &["sessions", "list", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    v["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .filter_map(|s| s["key"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_deleted_by_the_cli_while_the_gateway_runs_stay_deleted() {
    let model = fake_model(1, Duration::ZERO).await;
    let port = free_port();
    let dir = state_dir(&format!("{}/v1", model.url()), port);
    let gw = Gateway::start(dir.path(), port).await;
    let c = gw.client().await;
    for key in ["agent:main:gone", "agent:main:byid", "agent:main:kept"] {
        assert_eq!(turn(&c, key, "hello", &format!("r-{key}")).await, "final");
    }
    let out = cli(dir.path(), &["sessions", "delete", "agent:main:gone"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sid = c
        .call("sessions.describe", Some(json!({"key": "agent:main:byid"})))
        .await
        .expect("describe")["session"]["sessionId"]
        .as_str()
        .expect("sessionId")
        .to_owned();
    let out = cli(dir.path(), &["sessions", "delete", &sid]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The gateway writes again (another key, and a patch): the deletions hold.
    assert_eq!(
        turn(&c, "agent:main:kept", "again", "r-again").await,
        "final"
    );
    c.call(
        "sessions.patch",
        Some(json!({"key": "agent:main:kept", "label": "K"})),
    )
    .await
    .expect("patch");
    let keys = listed_keys(dir.path());
    assert!(keys.contains(&"agent:main:kept".to_owned()), "{keys:?}");
    assert!(!keys.contains(&"agent:main:gone".to_owned()), "{keys:?}");
    assert!(!keys.contains(&"agent:main:byid".to_owned()), "{keys:?}");
    // A new turn on a deleted key starts a new transcript with a header, not an append to
    // the removed file.
    assert_eq!(turn(&c, "agent:main:gone", "back", "r-back").await, "final");
    let file = transcript_of(dir.path(), "agent:main:gone").expect("a new row");
    let text = std::fs::read_to_string(&file).expect("transcript");
    let first: Value = serde_json::from_str(text.lines().next().expect("a line")).expect("json");
    assert_eq!(first["type"], "session", "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_gateway_write_at_once_without_losing_a_row() {
    let model = fake_model(2, Duration::from_millis(5)).await;
    let port = free_port();
    let dir = state_dir(&format!("{}/v1", model.url()), port);
    let gw = Gateway::start(dir.path(), port).await;
    let c = gw.client().await;
    for i in 0..6 {
        assert_eq!(
            turn(&c, &format!("agent:main:old{i}"), "x", &format!("o{i}")).await,
            "final"
        );
    }
    let state = dir.path().to_owned();
    let deleter = std::thread::spawn(move || {
        for i in 0..6 {
            let out = cli(
                &state,
                &["sessions", "delete", &format!("agent:main:old{i}")],
            );
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let out = cli(&state, &["sessions", "list", "--json"]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    });
    let turns = (0..12).map(|i| {
        let c = &c;
        async move { turn(c, &format!("agent:main:new{i}"), "y", &format!("n{i}")).await }
    });
    let states = futures::future::join_all(turns).await;
    deleter.join().expect("the CLI writer");
    assert!(states.iter().all(|s| s == "final"), "{states:?}");
    let keys = listed_keys(dir.path());
    for i in 0..12 {
        assert!(
            keys.contains(&format!("agent:main:new{i}")),
            "new{i}: {keys:?}"
        );
    }
    for i in 0..6 {
        assert!(
            !keys.contains(&format!("agent:main:old{i}")),
            "old{i}: {keys:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openclaw_session_index_is_imported_on_first_start_and_left_untouched() {
    let model = fake_model(1, Duration::ZERO).await;
    let port = free_port();
    let dir = state_dir(&format!("{}/v1", model.url()), port);
    let sessions = dir.path().join("agents/main/sessions");
    std::fs::create_dir_all(&sessions).expect("dir");
    let transcript = [
        r#"{"type":"session","version":3,"id":"imported-1","timestamp":"2026-05-01T00:00:00.000Z","cwd":"/w"}"#,
        r#"{"type":"message","id":"a1","parentId":null,"timestamp":"2026-05-01T00:00:01.000Z","message":{"role":"user","content":"from openclaw","timestamp":1}}"#,
        r#"{"type":"message","id":"a2","parentId":"a1","timestamp":"2026-05-01T00:00:02.000Z","message":{"role":"assistant","content":[{"type":"text","text":"kept"}],"api":"openai-completions","provider":"fake","model":"fake-model","usage":{"input":1,"output":1,"cacheRead":0,"cacheWrite":0,"totalTokens":2,"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"total":0}},"stopReason":"stop","timestamp":2}}"#,
    ]
    .join("\n")
        + "\n";
    std::fs::write(sessions.join("imported-1.jsonl"), &transcript).expect("transcript");
    // OpenClaw wrote absolute paths of another home: the import makes them relative.
    let index = json!({"agent:main:main": {"sessionId": "imported-1",
        "sessionFile": "/home/elsewhere/.openclaw/agents/main/sessions/imported-1.jsonl",
        "updatedAt": 1_777_000_000_000u64, "label": "Old", "origin": {"provider": "webchat"}}})
    .to_string();
    std::fs::write(sessions.join("sessions.json"), &index).expect("index");
    let gw = Gateway::start(dir.path(), port).await;
    let c = gw.client().await;
    let list = c
        .call("sessions.list", Some(json!({})))
        .await
        .expect("list");
    assert_eq!(list["sessions"][0]["key"], "agent:main:main", "{list}");
    assert_eq!(list["sessions"][0]["label"], "Old");
    let h = c
        .call("chat.history", Some(json!({"sessionKey": "main"})))
        .await
        .expect("history");
    assert_eq!(h["messages"].as_array().map(Vec::len), Some(2), "{h}");
    assert_eq!(turn(&c, "main", "continued", "r1").await, "final");
    assert_eq!(
        std::fs::read_to_string(sessions.join("sessions.json")).expect("index"),
        index
    );
    let text = std::fs::read_to_string(sessions.join("imported-1.jsonl")).expect("transcript");
    assert!(
        text.starts_with(&transcript) && text.contains("continued"),
        "{text}"
    );
}
