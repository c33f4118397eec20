//! `openclaw sandbox list | explain | recreate` against a real container engine: `-p` with
//! `backend: "podman"` runs the model's `bash` in OpenClaw's container, which the three
//! commands then show and remove. Needs podman (or `$OPENCLAW_TEST_CONTAINER_ENGINE`) and the
//! test image `.ci/sandbox-image` builds; without them a reported skip, a failure under CI.

mod support_cli;

use openclaw_core::sandbox::SandboxSettings;
use openclaw_core::testing::prereq;
use serde_json::{Value, json};
use support_cli::{Home, stderr, stdout};

const IMAGE: &str = "localhost/openclaw-sandbox-test:busybox";

fn engine() -> Option<&'static str> {
    let program = match std::env::var("OPENCLAW_TEST_CONTAINER_ENGINE") {
        Ok(p) if p == "docker" => "docker",
        _ => "podman",
    };
    let mut s = SandboxSettings::off(std::path::Path::new("/nonexistent"));
    s.image = IMAGE.into();
    match openclaw_sandbox::docker::availability(program, &s).refusal() {
        None => Some(program),
        Some(why) => {
            prereq::missing(
                &format!("a working {program} with the image {IMAGE}"),
                &format!("{why}; .ci/run installs podman and runs .ci/sandbox-image"),
            );
            None
        }
    }
}

/// Removes the test's container when dropped.
struct Container(&'static str, String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = openclaw_sandbox::docker::remove_container(self.0, &self.1);
    }
}

#[test]
fn list_explain_and_recreate_show_and_remove_the_real_container() {
    let Some(home) = Home::start() else { return };
    let Some(program) = engine() else { return };
    let prefix = format!("openclaw-sbx-t{}-", std::process::id());
    let path = home.state_dir().join("openclaw.json");
    let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    cfg["tools"]["exec"] = json!({"mode": "full"});
    cfg["agents"] = json!({"defaults": {"sandbox": {
        "mode": "all", "backend": program, "workspaceAccess": "rw",
        "docker": {"image": IMAGE, "containerPrefix": prefix, "env": {"GREETING": "from-env"}}
    }}});
    std::fs::write(&path, cfg.to_string()).unwrap();
    let name = format!("{prefix}agent-main-f331f052");
    let _cleanup = Container(program, name.clone());
    let explain = || -> Value {
        let out = home.run(&["sandbox", "explain", "--json"], "");
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).unwrap()
    };
    let doc = explain();
    assert_eq!(doc["container"]["name"], name.as_str(), "{doc}");
    assert_eq!(doc["container"]["state"], "absent", "{doc}");
    assert_eq!(doc["execTarget"], format!("sandbox ({program})"), "{doc}");

    let call = "call bash {\"command\": \"echo $GREETING > made.txt; cat /proc/1/cmdline\"}";
    let out = home.run(
        &["-p", call, "--provider", "fake", "--model", "fake-model"],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(home.path().join("made.txt")).unwrap(),
        "from-env\n"
    );
    assert_eq!(explain()["container"]["state"], "running");
    let listed = || -> Vec<Value> {
        let out = home.run(&["sandbox", "list", "--json"], "");
        assert!(out.status.success(), "{}", stderr(&out));
        let doc: Value = serde_json::from_str(&stdout(&out)).unwrap();
        doc["sandboxes"].as_array().unwrap().clone()
    };
    let rows = listed();
    let row = rows.iter().find(|r| r["name"] == name.as_str()).unwrap();
    assert_eq!(row["state"], "running", "{row}");
    assert!(
        row["labels"]
            .as_str()
            .unwrap()
            .contains("openclaw.sessionKey=agent:main"),
        "{row}"
    );

    // A running container is kept without --force; an agent id that only prefixes is no match.
    let out = home.run(&["sandbox", "recreate", "--agent", "main"], "");
    assert!(
        stdout(&out).contains("skipping running"),
        "{}",
        stdout(&out)
    );
    home.run(&["sandbox", "recreate", "--agent", "mai", "--force"], "");
    assert!(listed().iter().any(|r| r["name"] == name.as_str()));
    let out = home.run(&["sandbox", "recreate", "--agent", "main", "--force"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!listed().iter().any(|r| r["name"] == name.as_str()));
    assert_eq!(explain()["container"]["state"], "absent");
}
