//! Scopes and every engine-free method over real loopback sockets, plus the backend seam with
//! a test backend, and frame-level error handling after the handshake.

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use common::*;
use openclaw_core::protocol::ErrorShape;
use openclaw_gateway::{CallContext, GatewayBackend, Limits};
use serde_json::{Value, json};

#[tokio::test]
async fn scopes_are_enforced_per_method_with_v3_and_v4_shapes() {
    let tg = start_default().await;
    let (mut read, _) = Client::connected(&tg, &["operator.read"]).await;
    // Unclassified methods need admin, checked before the lookup.
    let e = read.err("no.such.method", json!({})).await;
    assert_eq!(
        e,
        json!({"code": "FORBIDDEN", "message": "missing scope: operator.admin",
        "details": {"code": "MISSING_SCOPE", "missingScope": "operator.admin", "requiredScopes": ["operator.admin"]}})
    );
    let e = read.err("chat.send", json!({})).await;
    assert_eq!(e["message"], "missing scope: operator.write");
    let e = read.err("device.pair.list", json!({})).await;
    assert_eq!(e["message"], "missing scope: operator.pairing");
    read.ok("status", json!({})).await;

    // write implies read; admin implies everything.
    let (mut write, _) = Client::connected(&tg, &["operator.write"]).await;
    write.ok("models.list", json!({})).await;
    assert_eq!(
        write.err("config.set", json!({"raw": "{}"})).await["code"],
        "FORBIDDEN"
    );
    let (mut admin, _) = Client::connected(&tg, &["operator.admin"]).await;
    assert_eq!(
        admin.err("no.such.method", json!({})).await,
        json!({"code": "INVALID_REQUEST", "message": "unknown method: no.such.method"})
    );
    admin.ok("device.pair.list", json!({})).await;

    // No scopes: only health.
    let (mut none, _) = Client::connected(&tg, &[]).await;
    none.ok("health", json!({})).await;
    assert_eq!(
        none.err("status", json!({})).await["message"],
        "missing scope: operator.read"
    );

    // Operators cannot call node methods; repeating it closes the socket.
    for _ in 0..11 {
        assert_eq!(
            read.err("node.event", json!({})).await["message"],
            "unauthorized role: operator"
        );
    }
    assert_eq!(
        read.closed().await,
        (1008, "repeated unauthorized calls".into())
    );

    // v3 connection: INVALID_REQUEST without details.
    let mut v3 = Client::open(&tg).await;
    v3.challenge().await;
    v3.request(
        "connect",
        Some(connect_params(Some(TOKEN), &["operator.read"], 3, 3)),
    )
    .await;
    assert_eq!(
        v3.err("config.set", json!({"raw": "{}"})).await,
        json!({"code": "INVALID_REQUEST", "message": "missing scope: operator.admin"})
    );
}

#[tokio::test]
async fn health_status_presence_and_params_validation() {
    let tg = start_default().await;
    let (mut c, _) = Client::connected(&tg, &["operator.read"]).await;
    let h = c.request("health", None).await;
    assert_eq!(h["payload"]["ok"], true);
    assert_eq!(h["payload"]["defaultAgentId"], "main");
    assert_eq!(h["payload"]["agents"].as_array().unwrap().len(), 2);
    c.ok("health", json!({"probe": true})).await;
    let e = c.err("health", json!({"bogus": 1})).await;
    assert_eq!(
        e["message"],
        "invalid health params: at root: unexpected property 'bogus'"
    );
    let e = c.err("health", json!({"probe": "yes"})).await;
    assert_eq!(
        e["message"],
        "invalid health params: at /probe: must be boolean"
    );
    let e = c.err("health", json!([1])).await;
    assert_eq!(
        e["message"],
        "invalid health params: at root: must be object"
    );

    let s = c.ok("status", json!({})).await;
    assert_eq!(s["heartbeat"]["defaultAgentId"], "main");
    assert!(s["gateway"]["connections"].as_u64().unwrap() >= 1);

    let p = c.ok("system-presence", json!({})).await;
    let list = p.as_array().unwrap();
    assert_eq!(list[0]["reason"], "self");
    // One-shot CLI connections are not listed (as in OpenClaw 2026.9.6): only the gateway.
    assert!(list.iter().all(|e| e["mode"] != "cli"), "{list:?}");
}

#[tokio::test]
async fn models_agents_identity_commands_tools_usage() {
    let tg = start_default().await;
    let (mut c, _) = Client::connected(&tg, &["operator.read"]).await;
    let m = c.ok("models.list", json!({})).await;
    assert_eq!(
        m["models"][0],
        json!({"id": "fake-model", "name": "Fake Model", "provider": "fake", "contextWindow": 128000,
               "reasoning": false, "input": ["text"], "available": true})
    );
    let e = c.err("models.list", json!({"view": "weird"})).await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid models.list params: at /view"),
        "{e}"
    );

    let a = c.ok("agents.list", json!({})).await;
    assert_eq!(a["defaultId"], "main");
    assert_eq!(a["agents"][1]["id"], "helper");
    assert_eq!(
        a["agents"][1]["identity"],
        json!({"name": "Hal", "emoji": "🤖"})
    );

    let i = c
        .ok("agent.identity.get", json!({"agentId": "helper"}))
        .await;
    assert_eq!(
        i,
        json!({"agentId": "helper", "name": "Hal", "emoji": "🤖"})
    );
    let i = c
        .ok(
            "agent.identity.get",
            json!({"sessionKey": "agent:helper:main"}),
        )
        .await;
    assert_eq!(i["agentId"], "helper");
    let e = c
        .err("agent.identity.get", json!({"agentId": "ghost"}))
        .await;
    assert_eq!(e["details"]["code"], "UNKNOWN_AGENT_ID");

    let cmds = c
        .ok(
            "commands.list",
            json!({"agentId": "main", "scope": "text", "includeArgs": false}),
        )
        .await;
    assert!(
        cmds["commands"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["name"] == "help")
    );
    let e = c.err("commands.list", json!({"scope": "everything"})).await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid commands.list params")
    );

    let t = c.ok("tools.catalog", json!({})).await;
    assert_eq!(t["agentId"], "main");
    assert!(
        t["groups"][0]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == "read")
    );

    let u = c.ok("usage.status", json!({})).await;
    assert!(u["updatedAt"].as_u64().is_some());
}

#[tokio::test]
async fn agents_entries_form_is_read_too() {
    let mut setup = Setup::default();
    setup.config["agents"] =
        json!({"entries": {"ops": {"name": "Ops", "model": {"primary": "fake/fake-model"}}}});
    let tg = start(setup).await;
    let (mut c, hello) = Client::connected(&tg, &["operator.read"]).await;
    assert_eq!(
        hello["snapshot"]["sessionDefaults"]["defaultAgentId"],
        "ops"
    );
    let a = c.ok("agents.list", json!({})).await;
    assert_eq!(a["defaultId"], "ops");
    assert_eq!(
        a["agents"][0]["model"],
        json!({"primary": "fake/fake-model"})
    );
}

#[tokio::test]
async fn config_get_redacts_and_set_patch_need_the_base_hash() {
    let tg = start_default().await;
    let (mut c, _) = Client::connected(&tg, &["operator.admin"]).await;
    let g = c.ok("config.get", json!({})).await;
    assert_eq!(g["exists"], true);
    assert_eq!(
        g["config"]["gateway"]["auth"]["token"],
        "__OPENCLAW_REDACTED__"
    );
    assert_eq!(
        g["config"]["models"]["providers"]["fake"]["apiKey"],
        "__OPENCLAW_REDACTED__"
    );
    let raw = g["raw"].as_str().unwrap();
    assert!(
        !raw.contains(TOKEN) && !raw.contains("sk-secret-key"),
        "{raw}"
    );
    let hash = g["hash"].as_str().unwrap().to_owned();

    let e = c.err("config.set", json!({"raw": "{}"})).await;
    assert!(e["message"].as_str().unwrap().contains("baseHash"), "{e}");
    let e = c
        .err("config.set", json!({"raw": "{}", "baseHash": "stale"}))
        .await;
    assert_eq!(
        e["message"],
        "config changed since last load; re-run config.get and retry"
    );
    let e = c
        .err(
            "config.set",
            json!({"raw": "{ gateway: { port: 'x' } }", "baseHash": hash}),
        )
        .await;
    assert!(
        e["message"].as_str().unwrap().contains("gateway.port"),
        "{e}"
    );
    let e = c
        .err("config.set", json!({"raw": "{ broken", "baseHash": hash}))
        .await;
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid config.set params"),
        "{e}"
    );

    // Echoing the redacted text back keeps the real secrets.
    let edited = raw.replace("\"main\"", "\"main\", \"name\": \"Main\"");
    let s = c
        .ok("config.set", json!({"raw": edited, "baseHash": hash}))
        .await;
    let on_disk = std::fs::read_to_string(tg.state().join("openclaw.json")).unwrap();
    assert!(
        on_disk.contains(TOKEN) && on_disk.contains("\"Main\""),
        "{on_disk}"
    );
    let hash = s["hash"].as_str().unwrap().to_owned();

    let p = c
        .ok(
            "config.patch",
            json!({"raw": "{ agents: { list: [{ id: 'solo' }] } }", "baseHash": hash}),
        )
        .await;
    assert_eq!(p["config"]["agents"]["list"], json!([{"id": "solo"}]));
    assert_eq!(c.ok("agents.list", json!({})).await["defaultId"], "solo");
    assert!(
        std::fs::read_to_string(tg.state().join("openclaw.json"))
            .unwrap()
            .contains(TOKEN)
    );

    let sc = c.ok("config.schema", json!({})).await;
    assert_eq!(sc["schema"]["type"], "object");
    assert!(sc["version"].as_str().is_some());
}

#[tokio::test]
async fn config_patch_checks_the_file_on_disk_and_keeps_its_comments() {
    let tg = start_default().await;
    let path = tg.state().join("openclaw.json");
    let (mut c, _) = Client::connected(&tg, &["operator.admin"]).await;
    let hash = c.ok("config.get", json!({})).await["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    // An edit made outside the gateway (`openclaw config set`, an editor), with comments.
    let edited = format!(
        "// my setup\n{}",
        std::fs::read_to_string(&path)
            .unwrap()
            .replacen('{', "{\n  /* keep me */", 1)
    );
    std::fs::write(&path, &edited).unwrap();
    let e = c
        .err(
            "config.patch",
            json!({"raw": "{ session: { x: 1 } }", "baseHash": hash}),
        )
        .await;
    assert_eq!(
        e["message"], "config changed since last load; re-run config.get and retry",
        "a stale hash must not revert the edit on disk"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);
    let g = c.ok("config.get", json!({})).await;
    assert!(g["raw"].as_str().unwrap().contains("/* keep me */"));
    let hash = g["hash"].as_str().unwrap().to_owned();
    c.ok(
        "config.patch",
        json!({"raw": "{ session: { x: 1 } }", "baseHash": hash}),
    )
    .await;
    let after = std::fs::read_to_string(&path).unwrap();
    assert!(
        after.starts_with("// my setup\n{\n  /* keep me */"),
        "{after}"
    );
    assert!(after.contains(TOKEN), "secrets stay: {after}");
    let v: Value = openclaw_core::config::json5_from_str(&after).unwrap();
    assert_eq!(v["session"]["x"], 1);
}

#[tokio::test]
async fn logs_tail_reads_the_gateway_log() {
    let tg = start_default().await;
    let (mut c, _) = Client::connected(&tg, &["operator.read"]).await;
    let t = c.ok("logs.tail", json!({"limit": 50})).await;
    let lines = t["lines"].as_array().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.as_str().unwrap().contains("gateway listening")),
        "{t}"
    );
    assert!(lines.iter().all(|l| !l.as_str().unwrap().contains(TOKEN)));
    let cursor = t["cursor"].as_u64().unwrap();
    Client::connected(&tg, &[]).await;
    let more = c.ok("logs.tail", json!({"cursor": cursor})).await;
    assert!(
        more["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().unwrap().contains("connect ")),
        "{more}"
    );
    let reset = c.ok("logs.tail", json!({"cursor": 1u64 << 40})).await;
    assert_eq!(reset["reset"], true);
    assert!(
        c.err("logs.tail", json!({"limit": 0})).await["message"]
            .as_str()
            .unwrap()
            .contains("/limit")
    );
}

#[tokio::test]
async fn engine_methods_are_unavailable_without_an_engine() {
    let tg = start_default().await;
    let (mut c, _) = Client::connected(&tg, &["operator.admin"]).await;
    for m in [
        "chat.send",
        "chat.history",
        "agent",
        "sessions.list",
        "agents.files.list",
    ] {
        let e = c.err(m, json!({})).await;
        assert_eq!(e["code"], "UNAVAILABLE", "{m}");
        assert!(e["message"].as_str().unwrap().starts_with(m), "{e}");
    }
}

/// A backend that answers `agent` with accepted-then-final and streams one `chat` event.
struct Echo;

#[async_trait]
impl GatewayBackend for Echo {
    async fn call(
        &self,
        method: &str,
        params: Option<Value>,
        ctx: CallContext,
    ) -> Result<Value, ErrorShape> {
        let params = params.unwrap_or(Value::Null);
        match method {
            "agent" => {
                let run = params["idempotencyKey"]
                    .as_str()
                    .unwrap_or("run")
                    .to_owned();
                let text = format!("echo: {}", params["message"].as_str().unwrap_or(""));
                let later = ctx.clone();
                let run2 = run.clone();
                tokio::spawn(async move {
                    later.events().broadcast("chat", json!({"runId": run2, "sessionKey": "agent:main:main", "seq": 1,
                        "state": "final", "message": {"role": "assistant", "content": [{"type": "text", "text": text}]}}));
                    later.respond_again(Ok(
                        json!({"runId": run2, "status": "ok", "summary": "completed",
                        "result": {"payloads": [{"text": text}], "meta": {"durationMs": 1}}}),
                    ));
                });
                Ok(json!({"runId": run, "status": "accepted", "acceptedAt": 1}))
            }
            _ => Err(ErrorShape::unknown_method(method)),
        }
    }
}

#[tokio::test]
async fn backend_seam_supports_accepted_then_final() {
    let tg = start(Setup {
        backend: Some(Arc::new(Echo)),
        ..Setup::default()
    })
    .await;
    let (mut c, _) = Client::connected(&tg, &["operator.read", "operator.write"]).await;
    let id = c
        .send_request(
            "agent",
            Some(json!({"message": "hi", "idempotencyKey": "k1"})),
        )
        .await;
    let first = c.response(&id).await;
    assert_eq!(first["payload"]["status"], "accepted");
    let second = c.response(&id).await;
    assert_eq!(
        second["payload"]["result"]["payloads"][0]["text"],
        "echo: hi"
    );
    let ev = c.event("chat").await;
    assert_eq!(ev["payload"]["runId"], "k1");
    assert!(ev["seq"].as_u64().is_some());
}

#[tokio::test]
async fn bad_frames_after_the_handshake_get_errors_and_the_connection_survives() {
    let limits = Limits {
        max_payload: 4096,
        ..Limits::default()
    };
    let tg = start(Setup {
        limits,
        ..Setup::default()
    })
    .await;
    let (mut c, hello) = Client::connected(&tg, &["operator.read"]).await;
    assert_eq!(hello["policy"]["maxPayload"], 4096);
    c.send_text("{not json".into()).await;
    let f = c.next_response().await;
    assert_eq!(f["ok"], false);
    assert!(
        f["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid request frame")
    );
    c.send_text(json!({"type": "req", "id": "x1", "method": "health", "extra": 1}).to_string())
        .await;
    let f = c.next_response().await;
    assert_eq!(
        (f["id"].as_str(), f["ok"].as_bool()),
        (Some("x1"), Some(false))
    );
    c.send_text(json!({"type": "req", "id": "big", "method": "health", "params": {"pad": "y".repeat(8000)}}).to_string()).await;
    let f = c.next_response().await;
    assert_eq!(f["id"], "big");
    assert!(
        f["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("frame too large"),
        "{f}"
    );
    for junk in [
        "[]",
        "null",
        "42",
        "\"s\"",
        "{\"type\":\"res\",\"id\":\"1\",\"ok\":true}",
    ] {
        c.send_text(junk.into()).await;
        assert_eq!(c.next_response().await["ok"], false, "{junk}");
    }
    assert_eq!(c.ok("health", json!({})).await["ok"], true);
}

/// `status.sandbox`: each agent's mode, and for a sandboxing agent the backend's layers as
/// probed on this machine (whatever they are here, `ok` and the summary agree with them); with
/// sandboxing off nothing is probed. (An invalid sandbox section never gets this far: the
/// config is refused when it loads.)
#[tokio::test]
async fn status_carries_the_sandbox_availability() {
    let tg = start_default().await;
    let (mut c, _) = Client::connected(&tg, &["operator.read"]).await;
    let sb = c.ok("status", json!({})).await["sandbox"].clone();
    assert_eq!(sb["ok"], true, "{sb}");
    assert_eq!(sb["summary"], "off");
    assert_eq!(sb["agents"][0]["agentId"], "main");
    assert_eq!(sb["agents"][0]["mode"], "off");
    assert_eq!(sb["agents"][0]["backend"], Value::Null);
    assert!(
        sb["agents"][0].get("layers").is_none(),
        "off probes nothing"
    );

    let mut config = Setup::default().config;
    config["agents"]["defaults"] = json!({"sandbox": {"mode": "all"}});
    config["agents"]["list"][1]["sandbox"] = json!({"mode": "off"});
    let tg = start(Setup {
        config,
        ..Setup::default()
    })
    .await;
    let (mut c, _) = Client::connected(&tg, &["operator.read"]).await;
    let sb = c.ok("status", json!({})).await["sandbox"].clone();
    let main = &sb["agents"][0];
    assert_eq!(main["mode"], "all");
    assert_eq!(main["backend"], "native");
    let layers = main["layers"].as_array().unwrap();
    let names: Vec<&str> = layers.iter().filter_map(|l| l["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "bubblewrap",
            "landlock",
            "seccomp",
            "helper",
            "process limit"
        ]
    );
    let all_ok = layers.iter().all(|l| l["ok"] == true);
    assert_eq!(main["ok"], all_ok, "{main}");
    assert_eq!(sb["ok"], all_ok, "{sb}");
    assert_eq!(main.get("error").is_none(), all_ok, "{main}");
    assert_eq!(sb["agents"][1]["agentId"], "helper");
    assert_eq!(sb["agents"][1]["mode"], "off");
    assert_eq!(sb["agents"][1]["ok"], true);
    let summary = sb["summary"].as_str().unwrap();
    if all_ok {
        assert!(
            summary.starts_with("main=all; native: bubblewrap ok, landlock ok"),
            "{summary}"
        );
    } else {
        assert!(
            summary.starts_with("agent main: sandbox backend native is unavailable"),
            "{summary}"
        );
    }
}
