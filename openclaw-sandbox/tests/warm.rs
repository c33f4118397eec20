//! The warm sandbox (one bubblewrap per scope, commands forked inside it) through the real
//! `bash` tool: what persists between a scope's commands and what must not — leftovers of a
//! command, another scope's files, a credential directory that appeared after it started.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openclaw_core::sandbox::{
    ExecTarget, SandboxMode, SandboxScope, SandboxSettings, WorkspaceAccess,
};
use openclaw_core::testing::prereq;
use openclaw_core::tool::{BashTool, Tool, ToolCallContext, ToolEnv};
use serde_json::json;

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

struct Home {
    dir: tempfile::TempDir,
    state: PathBuf,
    workspace: PathBuf,
}

fn home() -> Home {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let state = dir.path().join(".openclaw");
    let workspace = state.join("workspace");
    std::fs::create_dir_all(&workspace).unwrap();
    Home {
        dir,
        state,
        workspace,
    }
}

/// Scope `session`, so each test's sessions (named after the test) have sandboxes of their
/// own: tests run at once, and a scope whose shape changes gets a new sandbox.
fn settings(h: &Home) -> SandboxSettings {
    let mut s = SandboxSettings::off(&h.state);
    s.mode = SandboxMode::All;
    s.workspace_access = WorkspaceAccess::Rw;
    s.scope = SandboxScope::Session;
    s
}

fn env(s: &SandboxSettings, session: &str, ws: &Path) -> Arc<ToolEnv> {
    let mut env = ToolEnv::new(ws);
    env.exec_target = openclaw_sandbox::exec_target(s, "main", Some(session), ws);
    assert!(matches!(env.exec_target, ExecTarget::Sandbox(_)));
    Arc::new(env)
}

async fn run(env: &Arc<ToolEnv>, command: &str) -> (bool, String) {
    let args = json!({"command": command, "timeout": 60});
    match BashTool::new(env.clone())
        .execute(args, ToolCallContext::detached("c"))
        .await
    {
        Ok(out) => (true, serde_json::to_string(&out.content).unwrap()),
        Err(e) => (false, e.message),
    }
}

/// Host processes whose command line holds `needle`.
fn host_procs_with(needle: &str) -> Vec<i32> {
    support::host_procs(|c| c.contains(needle))
}

fn wait_gone(needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let alive = host_procs_with(needle);
        if alive.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{needle} still running: {alive:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn a_scope_keeps_its_tmp_but_not_a_command_s_leftovers() {
    if !ready() {
        return;
    }
    let h = home();
    let env = env(&settings(&h), "agent:main:keeps-tmp", &h.workspace);
    let needle = format!("{}.{}", 5000 + std::process::id() % 1000, 3);
    let (ok, out) = run(
        &env,
        &format!("echo kept > /tmp/w; (setsid sleep {needle} &); echo started"),
    )
    .await;
    assert!(ok && out.contains("started"), "{out}");
    // Everything the command started is killed once it is over (its cgroup is emptied).
    wait_gone(&format!("sleep {needle}"));
    let (ok, out) = run(&env, "cat /tmp/w").await;
    assert!(
        ok && out.contains("kept"),
        "the scope's /tmp did not persist: {out}"
    );
    assert!(openclaw_sandbox::warm::running() >= 1);
    // The one-shot path has a /tmp of each command's own.
    let s = settings(&h);
    let scope = s.scope_key("main", Some("agent:main:keeps-tmp"));
    let backend = openclaw_sandbox::native::NativeBackend::new(
        s.clone(),
        h.workspace.clone(),
        &scope,
        openclaw_sandbox::availability(&s),
    )
    .one_shot();
    let mut one_shot = ToolEnv::new(&h.workspace);
    one_shot.exec_target = ExecTarget::resolve(s.exec_host, true, || Ok(Arc::new(backend)));
    let (_, out) = run(&Arc::new(one_shot), "cat /tmp/w 2>&1").await;
    assert!(!out.contains("kept"), "{out}");
}

#[tokio::test]
async fn sessions_of_scope_session_do_not_share_a_sandbox() {
    if !ready() {
        return;
    }
    let h = home();
    let s = settings(&h);
    let a = env(&s, "agent:main:a", &h.workspace);
    let b = env(&s, "agent:main:b", &h.workspace);
    let (ok, _) = run(&a, "echo secret-of-a > /tmp/mine").await;
    assert!(ok);
    let (_, out) = run(&b, "cat /tmp/mine 2>&1; ls /tmp").await;
    assert!(!out.contains("secret-of-a"), "{out}");
    let (_, out) = run(&a, "cat /tmp/mine").await;
    assert!(out.contains("secret-of-a"), "{out}");
}

/// A credential directory that appears after the scope's sandbox started is hidden from the
/// next command as it would be from a fresh sandbox: the sandbox's shape includes every
/// hidden path, so a new one replaces it.
#[tokio::test]
async fn a_credential_dir_that_appears_later_is_hidden_too() {
    if !ready() {
        return;
    }
    let h = home();
    let root = h.dir.path().to_path_buf();
    let s = settings(&h);
    let env = env(&s, "agent:main:credentials", &root);
    let (ok, out) = run(&env, "ls -a").await;
    assert!(ok, "{out}");
    std::fs::create_dir_all(root.join(".ssh")).unwrap();
    std::fs::write(root.join(".ssh/id_ed25519"), "PRIVATE-KEY").unwrap();
    let (_, out) = run(&env, "cat .ssh/id_ed25519 2>&1").await;
    assert!(!out.contains("PRIVATE-KEY"), "{out}");
}

/// A warm sandbox whose server died is replaced; the commands after it run.
#[tokio::test]
async fn a_dead_warm_sandbox_is_replaced() {
    if !ready() {
        return;
    }
    let h = home();
    let s = settings(&h);
    let env = env(&s, "agent:main:dead-server", &h.workspace);
    let (ok, out) = run(&env, "echo one").await;
    assert!(ok, "{out}");
    // This test's server: the one whose spec names this workspace.
    let ws = h.workspace.display().to_string();
    let servers: Vec<i32> = host_procs_with("__openclaw-sandbox-serve")
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(&ws))
        })
        .collect();
    assert!(!servers.is_empty(), "no warm server for {ws}");
    for pid in &servers {
        // SAFETY: kill(2) with integers.
        unsafe {
            libc::kill(*pid, libc::SIGKILL);
        }
    }
    // bubblewrap follows its program out.
    let deadline = Instant::now() + Duration::from_secs(5);
    while servers
        .iter()
        .any(|p| Path::new(&format!("/proc/{p}")).exists())
    {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let (ok, out) = run(&env, "echo two").await;
    assert!(ok && out.contains("two"), "{out}");
}
