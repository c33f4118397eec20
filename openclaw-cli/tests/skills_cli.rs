//! `openclaw skills list|info|check` against real skill folders in a temp HOME (the default
//! state dir, so the user's `~/.agents/skills` and `~/.pi/agent/skills` count), and a piped
//! chat where `/skill:<name>` and a prompt template are expanded before the fake model sees
//! them.

mod support_cli;

use std::path::Path;

use serde_json::Value;
use support_cli::{Home, stderr, stdout};

fn skill(dir: &Path, front: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("SKILL.md"),
        format!("---\n{front}\n---\nBody of {}.\n", dir.display()),
    )
    .unwrap();
}

fn lay_out(home: &Path) {
    let state = home.join(".openclaw");
    skill(
        &state.join("workspace/skills/demo"),
        "name: demo\ndescription: The workspace demo.\nmetadata:\n  openclaw:\n    requires:\n      bins: [sh]",
    );
    skill(
        &state.join("skills/demo"),
        "name: demo\ndescription: Shadowed managed demo.",
    );
    skill(
        &state.join("skills/managed"),
        "name: managed\ndescription: Managed one.",
    );
    skill(
        &state.join("skills/needs-env"),
        "name: needs-env\ndescription: Needs a variable.\nmetadata: '{\"openclaw\": {\"requires\": {\"env\": [\"ZZ_UNSET_SKILL_VAR\"]}}}'",
    );
    skill(
        &state.join("skills/damaged"),
        "name: damaged\ndescription: [oops",
    );
    skill(
        &home.join(".agents/skills/personal"),
        "name: personal\ndescription: Personal one.",
    );
    skill(
        &home.join(".pi/agent/skills/pi-one"),
        "name: pi-one\ndescription: A pi skill.",
    );
    skill(
        &home.join(".pi/agent/skills/pi-gated"),
        "name: pi-gated\ndescription: Gated.\nmetadata:\n  openclaw:\n    requires:\n      env: [ZZ_UNSET_SKILL_VAR]",
    );
    std::fs::create_dir_all(home.join(".pi/agent/prompts")).unwrap();
    std::fs::write(
        home.join(".pi/agent/prompts/tpl.md"),
        "---\ndescription: A template\n---\nTemplate got $1 and [$@].\n",
    )
    .unwrap();
}

fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}\n{}", stderr(out), stdout(out));
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[test]
fn list_info_and_check_report_the_agents_skills() {
    let Some(home) = Home::start() else { return };
    lay_out(home.path());

    let list = json_of(&home.run(&["skills", "list", "--json"], ""));
    let rows = list["skills"].as_array().unwrap();
    let got: Vec<(&str, &str)> = rows
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["source"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("demo", "openclaw-workspace"),
            ("personal", "agents-skills-personal"),
            ("managed", "openclaw-managed"),
            ("needs-env", "openclaw-managed"),
            ("pi-gated", "pi-user"),
            ("pi-one", "pi-user"),
        ]
    );
    let problems = list["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]["path"]
            .as_str()
            .unwrap()
            .ends_with("damaged/SKILL.md")
    );
    let eligible = json_of(&home.run(&["skills", "list", "--eligible", "--json"], ""));
    assert_eq!(eligible["skills"].as_array().unwrap().len(), 4);

    let info = json_of(&home.run(&["skills", "info", "DEMO", "--json"], ""));
    assert_eq!(info["name"], "demo");
    assert_eq!(info["eligible"], true);
    assert_eq!(info["requirements"]["bins"], serde_json::json!(["sh"]));
    let text = home.run(&["skills", "info", "needs-env"], "");
    assert!(
        stdout(&text).contains("Environment: ✗ ZZ_UNSET_SKILL_VAR"),
        "{}",
        stdout(&text)
    );

    let missing = home.run(&["skills", "info", "nope"], "");
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("Skill \"nope\" not found."),
        "{}",
        stderr(&missing)
    );
    let unknown = home.run(&["skills", "list", "--agent", "ghost"], "");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unknown agent id \"ghost\""));

    let check = json_of(&home.run(&["skills", "check", "--json"], ""));
    assert_eq!(check["summary"]["total"], 6);
    assert_eq!(check["summary"]["eligible"], 4);
    assert_eq!(check["summary"]["problems"], 1);
    assert_eq!(check["missingRequirements"][0]["name"], "needs-env");
    let text = stdout(&home.run(&["skills", "list", "--verbose"], ""));
    assert!(text.contains("Skills (4/6 ready)"), "{text}");
    assert!(text.contains("env: ZZ_UNSET_SKILL_VAR"), "{text}");
    assert!(
        text.contains("damaged/SKILL.md: invalid front matter"),
        "{text}"
    );
}

#[test]
fn chat_expands_skill_commands_and_templates() {
    let Some(home) = Home::start() else { return };
    lay_out(home.path());
    let out = home.run(
        &["chat", "--provider", "fake", "--model", "fake-model"],
        "/skill:pi-one please\n/tpl a \"b c\"\n/skill:pi-gated x\n",
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{}\n{text}", stderr(&out));
    let file = home.path().join(".pi/agent/skills/pi-one/SKILL.md");
    assert!(
        text.contains(&format!(
            "echo: <skill name=\"pi-one\" location=\"{}\">",
            file.display()
        )),
        "{text}"
    );
    assert!(text.contains("Template got a and [a b c]."), "{text}");
    // A skill whose requirements are unmet is not a command of the session.
    assert!(!text.contains("<skill name=\"pi-gated\""), "{text}");
    assert!(
        stderr(&out).contains("unknown command /skill:pi-gated"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn with_url_the_gateways_inventory_is_shown() {
    let Some(home) = Home::start() else { return };
    lay_out(home.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let token = "skills-cli-token";
    let _gw = home.gateway(
        &["--port", &port.to_string()],
        &[("OPENCLAW_GATEWAY_TOKEN", token)],
        port,
    );
    let url = format!("ws://127.0.0.1:{port}");
    // A skill added after the gateway started is on disk; the gateway reads it per call.
    skill(
        &home.path().join(".openclaw/workspace/skills/late"),
        "name: late\ndescription: Added later.",
    );
    let remote = json_of(&home.run(
        &["skills", "list", "--json", "--url", &url, "--token", token],
        "",
    ));
    let names: Vec<&str> = remote["skills"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"late") && names.contains(&"demo"),
        "{names:?}"
    );
    let info = home.run(
        &[
            "skills",
            "info",
            "needs-env",
            "--url",
            &url,
            "--token",
            token,
        ],
        "",
    );
    assert!(
        stdout(&info).contains("Environment: ✗ ZZ_UNSET_SKILL_VAR"),
        "{}",
        stdout(&info)
    );
    let bad = home.run(
        &[
            "skills", "check", "--agent", "ghost", "--url", &url, "--token", token,
        ],
        "",
    );
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("unknown agent id"),
        "{}",
        stderr(&bad)
    );
}
