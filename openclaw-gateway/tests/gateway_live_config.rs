//! Live configuration over a real gateway on loopback with the in-process fake model: agents,
//! models and tool policy follow `config.set` / `config.patch` and edits of the file without a
//! restart; keys that need one say so; an invalid edit is refused with its position and the
//! running config stays.

mod common;

use std::time::{Duration, Instant};

use common::ADMIN;
use common::Client;
use common::model::{bodies, chat, config_for, start_model};
use serde_json::{Value, json};

async fn hash(c: &mut Client) -> String {
    let got = c.ok("config.get", json!({})).await;
    got["hash"].as_str().expect("hash").to_owned()
}

async fn patch(c: &mut Client, raw: Value) -> Value {
    let base = hash(c).await;
    c.ok(
        "config.patch",
        json!({"raw": raw.to_string(), "baseHash": base}),
    )
    .await
}

#[tokio::test]
async fn an_agent_added_by_config_set_takes_chat_send_at_once() {
    let model = start_model().await;
    let mut config = config_for(&model);
    let tg = common::start_engine(config.clone()).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let err = c
        .err(
            "chat.send",
            json!({"sessionKey": "agent:writer:main", "message": "hi", "idempotencyKey": "w0"}),
        )
        .await;
    assert_eq!(err["message"], "unknown agent id \"writer\"");

    config["agents"]["list"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "writer", "name": "Writer"}));
    let base = hash(&mut c).await;
    let set = c
        .ok(
            "config.set",
            json!({"raw": serde_json::to_string_pretty(&config).unwrap(), "baseHash": base}),
        )
        .await;
    assert_eq!(
        set["reload"],
        json!({"applied": true, "restartRequired": []})
    );
    let ids: Vec<Value> = c.ok("agents.list", json!({})).await["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    assert!(ids.contains(&json!("writer")), "{ids:?}");
    let end = chat(&mut c, "agent:writer:main", "hello writer", json!({})).await;
    assert_eq!(end["state"], "final", "{end}");
    assert_eq!(end["message"]["content"][0]["text"], "pong");
    // Its workspace was seeded and its session lives under its own store.
    assert!(tg.state().join("agents/writer/sessions").is_dir());
}

#[tokio::test]
async fn a_patched_model_and_tool_policy_apply_to_the_next_run_of_a_live_session() {
    let model = start_model().await;
    let tg = common::start_engine(config_for(&model)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    chat(&mut c, "main", "one", json!({})).await;
    patch(
        &mut c,
        json!({"agents": {"defaults": {"model": {"primary": "fake/m2"}}},
               "tools": {"deny": ["bash", "sessions_send"]}}),
    )
    .await;
    chat(&mut c, "main", "two", json!({})).await;
    let sent = bodies(&model);
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["model"], "m1");
    assert_eq!(sent[1]["model"], "m2", "the live engine kept the old model");
    let tools = |b: &Value| -> Vec<String> {
        b["tools"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|t| t["function"]["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(tools(&sent[0]).contains(&"bash".to_owned()));
    assert!(tools(&sent[0]).contains(&"sessions_send".to_owned()));
    assert!(!tools(&sent[1]).contains(&"bash".to_owned()));
    assert!(!tools(&sent[1]).contains(&"sessions_send".to_owned()));
    assert!(tools(&sent[1]).contains(&"read".to_owned()));
    // The second message continued the same conversation.
    let history = sent[1]["messages"].to_string();
    assert!(history.contains("one") && history.contains("two"));
}

/// Waits until `f` holds (the watcher polls the file).
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn an_editors_change_to_the_file_is_picked_up_and_a_broken_one_refused() {
    let model = start_model().await;
    let mut config = config_for(&model);
    let tg = common::start_engine(config.clone()).await;
    let path = tg.state().join("openclaw.json");
    let (mut c, _) = Client::connected(&tg, ADMIN).await;

    // An editor writes the file in place (same inode), in JSON5.
    config["agents"]["list"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "scribe"}));
    let text = format!(
        "// edited by hand\n{}",
        serde_json::to_string_pretty(&config).unwrap()
    );
    std::fs::write(&path, text).unwrap();
    let tgr = &tg;
    eventually("the new agent", move || async move {
        let (mut c, _) = Client::connected(tgr, ADMIN).await;
        let list = c.ok("agents.list", json!({})).await;
        list["agents"].to_string().contains("scribe")
    })
    .await;
    let end = chat(&mut c, "agent:scribe:main", "hi", json!({})).await;
    assert_eq!(end["state"], "final", "{end}");

    // A broken edit: refused with its position, and the running config stays.
    std::fs::write(&path, "{\n  agents: {\n    list: [,]\n  }\n}\n").unwrap();
    let log = tg.state().join("logs/gateway.log");
    eventually("the refusal in the log", || {
        let log = log.clone();
        async move {
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .contains("config reload rejected")
        }
    })
    .await;
    let text = std::fs::read_to_string(&log).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("config reload rejected"))
        .unwrap();
    assert!(
        line.contains(&format!("{}:3:", path.display())),
        "no file position: {line}"
    );
    let got = c.ok("config.get", json!({})).await;
    assert_eq!(got["valid"], false);
    assert!(
        got["issues"][0]["message"]
            .as_str()
            .unwrap()
            .contains(":3:")
    );
    assert!(got["config"]["agents"].to_string().contains("scribe"));
    let end = chat(&mut c, "agent:scribe:main", "still here?", json!({})).await;
    assert_eq!(end["state"], "final", "{end}");
}

#[tokio::test]
async fn keys_that_need_a_restart_say_so_and_the_rest_applies() {
    let model = start_model().await;
    let tg = common::start_engine(config_for(&model)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let out = patch(
        &mut c,
        json!({"gateway": {"port": 18799}, "agents": {"list": [{"id": "main", "default": true},
            {"id": "late"}]}}),
    )
    .await;
    assert_eq!(
        out["reload"],
        json!({"applied": true, "restartRequired": ["gateway.port"]})
    );
    let log = std::fs::read_to_string(tg.state().join("logs/gateway.log")).unwrap();
    assert!(
        log.lines().any(
            |l| l.contains("config reloaded (config.patch); restart required for gateway.port")
        ),
        "{log}"
    );
    // Still serving on the port it started with, with the new agent.
    let (mut c2, _) = Client::connected(&tg, ADMIN).await;
    let end = chat(&mut c2, "agent:late:main", "hi", json!({})).await;
    assert_eq!(end["state"], "final", "{end}");
}
