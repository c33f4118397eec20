//! Secure by default, tried as a new user and as a hostile client would: a real gateway on a
//! loopback port, real sockets, real files. No secret configured means a token is made and
//! required; foreign browser origins, rebound host names and cross-site "simple" requests are
//! refused; HTTP file tools stay in the workspace. (Before authentication: `security_preauth.rs`.)

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;

use common::secure::{connect, http, mode, start_on, token_config, write_config, ws_with};
use common::{TOKEN, connect_params};
use openclaw_gateway::{Limits, TokenHome, local_credentials};
use serde_json::{Value, json};

#[tokio::test]
async fn first_start_without_auth_makes_a_private_token_and_requires_it() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let gw = start_on(&state, Limits::default(), false).await;
    let path = state.join("openclaw.json");
    assert_eq!(gw.token_home(), Some(&TokenHome::Config(path.clone())));
    #[cfg(unix)]
    {
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&state), 0o700);
    }
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(doc["gateway"]["auth"]["mode"], "token");
    let token = doc["gateway"]["auth"]["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64, "{token}");
    assert_eq!(
        local_credentials(&doc, &state).token.as_deref(),
        Some(&*token)
    );
    // The token is in no log.
    let log = std::fs::read_to_string(state.join("logs/gateway.log")).unwrap();
    assert!(!log.contains(&token), "{log}");

    let addr = gw.local_addr();
    let mut c = ws_with(addr, &[]).await.unwrap();
    let res = connect(&mut c, None).await;
    assert_eq!(res["ok"], false, "{res}");
    assert_eq!(res["error"]["details"]["code"], "AUTH_TOKEN_MISSING");
    let mut c = ws_with(addr, &[]).await.unwrap();
    assert_eq!(connect(&mut c, Some(&token)).await["ok"], true);
    let (st, _) = http(addr, "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1", "").await;
    assert_eq!(st, 401);
    gw.shutdown("test").await;

    // A second start keeps the same token.
    let gw = start_on(&state, Limits::default(), false).await;
    assert_eq!(gw.token_home(), None);
    let mut c = ws_with(gw.local_addr(), &[]).await.unwrap();
    assert_eq!(connect(&mut c, Some(&token)).await["ok"], true);
}

#[tokio::test]
async fn the_token_goes_into_an_existing_json5_config_keeping_its_comments() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    let text = "// my gateway\n{\n  gateway: {\n    // keep this port\n    port: 18789,\n    handshakeTimeoutMs: 60000,\n  },\n  agents: { list: [{ id: 'main', default: true }] }, /* trailing */\n}\n";
    write_config(state, text);
    let gw = start_on(state, Limits::default(), false).await;
    let path = state.join("openclaw.json");
    assert_eq!(gw.token_home(), Some(&TokenHome::Config(path.clone())));
    let now = std::fs::read_to_string(&path).unwrap();
    for kept in [
        "// my gateway",
        "// keep this port",
        "/* trailing */",
        "port: 18789,",
    ] {
        assert!(now.contains(kept), "{kept} lost: {now}");
    }
    let doc: Value = openclaw_core::config::json5_from_str(&now).unwrap();
    assert_eq!(doc["gateway"]["port"], 18789);
    assert_eq!(doc["agents"]["list"][0]["id"], "main");
    let token = doc["gateway"]["auth"]["token"].as_str().unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    let mut c = ws_with(gw.local_addr(), &[]).await.unwrap();
    assert_eq!(connect(&mut c, Some(token)).await["ok"], true);
}

#[tokio::test]
async fn a_config_it_cannot_edit_exactly_is_left_alone_and_the_token_goes_to_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path();
    let text = "{ gateway: { auth: null, handshakeTimeoutMs: 60000 } }\n";
    write_config(state, text);
    let gw = start_on(state, Limits::default(), false).await;
    let file = state.join("gateway.token");
    assert_eq!(gw.token_home(), Some(&TokenHome::File(file.clone())));
    assert_eq!(
        std::fs::read_to_string(state.join("openclaw.json")).unwrap(),
        text
    );
    #[cfg(unix)]
    assert_eq!(mode(&file), 0o600);
    let doc: Value = openclaw_core::config::json5_from_str(text).unwrap();
    let token = local_credentials(&doc, state).token.unwrap();
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), token);
    let mut c = ws_with(gw.local_addr(), &[]).await.unwrap();
    assert_eq!(connect(&mut c, Some(&token)).await["ok"], true);
}

#[tokio::test]
async fn auth_none_only_when_explicit() {
    let tmp = tempfile::tempdir().unwrap();
    write_config(tmp.path(), r#"{ gateway: { auth: { mode: "none" } } }"#);
    let gw = start_on(tmp.path(), Limits::default(), false).await;
    assert_eq!(gw.token_home(), None);
    let mut c = ws_with(gw.local_addr(), &[]).await.unwrap();
    assert_eq!(connect(&mut c, None).await["ok"], true);
    assert!(!tmp.path().join("gateway.token").exists());
}

#[tokio::test]
async fn a_foreign_browser_origin_is_refused_at_connect() {
    let tmp = tempfile::tempdir().unwrap();
    write_config(
        tmp.path(),
        &token_config(json!({"controlUi": {"allowedOrigins": ["https://ui.example.com"]}})),
    );
    let gw = start_on(tmp.path(), Limits::default(), false).await;
    let addr = gw.local_addr();
    let mut c = ws_with(addr, &[("origin", "https://evil.example")])
        .await
        .unwrap();
    let res = connect(&mut c, Some(TOKEN)).await;
    assert_eq!(res["ok"], false, "{res}");
    assert_eq!(res["error"]["code"], "INVALID_REQUEST");
    assert_eq!(
        res["error"]["details"]["code"],
        "CONTROL_UI_ORIGIN_NOT_ALLOWED"
    );
    let (code, reason) = c.closed().await;
    assert_eq!(code, 1008);
    assert!(reason.starts_with("origin not allowed"), "{reason}");

    let own = format!("http://127.0.0.1:{}", addr.port());
    for origin in [own.as_str(), "https://ui.example.com"] {
        let mut c = ws_with(addr, &[("origin", origin)]).await.unwrap();
        assert_eq!(connect(&mut c, Some(TOKEN)).await["ok"], true, "{origin}");
    }
    let mut c = ws_with(addr, &[]).await.unwrap();
    assert_eq!(connect(&mut c, Some(TOKEN)).await["ok"], true);
}

#[tokio::test]
async fn a_rebound_host_name_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    write_config(tmp.path(), &token_config(json!({})));
    let gw = start_on(tmp.path(), Limits::default(), false).await;
    let addr = gw.local_addr();
    let (st, _) = http(addr, "GET /health HTTP/1.1\r\nHost: attacker.example", "").await;
    assert_eq!(st, 403);
    let host = format!("attacker.example:{}", addr.port());
    assert_eq!(ws_with(addr, &[("host", &host)]).await.err(), Some(403));
    let (st, _) = http(addr, "GET /health HTTP/1.1\r\nHost: localhost", "").await;
    assert_eq!(st, 200);
}

fn tools_setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().to_owned();
    write_config(&state, &token_config(json!({})));
    let ws = state.join("workspace");
    std::fs::create_dir_all(&ws).unwrap();
    std::fs::write(ws.join("note.txt"), "inside text").unwrap();
    std::fs::write(state.join("secret.txt"), "outside secret").unwrap();
    (tmp, ws)
}

async fn invoke(addr: SocketAddr, headers: &str, body: Value) -> (u16, String) {
    let head = format!(
        "POST /tools/invoke HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n{headers}"
    );
    http(addr, head.trim_end(), &body.to_string()).await
}

const JSON: &str = "Content-Type: application/json";

#[tokio::test]
async fn a_page_cannot_run_a_tool_with_a_simple_or_cross_site_request() {
    let (tmp, _) = tools_setup();
    let gw = start_on(tmp.path(), Limits::default(), true).await;
    let addr = gw.local_addr();
    let read = json!({"tool": "read", "args": {"path": "note.txt"}});
    let (st, body) = invoke(addr, JSON, read.clone()).await;
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("inside text"));
    for ctype in [
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
    ] {
        let (st, body) = invoke(addr, &format!("Content-Type: {ctype}"), read.clone()).await;
        assert_eq!(st, 415, "{ctype}: {body}");
        assert!(!body.contains("inside text"));
    }
    let (st, body) = invoke(
        addr,
        "Content-Type: application/json\r\nOrigin: https://evil.example",
        read.clone(),
    )
    .await;
    assert_eq!(st, 403);
    assert!(body.contains("CONTROL_UI_ORIGIN_NOT_ALLOWED"), "{body}");
    let (st, _) = invoke(
        addr,
        "Content-Type: application/json\r\nSec-Fetch-Site: cross-site",
        read,
    )
    .await;
    assert_eq!(st, 403);
}

#[tokio::test]
async fn http_file_tools_stay_inside_the_workspace() {
    let (tmp, ws) = tools_setup();
    let outside = tmp.path().join("secret.txt");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&outside, ws.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(tmp.path(), ws.join("up")).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("created.txt"), ws.join("dangling")).unwrap();
    }
    let gw = start_on(tmp.path(), Limits::default(), true).await;
    let addr = gw.local_addr();
    let outside_abs = outside.display().to_string();
    let mut attempts = vec![
        json!({"tool": "read", "args": {"path": "../secret.txt"}}),
        json!({"tool": "read", "args": {"path": outside_abs}}),
        json!({"tool": "ls", "args": {"path": ".."}}),
        json!({"tool": "grep", "args": {"pattern": "secret", "path": ".."}}),
    ];
    if cfg!(unix) {
        attempts.extend([
            json!({"tool": "read", "args": {"path": "link.txt"}}),
            json!({"tool": "read", "args": {"path": "up/secret.txt"}}),
            json!({"tool": "ls", "args": {"path": "up"}}),
        ]);
    }
    for body in attempts {
        let (st, out) = invoke(addr, JSON, body.clone()).await;
        assert_eq!(st, 403, "{body}: {out}");
        assert!(!out.contains("outside secret"), "{body}: {out}");
        assert!(out.contains("outside the agent's workspace"), "{out}");
    }
    // Writes through links are refused too (the tools may be allowed by config; the check
    // runs before the allow-list only matters for them).
    std::fs::write(
        tmp.path().join("openclaw.json"),
        token_config(json!({"tools": {"allow": ["write"]}})),
    )
    .unwrap();
    gw.shutdown("restart").await;
    let gw = start_on(tmp.path(), Limits::default(), true).await;
    let addr = gw.local_addr();
    let mut writes = vec![json!({"tool": "write", "args": {"path": "../x.txt", "content": "x"}})];
    if cfg!(unix) {
        writes.push(json!({"tool": "write", "args": {"path": "up/x.txt", "content": "x"}}));
        writes.push(json!({"tool": "write", "args": {"path": "dangling", "content": "x"}}));
    }
    for body in writes {
        let (st, out) = invoke(addr, JSON, body.clone()).await;
        assert_eq!(st, 403, "{body}: {out}");
    }
    assert!(!tmp.path().join("x.txt").exists());
    assert!(!tmp.path().join("created.txt").exists());
    let (st, out) = invoke(
        addr,
        JSON,
        json!({"tool": "write", "args": {"path": "sub/new.txt", "content": "ok"}}),
    )
    .await;
    assert_eq!(st, 200, "{out}");
    assert_eq!(
        std::fs::read_to_string(ws.join("sub/new.txt")).unwrap(),
        "ok"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn agent_files_do_not_follow_links_out_of_the_workspace() {
    let (tmp, ws) = tools_setup();
    let gw = start_on(tmp.path(), Limits::default(), true).await;
    let outside = tmp.path().join("secret.txt");
    let mut c = ws_with(gw.local_addr(), &[]).await.unwrap();
    c.challenge().await;
    let scopes = ["operator.read", "operator.write", "operator.admin"];
    let res = c
        .request("connect", Some(connect_params(Some(TOKEN), &scopes, 4, 4)))
        .await;
    assert_eq!(res["ok"], true, "{res}");
    // The workspace is seeded when the agent is first used; then AGENTS.md becomes a link out.
    c.ok("agents.files.list", json!({"agentId": "main"})).await;
    let agents_md = ws.join("AGENTS.md");
    let _ = std::fs::remove_file(&agents_md);
    std::os::unix::fs::symlink(&outside, &agents_md).unwrap();

    let err = c
        .err(
            "agents.files.get",
            json!({"agentId": "main", "name": "AGENTS.md"}),
        )
        .await;
    assert!(!err.to_string().contains("outside secret"), "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("outside the agent's workspace"),
        "{err}"
    );
    let err = c
        .err(
            "agents.files.set",
            json!({"agentId": "main", "name": "AGENTS.md", "content": "overwritten"}),
        )
        .await;
    assert!(
        err["message"].as_str().unwrap().contains("outside"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "outside secret");
    let list = c.ok("agents.files.list", json!({"agentId": "main"})).await;
    let row = list["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "AGENTS.md")
        .unwrap()
        .clone();
    assert_eq!(row["missing"], true, "{row}");
    assert!(row.get("size").is_none(), "{row}");
}

#[tokio::test]
async fn bash_over_http_is_contained_like_the_session_it_names() {
    let (tmp, _) = tools_setup();
    let ran = tmp.path().join("ran-on-host.txt");
    let body = json!({"tool": "bash", "args": {"command": format!("touch {}", ran.display())}});
    for (mode, runs_on_host) in [("all", false), ("off", true)] {
        let mut cfg: Value =
            serde_json::from_str(&token_config(json!({"tools": {"allow": ["bash"]}}))).unwrap();
        cfg["agents"]["defaults"] = json!({"sandbox": {"mode": mode, "workspaceAccess": "rw"}});
        // Where the command runs is under test, not whether the exec policy lets it.
        cfg["tools"]["exec"] = json!({"mode": "full"});
        std::fs::write(tmp.path().join("openclaw.json"), cfg.to_string()).unwrap();
        let gw = start_on(tmp.path(), Limits::default(), true).await;
        let (_, out) = invoke(gw.local_addr(), JSON, body.clone()).await;
        // Sandboxed (or refused where the sandbox cannot run): the state dir is out of reach.
        assert_eq!(ran.exists(), runs_on_host, "sandbox mode {mode}: {out}");
        gw.shutdown("restart").await;
    }
}
