//! Parameters the schemas accept but this gateway cannot carry out are refused by name, never
//! silently dropped — while what the real OpenClaw CLI and TUI send by default (`deliver:
//! false`, `timeout: 600`, the TUI's `sessionId`) keeps working; and the ones it can carry out
//! do something (`sessions.describe` previews, `sessions.resolve {spawnedBy}`, `agent
//! {sessionId, label}`, `sessions.abort {clearQueued: false}`). Over a real gateway on loopback
//! with the in-process fake model.

mod common;

use common::ADMIN;
use common::Client;
use common::model::{chat, config_for, start_model};
use serde_json::{Value, json};

/// The error message of a refused call.
async fn refused(c: &mut Client, method: &str, params: Value) -> String {
    let e = c.err(method, params).await;
    assert_eq!(e["code"], "INVALID_REQUEST", "{e}");
    e["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn chat_send_refuses_what_it_cannot_do_and_takes_the_tuis_defaults() {
    let model = start_model().await;
    let tg = common::start_engine(config_for(&model)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let send = |extra: Value| {
        let mut p = json!({"sessionKey": "main", "message": "hi", "idempotencyKey": "x"});
        if let (Some(o), Value::Object(e)) = (p.as_object_mut(), extra) {
            o.extend(e);
        }
        p
    };
    let cases = [
        (
            json!({"deliver": true}),
            "deliver: no channels are configured",
        ),
        (
            json!({"originatingChannel": "telegram"}),
            "originatingChannel: no channels",
        ),
        (
            json!({"originatingTo": "+100"}),
            "originatingTo: no channels",
        ),
        (json!({"mentions": [{"id": "u1"}]}), "mentions: no channels"),
        (json!({"workContext": {"project": "p"}}), "workContext:"),
        (json!({"toolBindings": [{"tool": "bash"}]}), "toolBindings:"),
        (json!({"fastMode": true}), "fastMode:"),
        (json!({"fastMode": "auto"}), "fastMode:"),
        (
            json!({"expectedPermissionMode": "ask"}),
            "expectedPermissionMode:",
        ),
        (
            json!({"expectedSessionRoutingContract": {"v": 1}}),
            "expectedSessionRoutingContract:",
        ),
        (
            json!({"expectedToolOverrides": {"bash": false}}),
            "expectedToolOverrides:",
        ),
        (json!({"replyToId": "m1"}), "replyToId:"),
    ];
    for (extra, want) in cases {
        let msg = refused(&mut c, "chat.send", send(extra.clone())).await;
        assert!(msg.contains(want), "{extra}: {msg}");
    }
    // The 2026.9.6 TUI's own params: deliver false, and the sessionId chat.history gave it.
    let end = chat(
        &mut c,
        "agent:main:main",
        "hello",
        json!({"deliver": false}),
    )
    .await;
    assert_eq!(end["state"], "final", "{end}");
    let history = c
        .ok("chat.history", json!({"sessionKey": "agent:main:main"}))
        .await;
    let sid = history["sessionId"].as_str().unwrap().to_owned();
    let end = chat(
        &mut c,
        "agent:main:main",
        "again",
        json!({"deliver": false, "sessionId": sid, "fastMode": false, "mentions": []}),
    )
    .await;
    assert_eq!(end["state"], "final", "{end}");
    // A sessionId that is not the session's is a stale caller.
    let msg = refused(
        &mut c,
        "chat.send",
        json!({"sessionKey": "agent:main:main", "message": "x", "idempotencyKey": "y",
               "sessionId": "not-this-one"}),
    )
    .await;
    assert!(msg.contains("session changed"), "{msg}");
}

#[tokio::test]
async fn agent_takes_the_clis_defaults_honours_session_id_and_label_and_refuses_channels() {
    let model = start_model().await;
    let tg = common::start_engine(config_for(&model)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    // `openclaw agent --agent main --message hello` as captured from the real CLI.
    let id = c
        .send_request(
            "agent",
            Some(
                json!({"message": "hello", "agentId": "main", "deliver": false,
                        "timeout": 600, "idempotencyKey": "cli-1", "label": "from-cli"}),
            ),
        )
        .await;
    let first = c.response(&id).await;
    assert_eq!(first["ok"], true, "{first}");
    let last = c.response(&id).await;
    assert_eq!(last["payload"]["status"], "ok", "{last}");
    let row = c
        .ok("sessions.describe", json!({"key": "agent:main:main"}))
        .await;
    assert_eq!(row["session"]["label"], "from-cli", "{row}");
    let sid = row["session"]["sessionId"].as_str().unwrap().to_owned();
    // By session id alone: the same session.
    let id = c
        .send_request(
            "agent",
            Some(json!({"message": "by id", "sessionId": sid, "idempotencyKey": "cli-2"})),
        )
        .await;
    let first = c.response(&id).await;
    assert_eq!(first["payload"]["sessionKey"], "agent:main:main", "{first}");
    c.response(&id).await;
    for (extra, want) in [
        (json!({"deliver": true}), "deliver:"),
        (
            json!({"channel": "telegram", "to": "+1"}),
            "to: no channels",
        ),
        (json!({"promptMode": "none"}), "promptMode:"),
        (
            json!({"lane": "cron"}),
            "lane: agent runs use the main lane",
        ),
        (json!({"cwd": "/tmp"}), "cwd:"),
        (json!({"internalEvents": [{"k": 1}]}), "internalEvents:"),
    ] {
        let mut p = json!({"message": "m", "idempotencyKey": "z"});
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let msg = refused(&mut c, "agent", p).await;
        assert!(msg.contains(want), "{extra}: {msg}");
    }
}

#[tokio::test]
async fn sessions_patch_refuses_levels_with_nothing_behind_them() {
    let model = start_model().await;
    let tg = common::start_engine(config_for(&model)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    chat(&mut c, "main", "hi", json!({})).await;
    let key = "agent:main:main";
    for (field, value) in [
        ("verboseLevel", json!("on")),
        ("fastMode", json!(true)),
        ("reasoningLevel", json!("stream")),
        ("elevatedLevel", json!("full")),
        ("responseUsage", json!("tokens")),
        ("traceLevel", json!("on")),
        ("execNode", json!("n1")),
        ("sendPolicy", json!("allow")),
        ("groupActivation", json!("always")),
        ("contextWindow", json!(1000)),
    ] {
        let msg = refused(&mut c, "sessions.patch", json!({"key": key, field: value})).await;
        assert!(msg.starts_with(field), "{field}: {msg}");
    }
    // The values that mean "nothing to do" and null are accepted.
    let ok = c
        .ok(
            "sessions.patch",
            json!({"key": key, "verboseLevel": "off", "fastMode": false, "reasoningLevel": null,
                   "execHost": "gateway", "label": "kept"}),
        )
        .await;
    assert_eq!(ok["entry"]["label"], "kept", "{ok}");
    // A typed field with the wrong type is OpenClaw's validation error.
    let e = c
        .err("sessions.patch", json!({"key": key, "pinned": "yes"}))
        .await;
    assert_eq!(
        e["message"],
        "invalid sessions.patch params: at /pinned: must be boolean"
    );
    let e = c
        .err(
            "sessions.patch",
            json!({"key": key, "thinkingLevel": "huge"}),
        )
        .await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid sessions.patch params: at /thinkingLevel: must be equal to one of the allowed values"),
        "{e}"
    );
}

#[tokio::test]
async fn describe_resolve_and_abort_params_do_what_they_say() {
    let model = start_model().await;
    let tg = common::start_engine(config_for(&model)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    chat(&mut c, "main", "first question", json!({})).await;
    let d = c
        .ok(
            "sessions.describe",
            json!({"key": "main", "includeDerivedTitles": true, "includeLastMessage": true}),
        )
        .await;
    assert_eq!(d["session"]["derivedTitle"], "first question", "{d}");
    assert!(d["session"]["lastMessagePreview"].is_string(), "{d}");
    let plain = c.ok("sessions.describe", json!({"key": "main"})).await;
    assert!(plain["session"].get("derivedTitle").is_none(), "{plain}");

    c.ok(
        "sessions.create",
        json!({"key": "child", "parentSessionKey": "agent:main:main"}),
    )
    .await;
    let r = c
        .ok(
            "sessions.resolve",
            json!({"key": "child", "spawnedBy": "agent:main:main"}),
        )
        .await;
    assert_eq!(r["key"], "agent:main:child");
    let msg = refused(
        &mut c,
        "sessions.resolve",
        json!({"key": "child", "spawnedBy": "agent:main:other"}),
    )
    .await;
    assert!(msg.contains("No session found"), "{msg}");
    let msg = refused(&mut c, "sessions.resolve", json!({"shortId": "abc"})).await;
    assert!(msg.starts_with("shortId"), "{msg}");

    let idle = c
        .ok(
            "sessions.abort",
            json!({"key": "main", "clearQueued": false}),
        )
        .await;
    assert_eq!(idle["aborted"], false, "{idle}");
    let msg = refused(
        &mut c,
        "sessions.create",
        json!({"key": "hooked", "emitCommandHooks": true}),
    )
    .await;
    assert!(msg.starts_with("emitCommandHooks"), "{msg}");
}

#[tokio::test]
async fn gateway_methods_check_their_params_too() {
    let model = start_model().await;
    let tg = common::start_engine(config_for(&model)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    // The TUI's commands.list call works; an unknown agent or provider is refused, a channel's
    // menu is the same table.
    let list = c
        .ok(
            "commands.list",
            json!({"agentId": "main", "scope": "text", "includeArgs": false}),
        )
        .await;
    assert!(list["commands"].as_array().is_some_and(|a| !a.is_empty()));
    let msg = refused(&mut c, "commands.list", json!({"agentId": "ghost"})).await;
    assert!(msg.contains("unknown agent id"), "{msg}");
    let msg = refused(&mut c, "commands.list", json!({"provider": "fax"})).await;
    assert!(msg.contains("not a channel"), "{msg}");
    let menu = c
        .ok(
            "commands.list",
            json!({"agentId": "main", "scope": "text", "includeArgs": false, "provider": "telegram"}),
        )
        .await;
    assert_eq!(menu, list);
    let msg = refused(&mut c, "tools.catalog", json!({"agentId": "ghost"})).await;
    assert!(msg.contains("unknown agent id"), "{msg}");
    let cfg = c.ok("config.get", json!({})).await;
    let msg = refused(
        &mut c,
        "config.patch",
        json!({"raw": "{}", "baseHash": cfg["hash"], "note": "restarted"}),
    )
    .await;
    assert!(msg.starts_with("note is not supported"), "{msg}");
    let e = c.err("logs.tail", json!({"limit": 0})).await;
    assert_eq!(
        e["message"],
        "invalid logs.tail params: at /limit: must be >= 1"
    );
}

#[tokio::test]
async fn sessions_subscribe_checks_list_params_and_answers_the_list_with_them() {
    let model = start_model().await;
    let tg = common::start_engine(config_for(&model)).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    chat(&mut c, "main", "hi", json!({})).await;
    // The TUI's call: no list.
    let plain = c.ok("sessions.subscribe", json!({})).await;
    assert_eq!(plain, json!({"subscribed": true}));
    let with = c.ok("sessions.subscribe", json!({"limit": 5})).await;
    assert_eq!(with["subscribed"], true);
    assert_eq!(
        with["list"]["sessions"][0]["key"], "agent:main:main",
        "{with}"
    );
    let e = c.err("sessions.subscribe", json!({"bogus": 1})).await;
    assert_eq!(
        e["message"],
        "invalid sessions.subscribe params: at root: unexpected property 'bogus'"
    );
}
