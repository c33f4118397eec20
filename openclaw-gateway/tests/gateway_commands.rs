//! Slash commands through `chat.send` over a real gateway on loopback with the in-process
//! fake model: each command `commands.list` lists acts on the session and answers with a
//! `chat` final, and never reaches the model as text.

mod common;

use common::ADMIN;
use common::model::{bodies, chat, config_for, start_model};
use common::{Client, Setup};
use serde_json::{Value, json};

fn reply(end: &Value) -> String {
    assert_eq!(end["state"], "final", "{end}");
    end["message"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn listed_commands_work_through_chat_send() {
    let model = start_model().await;
    let tg = common::start(Setup {
        config: config_for(&model),
        engine: true,
        ..Setup::default()
    })
    .await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let listed: Vec<String> = c.ok("commands.list", json!({"includeArgs": true})).await["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    for name in [
        "new", "reset", "model", "think", "compact", "status", "stop",
    ] {
        assert!(listed.contains(&name.to_owned()), "{name} not listed");
    }

    chat(&mut c, "main", "first", json!({})).await;
    assert_eq!(
        reply(&chat(&mut c, "main", "/model fake/m2", json!({})).await),
        "Model set to fake/m2."
    );
    assert_eq!(
        reply(&chat(&mut c, "main", "/think high", json!({})).await),
        "Thinking level set to high."
    );
    assert!(reply(&chat(&mut c, "main", "/think", json!({})).await).contains("high"));
    let bad = reply(&chat(&mut c, "main", "/think loud", json!({})).await);
    assert!(bad.starts_with("Unrecognized thinking level"), "{bad}");
    let status = reply(&chat(&mut c, "main", "/status", json!({})).await);
    assert!(
        status.contains("Model: fake/m2") && status.contains("Think: high"),
        "{status}"
    );
    chat(&mut c, "main", "second", json!({})).await;
    let sent = bodies(&model);
    assert_eq!(sent.len(), 2, "a command reached the model");
    assert_eq!(sent[1]["model"], "m2");
    assert_eq!(sent[1]["reasoning_effort"], "high");

    let help = reply(&chat(&mut c, "main", "/help", json!({})).await);
    assert!(help.contains("/compact"));
    let compacted = reply(&chat(&mut c, "main", "/compact", json!({})).await);
    assert!(compacted.starts_with("⚙️ Compacted"), "{compacted}");
    assert_eq!(
        bodies(&model).len(),
        3,
        "compaction asks the model for a summary"
    );

    let before = c.ok("chat.history", json!({"sessionKey": "main"})).await["sessionId"].clone();
    assert_eq!(
        reply(&chat(&mut c, "main", "/new", json!({})).await),
        "✅ New session started."
    );
    let after = c.ok("chat.history", json!({"sessionKey": "main"})).await;
    assert_ne!(after["sessionId"], before);
    assert_eq!(after["messages"], json!([]));
    // `/reset <text>` starts the new session with the text.
    let end = chat(&mut c, "main", "/reset hello again", json!({})).await;
    assert_eq!(reply(&end), "pong");
    let last = bodies(&model).last().cloned().unwrap();
    let users: Vec<Value> = last["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .cloned()
        .collect();
    assert_eq!(users.len(), 1, "{users:?}");
    assert!(users[0]["content"].to_string().contains("hello again"));

    // Not a command, or interpretation suppressed: the text goes to the model.
    let n = bodies(&model).len();
    chat(&mut c, "main", "/unknown thing", json!({})).await;
    chat(
        &mut c,
        "main",
        "/think low",
        json!({"suppressCommandInterpretation": true}),
    )
    .await;
    let sent = bodies(&model);
    assert_eq!(sent.len(), n + 2);
    assert!(sent[n + 1]["messages"].to_string().contains("/think low"));
}
