//! What `hello-ok` advertises is what the gateway does: every advertised method is answered
//! (never `unknown method`), no event is advertised that is never sent, the engine's methods
//! are advertised only with an engine, and a method OpenClaw has that this gateway does not
//! answers `unknown method` as OpenClaw does.

mod common;

use common::ADMIN;
use common::{Client, Setup};
use serde_json::{Value, json};

fn list(hello: &Value, what: &str) -> Vec<String> {
    hello["features"][what]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn hello_ok_advertises_only_what_is_implemented_and_emitted() {
    let tg = common::start(Setup {
        engine: true,
        ..Setup::default()
    })
    .await;
    let (mut c, hello) = Client::connected(&tg, ADMIN).await;
    let events = list(&hello, "events");
    for never_sent in ["session.message", "session.tool"] {
        assert!(
            !events.contains(&never_sent.to_owned()),
            "{never_sent} advertised"
        );
    }
    for sent in [
        "agent",
        "chat",
        "sessions.changed",
        "presence",
        "tick",
        "health",
        "shutdown",
        "heartbeat",
    ] {
        assert!(events.contains(&sent.to_owned()), "{sent} not advertised");
    }
    let methods = list(&hello, "methods");
    assert!(methods.contains(&"chat.send".to_owned()));
    for m in &methods {
        // Side-effect-free probes: empty params are refused or answered, never unknown.
        if ["config.set", "config.patch"].contains(&m.as_str()) {
            continue;
        }
        let res = c.request(m, Some(json!({}))).await;
        let msg = res["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !msg.starts_with("unknown method"),
            "{m} is advertised but unknown"
        );
    }
    for missing in ["question.list", "plugin.approval.request"] {
        assert!(!methods.contains(&missing.to_owned()));
        assert_eq!(
            c.err(missing, json!({})).await,
            json!({"code": "INVALID_REQUEST", "message": format!("unknown method: {missing}")})
        );
    }
}

#[tokio::test]
async fn without_an_engine_its_methods_are_not_advertised() {
    let tg = common::start(Setup::default()).await;
    let (_, hello) = Client::connected(&tg, ADMIN).await;
    let methods = list(&hello, "methods");
    assert!(methods.contains(&"health".to_owned()));
    assert!(!methods.contains(&"chat.send".to_owned()));
    assert!(!methods.contains(&"sessions.list".to_owned()));
}
