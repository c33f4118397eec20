//! The docker/podman backend against a real container engine, through the real `bash` tool:
//! the escape attempts of the native tests (write outside the workspace, read the state dir,
//! reach a host port, fork without bound, survive abort or timeout with `setsid`), and
//! OpenClaw's `setupCommand`, `user`, `env`, `binds` and recreate-on-change. Each escape has a
//! control showing the command does what it tries where it is allowed.
//!
//! The engine is `$OPENCLAW_TEST_CONTAINER_ENGINE`, else `podman` when installed, else
//! `docker`; the image `$OPENCLAW_TEST_SANDBOX_IMAGE`, else `localhost/openclaw-sandbox-test:
//! busybox`, which `.ci/sandbox-image` builds from the host's busybox without a registry.
//! Without a working engine or the image each test prints `SKIP …`; under `CI=true` it fails.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openclaw_core::CancellationToken;
use openclaw_core::sandbox::{
    BackendKind, ExecTarget, SandboxMode, SandboxSettings, WorkspaceAccess,
};
use openclaw_core::testing::prereq;
use openclaw_core::tool::{BashTool, Tool, ToolCallContext, ToolEnv};
use openclaw_sandbox::docker;
use serde_json::json;

const DEFAULT_IMAGE: &str = "localhost/openclaw-sandbox-test:busybox";

/// The engine program, if it and the test image work here (else a reported skip, a failure
/// under CI).
fn engine() -> Option<&'static str> {
    let program: &'static str = match std::env::var("OPENCLAW_TEST_CONTAINER_ENGINE") {
        Ok(p) if p == "docker" => "docker",
        Ok(_) => "podman",
        Err(_) if Path::new("/usr/bin/podman").is_file() => "podman",
        Err(_) => "docker",
    };
    let mut s = SandboxSettings::off(Path::new("/nonexistent"));
    s.image = image();
    match docker::availability(program, &s).refusal() {
        None => Some(program),
        Some(why) => {
            prereq::missing(
                &format!("a working {program} with the image {}", image()),
                &format!(
                    "{why}; .ci/run installs podman and runs .ci/sandbox-image to build the image"
                ),
            );
            None
        }
    }
}

fn image() -> String {
    std::env::var("OPENCLAW_TEST_SANDBOX_IMAGE").unwrap_or_else(|_| DEFAULT_IMAGE.into())
}

/// A fake home (`<home>/.openclaw` the state dir with a secret, `<home>/.openclaw/workspace`
/// the workspace) and the scope of this test's container, removed when dropped.
struct Home {
    _dir: tempfile::TempDir,
    root: PathBuf,
    state: PathBuf,
    workspace: PathBuf,
    program: &'static str,
    key: String,
}

impl Home {
    fn new(program: &'static str, test: &str) -> Home {
        // Not under /tmp: a container has a /tmp of its own.
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let root = dir.path().to_path_buf();
        let state = root.join(".openclaw");
        let workspace = state.join("workspace");
        std::fs::create_dir_all(&workspace).unwrap();
        std::fs::write(
            state.join("openclaw.json"),
            r#"{"token":"SECRET-TOKEN-1234"}"#,
        )
        .unwrap();
        std::fs::write(workspace.join("AGENTS.md"), "agent notes\n").unwrap();
        let key = format!("agent:t{}-{test}", std::process::id());
        let h = Home {
            _dir: dir,
            root,
            state,
            workspace,
            program,
            key,
        };
        h.remove();
        h
    }

    fn settings(&self, access: WorkspaceAccess) -> SandboxSettings {
        let mut s = SandboxSettings::off(&self.state);
        s.mode = SandboxMode::All;
        s.backend = match self.program {
            "docker" => BackendKind::Docker,
            _ => BackendKind::Podman,
        };
        s.workspace_access = access;
        s.image = image();
        s
    }

    fn container(&self, s: &SandboxSettings) -> String {
        docker::container_name(&s.container_prefix, &self.key)
    }

    /// The tool environment running `bash` in this test's container, with `workspace` as
    /// the agent's workspace.
    fn env(&self, s: &SandboxSettings, workspace: &Path) -> Arc<ToolEnv> {
        let agent = &self.key["agent:".len()..];
        let target = openclaw_sandbox::exec_target(s, agent, None, workspace);
        assert!(matches!(target, ExecTarget::Sandbox(_)), "{target:?}");
        let mut env = ToolEnv::new(workspace);
        env.exec_target = target;
        Arc::new(env)
    }

    fn host(&self) -> Arc<ToolEnv> {
        Arc::new(ToolEnv::new(&self.workspace))
    }

    fn remove(&self) {
        let name = self.container(&self.settings(WorkspaceAccess::None));
        docker::remove_container(self.program, &name).unwrap();
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        self.remove();
    }
}

async fn run(env: &Arc<ToolEnv>, command: &str) -> (bool, String) {
    run_with(
        env,
        json!({"command": command, "timeout": 60}),
        ToolCallContext::detached("c"),
    )
    .await
}

async fn run_with(
    env: &Arc<ToolEnv>,
    args: serde_json::Value,
    ctx: ToolCallContext,
) -> (bool, String) {
    match BashTool::new(env.clone()).execute(args, ctx).await {
        Ok(out) => (true, serde_json::to_string(&out.content).unwrap()),
        Err(e) => (false, e.message),
    }
}

#[tokio::test]
async fn a_command_runs_in_a_labelled_container_that_sandbox_list_shows() {
    let Some(program) = engine() else { return };
    let h = Home::new(program, "label");
    let s = h.settings(WorkspaceAccess::Rw);
    let (ok, out) = run(
        &h.env(&s, &h.workspace),
        "echo hi > hi.txt; pwd; cat /proc/1/cmdline | tr '\\0' ' '; echo; id -u",
    )
    .await;
    assert!(ok, "{out}");
    assert!(out.contains("/workspace\\n"), "{out}");
    assert_eq!(
        std::fs::read_to_string(h.workspace.join("hi.txt")).unwrap(),
        "hi\n"
    );
    let rows = docker::list_containers(program).unwrap();
    let name = h.container(&s);
    let row = rows.iter().find(|r| r.name == name).expect("listed");
    assert_eq!(row.state, "running");
    assert_eq!(
        row.image.trim_start_matches("localhost/"),
        image().trim_start_matches("localhost/")
    );
    for label in [
        "openclaw.sandbox=1".to_string(),
        format!("openclaw.sessionKey={}", h.key),
        "openclaw.mountFormatVersion=4".into(),
        "openclaw.configHash=".into(),
        "openclaw.createdAtMs=".into(),
    ] {
        assert!(row.labels.contains(&label), "{label} missing: {row:?}");
    }
    // `openclaw sandbox recreate` removes it; the next command creates it again.
    docker::remove_container(program, &name).unwrap();
    assert!(
        !docker::list_containers(program)
            .unwrap()
            .iter()
            .any(|r| r.name == name)
    );
    let (ok, out) = run(&h.env(&s, &h.workspace), "cat hi.txt").await;
    assert!(ok && out.contains("hi"), "{out}");
}

#[tokio::test]
async fn cannot_write_outside_the_workspace() {
    let Some(program) = engine() else { return };
    let h = Home::new(program, "write");
    let outside = h.state.join("escaped.txt");
    let cmd = format!(
        "echo inside > inside.txt; echo x > {o}; echo y > /usr/escaped.txt; echo z > /escaped.txt; echo w > ../escaped.txt; true",
        o = outside.display()
    );
    let (ok, out) = run(&h.env(&h.settings(WorkspaceAccess::Rw), &h.workspace), &cmd).await;
    assert!(ok, "{out}");
    assert!(
        h.workspace.join("inside.txt").is_file(),
        "rw workspace not writable: {out}"
    );
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(
        !outside.exists() && !h.state.join("escaped.txt").exists(),
        "{out}"
    );
    // `ro`: the agent's workspace at /agent, read-only; the private one at /workspace.
    let ro = h.settings(WorkspaceAccess::Ro);
    let (_, out) = run(
        &h.env(&ro, &h.workspace),
        "cat /agent/AGENTS.md; echo x > /agent/ro.txt; echo p > private.txt; pwd",
    )
    .await;
    assert!(
        out.contains("agent notes") && out.contains("Read-only"),
        "{out}"
    );
    assert!(!h.workspace.join("ro.txt").exists(), "{out}");
    assert!(!h.workspace.join("private.txt").exists(), "{out}");
    // Control: on the host the same write lands.
    let (ok, _) = run(&h.host(), &format!("echo x > {}", outside.display())).await;
    assert!(ok && outside.exists());
}

#[tokio::test]
async fn cannot_read_the_state_dir_or_credentials_even_inside_the_workspace() {
    let Some(program) = engine() else { return };
    let h = Home::new(program, "read");
    std::fs::create_dir_all(h.root.join(".ssh")).unwrap();
    std::fs::write(h.root.join(".ssh/id_ed25519"), "PRIVATE-KEY").unwrap();
    std::fs::write(h.root.join(".netrc"), "NETRC-PASSWORD").unwrap();
    // The workspace is the home itself: the state dir and credentials are inside it.
    let s = h.settings(WorkspaceAccess::Rw);
    let cmd = format!(
        "cat {s}/openclaw.json; cat .openclaw/openclaw.json .ssh/id_ed25519 .netrc; ls -a .openclaw; echo kept > kept.txt; echo x > .openclaw/planted",
        s = h.state.display()
    );
    let (_, out) = run(&h.env(&s, &h.root), &cmd).await;
    assert!(
        !out.contains("SECRET-TOKEN") && !out.contains("PRIVATE-KEY"),
        "{out}"
    );
    assert!(
        !out.contains("NETRC-PASSWORD") && !out.contains("openclaw.json\\n"),
        "{out}"
    );
    assert!(h.root.join("kept.txt").is_file(), "{out}");
    assert!(!h.state.join("planted").exists(), "{out}");
    // Control: on the host the same command reads them.
    let (_, out) = run(&Arc::new(ToolEnv::new(&h.root)), &cmd).await;
    assert!(
        out.contains("SECRET-TOKEN") && out.contains("PRIVATE-KEY"),
        "control: {out}"
    );
    let _ = std::fs::remove_file(h.state.join("planted"));
}

/// Accepts connections on `l` until `within` has passed, keeping the first 5 bytes each sent
/// (then closing it, so the client ends).
fn accept_for(l: TcpListener, within: Duration) -> std::thread::JoinHandle<Vec<String>> {
    l.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let deadline = Instant::now() + within;
        let mut got = Vec::new();
        while Instant::now() < deadline {
            if let Ok((mut s, _)) = l.accept() {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut buf = [0u8; 5];
                let n = std::io::Read::read(&mut s, &mut buf).unwrap_or(0);
                got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        got
    })
}

#[tokio::test]
async fn cannot_reach_a_host_port_unless_network_is_on() {
    let Some(program) = engine() else { return };
    let h = Home::new(program, "net");
    let listener = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = accept_for(listener.try_clone().unwrap(), Duration::from_secs(20));
    // Control: with the network on, the host is reachable at the container's gateway.
    let mut on = h.settings(WorkspaceAccess::Rw);
    on.network = true;
    let find_gw = "gw=$(ip route | awk '/^default/ {print $3}'); echo gw=$gw";
    let (_, out) = run(
        &h.env(&on, &h.workspace),
        &format!("{find_gw}; echo ping | nc -w 3 $gw {port} && echo CONNECTED"),
    )
    .await;
    assert!(out.contains("CONNECTED"), "control (network on): {out}");
    let gw = out
        .split("gw=")
        .nth(1)
        .and_then(|t| t.split("\\n").next())
        .unwrap()
        .to_owned();
    // Off (the default): neither the host's loopback nor its address on the bridge.
    h.remove();
    let off = h.settings(WorkspaceAccess::Rw);
    let cmd = format!(
        "for a in 127.0.0.1 {gw}; do echo ping | nc -w 2 $a {port} && echo CONNECTED; done; true"
    );
    let (_, out) = run(&h.env(&off, &h.workspace), &cmd).await;
    assert!(!out.contains("CONNECTED"), "{out}");
    let got = tokio::task::spawn_blocking(move || accepted.join().unwrap())
        .await
        .unwrap();
    assert_eq!(
        got,
        vec!["ping\n".to_string()],
        "only the control connected: {out}"
    );
}

#[tokio::test]
async fn forking_without_bound_is_bounded() {
    let Some(program) = engine() else { return };
    let h = Home::new(program, "fork");
    let mut s = h.settings(WorkspaceAccess::Rw);
    s.limits.max_processes = Some(64);
    // Counted with builtins only: at the limit nothing can fork, not even `wc`.
    let cmd = "(n=0; while [ $n -lt 400 ]; do sleep 60 & echo $! >> /tmp/forked; n=$((n+1)); done) 2>/dev/null; n=0; while read -r l; do n=$((n+1)); done < /tmp/forked; echo running $n";
    let started = Instant::now();
    let (_, out) = run(&h.env(&s, &h.workspace), cmd).await;
    let n: usize = out
        .split("running ")
        .nth(1)
        .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(n > 0 && n < 64, "{n} processes under a limit of 64: {out}");
    assert!(started.elapsed() < Duration::from_secs(60));
}

/// Host processes whose command line is `needle` (the container's processes are the host's).
fn host_procs_with(needle: &str) -> Vec<i32> {
    support::host_procs(|c| c.trim() == needle)
}

fn wait_until_gone(needle: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let alive = host_procs_with(needle);
        if alive.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "`{needle}` survived: {alive:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test]
async fn setsid_children_do_not_survive_abort_or_timeout_and_other_commands_do() {
    let Some(program) = engine() else { return };
    let h = Home::new(program, "abort");
    let env = h.env(&h.settings(WorkspaceAccess::Rw), &h.workspace);
    let needle = format!("sleep {}.{}", 3000 + std::process::id() % 1000, 3);
    let main = format!("sleep {}.{}", 3000 + std::process::id() % 1000, 5);
    let bystander = run(&env, "sleep 4; echo BYSTANDER-DONE");
    let cmd = format!(
        "setsid {needle} & (setsid {needle} &); env -i setsid sh -c '{needle} & exit'; echo started; {main}"
    );
    let cancel = CancellationToken::new();
    let mut ctx = ToolCallContext::detached("c");
    ctx.cancel = cancel.clone();
    let aborter = {
        let needle = needle.clone();
        tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(30);
            while host_procs_with(&needle).len() < 3 && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            cancel.cancel();
            host_procs_with(&needle).len()
        })
    };
    let aborted = run_with(&env, json!({"command": cmd, "timeout": 120}), ctx);
    let ((ok, out), (b_ok, b_out)) = tokio::join!(aborted, bystander);
    let started = aborter.await.unwrap();
    assert_eq!(started, 3, "the setsid children did not all start: {out}");
    assert!(!ok && out.contains("Command aborted"), "{out}");
    wait_until_gone(&needle, Duration::from_secs(20));
    wait_until_gone(&main, Duration::from_secs(20));
    assert!(
        b_ok && b_out.contains("BYSTANDER-DONE"),
        "a concurrent command was killed: {b_out}"
    );
    // A timeout kills the same way, and the container lives on for the next command.
    let needle2 = format!("sleep {}.{}", 3000 + std::process::id() % 1000, 4);
    let args = json!({"command": format!("(setsid {needle2} &); sleep 300"), "timeout": 3});
    let (ok, out) = run_with(&env, args, ToolCallContext::detached("c")).await;
    assert!(!ok && out.contains("timed out"), "{out}");
    wait_until_gone(&needle2, Duration::from_secs(20));
    let (ok, out) = run(&env, "echo still-here").await;
    assert!(ok && out.contains("still-here"), "{out}");
}

#[tokio::test]
async fn setup_command_user_env_and_binds_apply_and_a_changed_config_recreates() {
    let Some(program) = engine() else { return };
    let h = Home::new(program, "setup");
    let src = h.root.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("lib.txt"), "bound source\n").unwrap();
    let mut s = h.settings(WorkspaceAccess::None);
    s.docker = serde_json::from_value(json!({
        "user": "1000:1000",
        "env": {"GREETING": "hello sandbox"},
        "binds": [format!("{}:/source:ro", src.display())],
        "setupCommand": "id -u >> /tmp/setup-ran"
    }))
    .unwrap();
    let cmd = "id -u; echo \"$GREETING\"; cat /source/lib.txt; echo x > /source/new || echo BIND-RO; echo mine > mine.txt && echo WROTE; wc -l < /tmp/setup-ran; cat /tmp/setup-ran";
    let (ok, out) = run(&h.env(&s, &h.workspace), cmd).await;
    assert!(ok, "{out}");
    for part in [
        "1000\\n",
        "hello sandbox",
        "bound source",
        "BIND-RO",
        "WROTE",
    ] {
        assert!(out.contains(part), "missing {part}: {out}");
    }
    assert!(!src.join("new").exists());
    let (_, again) = run(&h.env(&s, &h.workspace), "wc -l < /tmp/setup-ran").await;
    assert!(again.contains("1\\n"), "setupCommand ran again: {again}");
    let created = |s: &SandboxSettings| {
        let name = h.container(s);
        let rows = docker::list_containers(program).unwrap();
        rows.into_iter()
            .find(|r| r.name == name)
            .map(|r| r.labels)
            .unwrap()
    };
    let before = created(&s);
    // A changed setting: the container is recreated (and set up again) on the next command.
    s.docker.env = Some([("GREETING".to_string(), "changed".to_string())].into());
    let (ok, out) = run(
        &h.env(&s, &h.workspace),
        "echo \"$GREETING\"; wc -l < /tmp/setup-ran; cat mine.txt",
    )
    .await;
    assert!(
        ok && out.contains("changed") && out.contains("1\\n"),
        "{out}"
    );
    assert!(
        out.contains("mine"),
        "the private workspace survives a recreate: {out}"
    );
    assert_ne!(before, created(&s));
    // A failing setupCommand refuses the command and leaves no half-made container.
    s.docker.setup_command = Some("exit 3".into());
    let (ok, out) = run(&h.env(&s, &h.workspace), "echo RAN").await;
    assert!(
        !ok && out.contains("setupCommand failed") && !out.contains("RAN"),
        "{out}"
    );
    let name = h.container(&s);
    assert!(
        !docker::list_containers(program)
            .unwrap()
            .iter()
            .any(|r| r.name == name)
    );
}

#[tokio::test]
async fn a_missing_image_is_refused_when_the_config_loads() {
    let Some(program) = engine() else { return };
    let h = Home::new(program, "noimage");
    let mut s = h.settings(WorkspaceAccess::Rw);
    s.image = "localhost/openclaw-no-such-image:1".into();
    let target = openclaw_sandbox::exec_target(&s, "x", None, &h.workspace);
    let why = target.describe();
    assert!(
        why.starts_with("refused:") && why.contains("is not present locally"),
        "{why}"
    );
}
