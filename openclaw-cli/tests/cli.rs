//! The `openclaw` binary end to end against the fake LLM: the REPL in a pipe, then the
//! management commands over the sessions it wrote; usage errors exit 2, failures exit 1.

mod support_cli;

use serde_json::Value;
use support_cli::{Home, stderr, stdout};

#[test]
fn chat_in_a_pipe_then_manage_its_session() {
    let Some(home) = Home::start() else { return };
    // The piped chat has nobody to ask: let `bash` run unasked.
    home.set_exec_mode("full");
    let out = home.run(
        &["chat", "--provider", "fake", "--model", "fake-model"],
        "hello pipe\ncall bash {\"command\": \"echo tool-ran\"}\n/model\n",
    );
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "{:?}\nstderr: {}\nstdout: {text}",
        out.status,
        stderr(&out)
    );
    assert!(text.contains("echo: hello pipe"), "{text}");
    assert!(text.contains("⚙ $ echo tool-ran"), "{text}");
    assert!(text.contains("done: tool-ran"), "{text}");
    assert!(text.contains("* fake/fake-model"), "{text}");

    let list = home.run(&["sessions", "list", "--json"], "");
    assert!(list.status.success(), "{}", stderr(&list));
    let doc: Value = serde_json::from_str(&stdout(&list)).unwrap();
    let sessions = doc["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{doc}");
    assert_eq!(sessions[0]["firstMessage"], "hello pipe");
    let id = sessions[0]["sessionId"].as_str().unwrap().to_string();

    let show = home.run(&["sessions", "show", &id], "");
    assert!(
        stdout(&show).contains("tool:bash  tool-ran"),
        "{}",
        stdout(&show)
    );
    let md = home.run(&["sessions", "export", &id, "--format", "md"], "");
    assert!(
        stdout(&md).contains("## User\n\nhello pipe"),
        "{}",
        stdout(&md)
    );
    let html_path = home.path().join("s.html");
    let html = home.run(
        &[
            "sessions",
            "export",
            &id,
            "--format",
            "html",
            "-o",
            html_path.to_str().unwrap(),
        ],
        "",
    );
    assert!(html.status.success());
    assert!(
        std::fs::read_to_string(&html_path)
            .unwrap()
            .contains("echo: hello pipe")
    );

    let dry = home.run(
        &[
            "sessions",
            "archive",
            "--older-than",
            "0s",
            "--dry-run",
            "--json",
        ],
        "",
    );
    let doc: Value = serde_json::from_str(&stdout(&dry)).unwrap();
    assert_eq!(doc["archived"].as_array().unwrap().len(), 1);
    let kept = home.run(&["sessions", "archive", "--older-than", "7d"], "");
    assert!(stdout(&kept).contains("Archived 0 session(s)"));

    let del = home.run(&["sessions", "delete", &id], "");
    assert!(del.status.success(), "{}", stderr(&del));
    let list = home.run(&["sessions", "list", "--json"], "");
    let doc: Value = serde_json::from_str(&stdout(&list)).unwrap();
    assert!(doc["sessions"].as_array().unwrap().is_empty());
}

#[test]
fn bare_openclaw_in_a_pipe_is_the_line_mode_chat() {
    let Some(home) = Home::start() else { return };
    let out = home.run(
        &["--provider", "fake", "--model", "fake-model"],
        "first\nsecond\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "echo: first\necho: second\n");
}

#[test]
fn models_config_agents_and_errors() {
    let Some(home) = Home::start() else { return };
    let models = home.run(&["models", "list", "--json"], "");
    let doc: Value = serde_json::from_str(&stdout(&models)).unwrap();
    let fake = doc["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["provider"] == "fake")
        .unwrap()
        .clone();
    assert_eq!(fake["available"], true);
    let anthropic = doc["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["provider"] == "anthropic")
        .cloned();
    if let Some(a) = anthropic {
        assert_eq!(
            a["available"],
            std::env::var("ANTHROPIC_API_KEY").is_ok()
                || std::env::var("ANTHROPIC_OAUTH_TOKEN").is_ok()
        );
    }

    let bad = home.run(&["models", "list", "--provider", "nope"], "");
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).starts_with("error: unknown provider \"nope\""),
        "{}",
        stderr(&bad)
    );
    let usage = home.run(&["sessions", "archive"], "");
    assert_eq!(usage.status.code(), Some(2));

    let set = home.run(&["config", "set", "gateway.port", "18789"], "");
    assert!(set.status.success(), "{}", stderr(&set));
    assert_eq!(
        stdout(&home.run(&["config", "get", "gateway.port"], "")).trim(),
        "18789"
    );
    let key = home.run(&["config", "get", "models.providers.fake.apiKey"], "");
    assert_eq!(stdout(&key).trim(), "__OPENCLAW_REDACTED__");
    assert!(home.run(&["config", "validate"], "").status.success());

    let set = home.run(
        &[
            "agents",
            "config",
            "work",
            "set",
            "model",
            "fake/fake-model",
        ],
        "",
    );
    assert!(set.status.success(), "{}", stderr(&set));
    let agents = home.run(&["agents", "list", "--json"], "");
    let doc: Value = serde_json::from_str(&stdout(&agents)).unwrap();
    let ids: Vec<&str> = doc["agents"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    assert_eq!(ids, vec!["main", "work"]);
    assert_eq!(
        stdout(&home.run(&["agents", "config", "work", "get", "model"], "")).trim(),
        "fake/fake-model"
    );

    std::fs::write(home.state_dir().join("openclaw.json"), "{ models: [ }").unwrap();
    let invalid = home.run(&["config", "validate"], "");
    assert_eq!(invalid.status.code(), Some(1));
    assert!(
        stderr(&invalid).contains("invalid JSON5"),
        "{}",
        stderr(&invalid)
    );

    let gw = home.run(&["health", "--url", "ws://127.0.0.1:9"], "");
    assert_eq!(gw.status.code(), Some(1));
    let err = stderr(&gw);
    assert!(
        err.contains("cannot reach the gateway at ws://127.0.0.1:9"),
        "{err}"
    );
    assert!(err.contains("openclaw gateway run"), "{err}");

    let version = home.run(&["--version"], "");
    assert_eq!(
        stdout(&version).trim(),
        format!("openclaw {}", env!("CARGO_PKG_VERSION"))
    );
    let comp = home.run(&["completions", "bash"], "");
    assert!(stdout(&comp).contains("_openclaw"));
}

/// `openclaw gateway run` in the background, then the client commands against it over the socket:
/// `gateway status`, `gateway call`, `health --url`, and a wrong token refused with a hint.
#[test]
fn gateway_client_commands_against_a_running_gateway() {
    let Some(home) = Home::start() else { return };
    let port = openclaw_core::testing::prereq::free_port();
    let _gateway = home.gateway(
        &["--port", &port.to_string()],
        &[("OPENCLAW_GATEWAY_TOKEN", "cli-test-token")],
        port,
    );
    let url = format!("ws://127.0.0.1:{port}");
    let with = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--url", &url, "--token", "cli-test-token"]);
        home.run(&all, "")
    };

    let status = with(&["gateway", "status", "--json"]);
    assert!(status.status.success(), "{}", stderr(&status));
    let doc: Value = serde_json::from_str(&stdout(&status)).unwrap();
    assert_eq!(doc["health"]["ok"], true, "{doc}");
    assert!(doc["protocol"].as_u64().is_some(), "{doc}");

    let call = with(&["gateway", "call", "agents.list"]);
    assert!(call.status.success(), "{}", stderr(&call));
    let agents: Value = serde_json::from_str(&stdout(&call)).unwrap();
    assert_eq!(agents["defaultId"], "main", "{agents}");

    // `agent` answers twice: without --expect-final the first (accepted) answer is printed,
    // with it (OpenClaw's flag) the run's final result.
    let params = r#"{"message":"hello expect final","agentId":"main","idempotencyKey":"ef-1"}"#;
    let first = with(&["gateway", "call", "agent", "--params", params, "--json"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let first: Value = serde_json::from_str(&stdout(&first)).unwrap();
    assert_eq!(first["status"], "accepted", "{first}");
    let params = r#"{"message":"hello expect final","agentId":"main","idempotencyKey":"ef-2"}"#;
    let last = with(&[
        "gateway",
        "call",
        "agent",
        "--params",
        params,
        "--expect-final",
        "--timeout",
        "30000",
        "--json",
    ]);
    assert!(last.status.success(), "{}", stderr(&last));
    let last: Value = serde_json::from_str(&stdout(&last)).unwrap();
    assert_eq!(last["status"], "ok", "{last}");
    assert!(
        last.to_string().contains("echo: hello expect final"),
        "{last}"
    );

    let bad = with(&["gateway", "call", "no.such.method"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("unknown method: no.such.method"),
        "{}",
        stderr(&bad)
    );

    let health = with(&["health"]);
    assert!(health.status.success(), "{}", stderr(&health));
    assert!(stdout(&health).contains(": ok"), "{}", stdout(&health));

    let refused = home.run(
        &["gateway", "status", "--url", &url, "--token", "wrong"],
        "",
    );
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert!(err.contains("the gateway refused the connection"), "{err}");
    assert!(err.contains("OPENCLAW_GATEWAY_TOKEN"), "{err}");
}

/// A first `openclaw gateway run` with no `gateway.auth` makes a token, keeps it owner-only in
/// openclaw.json (never printing it), refuses clients without it, and the CLI on the same
/// machine finds it by itself.
#[test]
fn a_first_gateway_makes_a_token_that_local_commands_find_by_themselves() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let Some(home) = Home::start() else { return };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = home.path().join("gateway.stderr");
    let mut gateway = Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args(["gateway", "run", "--port", &port.to_string()])
        .env("HOME", home.path())
        .env("OPENCLAW_STATE_DIR", home.state_dir())
        .env_remove("OPENCLAW_GATEWAY_TOKEN")
        .env_remove("OPENCLAW_GATEWAY_PASSWORD")
        .env_remove("OPENCLAW_CONFIG_PATH")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "gateway did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = format!("ws://127.0.0.1:{port}");
    let config = home.state_dir().join("openclaw.json");
    let doc: Value =
        openclaw_core::config::json5_from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let token = doc["gateway"]["auth"]["token"].as_str().unwrap().to_owned();
    assert!(token.len() >= 43, "{token}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&config).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let call = home.run(&["gateway", "call", "health", "--url", &url], "");
    assert!(call.status.success(), "{}", stderr(&call));
    let health = home.run(&["health", "--url", &url], "");
    assert!(health.status.success(), "{}", stderr(&health));
    let refused = home.run(
        &["gateway", "status", "--url", &url, "--token", "guess"],
        "",
    );
    assert_eq!(refused.status.code(), Some(1));
    // `openclaw dashboard` hands the token to the browser in the URL fragment.
    let dash = home.run(&["dashboard", "--no-open"], "");
    assert!(dash.status.success(), "{}", stderr(&dash));
    let out = String::from_utf8_lossy(&dash.stdout);
    assert!(
        out.contains("Dashboard URL: http://127.0.0.1:")
            && out.contains(&format!("/#token={token}")),
        "{out}"
    );

    let _ = gateway.kill();
    let _ = gateway.wait();
    let printed = std::fs::read_to_string(&log).unwrap();
    // The UI's address, without the token (stderr is not a terminal here).
    assert!(
        printed.contains(&format!("Control UI: http://127.0.0.1:{port}/ ")),
        "{printed}"
    );
    assert!(printed.contains(&config.display().to_string()), "{printed}");
    assert!(
        !printed.contains(&token),
        "the token was printed: {printed}"
    );
}

#[test]
fn print_mode_options_after_the_prompt_select_provider_and_model() {
    let Some(home) = Home::start() else { return };
    // pi accepts options anywhere on the line: these come after the message.
    let out = home.run(
        &[
            "-p",
            "hello there",
            "--mode",
            "json",
            "--provider",
            "fakeant",
            "--model",
            "fake-claude",
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let end = stdout(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| e["type"] == "agent_end")
        .expect("an agent_end event");
    let last = end["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["provider"], "fakeant", "{last}");
    assert_eq!(last["model"], "fake-claude", "{last}");
    assert_eq!(last["content"][0]["text"], "echo: hello there", "{last}");

    // `--` ends options: what follows is prompt text.
    let out = home.run(
        &[
            "-p",
            "--provider",
            "fake",
            "--model",
            "fake-model",
            "say",
            "--",
            "--model",
            "x",
        ],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "echo: say --model x\n");

    // A model id after the prompt is read as one (pi warns and uses it as a custom id).
    let out = home.run(&["-p", "hi", "--provider", "fake", "--model", "nope"], "");
    assert_eq!(stdout(&out), "echo: hi\n");
    assert!(
        stderr(&out).contains(r#"Model "nope" not found for provider "fake""#),
        "{}",
        stderr(&out)
    );
}

/// `openclaw status` without `--url` finds the gateway on the port openclaw.json configures (and
/// authenticates with the configured token); with nothing listening it says so.
#[test]
fn status_finds_the_gateway_on_the_configured_port() {
    let Some(home) = Home::start() else { return };
    let port = openclaw_core::testing::prereq::free_port();
    let config_path = home.state_dir().join("openclaw.json");
    let mut config: Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    config["gateway"] =
        serde_json::json!({"port": port, "auth": {"mode": "token", "token": "cfg-token"}});
    std::fs::write(&config_path, config.to_string()).unwrap();

    let status_doc = || {
        let out = home.run(&["status", "--json"], "");
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str::<Value>(&stdout(&out)).unwrap()
    };
    let url = format!("ws://127.0.0.1:{port}");
    let down = status_doc();
    assert_eq!(down["gateway"]["url"], url.as_str(), "{down}");
    assert_eq!(down["gateway"]["running"], false, "{down}");

    let gateway = home.gateway(&[], &[], port);
    let up = status_doc();
    drop(gateway);
    assert_eq!(up["gateway"]["url"], url.as_str(), "{up}");
    assert_eq!(up["gateway"]["running"], true, "{up}");
    assert_eq!(up["gateway"]["ok"], true, "{up}");
    assert_eq!(up["gateway"]["version"], env!("CARGO_PKG_VERSION"), "{up}");
}
