//! `skills.entries.<key>.env` and `.apiKey` reach a run's `bash` as OpenClaw injects them,
//! against a real gateway on loopback with the fake model (`shared/fake_llm.py`) calling
//! `bash`: the skill's variables are in the command's environment, the gateway's own
//! environment never gets them, a skill the agent cannot use injects nothing, and neither
//! `skills.status`, `config.get` nor the gateway's log shows the secret.

mod common;

use common::fake::{Fake, config_with};
use common::model::chat;
use common::{ADMIN, Client, Setup};
use serde_json::json;

const SECRET: &str = "sk-lab-secret-7731";

fn skill(state: &std::path::Path, name: &str, front: &str) {
    let dir = state.join("workspace/skills").join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("SKILL.md"),
        format!("---\nname: {name}\ndescription: d\n{front}---\nbody\n"),
    )
    .unwrap();
}

#[tokio::test]
async fn a_skills_env_and_api_key_reach_bash_and_nothing_shows_the_secret() {
    let Some(fake) = Fake::start() else { return };
    let mut config = config_with(&fake, json!({"tools": {"exec": {"mode": "full"}}}));
    config["skills"] = json!({"entries": {
        "lab": {"apiKey": SECRET, "env": {"ZZ_LAB_MODE": "fast", "LD_PRELOAD": "/nope.so"}},
        "gated": {"env": {"ZZ_GATED": "leaked"}},
        "vaulted": {"apiKey": {"source": "exec", "provider": "vault", "id": "k"}}
    }});
    let dir = tempfile::tempdir().unwrap();
    skill(
        dir.path(),
        "lab",
        "metadata: {\"openclaw\": {\"primaryEnv\": \"ZZ_LAB_API_KEY\", \"requires\": {\"env\": [\"ZZ_LAB_API_KEY\"]}}}\n",
    );
    // Not usable here (a binary nobody has): its env is not injected.
    skill(
        dir.path(),
        "gated",
        "metadata: {\"openclaw\": {\"requires\": {\"bins\": [\"no-such-binary-zz7\"]}}}\n",
    );
    // Its apiKey names a secret provider nobody configured: skills.status says so.
    skill(
        dir.path(),
        "vaulted",
        "metadata: {\"openclaw\": {\"primaryEnv\": \"ZZ_V_API_KEY\", \"requires\": {\"env\": [\"ZZ_V_API_KEY\"]}}}\n",
    );
    let setup = Setup {
        config,
        engine: true,
        ..Setup::default()
    };
    let tg = common::start_setup_in(setup, dir).await;
    let (mut c, _) = Client::connected(&tg, ADMIN).await;
    let command = "echo key=$ZZ_LAB_API_KEY mode=$ZZ_LAB_MODE gated=${ZZ_GATED:-unset} preload=${LD_PRELOAD:-unset}";
    let msg = format!("call bash {}", json!({"command": command}));
    let done = chat(&mut c, "main", &msg, json!({})).await;
    let text = done["message"]["content"][0]["text"].as_str().unwrap_or("");
    assert_eq!(
        text,
        format!("done: key={SECRET} mode=fast gated=unset preload=unset"),
        "{done}"
    );
    // Scoped to the run's commands: the gateway process never had them.
    assert!(std::env::var_os("ZZ_LAB_API_KEY").is_none());
    assert!(std::env::var_os("ZZ_LAB_MODE").is_none());

    let status = c.ok("skills.status", json!({})).await.to_string();
    assert!(status.contains("ZZ_LAB_API_KEY"), "{status}");
    assert!(!status.contains(SECRET), "skills.status shows the secret");
    let lab = c.ok("skills.status", json!({})).await["skills"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "lab")
        .cloned()
        .unwrap();
    assert_eq!(lab["eligible"], true, "{lab}");
    let all = c.ok("skills.status", json!({})).await;
    let vaulted = all["skills"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "vaulted")
        .cloned()
        .unwrap();
    assert_eq!(vaulted["eligible"], false, "{vaulted}");
    assert_eq!(
        vaulted["apiKeyError"], "Secret provider \"vault\" is not configured (ref: exec:vault:k).",
        "{vaulted}"
    );
    let config = c.ok("config.get", json!({})).await.to_string();
    assert!(!config.contains(SECRET), "config.get shows the secret");
    let log = std::fs::read_to_string(tg.state().join("logs/gateway.log")).unwrap_or_default();
    assert!(!log.contains(SECRET), "the log shows the secret");
}
