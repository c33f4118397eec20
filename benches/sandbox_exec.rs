//! Added latency of a sandboxed `bash` call: the real `bash` tool running `echo hi` on the host
//! and through the native sandbox (bubblewrap + Landlock + seccomp + rlimits + a pids cgroup
//! per command): `sandboxed` is the default path, a warm sandbox per scope (the command forked
//! inside it), `sandboxed_one_shot` a bubblewrap of the command's own. This bench binary is its
//! own in-sandbox helper, as the `openclaw` binary is. Target: the sandboxed call at most
//! 15 ms above the host call on the project machine. Run: `cargo bench --bench sandbox_exec`.

use std::path::PathBuf;
use std::sync::Arc;

use criterion::Criterion;
use openclaw_core::sandbox::{ExecTarget, SandboxMode, SandboxSettings, WorkspaceAccess};
use openclaw_core::tool::{BashTool, Tool, ToolCallContext, ToolEnv};
use serde_json::json;

fn bash(env: &Arc<ToolEnv>) -> BashTool {
    BashTool::new(env.clone())
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let ws: PathBuf = dir.path().join("workspace");
    std::fs::create_dir_all(&ws).expect("workspace");
    let host = Arc::new(ToolEnv::new(&ws));
    let mut s = SandboxSettings::off(&dir.path().join("state"));
    s.mode = SandboxMode::All;
    s.workspace_access = WorkspaceAccess::Rw;
    let target = openclaw_sandbox::exec_target(&s, "main", None, &ws);
    if let ExecTarget::Refuse(why) = &target {
        eprintln!("SKIP sandbox_exec: {why}");
        return;
    }
    let mut sandboxed = ToolEnv::new(&ws);
    sandboxed.exec_target = target;
    let sandboxed = Arc::new(sandboxed);
    let one_shot_backend = openclaw_sandbox::native::NativeBackend::new(
        s.clone(),
        ws.clone(),
        &s.scope_key("main", None),
        openclaw_sandbox::availability(&s),
    )
    .one_shot();
    let mut one_shot = ToolEnv::new(&ws);
    one_shot.exec_target =
        ExecTarget::resolve(s.exec_host, true, || Ok(Arc::new(one_shot_backend)));
    let one_shot = Arc::new(one_shot);
    let mut g = c.benchmark_group("bash_echo_hi");
    g.sample_size(50);
    for (name, env) in [
        ("host", &host),
        ("sandboxed", &sandboxed),
        ("sandboxed_one_shot", &one_shot),
    ] {
        let tool = bash(env);
        g.bench_function(name, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let out = tool
                        .execute(
                            json!({"command": "echo hi"}),
                            ToolCallContext::detached("b"),
                        )
                        .await
                        .expect("echo hi runs");
                    assert_eq!(out.content.len(), 1);
                })
            })
        });
    }
    g.finish();
}

fn main() {
    openclaw_sandbox::run_if_requested();
    if let Ok(exe) = std::env::current_exe() {
        openclaw_sandbox::set_helper_path(exe);
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
