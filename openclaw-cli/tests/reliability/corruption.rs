//! Every file the gateway reads, damaged: the database, OpenClaw's `sessions.json` to import,
//! the config, and transcripts (a stray byte, a byte-order mark, a torn header, a file that
//! cannot be read). Reads never write; what cannot be read is an error naming the file.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;

/// A gateway that must refuse to start, naming `file`, and leave it byte for byte.
fn refuses_naming(state: &Path, file: &Path) {
    let before = std::fs::read(file).expect("the damaged file");
    let out = gateway_exits(state, free_port());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "started over a damaged {}",
        file.display()
    );
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert_eq!(std::fs::read(file).expect("still there"), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_index_or_config_stops_the_gateway_by_name_and_is_kept() {
    let model = fake_model(1, Duration::ZERO).await;
    let url = format!("{}/v1", model.url());

    let dir = state_dir(&url, free_port());
    let db = openclaw_state::paths::database(dir.path());
    std::fs::write(&db, b"SQLite format 3\0 but the rest is gone".repeat(200)).expect("db");
    refuses_naming(dir.path(), &db);
    let out = cli(dir.path(), &["sessions", "list"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(&db.display().to_string()));

    let dir = state_dir(&url, free_port());
    let sessions = dir.path().join("agents/main/sessions");
    std::fs::create_dir_all(&sessions).expect("dir");
    let index = sessions.join("sessions.json");
    std::fs::write(&index, "{\"agent:main:main\": {\"sessionId\": \"s1\"\u{1}").expect("index");
    refuses_naming(dir.path(), &index);

    let dir = state_dir(&url, free_port());
    let config = dir.path().join("openclaw.json");
    std::fs::write(
        &config,
        "{ gateway: { port: 1, }, // unterminated\n agents: [",
    )
    .expect("cfg");
    refuses_naming(dir.path(), &config);
}

/// Runs four turns on `main` (nine transcript lines with the header), stops the gateway, and
/// returns the transcript file.
async fn nine_lines(state: &Path, port: u16) -> std::path::PathBuf {
    let gw = Gateway::start(state, port).await;
    let c = gw.client().await;
    for i in 0..4 {
        assert_eq!(
            turn(&c, "main", &format!("message {i}"), &format!("r{i}")).await,
            "final"
        );
    }
    gw.kill9();
    let file = transcript_of(state, "agent:main:main").expect("a transcript");
    let text = std::fs::read_to_string(&file).expect("transcript");
    assert!(text.lines().count() >= 9, "{text}");
    file
}

async fn read_everything(c: &openclaw_rpc::client::gateway::GatewayClient) -> usize {
    let h = c
        .call("chat.history", Some(json!({"sessionKey": "main"})))
        .await
        .expect("chat.history");
    c.call("sessions.get", Some(json!({"key": "main"})))
        .await
        .expect("sessions.get");
    c.call("sessions.preview", Some(json!({"keys": ["main"]})))
        .await
        .expect("sessions.preview");
    h["messages"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_never_rewrite_a_damaged_transcript_and_the_next_write_keeps_it() {
    let model = fake_model(1, Duration::ZERO).await;
    let url = format!("{}/v1", model.url());
    type Damage = fn(&str) -> String;
    let damages: [(&str, Damage, bool); 3] = [
        ("stray byte", |t| format!("\u{7}{t}"), false),
        ("byte-order mark", |t| format!("\u{feff}{t}"), true),
        (
            "torn header",
            |t| t[t.find("\"id\"").unwrap_or(10)..].to_owned(),
            false,
        ),
    ];
    for (what, damage, header_usable) in damages {
        let port = free_port();
        let dir = state_dir(&url, port);
        let file = nine_lines(dir.path(), port).await;
        let damaged = damage(&std::fs::read_to_string(&file).expect("transcript"));
        std::fs::write(&file, &damaged).expect("damage");
        let gw = Gateway::start(dir.path(), port).await;
        let c = gw.client().await;
        let n = read_everything(&c).await;
        assert_eq!(
            n, 8,
            "{what}: the damaged line is skipped, the eight messages stay"
        );
        assert_eq!(
            std::fs::read_to_string(&file).expect("kept"),
            damaged,
            "{what}: a read never writes"
        );
        assert_eq!(
            turn(&c, "main", "after", "r-after").await,
            "final",
            "{what}"
        );
        let now = std::fs::read_to_string(&file).expect("transcript");
        let aside: Vec<_> = std::fs::read_dir(file.parent().expect("dir"))
            .expect("dir")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".damaged."))
            .collect();
        if header_usable {
            assert!(now.starts_with(&damaged), "{what}: appended");
            assert!(aside.is_empty(), "{what}");
        } else {
            assert_eq!(aside.len(), 1, "{what}: the old file is kept aside");
            assert_eq!(
                std::fs::read_to_string(aside[0].path()).expect("aside"),
                damaged
            );
            let first: Value =
                serde_json::from_str(now.lines().next().expect("line")).expect("header");
            assert_eq!(first["type"], "session", "{what}: {now}");
        }
        assert!(now.contains("after"), "{what}");
        let n = read_everything(&c).await;
        assert_eq!(n, 10, "{what}: the conversation goes on");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_transcript_is_an_error_naming_it_not_an_empty_history() {
    let model = fake_model(1, Duration::ZERO).await;
    let port = free_port();
    let dir = state_dir(&format!("{}/v1", model.url()), port);
    let file = nine_lines(dir.path(), port).await;
    // Root reads through permissions, so make it unreadable as a directory is.
    let saved = std::fs::read(&file).expect("transcript");
    std::fs::remove_file(&file).expect("rm");
    std::fs::create_dir(&file).expect("a directory in its place");
    let gw = Gateway::start(dir.path(), port).await;
    let c = gw.client().await;
    let e = c
        .call("chat.history", Some(json!({"sessionKey": "main"})))
        .await
        .expect_err("an unreadable transcript is an error");
    assert!(e.to_string().contains(&file.display().to_string()), "{e}");
    assert_eq!(turn(&c, "main", "x", "r-x").await, "error");
    assert!(file.is_dir(), "nothing replaced it");
    std::fs::remove_dir(&file).expect("rmdir");
    std::fs::write(&file, saved).expect("restore");
}
