//! Skills over a real gateway on loopback, from real `SKILL.md` files in the state dir and the
//! agents' workspaces: `skills.status` (precedence, requirements, allowlist, damaged files),
//! `skills.skillCard`, `skills.detail`, `commands.list`, and what the model receives (the
//! skills block of the system prompt, `/<skill>` and `/skill:<name>` in `chat.send`).

mod common;

use std::path::Path;

use common::ADMIN;
use common::model::{bodies, chat, config_for, start_model};
use common::{Client, Setup};
use openclaw_core::testing::sse_server::SseServer;
use serde_json::{Value, json};

fn skill(dir: &Path, front: &str, body: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("SKILL.md"), format!("---\n{front}\n---\n{body}\n")).unwrap();
}

/// The state dir's skills: a workspace for `main`, the managed folder, an extra dir.
fn lay_out(state: &Path, extra: &Path) {
    let ws = state.join("workspace/skills");
    skill(
        &ws.join("weather"),
        "name: weather\ndescription: Forecasts <and> alerts.\nmetadata:\n  openclaw:\n    emoji: \"☔\"\n    os: [linux, darwin]",
        "Use the weather tool.",
    );
    skill(
        &ws.join("group/needs-bin"),
        "name: needs-bin\ndescription: Needs a binary.\nmetadata: {\"openclaw\": {\"requires\": {\"bins\": [\"no-such-binary-zz9\"], \"anyBins\": [\"sh\", \"no-such-zz8\"]}}}",
        "x",
    );
    skill(
        &ws.join("needs-env"),
        "name: needs-env\ndescription: Needs a token.\nmetadata:\n  openclaw:\n    primaryEnv: ZZ_SKILL_TOKEN_UNSET\n    requires:\n      env: [ZZ_SKILL_TOKEN_UNSET]\n      config: [browser.enabled]",
        "x",
    );
    skill(
        &ws.join("env-by-config"),
        "name: env-by-config\ndescription: Its variable comes from skills.entries.\nmetadata:\n  openclaw:\n    requires:\n      env: [ZZ_FROM_CONFIG]",
        "x",
    );
    skill(
        &ws.join("off-skill"),
        "name: off-skill\ndescription: Switched off.",
        "x",
    );
    skill(
        &ws.join("hidden"),
        "name: hidden\ndescription: Only by command.\ndisable-model-invocation: true",
        "Hidden body.",
    );
    skill(
        &ws.join("broken"),
        "name: broken\ndescription: [unclosed",
        "x",
    );
    skill(
        &state.join("skills/weather"),
        "name: weather\ndescription: The managed copy, shadowed in main's workspace.",
        "x",
    );
    skill(
        &state.join("skills/managed-only"),
        "name: managed-only\ndescription: From the state dir.",
        "x",
    );
    std::fs::write(
        state.join("skills/managed-only/skill-card.md"),
        "# Card\nSafe.",
    )
    .unwrap();
    skill(
        &extra.join("extra-one"),
        "name: extra-one\ndescription: From an extra dir.",
        "x",
    );
}

fn by_name<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["skills"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {report}"))
}

async fn gateway() -> (common::TestGateway, SseServer, tempfile::TempDir) {
    let model = start_model().await;
    let dir = tempfile::tempdir().unwrap();
    let extra = tempfile::tempdir().unwrap();
    lay_out(dir.path(), extra.path());
    let mut config = config_for(&model);
    config["agents"]["list"][1]["skills"] = json!(["weather"]);
    config["skills"] = json!({
        "entries": {"off-skill": {"enabled": false}, "env-by-config": {"env": {"ZZ_FROM_CONFIG": "1"}}},
        "load": {"extraDirs": [extra.path()]},
    });
    let tg = common::start_setup_in(
        Setup {
            config,
            engine: true,
            ..Setup::default()
        },
        dir,
    )
    .await;
    (tg, model, extra)
}

#[tokio::test]
async fn status_reports_precedence_requirements_and_damaged_files() {
    let (tg, _model, _extra) = gateway().await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let report = c.ok("skills.status", json!({})).await;
    let state = tg.state();
    assert_eq!(report["agentId"], "main");
    assert_eq!(
        report["workspaceDir"],
        state.join("workspace").display().to_string()
    );
    assert_eq!(
        report["managedSkillsDir"],
        state.join("skills").display().to_string()
    );

    let weather = by_name(&report, "weather");
    assert_eq!(weather["source"], "openclaw-workspace");
    assert_eq!(
        weather["filePath"],
        state
            .join("workspace/skills/weather/SKILL.md")
            .display()
            .to_string()
    );
    assert_eq!(weather["emoji"], "☔");
    assert_eq!(weather["eligible"], true);
    assert_eq!(weather["modelVisible"], true);
    assert_eq!(weather["commandVisible"], true);
    assert_eq!(weather["requirements"]["os"], json!(["linux", "darwin"]));
    assert_eq!(weather["missing"]["os"], json!([]));

    let bin = by_name(&report, "needs-bin");
    assert_eq!(bin["eligible"], false);
    assert_eq!(bin["missing"]["bins"], json!(["no-such-binary-zz9"]));
    assert_eq!(bin["missing"]["anyBins"], json!([]), "sh is on PATH: {bin}");

    let env = by_name(&report, "needs-env");
    assert_eq!(env["missing"]["env"], json!(["ZZ_SKILL_TOKEN_UNSET"]));
    assert_eq!(env["missing"]["config"], json!(["browser.enabled"]));
    assert_eq!(
        env["configChecks"],
        json!([{"path": "browser.enabled", "satisfied": false}])
    );
    assert_eq!(env["primaryEnv"], "ZZ_SKILL_TOKEN_UNSET");
    assert_eq!(by_name(&report, "env-by-config")["eligible"], true);

    let off = by_name(&report, "off-skill");
    assert_eq!(
        (off["disabled"].clone(), off["eligible"].clone()),
        (json!(true), json!(false))
    );
    let hidden = by_name(&report, "hidden");
    assert_eq!(
        (
            hidden["modelVisible"].clone(),
            hidden["commandVisible"].clone()
        ),
        (json!(false), json!(true))
    );
    assert_eq!(
        by_name(&report, "managed-only")["source"],
        "openclaw-managed"
    );
    assert_eq!(
        by_name(&report, "managed-only")["skillCard"]["sizeBytes"],
        12
    );
    assert_eq!(by_name(&report, "extra-one")["source"], "openclaw-extra");
    // The shadowed managed copy is not listed a second time.
    let weathers = report["skills"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == "weather")
        .count();
    assert_eq!(weathers, 1);
    // The damaged file is reported, and did not hide its siblings.
    let problems = report["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["path"].as_str().unwrap().ends_with("broken/SKILL.md")
                && p["message"]
                    .as_str()
                    .unwrap()
                    .contains("invalid front matter")),
        "{problems:?}"
    );

    // The allowlist of `helper` (its workspace has no skills: the managed weather is found).
    let helper = c.ok("skills.status", json!({"agentId": "helper"})).await;
    assert_eq!(helper["agentSkillFilter"], json!(["weather"]));
    let w = by_name(&helper, "weather");
    assert_eq!(
        (w["source"].clone(), w["blockedByAgentFilter"].clone()),
        (json!("openclaw-managed"), json!(false))
    );
    assert_eq!(
        by_name(&helper, "managed-only")["blockedByAgentFilter"],
        true
    );
    assert_eq!(by_name(&helper, "managed-only")["commandVisible"], false);

    let e = c.err("skills.status", json!({"agentId": "nope"})).await;
    assert_eq!(e["message"], "unknown agent id \"nope\"");
    let e = c.err("skills.status", json!({"agent": "main"})).await;
    assert_eq!(e["code"], "INVALID_REQUEST", "{e}");

    let card = c
        .ok("skills.skillCard", json!({"skillKey": "managed-only"}))
        .await;
    assert_eq!(card["schema"], "openclaw.skills.skill-card.v1");
    assert_eq!(card["content"], "# Card\nSafe.");
    let e = c
        .err("skills.skillCard", json!({"skillKey": "weather"}))
        .await;
    assert_eq!(e["message"], "skill card not found for weather");
    let e = c.err("skills.detail", json!({"slug": "@x/weather"})).await;
    assert_eq!(e["code"], "UNAVAILABLE");

    // A client without operator.read may not read the inventory.
    let (mut weak, _) = Client::connected(&tg, &["operator.approvals"]).await;
    let e = weak.err("skills.status", json!({})).await;
    assert_eq!(e["message"], "missing scope: operator.read");
}

#[tokio::test]
async fn skills_reach_commands_list_and_the_model() {
    let (tg, model, _extra) = gateway().await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let list = c.ok("commands.list", json!({})).await;
    let skills: Vec<&Value> = list["commands"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["source"] == "skill")
        .collect();
    let names: Vec<&str> = skills.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "env_by_config",
            "hidden",
            "weather",
            "managed_only",
            "extra_one"
        ]
    );
    let hidden = skills.iter().find(|c| c["name"] == "hidden").unwrap();
    assert_eq!(hidden["skillModelVisible"], false);
    assert_eq!(hidden["skillDisplayName"], "hidden");
    assert_eq!(hidden["textAliases"], json!(["/hidden"]));
    assert_eq!(hidden["category"], "tools");
    // The built-ins come first and keep their names.
    assert_eq!(list["commands"][0]["source"], "native");

    // The system prompt lists the model-visible, eligible skills with their files.
    chat(&mut c, "main", "hello", json!({})).await;
    let sent = bodies(&model);
    let system = sent[0]["messages"][0]["content"].to_string();
    let weather_file = tg.state().join("workspace/skills/weather/SKILL.md");
    assert!(system.contains("<available_skills>"), "{system}");
    assert!(system.contains("<name>weather</name>"));
    assert!(system.contains("Forecasts &lt;and&gt; alerts."));
    assert!(system.contains(&weather_file.display().to_string()));
    for absent in [
        "<name>hidden</name>",
        "<name>needs-bin</name>",
        "<name>off-skill</name>",
    ] {
        assert!(!system.contains(absent), "{absent} in {system}");
    }

    // `/weather today`: OpenClaw's instruction to read the skill, then the request.
    chat(&mut c, "main", "/weather today", json!({})).await;
    let last = bodies(&model).last().cloned().unwrap();
    let user = last["messages"].as_array().unwrap().last().unwrap()["content"].to_string();
    assert!(
        user.contains("Read each skill's SKILL.md before acting:\\n- weather\\n\\nUser request:\\n/weather today"),
        "{user}"
    );
    // pi's form inlines the body.
    chat(&mut c, "main", "/skill:hidden go", json!({})).await;
    let last = bodies(&model).last().cloned().unwrap();
    let user = last["messages"].as_array().unwrap().last().unwrap()["content"].to_string();
    assert!(user.contains("<skill name=\\\"hidden\\\""), "{user}");
    assert!(user.contains("Hidden body.\\n</skill>\\n\\ngo"), "{user}");
}

/// How many times the skills watcher has reported a change in the gateway's log.
fn changes_logged(state: &Path) -> usize {
    std::fs::read_to_string(state.join("logs/gateway.log"))
        .unwrap_or_default()
        .matches("skills changed on disk")
        .count()
}

async fn wait_for_change(state: &Path, seen: usize) -> usize {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let now = changes_logged(state);
        if now > seen {
            return now;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the skills watcher saw no change"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn system_of_last(model: &SseServer) -> String {
    let last = bodies(model).last().cloned().unwrap();
    last["messages"][0]["content"].to_string()
}

#[tokio::test]
async fn skill_files_added_edited_and_removed_reach_the_next_turn_without_a_restart() {
    let (tg, model, _extra) = gateway().await;
    let state = tg.state();
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    // The session's engine is live before the files change.
    chat(&mut c, "main", "hello", json!({})).await;
    assert!(!system_of_last(&model).contains("<name>late-skill</name>"));

    // Added in a new group folder of the workspace.
    let late = state.join("workspace/skills/new-group/late-skill");
    skill(&late, "name: late-skill\ndescription: Arrived later.", "x");
    let seen = wait_for_change(&state, changes_logged(&state)).await;
    chat(&mut c, "main", "again", json!({})).await;
    let system = system_of_last(&model);
    assert!(system.contains("<name>late-skill</name>"), "{system}");
    assert!(system.contains("Arrived later."));
    let list = c.ok("commands.list", json!({})).await;
    assert!(list.to_string().contains("\"late_skill\""), "{list}");

    // Edited: the new description.
    skill(
        &late,
        "name: late-skill\ndescription: Edited in place.",
        "x",
    );
    let seen = wait_for_change(&state, seen).await;
    chat(&mut c, "main", "third", json!({})).await;
    let system = system_of_last(&model);
    assert!(system.contains("Edited in place."), "{system}");
    assert!(!system.contains("Arrived later."));

    // Removed (with its folder), and a managed skill appears in a root made after start.
    std::fs::remove_dir_all(&late).unwrap();
    let seen = wait_for_change(&state, seen).await;
    let status = c.ok("skills.status", json!({})).await;
    assert!(!status.to_string().contains("late-skill"));
    chat(&mut c, "main", "fourth", json!({})).await;
    assert!(!system_of_last(&model).contains("late-skill"));

    // A file that is not a skill changes nothing.
    std::fs::write(state.join("workspace/skills/notes.txt"), "x").unwrap();
    skill(
        &state.join("workspace/.agents/skills/dot-root"),
        "name: dot-root\ndescription: In a root first created after start.",
        "x",
    );
    wait_for_change(&state, seen).await;
    chat(&mut c, "main", "fifth", json!({})).await;
    assert!(system_of_last(&model).contains("<name>dot-root</name>"));
    assert_eq!(
        changes_logged(&state),
        seen + 1,
        "notes.txt counted as a change"
    );
}
