//! Escape attempts against the real `bash` tool running through the real native sandbox
//! (bubblewrap + Landlock + seccomp): each must fail inside the sandbox, and each has a control
//! showing the same command does what it tries on the host (so the test can fail).

mod support;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openclaw_core::CancellationToken;
use openclaw_core::sandbox::{
    Availability, ExecTarget, Layer, SandboxMode, SandboxSettings, WorkspaceAccess,
};
use openclaw_core::testing::prereq;
use openclaw_core::tool::{BashTool, Tool, ToolCallContext, ToolEnv};
use serde_json::json;

/// A fake home: `<home>/.openclaw` is the state dir (with a secret in `openclaw.json`) and
/// `<home>/.openclaw/workspace` the agent's workspace, as OpenClaw lays them out.
struct Home {
    _dir: tempfile::TempDir,
    state: PathBuf,
    workspace: PathBuf,
}

fn home() -> Home {
    // Not under /tmp: the sandbox has a /tmp of its own, which would hide it for free.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let state = dir.path().join(".openclaw");
    let workspace = state.join("workspace");
    std::fs::create_dir_all(&workspace).unwrap();
    std::fs::write(
        state.join("openclaw.json"),
        r#"{"token":"SECRET-TOKEN-1234"}"#,
    )
    .unwrap();
    std::fs::write(workspace.join("AGENTS.md"), "agent notes\n").unwrap();
    Home {
        _dir: dir,
        state,
        workspace,
    }
}

/// bwrap is here (else a reported skip, a failure under CI) and the helper is ours.
fn ready() -> bool {
    openclaw_sandbox::set_helper_path(PathBuf::from(env!("CARGO_BIN_EXE_openclaw-sandbox-exec")));
    if openclaw_sandbox::probe::bwrap_path().is_none() {
        prereq::missing(
            "bwrap",
            "apt-get install -y bubblewrap (.ci/run installs it)",
        );
        return false;
    }
    true
}

fn settings(h: &Home, access: WorkspaceAccess) -> SandboxSettings {
    let mut s = SandboxSettings::off(&h.state);
    s.mode = SandboxMode::All;
    s.workspace_access = access;
    s
}

fn env_for(h: &Home, target: ExecTarget) -> Arc<ToolEnv> {
    let mut env = ToolEnv::new(&h.workspace);
    env.exec_target = target;
    Arc::new(env)
}

/// The sandbox of session `agent:main:main` whose workspace is `ws`: a warm one (the default
/// where pids cgroups can be made, as here) or, with `one_shot`, a bubblewrap per command.
fn target(one_shot: bool, s: &SandboxSettings, ws: &Path) -> ExecTarget {
    if !one_shot {
        return openclaw_sandbox::exec_target(s, "main", Some("agent:main:main"), ws);
    }
    let scope = s.scope_key("main", Some("agent:main:main"));
    let backend = openclaw_sandbox::native::NativeBackend::new(
        s.clone(),
        ws.to_path_buf(),
        &scope,
        openclaw_sandbox::availability(s),
    )
    .one_shot();
    ExecTarget::resolve(s.exec_host, true, || Ok(Arc::new(backend)))
}

fn sandboxed(one_shot: bool, h: &Home, s: &SandboxSettings) -> Arc<ToolEnv> {
    let target = target(one_shot, s, &h.workspace);
    assert!(matches!(target, ExecTarget::Sandbox(_)), "{target:?}");
    env_for(h, target)
}

/// Runs `command`; the text of the result or of the error.
async fn run(env: &Arc<ToolEnv>, command: &str) -> (bool, String) {
    run_with(env, command, ToolCallContext::detached("c")).await
}

async fn run_with(env: &Arc<ToolEnv>, command: &str, ctx: ToolCallContext) -> (bool, String) {
    let args = json!({"command": command, "timeout": 60});
    match BashTool::new(env.clone()).execute(args, ctx).await {
        Ok(out) => (true, serde_json::to_string(&out.content).unwrap()),
        Err(e) => (false, e.message),
    }
}

async fn runs_in_the_workspace_with_its_own_proc_seccomp_and_no_new_privileges(one_shot: bool) {
    if !ready() {
        return;
    }
    let h = home();
    let env = sandboxed(one_shot, &h, &settings(&h, WorkspaceAccess::Rw));
    let (ok, out) = run(
        &env,
        "pwd; cat AGENTS.md; ls /proc | grep -c '^[0-9]'; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; echo \"key=${ANTHROPIC_API_KEY:-none}\"",
    )
    .await;
    assert!(ok, "{out}");
    assert!(out.contains(&h.workspace.display().to_string()), "{out}");
    assert!(out.contains("agent notes"), "{out}");
    assert!(
        out.contains("Seccomp:\\t2") && out.contains("NoNewPrivs:\\t1"),
        "{out}"
    );
    assert!(out.contains("key=none"), "{out}");
    let procs: usize = out
        .split("\\n")
        .find_map(|l| l.trim().parse().ok())
        .unwrap();
    assert!(procs < 10, "the sandbox sees {procs} processes: {out}");
    // seccomp: no new namespaces from inside.
    let (ok, out) = run(&env, "unshare --user --map-root-user true && echo UNSHARED").await;
    assert!(!ok && !out.contains("UNSHARED"), "{out}");
}

async fn cannot_write_outside_the_workspace(one_shot: bool) {
    if !ready() {
        return;
    }
    let h = home();
    let outside = h.state.join("escaped.txt");
    let cmd = format!(
        "echo inside > inside.txt; echo x > {o}; echo y > /usr/escaped.txt; echo z > $HOME/../escaped2.txt; true",
        o = outside.display()
    );
    let (ok, out) = run(
        &sandboxed(one_shot, &h, &settings(&h, WorkspaceAccess::Rw)),
        &cmd,
    )
    .await;
    assert!(ok, "{out}");
    assert!(
        h.workspace.join("inside.txt").is_file(),
        "rw workspace not writable: {out}"
    );
    assert!(!outside.exists(), "{out}");
    assert!(!h.state.join("escaped2.txt").exists(), "{out}");
    assert!(!Path::new("/usr/escaped.txt").exists(), "{out}");
    // Read-only access: the workspace is visible but not writable.
    let (_, out) = run(
        &sandboxed(one_shot, &h, &settings(&h, WorkspaceAccess::Ro)),
        "cat AGENTS.md; echo x > ro.txt",
    )
    .await;
    assert!(out.contains("agent notes"), "{out}");
    assert!(!h.workspace.join("ro.txt").exists(), "{out}");
    // Control: on the host the same write to the state dir lands.
    let control = format!("echo x > {}", outside.display());
    let (ok, _) = run(&env_for(&h, ExecTarget::Host), &control).await;
    assert!(ok && outside.exists());
}

async fn cannot_read_the_state_dir(one_shot: bool) {
    if !ready() {
        return;
    }
    let h = home();
    let cmd = format!(
        "cat {s}/openclaw.json; ls -a {s}; cat ~/../openclaw.json",
        s = h.state.display()
    );
    let (_, out) = run(
        &sandboxed(one_shot, &h, &settings(&h, WorkspaceAccess::Rw)),
        &cmd,
    )
    .await;
    assert!(!out.contains("SECRET-TOKEN"), "{out}");
    assert!(
        !out.contains("openclaw.json\\n"),
        "the state dir is listed: {out}"
    );
    // `none`: a private workspace; the agent's files are not there either.
    let (ok, out) = run(
        &sandboxed(one_shot, &h, &settings(&h, WorkspaceAccess::None)),
        &format!("pwd; cat {}/AGENTS.md; {cmd}", h.workspace.display()),
    )
    .await;
    assert!(
        !ok && !out.contains("agent notes") && !out.contains("SECRET-TOKEN"),
        "{out}"
    );
    assert!(out.contains("sandboxes"), "{out}");
    let (_, out) = run(&env_for(&h, ExecTarget::Host), &cmd).await;
    assert!(out.contains("SECRET-TOKEN"), "control: {out}");
}

async fn cannot_reach_a_loopback_port_unless_network_is_on(one_shot: bool) {
    if !ready() {
        return;
    }
    let h = home();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let cmd = format!("echo ping > /dev/tcp/127.0.0.1/{port} && echo CONNECTED");
    let (_, out) = run(
        &sandboxed(one_shot, &h, &settings(&h, WorkspaceAccess::Rw)),
        &cmd,
    )
    .await;
    assert!(!out.contains("CONNECTED"), "{out}");
    assert!(
        listener.accept().is_err(),
        "a connection arrived from the sandbox"
    );
    let mut on = settings(&h, WorkspaceAccess::Rw);
    on.network = true;
    let (_, out) = run(&sandboxed(one_shot, &h, &on), &cmd).await;
    assert!(out.contains("CONNECTED"), "control (network on): {out}");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut got = String::new();
    loop {
        if let Ok((mut s, _)) = listener.accept() {
            s.set_nonblocking(false).unwrap();
            s.read_to_string(&mut got).unwrap();
            break;
        }
        assert!(Instant::now() < deadline, "no connection with network on");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(got, "ping\n");
}

const FORKS: &str = r#"python3 -c '
import os, time
n = 0
while n < 2000:
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    n += 1
print("forked", n)
'"#;

async fn forking_without_bound_is_bounded(one_shot: bool) {
    if !ready() || !prereq::command("python3") {
        return;
    }
    let h = home();
    let mut s = settings(&h, WorkspaceAccess::Rw);
    s.limits.max_processes = Some(64);
    let started = Instant::now();
    let (ok, out) = run(&sandboxed(one_shot, &h, &s), FORKS).await;
    assert!(ok, "{out}");
    let n: usize = out
        .split("forked ")
        .nth(1)
        .and_then(|t| t.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(n < 64, "forked {n} processes under a limit of 64");
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// Host processes whose command line holds `needle`.
fn host_procs_with(needle: &str) -> Vec<i32> {
    support::host_procs(|c| c.contains(needle))
}

async fn a_setsid_child_does_not_survive_abort(one_shot: bool) {
    if !ready() {
        return;
    }
    let h = home();
    let env = sandboxed(one_shot, &h, &settings(&h, WorkspaceAccess::Rw));
    let needle = format!("{}.{}", 3000 + std::process::id() % 1000, 7);
    let cmd = format!("setsid sleep {needle} & setsid -f sleep {needle}; echo started; sleep 300");
    let cancel = CancellationToken::new();
    let mut ctx = ToolCallContext::detached("c");
    ctx.cancel = cancel.clone();
    let aborter = {
        let needle = needle.clone();
        tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            while host_procs_with(&format!("sleep {needle}")).len() < 2 {
                assert!(
                    Instant::now() < deadline,
                    "the setsid children never started"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            cancel.cancel();
        })
    };
    let (ok, out) = run_with(&env, &cmd, ctx).await;
    aborter.await.unwrap();
    assert!(!ok && out.contains("Command aborted"), "{out}");
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let alive = host_procs_with(&format!("sleep {needle}"));
        if alive.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "survived the abort: {alive:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn an_unavailable_layer_refuses_instead_of_running_unsandboxed() {
    if !ready() {
        return;
    }
    let h = home();
    let s = settings(&h, WorkspaceAccess::Rw);
    let broken = Availability {
        backend: "native".into(),
        layers: vec![Layer {
            name: "landlock".into(),
            ok: false,
            detail: "the kernel offers no Landlock ABI".into(),
        }],
    };
    let backend =
        openclaw_sandbox::native::NativeBackend::new(s, h.workspace.clone(), "agent:main", broken);
    let target = ExecTarget::resolve(openclaw_core::sandbox::ExecHost::Auto, true, || {
        Ok(Arc::new(backend))
    });
    let (ok, out) = run(&env_for(&h, target), "touch ran.txt").await;
    assert!(
        !ok && out.contains("landlock: the kernel offers no Landlock ABI"),
        "{out}"
    );
    assert!(!h.workspace.join("ran.txt").exists());
}

async fn a_workspace_that_contains_the_state_dir_still_hides_it(one_shot: bool) {
    if !ready() {
        return;
    }
    let h = home();
    // The working directory is the home itself (as `openclaw -p` run from ~): its state dir
    // and its credentials are inside the bound workspace.
    let root = h.state.parent().unwrap().to_path_buf();
    std::fs::create_dir_all(root.join(".ssh")).unwrap();
    std::fs::write(root.join(".ssh/id_ed25519"), "PRIVATE-KEY").unwrap();
    let mut s = settings(&h, WorkspaceAccess::Rw);
    s.state_dir = h.state.clone();
    let mut env = ToolEnv::new(&root);
    env.exec_target = target(one_shot, &s, &root);
    let env = Arc::new(env);
    // (The write lands in a throwaway tmpfs over the state dir, never in the real one.)
    let (_, out) = run(
        &env,
        "echo kept > kept.txt; cat .openclaw/openclaw.json .openclaw/workspace/AGENTS.md .ssh/id_ed25519; echo x > .openclaw/planted",
    )
    .await;
    assert!(
        !out.contains("SECRET-TOKEN") && !out.contains("PRIVATE-KEY"),
        "{out}"
    );
    assert!(root.join("kept.txt").is_file(), "{out}");
    assert!(!h.state.join("planted").exists(), "{out}");
}

/// Each escape attempt against both ways of running a sandboxed command.
macro_rules! on_both_paths {
    ($($name:ident),* $(,)?) => {
        mod warm {
            $(#[tokio::test]
            async fn $name() {
                super::$name(false).await
            })*
        }
        mod one_shot {
            $(#[tokio::test]
            async fn $name() {
                super::$name(true).await
            })*
        }
    };
}

on_both_paths!(
    runs_in_the_workspace_with_its_own_proc_seccomp_and_no_new_privileges,
    cannot_write_outside_the_workspace,
    cannot_read_the_state_dir,
    cannot_reach_a_loopback_port_unless_network_is_on,
    forking_without_bound_is_bounded,
    a_setsid_child_does_not_survive_abort,
    a_workspace_that_contains_the_state_dir_still_hides_it,
);
