//! `openclaw mcp` end to end: add (probed first) / list / status / probe / remove against the
//! registry's `@modelcontextprotocol/server-everything` run by Node (under CI=true a missing Node
//! fails), editing openclaw.json in place with its comments kept.

mod support_cli;

use std::path::PathBuf;

use openclaw_core::testing::prereq;
use serde_json::Value;
use support_cli::{Home, stderr, stdout};

fn everything() -> Option<PathBuf> {
    if !prereq::command("node") {
        prereq::missing("node", ".ci/run installs nodejs");
        return None;
    }
    let dir = std::env::var_os("OPENCLAW_MCP_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/peers/node_modules"));
    let js = dir.join("@modelcontextprotocol/server-everything/dist/index.js");
    if !js.is_file() {
        prereq::missing(
            "@modelcontextprotocol/server-everything",
            "npm install it and set OPENCLAW_MCP_NODE_MODULES to that node_modules (.ci/run does)",
        );
        return None;
    }
    Some(js)
}

#[test]
fn add_list_status_probe_remove() {
    let Some(js) = everything() else { return };
    let Some(home) = Home::start() else { return };
    let cfg = home.state_dir().join("openclaw.json");
    let original = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, format!("// kept comment\n{original}")).unwrap();
    let js = js.to_string_lossy().into_owned();
    let add = [
        "mcp",
        "add",
        "ev",
        "--command",
        "node",
        "--arg",
        &js,
        "--arg",
        "stdio",
        "--include",
        "echo,get-sum",
    ];
    let out = home.run(&add, "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("ev__echo"), "{}", stdout(&out));
    let again = home.run(&add, "");
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(stderr(&again).contains("exists"), "{}", stderr(&again));

    let bad = home.run(
        &["mcp", "add", "bad", "--command", "/nonexistent/server"],
        "",
    );
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    assert!(
        stdout(&bad).contains("cannot start /nonexistent/server"),
        "{}",
        stdout(&bad)
    );

    let list: Value =
        serde_json::from_str(&stdout(&home.run(&["mcp", "list", "--json"], ""))).unwrap();
    let names: Vec<&str> = list["servers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["ev"], "a failed probe saves nothing");
    let status: Value =
        serde_json::from_str(&stdout(&home.run(&["mcp", "status", "--json", "-v"], ""))).unwrap();
    assert_eq!(status["servers"][0]["ok"], true, "{status}");
    assert_eq!(status["servers"][0]["transport"], "stdio");
    assert_eq!(
        status["servers"][0]["toolFilter"]["include"],
        serde_json::json!(["echo", "get-sum"])
    );
    let probe = home.run(&["mcp", "probe", "ev", "--json"], "");
    assert!(probe.status.success(), "{}", stderr(&probe));
    let probe: Value = serde_json::from_str(&stdout(&probe)).unwrap();
    assert_eq!(
        probe["tools"],
        serde_json::json!(["ev__echo", "ev__get-sum"])
    );
    assert_eq!(probe["servers"]["ev"]["tools"], 2);
    assert_eq!(probe["servers"]["ev"]["listChanged"]["tools"], true);

    let rm = home.run(&["mcp", "remove", "ev"], "");
    assert!(rm.status.success(), "{}", stderr(&rm));
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.starts_with("// kept comment\n"), "{text}");
    assert!(!text.contains("server-everything"), "{text}");
    let rm = home.run(&["mcp", "remove", "ev"], "");
    assert_eq!(rm.status.code(), Some(1));
}

#[test]
fn the_in_process_chat_and_print_mode_get_the_mcp_tools() {
    let Some(js) = everything() else { return };
    let Some(home) = Home::start() else { return };
    home.set_exec_mode("full");
    let js = js.to_string_lossy().into_owned();
    let add = home.run(
        &[
            "mcp",
            "add",
            "ev",
            "--command",
            "node",
            "--arg",
            &js,
            "--arg",
            "stdio",
            "--no-probe",
        ],
        "",
    );
    assert!(add.status.success(), "{}", stderr(&add));
    let out = home.run(
        &["chat", "--provider", "fake", "--model", "fake-model"],
        "call ev__echo {\"message\": \"from chat\"}\n",
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{}\n{text}", stderr(&out));
    assert!(text.contains("done: Echo: from chat"), "{text}");
    let out = home.run(
        &[
            "-p",
            "call ev__get-sum {\"a\": 1, \"b\": 2}",
            "--provider",
            "fake",
            "--model",
            "fake-model",
        ],
        "",
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{}\n{text}", stderr(&out));
    assert!(text.contains("done: The sum of 1 and 2 is 3"), "{text}");
}
