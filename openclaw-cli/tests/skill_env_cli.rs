//! `skills.entries.<key>.env` / `.apiKey` in the in-process run modes of the real binary, with
//! the fake model (`shared/fake_llm.py`) calling `bash`: `openclaw -p` and RPC mode (a JSONL
//! `prompt` over stdio) give the command the skill's variables, a skill the agent cannot use
//! (a missing binary, `enabled: false`) injects nothing, a refused name is a warning naming
//! it, and the secret is never printed outside the command's own output.

mod support_cli;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use support_cli::{Home, stderr, stdout};

const SECRET: &str = "sk-lab-7731";
const COMMAND: &str = "echo key=$ZZ_LAB_API_KEY mode=$ZZ_LAB_MODE gated=${ZZ_GATED:-unset} off=${ZZ_OFF:-unset} pre=${LD_PRELOAD:-unset}";
const EXPECTED: &str = "done: key=sk-lab-7731 mode=fast gated=unset off=unset pre=unset";

/// Three skills in pi's project place (`<cwd>/.pi/skills`, the cwd being the home): `lab`
/// (usable, with an apiKey for its primaryEnv), `gated` (needs a binary nobody has) and `off`
/// (disabled); and `tools.exec.mode: full` so nobody is asked before `bash`.
fn setup(home: &Home) {
    for (name, meta) in [
        (
            "lab",
            "metadata: {\"openclaw\": {\"primaryEnv\": \"ZZ_LAB_API_KEY\", \"requires\": {\"env\": [\"ZZ_LAB_API_KEY\"]}}}\n",
        ),
        (
            "gated",
            "metadata: {\"openclaw\": {\"requires\": {\"bins\": [\"no-such-binary-zz7\"]}}}\n",
        ),
        ("off", ""),
    ] {
        let dir = home.path().join(".pi/skills").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("SKILL.md"),
            format!("---\nname: {name}\ndescription: d\n{meta}---\nbody\n"),
        )
        .unwrap();
    }
    let path = home.state_dir().join("openclaw.json");
    let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    cfg["tools"]["exec"] = json!({"mode": "full"});
    cfg["skills"] = json!({"entries": {
        "lab": {"apiKey": SECRET, "env": {"ZZ_LAB_MODE": "fast", "LD_PRELOAD": "/nope.so"}},
        "gated": {"env": {"ZZ_GATED": "leaked"}},
        "off": {"enabled": false, "env": {"ZZ_OFF": "leaked"}}
    }});
    std::fs::write(&path, cfg.to_string()).unwrap();
}

fn call() -> String {
    format!("call bash {}", json!({"command": COMMAND}))
}

#[test]
fn print_mode_bash_gets_the_usable_skills_env() {
    let Some(home) = Home::start() else { return };
    setup(&home);
    let call = call();
    let out = home.run(
        &["-p", &call, "--provider", "fake", "--model", "fake-model"],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim_end(), EXPECTED, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("skill lab: env LD_PRELOAD refused"),
        "the refused name is a warning: {err}"
    );
    assert!(!err.contains(SECRET), "stderr shows the secret: {err}");
}

#[test]
fn rpc_mode_bash_gets_the_usable_skills_env() {
    let Some(home) = Home::start() else { return };
    setup(&home);
    let mut child = Command::new(env!("CARGO_BIN_EXE_openclaw"))
        .args([
            "--mode",
            "rpc",
            "--provider",
            "fake",
            "--model",
            "fake-model",
        ])
        .args(["--no-session"])
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("OPENCLAW_STATE_DIR", home.state_dir())
        .env("PI_CODING_AGENT_DIR", home.path().join(".pi/agent"))
        .env_remove("OPENCLAW_CONFIG_PATH")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let line = json!({"id": "p1", "type": "prompt", "message": call()});
    writeln!(stdin, "{line}").unwrap();
    stdin.flush().unwrap();
    // Lines until `agent_end`, read on a thread so that a hung run fails the test.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut tool_output = None;
    let mut end = None;
    while end.is_none() {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("no agent_end from RPC mode");
        let event: Value = serde_json::from_str(&line).unwrap();
        match event["type"].as_str() {
            Some("tool_execution_end") => {
                tool_output = event["result"]["content"][0]["text"]
                    .as_str()
                    .map(str::to_owned)
            }
            Some("agent_end") => end = Some(event),
            _ => {}
        }
    }
    drop(stdin);
    let _ = child.wait();
    let text = end.unwrap()["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"][0]["text"].as_str())
        .unwrap_or("")
        .to_owned();
    assert_eq!(text, EXPECTED);
    assert_eq!(
        tool_output.as_deref().map(str::trim_end),
        Some(&EXPECTED["done: ".len()..]),
        "the bash tool's own output"
    );
}

/// `apiKey` as a `file` SecretRef reaches `bash`; one naming a provider nobody configured
/// leaves its skill ineligible with the reason in `openclaw skills check` / `info`, and its
/// variable is not set to anything.
#[test]
fn a_file_secret_ref_reaches_bash_and_a_broken_one_is_named() {
    use std::os::unix::fs::PermissionsExt;
    let Some(home) = Home::start() else { return };
    // `~/.pi/agent/skills`: pi's user place, and OpenClaw's too when the state dir is ~/.openclaw.
    for (name, env) in [("lab", "ZZ_LAB_API_KEY"), ("broken", "ZZ_BROKEN_API_KEY")] {
        let dir = home.path().join(".pi/agent/skills").join(name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("SKILL.md"),
            format!(
                "---\nname: {name}\ndescription: d\nmetadata: {{\"openclaw\": {{\"primaryEnv\": \"{env}\", \"requires\": {{\"env\": [\"{env}\"]}}}}}}\n---\nbody\n"
            ),
        )
        .unwrap();
    }
    let file = home.path().join("skill-secrets.json");
    std::fs::write(&file, r#"{"lab": "sk-file-42"}"#).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let path = home.state_dir().join("openclaw.json");
    let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    cfg["tools"]["exec"] = json!({"mode": "full"});
    cfg["secrets"] = json!({"providers": {"fm": {"source": "file", "path": file}}});
    cfg["skills"] = json!({"entries": {
        "lab": {"apiKey": {"source": "file", "provider": "fm", "id": "/lab"}},
        "broken": {"apiKey": {"source": "exec", "provider": "vault", "id": "x"}}
    }});
    std::fs::write(&path, cfg.to_string()).unwrap();

    let command = "echo key=$ZZ_LAB_API_KEY broken=${ZZ_BROKEN_API_KEY:-unset}";
    let call = format!("call bash {}", json!({"command": command}));
    let out = home.run(
        &["-p", &call, "--provider", "fake", "--model", "fake-model"],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim_end(),
        "done: key=sk-file-42 broken=unset",
        "{}",
        stderr(&out)
    );

    let why = "Secret provider \"vault\" is not configured (ref: exec:vault:x).";
    let check = home.run(&["skills", "check"], "");
    assert!(check.status.success(), "{}", stderr(&check));
    assert!(
        stdout(&check).contains(&format!("broken (env: ZZ_BROKEN_API_KEY (apiKey: {why}))")),
        "{}",
        stdout(&check)
    );
    let info = home.run(&["skills", "info", "broken", "--json"], "");
    let info: Value = serde_json::from_str(&stdout(&info)).unwrap();
    assert_eq!(info["eligible"], false, "{info}");
    assert_eq!(info["apiKeyError"], why, "{info}");
    let lab = home.run(&["skills", "info", "lab", "--json"], "");
    let lab = stdout(&lab);
    assert!(
        lab.contains("\"eligible\": true") || lab.contains("\"eligible\":true"),
        "{lab}"
    );
    assert!(
        !lab.contains("sk-file-42"),
        "skills info shows the secret: {lab}"
    );
}
