//! Parameters that must be honoured or refused, never ignored, over a real gateway on loopback
//! with the in-process fake model (what reaches the model is read from its recorded requests):
//! attachments, thinking, model/provider overrides, extraSystemPrompt, the `expected…` guards,
//! chat.history's maxChars/cursor/thinking level, sessions.list filters, sessions.patch applied
//! to the next run, sessions.compact maxLines, agents.files.set expectedHash.

mod common;

use std::time::Duration;

use common::ADMIN;
use common::Client;
use common::model::{bodies, chat, config_for, start_model, terminal_chat, text_reply};
use openclaw_core::testing::sse_server::{Reply, SseServer};
use serde_json::{Value, json};

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

/// The text of the system message of a request.
fn system_of(body: &Value) -> String {
    body["messages"]
        .as_array()
        .and_then(|m| {
            m.iter()
                .find(|m| m["role"] == "system" || m["role"] == "developer")
        })
        .map(|m| m["content"].to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn chat_send_images_and_thinking_reach_the_model_and_other_files_are_refused() {
    let model = start_model().await;
    let mut config = config_for(&model);
    config["agents"]["defaults"]["model"]["primary"] = json!("fake/m2");
    let tg = common::start_engine(config).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let end = chat(
        &mut c,
        "main",
        "what is this?",
        json!({"thinking": "high", "attachments": [
            {"type": "image", "mimeType": "image/png", "fileName": "dot.png", "content": PNG}]}),
    )
    .await;
    assert_eq!(end["state"], "final", "{end}");
    let sent = bodies(&model);
    let user = sent[0]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .unwrap()
        .clone();
    let parts = user["content"].as_array().expect("content parts");
    assert!(parts.iter().any(|p| p["text"] == "what is this?"));
    assert!(
        parts.iter().any(|p| p["image_url"]["url"]
            .as_str()
            .is_some_and(|u| u == format!("data:image/png;base64,{PNG}"))),
        "{user}"
    );
    assert_eq!(sent[0]["reasoning_effort"], "high");

    let err = c
        .err(
            "chat.send",
            json!({"sessionKey": "main", "message": "read this", "idempotencyKey": "pdf",
                   "attachments": [{"mimeType": "application/pdf", "fileName": "a.pdf", "content": "JVBERi0="}]}),
        )
        .await;
    assert_eq!(err["code"], "INVALID_REQUEST");
    assert!(
        err["message"].as_str().unwrap().contains("only images"),
        "{err}"
    );
    let err = c
        .err(
            "chat.send",
            json!({"sessionKey": "main", "message": "x", "idempotencyKey": "t", "thinking": "max"}),
        )
        .await;
    assert!(
        err["message"].as_str().unwrap().contains("/thinking"),
        "{err}"
    );
    assert_eq!(bodies(&model).len(), 1, "refused sends reached the model");
}

/// Sends `agent` and waits for its final answer.
async fn agent(c: &mut Client, params: Value) -> Value {
    let id = c.send_request("agent", Some(params)).await;
    let first = c.response(&id).await;
    assert_eq!(first["ok"], true, "{first}");
    c.response(&id).await
}

#[tokio::test]
async fn agent_model_and_extra_system_prompt_apply_to_that_run_only() {
    let model = start_model().await;
    let tg = common::start_engine(config_for(&model)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let fin = agent(
        &mut c,
        json!({"message": "hi", "idempotencyKey": "a1", "model": "m2", "provider": "fake",
               "extraSystemPrompt": "Answer like a pirate EXTRA-42.", "thinking": "low"}),
    )
    .await;
    assert_eq!(fin["payload"]["status"], "ok", "{fin}");
    assert_eq!(fin["payload"]["result"]["meta"]["agentMeta"]["model"], "m2");
    assert!(
        c.backlog.iter().any(|f| f["event"] == "agent"
            && f["payload"]["data"]["phase"] == "model"
            && f["payload"]["data"]["model"] == "m2"),
        "the lifecycle model event does not name the run's model"
    );
    let end = chat(&mut c, "main", "again", json!({})).await;
    assert_eq!(end["state"], "final");
    let sent = bodies(&model);
    assert_eq!(sent[0]["model"], "m2");
    assert_eq!(sent[0]["reasoning_effort"], "low");
    assert!(system_of(&sent[0]).contains("EXTRA-42"));
    assert_eq!(sent[1]["model"], "m1");
    assert!(!system_of(&sent[1]).contains("EXTRA-42"));

    let fin = agent(
        &mut c,
        json!({"message": "hi", "idempotencyKey": "a2", "model": "nope"}),
    )
    .await;
    assert_eq!(fin["ok"], false, "{fin}");
    assert!(fin["error"]["message"].as_str().unwrap().contains("nope"));
    assert_eq!(bodies(&model).len(), 2);
}

#[tokio::test]
async fn sessions_patch_applies_to_the_next_run_and_history_reports_the_real_level() {
    let model = start_model().await;
    let tg = common::start_engine(config_for(&model)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    chat(&mut c, "main", "one", json!({})).await;
    let h = c.ok("chat.history", json!({"sessionKey": "main"})).await;
    let level = h["thinkingLevel"].as_str().unwrap().to_owned();
    // m1 does not reason: its level is off.
    assert_eq!(level, "off");
    let patched = c
        .ok(
            "sessions.patch",
            json!({"key": "agent:main:main", "model": "fake/m2", "thinkingLevel": "low"}),
        )
        .await;
    assert_eq!(patched["ok"], true);
    chat(&mut c, "main", "two", json!({})).await;
    let sent = bodies(&model);
    assert_eq!(sent[1]["model"], "m2");
    assert_eq!(sent[1]["reasoning_effort"], "low");
    let h = c.ok("chat.history", json!({"sessionKey": "main"})).await;
    assert_eq!(h["thinkingLevel"], "low");
    let err = c
        .err(
            "sessions.patch",
            json!({"key": "agent:main:main", "model": "fake/nope"}),
        )
        .await;
    assert_eq!(err["message"], "model not allowed or unknown: fake/nope");
    c.ok(
        "sessions.patch",
        json!({"key": "agent:main:main", "verboseLevel": "off"}),
    )
    .await;
    let h = c.ok("chat.history", json!({"sessionKey": "main"})).await;
    assert_eq!(h["verboseLevel"], "off");
    // And the patch is kept for later runs.
    chat(&mut c, "main", "three", json!({})).await;
    assert_eq!(bodies(&model)[2]["model"], "m2");
}

#[tokio::test]
async fn history_clips_pages_and_returns_deltas_after_a_cursor() {
    let model = start_model().await;
    let tg = common::start_engine(config_for(&model)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    chat(&mut c, "main", &"long message ".repeat(20), json!({})).await;
    let h = c
        .ok(
            "chat.history",
            json!({"sessionKey": "main", "maxChars": 10}),
        )
        .await;
    assert_eq!(h["messages"][0]["content"][0]["text"], "long messa…");
    assert_eq!(h["messages"][1]["content"][0]["text"], "pong");
    let cursor = h["deltaCursor"].as_str().unwrap().to_owned();
    let none = c
        .ok(
            "chat.history",
            json!({"sessionKey": "main", "cursor": cursor}),
        )
        .await;
    assert_eq!(none["kind"], "delta");
    assert_eq!(none["messages"], json!([]));
    chat(&mut c, "main", "next", json!({})).await;
    let delta = c
        .ok(
            "chat.history",
            json!({"sessionKey": "main", "cursor": cursor}),
        )
        .await;
    assert_eq!(delta["kind"], "delta");
    let texts: Vec<&str> = delta["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["next", "pong"]);
    let page = c
        .ok(
            "chat.history",
            json!({"sessionKey": "main", "limit": 1, "offset": 1}),
        )
        .await;
    assert_eq!(page["messages"][0]["content"][0]["text"], "next");
    assert_eq!(page["hasMore"], true);
    assert_eq!(page["nextOffset"], 2);
    // After a reset the old cursor says so.
    c.ok("sessions.reset", json!({"key": "agent:main:main"}))
        .await;
    let reset = c
        .ok(
            "chat.history",
            json!({"sessionKey": "main", "cursor": cursor}),
        )
        .await;
    assert_eq!(reset["kind"], "reset");
}

#[tokio::test]
async fn expected_guards_refuse_a_stale_caller() {
    let model = start_model().await;
    let tg = common::start_engine(config_for(&model)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    chat(&mut c, "main", "one", json!({})).await;
    let key = "agent:main:main";
    let err = c
        .err(
            "sessions.patch",
            json!({"key": key, "label": "x", "expectedSessionId": "old"}),
        )
        .await;
    assert_eq!(err["code"], "INVALID_REQUEST");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("session changed")
    );
    let h = c.ok("chat.history", json!({"sessionKey": "main"})).await;
    let sid = h["sessionId"].as_str().unwrap().to_owned();
    c.ok(
        "sessions.patch",
        json!({"key": key, "label": "x", "expectedSessionId": sid}),
    )
    .await;
    let err = c
        .err(
            "sessions.reset",
            json!({"key": key, "expectedSessionId": "old"}),
        )
        .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("session changed")
    );
    let err = c
        .err(
            "chat.send",
            json!({"sessionKey": "main", "message": "m", "idempotencyKey": "g1",
                   "expectedLeafEntryId": "not-the-leaf"}),
        )
        .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("expected leaf entry not-the-leaf")
    );
    // The leaf is the last line of the transcript.
    let entry = c.ok("sessions.describe", json!({"key": key})).await;
    let sid2 = entry["session"]["sessionId"].as_str().unwrap();
    assert_eq!(sid2, sid);
    let file = std::fs::read_dir(tg.state().join("agents/main/sessions"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains(&sid) && p.extension().is_some_and(|x| x == "jsonl"))
        .unwrap();
    let text = std::fs::read_to_string(file).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let end = chat(
        &mut c,
        "main",
        "two",
        json!({"expectedLeafEntryId": last["id"]}),
    )
    .await;
    assert_eq!(end["state"], "final");
    let err = c
        .err(
            "agent",
            json!({"message": "m", "idempotencyKey": "g2", "expectedExistingSessionId": "old"}),
        )
        .await;
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .starts_with("session changed")
    );
    assert_eq!(bodies(&model).len(), 2, "a refused call reached the model");
}

#[tokio::test]
async fn sessions_list_filters_and_compact_max_lines() {
    let model = start_model().await;
    let tg = common::start_engine(config_for(&model)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    for k in ["main", "cron:nightly", "roadmap"] {
        chat(&mut c, k, "hello", json!({})).await;
    }
    c.ok(
        "sessions.patch",
        json!({"key": "agent:main:roadmap", "label": "Q3 plans"}),
    )
    .await;
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["key"].as_str().unwrap().to_owned())
            .collect();
        k.sort();
        k
    };
    let all = c.ok("sessions.list", json!({})).await;
    assert_eq!(keys(&all).len(), 3);
    let no_cron = c.ok("sessions.list", json!({"excludeCron": true})).await;
    assert_eq!(keys(&no_cron), ["agent:main:main", "agent:main:roadmap"]);
    let found = c.ok("sessions.list", json!({"search": "q3"})).await;
    assert_eq!(keys(&found), ["agent:main:roadmap"]);
    let active = c.ok("sessions.list", json!({"activeOnly": true})).await;
    assert_eq!(keys(&active), Vec::<String>::new());
    let titled = c
        .ok(
            "sessions.list",
            json!({"label": "Q3 plans", "includeDerivedTitles": true, "includeLastMessage": true}),
        )
        .await;
    assert_eq!(titled["sessions"][0]["derivedTitle"], "hello");
    assert_eq!(titled["sessions"][0]["lastMessagePreview"], "pong");
    // `archived` is a typed field of the row, filtered in the store's query.
    c.ok(
        "sessions.patch",
        json!({"key": "agent:main:roadmap", "archived": true}),
    )
    .await;
    let archived = c.ok("sessions.list", json!({"archived": true})).await;
    assert_eq!(keys(&archived), ["agent:main:roadmap"]);
    assert_eq!(archived["sessions"][0]["archived"], true);
    assert_eq!(archived["totalCount"], 1);
    let live = c.ok("sessions.list", json!({"archived": false})).await;
    assert_eq!(keys(&live), ["agent:main:cron:nightly", "agent:main:main"]);

    // Three more turns on main, then keep the last two messages.
    for m in ["two", "three", "four"] {
        chat(&mut c, "main", m, json!({})).await;
    }
    let out = c
        .ok(
            "sessions.compact",
            json!({"key": "agent:main:main", "maxLines": 2}),
        )
        .await;
    assert_eq!(out["compacted"], true, "{out}");
    assert_eq!(out["kept"], 2);
    assert_eq!(out["removed"], 6);
    chat(&mut c, "main", "five", json!({})).await;
    let last = bodies(&model).last().cloned().unwrap();
    let text = last["messages"].to_string();
    assert!(
        !text.contains("\"hello\"") && !text.contains("\"three\""),
        "{text}"
    );
    assert!(text.contains("four") && text.contains("five"));
}

#[tokio::test]
async fn agent_files_set_checks_expected_hash() {
    let model = start_model().await;
    let tg = common::start_engine(config_for(&model)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let set = c
        .ok(
            "agents.files.set",
            json!({"agentId": "main", "name": "SOUL.md", "content": "v1"}),
        )
        .await;
    let h1 = set["hash"].as_str().unwrap().to_owned();
    let got = c
        .ok(
            "agents.files.get",
            json!({"agentId": "main", "name": "SOUL.md"}),
        )
        .await;
    assert_eq!(got["hash"], h1.as_str());
    c.ok(
        "agents.files.set",
        json!({"agentId": "main", "name": "SOUL.md", "content": "v2", "expectedHash": h1}),
    )
    .await;
    let err = c
        .err(
            "agents.files.set",
            json!({"agentId": "main", "name": "SOUL.md", "content": "v3", "expectedHash": h1}),
        )
        .await;
    assert!(err["message"].as_str().unwrap().contains("expectedHash"));
    let got = c
        .ok(
            "agents.files.get",
            json!({"agentId": "main", "name": "SOUL.md"}),
        )
        .await;
    assert_eq!(got["file"]["content"], "v2");
}

/// `reply` streamed with `delay` between its chunks; `hold` keeps the stream open after them.
fn slowed(reply: Reply, delay: Duration, hold: bool) -> Reply {
    match reply {
        Reply::Sse { chunks, .. } => Reply::Sse {
            chunks: if hold { chunks[..1].to_vec() } else { chunks },
            delay,
            hold_open: hold,
        },
        other => other,
    }
}

async fn until_requests(model: &SseServer, n: usize) {
    for _ in 0..200 {
        if model.request_count() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the model never got request {n}");
}

#[tokio::test]
async fn queue_modes_interrupt_steer_or_are_refused() {
    let model = SseServer::start(vec![
        slowed(text_reply("never"), Duration::from_millis(10), true),
        text_reply("two"),
        slowed(text_reply("three"), Duration::from_millis(400), false),
        text_reply("pong"),
    ])
    .await
    .unwrap();
    let tg = common::start_engine(config_for(&model)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let send = |id: &str, msg: &str, mode: Option<&str>| {
        let mut p = json!({"sessionKey": "main", "message": msg, "idempotencyKey": id});
        if let Some(m) = mode {
            p["queueMode"] = json!(m);
        }
        p
    };
    // interrupt: the hanging run is aborted and the new message runs.
    assert_eq!(
        c.ok("chat.send", send("q1", "first", None)).await["status"],
        "started"
    );
    until_requests(&model, 1).await;
    c.ok("chat.send", send("q2", "second", Some("interrupt")))
        .await;
    assert_eq!(terminal_chat(&mut c, "q1").await["state"], "aborted");
    let end = terminal_chat(&mut c, "q2").await;
    assert_eq!(end["message"]["content"][0]["text"], "two");
    // steer: into the running turn, which then answers it.
    c.ok("chat.send", send("q3", "third", None)).await;
    until_requests(&model, 3).await;
    let steered = c
        .ok("chat.send", send("q4", "and also this", Some("steer")))
        .await;
    assert_eq!(steered, json!({"runId": "q3", "status": "steered"}));
    let end = terminal_chat(&mut c, "q3").await;
    assert_eq!(end["message"]["content"][0]["text"], "pong");
    let sent = bodies(&model);
    assert_eq!(sent.len(), 4);
    assert!(sent[3]["messages"].to_string().contains("and also this"));
    // Not supported: refused.
    let err = c.err("chat.send", send("q5", "x", Some("collect"))).await;
    assert!(err["message"].as_str().unwrap().contains("collect"));
}
