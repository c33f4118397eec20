//! The docker backend against a real daemon. There is no daemon on every machine (none on this
//! project's CI machine), and unlike the tools `.ci/run` installs a daemon cannot be installed
//! by a test run: without one — or without the test image — the test prints a visible
//! `SKIP <test>: <reason>` line and returns, under `CI=true` too. That is the one skip of this
//! kind; the native backend's tests fail under CI when bwrap is missing.

use std::process::{Command, Stdio};
use std::sync::Arc;

use openclaw_core::sandbox::{
    BackendKind, ExecTarget, SandboxMode, SandboxSettings, WorkspaceAccess,
};
use openclaw_core::tool::{BashTool, Tool, ToolCallContext, ToolEnv};
use serde_json::json;

fn skip(reason: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("docker")
        .to_string();
    let line = format!("SKIP {test}: {reason}\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

fn quiet(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[tokio::test]
async fn a_command_runs_in_a_labelled_container_without_network() {
    let image = std::env::var("OPENCLAW_TEST_DOCKER_IMAGE")
        .unwrap_or_else(|_| "debian:bookworm-slim".into());
    let avail = openclaw_sandbox::probe::container("docker");
    if let Some(why) = avail.refusal() {
        return skip(&format!("no docker daemon here ({why})"));
    }
    if !quiet("docker", &["image", "inspect", &image]) {
        return skip(&format!(
            "the image {image} is not present (set OPENCLAW_TEST_DOCKER_IMAGE)"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let mut s = SandboxSettings::off(&dir.path().join("state"));
    s.mode = SandboxMode::All;
    s.backend = BackendKind::Docker;
    s.workspace_access = WorkspaceAccess::Rw;
    s.image = image;
    let key = format!("agent:test{}", std::process::id());
    let target = openclaw_sandbox::exec_target(&s, &key["agent:".len()..], None, dir.path());
    assert!(matches!(target, ExecTarget::Sandbox(_)), "{target:?}");
    let mut env = ToolEnv::new(dir.path());
    env.exec_target = target;
    let args = json!({"command": "echo hi > /workspace/hi.txt; pwd; (getent hosts example.com || echo NO-NET)"});
    let out = BashTool::new(Arc::new(env))
        .execute(args, ToolCallContext::detached("c"))
        .await;
    let name = openclaw_sandbox::docker::container_name(&s.container_prefix, &key);
    let listed = openclaw_sandbox::docker::list_containers("docker").unwrap();
    let _ = openclaw_sandbox::docker::remove_container("docker", &name);
    let text = serde_json::to_string(&out.unwrap().content).unwrap();
    assert!(
        text.contains("/workspace") && text.contains("NO-NET"),
        "{text}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("hi.txt")).unwrap(),
        "hi\n"
    );
    let row = listed
        .iter()
        .find(|c| c.name == name)
        .expect("the container is listed");
    assert!(row.labels.contains("openclaw.sandbox=1"), "{row:?}");
}
