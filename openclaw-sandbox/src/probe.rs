//! What the native backend needs and whether this machine has it, checked once per process
//! when a configuration with sandboxing is loaded (never mid-turn): bubblewrap able to create
//! its namespaces, a Landlock ABI, seccomp, the helper binary, and a process bound that holds
//! (a pids cgroup, or `RLIMIT_NPROC` for a non-root user).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use openclaw_core::sandbox::{Availability, Layer, SandboxSettings};

static HELPER: OnceLock<PathBuf> = OnceLock::new();

/// Names the binary that runs the in-sandbox helper (the `openclaw` binary passes itself).
/// The first call wins.
pub fn set_helper_path(path: PathBuf) {
    let _ = HELPER.set(path);
}

/// The helper: `OPENCLAW_SANDBOX_HELPER`, else the registered one, else an
/// `openclaw-sandbox-exec` beside this executable.
pub fn helper_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("OPENCLAW_SANDBOX_HELPER").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = HELPER.get() {
        return Some(p.clone());
    }
    let beside = std::env::current_exe()
        .ok()?
        .parent()?
        .join("openclaw-sandbox-exec");
    beside.is_file().then_some(beside)
}

/// `bwrap` on PATH (or `/usr/bin/bwrap`).
pub fn bwrap_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join("bwrap"))
        .find(|p| p.is_file())
}

fn layer(name: &str, r: Result<String, String>) -> Layer {
    let (ok, detail) = match r {
        Ok(d) => (true, d),
        Err(d) => (false, d),
    };
    Layer {
        name: name.into(),
        ok,
        detail,
    }
}

/// bubblewrap runs `true` in fresh namespaces (the result is kept for the process's life).
fn bwrap_works() -> Result<String, String> {
    static R: OnceLock<Result<String, String>> = OnceLock::new();
    R.get_or_init(|| {
        let bwrap = bwrap_path().ok_or(
            "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)".to_string(),
        )?;
        let out = Command::new(&bwrap)
            .args(["--die-with-parent", "--unshare-all", "--cap-drop", "ALL"])
            .args(["--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev"])
            .args(["--", "true"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", bwrap.display()))?;
        if out.status.success() {
            Ok(format!("{} creates namespaces", bwrap.display()))
        } else {
            Err(format!(
                "{} cannot create namespaces here: {}",
                bwrap.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    })
    .clone()
}

fn landlock() -> Result<String, String> {
    static R: OnceLock<Result<u8, String>> = OnceLock::new();
    R.get_or_init(crate::landlock_rules::probe)
        .clone()
        .map(|abi| format!("ABI {abi}"))
}

fn seccomp() -> Result<String, String> {
    crate::seccomp::probe().map(|()| "deny-list filter".into())
}

fn helper() -> Result<String, String> {
    match helper_path() {
        Some(p) if p.is_file() => Ok(p.display().to_string()),
        Some(p) => Err(format!("the helper {} is missing", p.display())),
        None => Err("no helper binary (set OPENCLAW_SANDBOX_HELPER)".into()),
    }
}

fn process_bound(settings: &SandboxSettings) -> Result<String, String> {
    let Some(n) = settings.limits.max_processes else {
        return Ok("no process limit configured".into());
    };
    if let Some(base) = crate::cgroup::base() {
        return Ok(format!("pids cgroup under {} (max {n})", base.display()));
    }
    // SAFETY: geteuid never fails and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(format!("RLIMIT_NPROC (+{n})"));
    }
    Err(
        "running as root without a writable pids cgroup: RLIMIT_NPROC does not bind root \
         (delegate a pids cgroup, run as another user, or set sandbox.limits.maxProcesses: 0)"
            .into(),
    )
}

/// The native backend's layers for `settings`.
pub fn native(settings: &SandboxSettings) -> Availability {
    Availability {
        backend: "native".into(),
        layers: vec![
            layer("bubblewrap", bwrap_works()),
            layer("landlock", landlock()),
            layer("seccomp", seccomp()),
            layer("helper", helper()),
            layer("process limit", process_bound(settings)),
        ],
    }
}
