//! Heartbeats, `wake` and next-heartbeat cron events over a real loopback gateway with the
//! agent host and a loopback fake model: a `HEARTBEAT_OK` beat stays silent (no `chat` event,
//! not in history), the cost guard and an empty HEARTBEAT.md make no model call, a busy main
//! session defers the beat, `wake` runs a turn with the system event.

mod common;

use std::time::Duration;

use common::model::{chat, config_for, text_reply};
use common::{ADMIN, Client, Setup};
use openclaw_core::testing::sse_server::{RecordedRequest, Reply, SseServer};
use serde_json::{Value, json};

/// The text of the last message the model was sent.
fn last_user(r: &RecordedRequest) -> String {
    let body = r.json();
    let msgs = body["messages"].as_array().cloned().unwrap_or_default();
    msgs.last()
        .map(|m| m["content"].to_string())
        .unwrap_or_default()
}

type Seen = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A model answering heartbeat prompts with `beat_reply` and anything else with "pong"
/// (slowly when `slow`); `seen` gets the messages of every request.
async fn model_seen(beat_reply: &'static str, slow: bool, seen: Seen) -> SseServer {
    SseServer::start_fn(move |r| {
        seen.lock().unwrap().push(r.json()["messages"].to_string());
        let last = last_user(r);
        if last.contains("HEARTBEAT_OK") || last.contains("System: [") {
            text_reply(beat_reply)
        } else if slow {
            match text_reply("pong") {
                Reply::Sse { chunks, .. } => Reply::Sse {
                    chunks,
                    delay: Duration::from_millis(1200),
                    hold_open: false,
                },
                other => other,
            }
        } else {
            text_reply("pong")
        }
    })
    .await
    .expect("fake model starts")
}

async fn model(beat_reply: &'static str, slow: bool) -> SseServer {
    model_seen(beat_reply, slow, Seen::default()).await
}

fn config(model: &SseServer, heartbeat: Value) -> Value {
    let mut c = config_for(model);
    c["agents"]["defaults"]["heartbeat"] = heartbeat;
    c
}

/// Starts a gateway whose main workspace has `checklist` as HEARTBEAT.md (none when `None`).
async fn start(config: Value, checklist: Option<&str>) -> common::TestGateway {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("workspace");
    std::fs::create_dir_all(&ws).unwrap();
    if let Some(text) = checklist {
        std::fs::write(ws.join("HEARTBEAT.md"), text).unwrap();
    }
    common::start_setup_in(
        Setup {
            config,
            engine: true,
            ..Setup::default()
        },
        dir,
    )
    .await
}

async fn heartbeat_event(c: &mut Client) -> Value {
    tokio::time::timeout(Duration::from_secs(20), c.event("heartbeat"))
        .await
        .expect("a heartbeat event within 20 s")["payload"]
        .clone()
}

/// The next heartbeat event that is not a deferral.
async fn beat(c: &mut Client) -> Value {
    loop {
        let e = heartbeat_event(c).await;
        if e["reason"] != "requests-in-flight" {
            return e;
        }
    }
}

#[tokio::test]
async fn a_heartbeat_ok_stays_silent_and_an_unchanged_checklist_costs_nothing() {
    let seen = Seen::default();
    let model = model_seen("HEARTBEAT_OK", false, seen.clone()).await;
    let tg = start(
        config(&model, json!({"every": "1s"})),
        Some("# Checks\n- tell me if the build is red\n"),
    )
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    c.ok("sessions.subscribe", json!({})).await;
    // A conversation first, so the heartbeat lands on a session with history.
    let done = chat(&mut c, "main", "hello", json!({})).await;
    assert_eq!(done["state"], "final");
    let calls_before = model.request_count();
    c.backlog.clear();

    let e = beat(&mut c).await;
    assert_eq!(e["status"], "ok-token", "{e}");
    assert_eq!(e["silent"], true);
    assert_eq!(model.request_count(), calls_before + 1);
    // Nothing of the beat reached the client as chat or agent events.
    let leaked: Vec<&Value> = c
        .backlog
        .iter()
        .filter(|f| f["event"] == "chat" || f["event"] == "agent")
        .collect();
    assert!(
        leaked.is_empty(),
        "heartbeat run streamed events: {leaked:?}"
    );
    // Not in history: the hello/pong exchange only.
    let h = c
        .ok("chat.history", json!({"sessionKey": "agent:main:main"}))
        .await;
    let text = h["messages"].to_string();
    assert!(text.contains("hello") && text.contains("pong"), "{h}");
    assert!(!text.contains("HEARTBEAT"), "the ack is in history: {h}");
    assert_eq!(h["messages"].as_array().unwrap().len(), 2, "{h}");
    let last = c.ok("last-heartbeat", json!({})).await;
    assert_eq!(last["status"], "ok-token");

    // Cost guard: the same checklist, nothing due → skipped without a model call.
    let e = beat(&mut c).await;
    assert_eq!(e["status"], "skipped", "{e}");
    assert_eq!(e["reason"], "unchanged-checklist");
    assert_eq!(model.request_count(), calls_before + 1);

    // A changed checklist runs again.
    let ws = tg.state().join("workspace");
    std::fs::write(ws.join("HEARTBEAT.md"), "# Checks\n- and the disk\n").unwrap();
    loop {
        let e = beat(&mut c).await;
        if e["status"] == "ok-token" {
            break;
        }
    }
    assert_eq!(model.request_count(), calls_before + 2);
    let usage = c.ok("usage.status", json!({})).await;
    assert_eq!(usage["heartbeat"]["runs"], 2, "{usage}");
    assert_eq!(usage["heartbeat"]["totalTokens"], 30, "{usage}");
    let status = c.ok("status", json!({})).await;
    assert_eq!(
        status["heartbeat"]["agents"][0]["enabled"], true,
        "{status}"
    );
    assert_eq!(status["heartbeat"]["agents"][0]["everyMs"], 1000);
    // The session still works and its context holds no heartbeat.
    chat(&mut c, "main", "again", json!({})).await;
    assert_eq!(model.request_count(), calls_before + 3);
    let context = seen.lock().unwrap().last().cloned().unwrap();
    assert!(
        context.contains("hello") && context.contains("again"),
        "{context}"
    );
    assert!(
        !context.contains("HEARTBEAT_OK"),
        "the pruned beat is still in the model's context: {context}"
    );
}

#[tokio::test]
async fn an_empty_checklist_skips_without_a_model_call() {
    let model = model("HEARTBEAT_OK", false).await;
    let tg = start(
        config(&model, json!({"every": "1s"})),
        Some("# HEARTBEAT.md\n\n<!-- nothing to check -->\n- [ ]\n"),
    )
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let e = beat(&mut c).await;
    assert_eq!(e["status"], "skipped", "{e}");
    assert_eq!(e["reason"], "empty-heartbeat-file");
    assert_eq!(model.request_count(), 0);
}

#[tokio::test]
async fn a_busy_main_session_defers_the_beat_until_it_is_idle() {
    let model = model("HEARTBEAT_OK", true).await;
    let tg = start(
        config(&model, json!({"every": "1s"})),
        Some("- is the build green?\n"),
    )
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    // A turn that takes ~2.4 s on the main session, started before the first beat is due.
    let done = chat(&mut c, "main", "hello", json!({})).await;
    assert_eq!(done["state"], "final");
    assert_eq!(
        model.request_count(),
        1,
        "no heartbeat reached the model while the session was busy"
    );
    let e = beat(&mut c).await;
    assert_eq!(e["status"], "ok-token", "{e}");
    assert_eq!(model.request_count(), 2);
}

#[tokio::test]
async fn wake_now_runs_a_turn_with_the_event_and_next_heartbeat_cron_events_wait_for_it() {
    let model = model("Time to stretch!", false).await;
    let tg = start(config(&model, json!({"every": "0m"})), None).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let status = c.ok("status", json!({})).await;
    assert_eq!(
        status["heartbeat"]["agents"][0]["enabled"], false,
        "0m: off"
    );

    // A main-session system event queued for the next heartbeat by a cron job.
    let job = c
        .ok(
            "cron.add",
            json!({"name": "later", "schedule": {"kind": "every", "everyMs": 3_600_000},
                   "sessionTarget": "main", "wakeMode": "next-heartbeat",
                   "payload": {"kind": "systemEvent", "text": "Water the plants"}}),
        )
        .await;
    let id = job["id"].as_str().unwrap().to_owned();
    c.ok("cron.run", json!({"id": id})).await;
    let done = loop {
        let e = tokio::time::timeout(Duration::from_secs(20), c.event("cron"))
            .await
            .unwrap();
        if e["payload"]["action"] == "finished" {
            break e["payload"].clone();
        }
    };
    assert_eq!(done["status"], "ok", "{done}");
    assert_eq!(model.request_count(), 0, "queued, not run");
    let status = c.ok("status", json!({})).await;
    assert_eq!(status["queuedSystemEvents"], json!(["Water the plants"]));

    let bad = c.err("wake", json!({"mode": "now", "text": "  "})).await;
    assert!(
        bad["message"]
            .as_str()
            .unwrap()
            .contains("invalid wake params"),
        "{bad}"
    );
    let ok = c
        .ok(
            "wake",
            json!({"mode": "now", "text": "Remind me to stretch"}),
        )
        .await;
    assert_eq!(ok, json!({"ok": true}));
    let e = beat(&mut c).await;
    // An alert with target none: not delivered, said so.
    assert_eq!(e["status"], "skipped", "{e}");
    assert_eq!(e["reason"], "no-target");
    assert_eq!(e["preview"], "Time to stretch!");
    assert_eq!(model.request_count(), 1);
    let sent = model.request_count();
    assert_eq!(sent, 1);
    let h = c
        .ok("chat.history", json!({"sessionKey": "agent:main:main"}))
        .await;
    let text = h["messages"].to_string();
    assert!(text.contains("Water the plants"), "{h}");
    assert!(text.contains("Remind me to stretch"), "{h}");
    assert!(
        text.contains("Time to stretch!"),
        "an alert stays in history: {h}"
    );
    let status = c.ok("status", json!({})).await;
    assert_eq!(status["queuedSystemEvents"], json!([]));

    let off = c.ok("set-heartbeats", json!({"enabled": false})).await;
    assert_eq!(off, json!({"ok": true, "enabled": false}));
    c.ok("wake", json!({"mode": "now", "text": "again"})).await;
    let e = beat(&mut c).await;
    assert_eq!(e["status"], "skipped");
    assert_eq!(e["reason"], "disabled");
    assert_eq!(model.request_count(), 1);
}

#[tokio::test]
async fn an_alert_on_an_unchanged_checklist_is_not_asked_again() {
    let model = model("The build is red!", false).await;
    let tg = start(
        config(&model, json!({"every": "1s", "target": "last"})),
        Some("- is the build green?\n"),
    )
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let e = beat(&mut c).await;
    assert_eq!(e["status"], "skipped", "{e}");
    assert_eq!(
        e["reason"], "no-route",
        "no channels: not delivered, said so"
    );
    assert_eq!(e["preview"], "The build is red!");
    let e = beat(&mut c).await;
    assert_eq!(e["reason"], "unchanged-checklist", "{e}");
    assert_eq!(model.request_count(), 1);
    let h = c
        .ok("chat.history", json!({"sessionKey": "agent:main:main"}))
        .await;
    assert!(
        h["messages"].to_string().contains("The build is red!"),
        "{h}"
    );
}

#[tokio::test]
async fn light_context_and_an_isolated_session_keep_the_beat_small() {
    let seen = Seen::default();
    let model = model_seen("the oven is still on", false, seen.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("workspace");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(ws.join("AGENTS.md"), "AGENTS-MARKER: long operating manual").unwrap();
    std::fs::write(ws.join("HEARTBEAT.md"), "- check the oven\n").unwrap();
    let cfg = config(
        &model,
        json!({"every": "24h", "lightContext": true, "isolatedSession": true}),
    );
    let tg = common::start_setup_in(
        Setup {
            config: cfg,
            engine: true,
            ..Setup::default()
        },
        dir,
    )
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let done = chat(&mut c, "main", "hello from the main session", json!({})).await;
    assert_eq!(done["state"], "final");
    let last = || seen.lock().unwrap().last().cloned().unwrap_or_default();
    let system = |msgs: &str| -> String {
        let v: Value = serde_json::from_str(msgs).unwrap();
        v[0]["content"].to_string()
    };
    assert!(
        system(&last()).contains("AGENTS-MARKER"),
        "a normal turn has the workspace files"
    );
    for round in 1..=2 {
        c.ok(
            "wake",
            json!({"mode": "now", "text": format!("beat {round}")}),
        )
        .await;
        let e = beat(&mut c).await;
        assert_eq!(e["status"], "skipped", "{e}");
        assert_eq!(e["reason"], "no-target", "{e}");
        let msgs = last();
        let prompt = system(&msgs);
        assert!(!prompt.contains("AGENTS-MARKER"), "light context: {prompt}");
        assert!(
            prompt.contains("check the oven"),
            "HEARTBEAT.md kept: {prompt}"
        );
        assert!(
            !msgs.contains("hello from the main session"),
            "isolated: no main history: {msgs}"
        );
        assert!(
            !msgs.contains("beat 1") || round == 1,
            "a fresh session per beat: {msgs}"
        );
    }
    // The main session is untouched by the beats; a normal turn has its full context again.
    let h = c
        .ok("chat.history", json!({"sessionKey": "agent:main:main"}))
        .await;
    assert_eq!(h["messages"].as_array().unwrap().len(), 2, "{h}");
    chat(&mut c, "main", "again", json!({})).await;
    assert!(system(&last()).contains("AGENTS-MARKER"));
    drop(model);
}
