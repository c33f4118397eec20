//! `kill -9` in the middle of streaming and of a burst over many keys, then a restart: every
//! turn whose `final` the client saw is in its transcript, and every transcript loads (header
//! intact, each line an entry). Bounded: three rounds of a few seconds each.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use openclaw_core::session::file::parse_session;
use serde_json::json;

use crate::harness::*;

const KEYS: usize = 12;
const ROUNDS: usize = 3;

/// Sends one turn on every key at once, kills the gateway after `after`, returns the turns
/// acknowledged with `final` as (key, message).
async fn burst_then_kill(
    state: &Path,
    port: u16,
    round: usize,
    after: Duration,
) -> Vec<(String, String)> {
    let gw = Gateway::start(state, port).await;
    let c = gw.client().await;
    let turns = (0..KEYS).map(|k| {
        let c = &c;
        async move {
            let key = format!("agent:main:k{k}");
            let msg = format!("round {round} key {k} {}", "words ".repeat(20));
            let s = turn(c, &key, &msg, &format!("r{round}-{k}")).await;
            (key, msg, s)
        }
    });
    let all = futures::future::join_all(turns);
    let done = tokio::time::timeout(after, all).await;
    // The kill lands mid-stream for the turns still running.
    gw.kill9();
    match done {
        Ok(list) => list
            .into_iter()
            .filter(|(_, _, s)| s == "final")
            .map(|(k, m, _)| (k, m))
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_turn_survives_kill_9_and_every_transcript_loads() {
    // About 0.3 s per reply: a kill after 0.2 s lands mid-stream, one after 3 s after a burst.
    let model = fake_model(10, Duration::from_millis(30)).await;
    let port = free_port();
    let dir = state_dir(&format!("{}/v1", model.url()), port);
    let mut acked: HashMap<String, Vec<String>> = HashMap::new();
    for round in 0..ROUNDS {
        let after = if round % 2 == 0 {
            Duration::from_secs(3)
        } else {
            Duration::from_millis(200)
        };
        for (k, m) in burst_then_kill(dir.path(), port, round, after).await {
            acked.entry(k).or_default().push(m);
        }
    }
    assert!(!acked.is_empty(), "some turns finished before a kill");
    for (key, messages) in &acked {
        let file = transcript_of(dir.path(), key).expect("an acknowledged key has a row");
        let text = std::fs::read_to_string(&file).expect("transcript");
        for m in messages {
            assert!(
                text.contains(m.trim_end()),
                "{key}: lost an acknowledged turn"
            );
        }
    }
    // Every transcript loads, and the gateway serves them after the last kill.
    for entry in std::fs::read_dir(dir.path().join("agents/main/sessions")).expect("dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "jsonl") {
            let text = std::fs::read_to_string(&path).expect("read");
            let loaded = parse_session(&text);
            assert!(
                loaded.header.is_some(),
                "{}: {:?}",
                path.display(),
                loaded.warnings
            );
            let torn = loaded
                .warnings
                .iter()
                .filter(|w| !w.contains("line"))
                .count();
            assert_eq!(torn, 0, "{}: {:?}", path.display(), loaded.warnings);
        }
    }
    let gw = Gateway::start(dir.path(), port).await;
    let c = gw.client().await;
    for key in acked.keys() {
        let h = c
            .call("chat.history", Some(json!({"sessionKey": key})))
            .await
            .expect("history");
        assert!(
            h["messages"].as_array().is_some_and(|m| m.len() >= 2),
            "{key}: {h}"
        );
        assert_eq!(
            turn(&c, key, "after the crashes", &format!("z-{key}")).await,
            "final"
        );
    }
}
