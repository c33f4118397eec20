//! The sandbox seam: its configuration (`config`: `agents.defaults.sandbox`, per-agent
//! `sandbox`, `tools.exec.host`), the [`SandboxBackend`] trait that turns a command into the
//! process to spawn, and [`ExecTarget`], where one session's `bash` runs. The backends
//! themselves (bubblewrap + Landlock + seccomp, docker/podman) live in the `openclaw-sandbox`
//! crate, so their system dependencies stay out of this embeddable crate.

pub mod config;

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

pub use config::{
    BackendKind, ByteSize, DockerConfig, ExecHost, SandboxConfig, SandboxLimits, SandboxMode,
    SandboxScope, SandboxSettings, Ulimit, WorkspaceAccess,
};

/// One command to run inside a sandbox.
#[derive(Debug, Clone)]
pub struct ExecRequest {
    /// The shell (run with `-c <script>`).
    pub shell: PathBuf,
    pub script: String,
    /// The working directory as the host sees it.
    pub cwd: PathBuf,
    /// Environment the command gets (the backend starts from an empty environment).
    pub env: Vec<(String, String)>,
}

/// Runs when the command is over (`killed`: it was aborted or timed out).
pub type Cleanup = Box<dyn FnOnce(bool) + Send>;

/// The process to spawn for an [`ExecRequest`].
pub struct SandboxedCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// The host directory to start the program in.
    pub cwd: PathBuf,
    /// Variables to set on the spawned program (on top of the caller's marker).
    pub env: Vec<(String, String)>,
    /// Whether the spawned program must not inherit the caller's environment.
    pub clear_env: bool,
    /// Before `exec`, the child writes `0` to this file (a pids cgroup's `cgroup.procs`).
    pub join_cgroup: Option<PathBuf>,
    /// The resource limits (`setrlimit` before `exec`) instead of the host's `tools.exec`.
    pub limits: Option<SandboxLimits>,
    pub cleanup: Option<Cleanup>,
}

impl fmt::Debug for SandboxedCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxedCommand")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("cwd", &self.cwd)
            .finish_non_exhaustive()
    }
}

/// One layer of a backend and whether it works on this machine.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Layer {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

/// What a backend found when it was checked (at config load).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Availability {
    pub backend: String,
    pub layers: Vec<Layer>,
}

impl Availability {
    /// `None` when every required layer works, else why a sandboxed run is refused.
    pub fn refusal(&self) -> Option<String> {
        let missing: Vec<String> = self
            .layers
            .iter()
            .filter(|l| !l.ok)
            .map(|l| format!("{}: {}", l.name, l.detail))
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "sandbox backend {} is unavailable ({}); the command was not run",
                self.backend,
                missing.join("; ")
            )
        })
    }

    /// One line for `openclaw health`.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = self
            .layers
            .iter()
            .map(|l| format!("{} {}", l.name, if l.ok { "ok" } else { "unavailable" }))
            .collect();
        format!("{}: {}", self.backend, parts.join(", "))
    }
}

/// A way to contain a command.
pub trait SandboxBackend: Send + Sync {
    /// `native`, `docker` or `podman`.
    fn name(&self) -> &str;
    /// What was found when the backend was made (never probed again mid-turn).
    fn availability(&self) -> &Availability;
    /// The process to spawn for `req`; an error refuses the command. May block briefly
    /// (creating a private workspace, starting a container): call it off the async threads.
    fn command(&self, req: &ExecRequest) -> Result<SandboxedCommand, String>;
}

/// Where one session's `bash` runs.
#[derive(Clone, Default)]
pub enum ExecTarget {
    /// On this host, as the tools always did.
    #[default]
    Host,
    /// Through a sandbox backend.
    Sandbox(Arc<dyn SandboxBackend>),
    /// Refused with this reason (sandboxing required but unavailable, or `host=sandbox` with
    /// sandboxing off): never a silent run on the host.
    Refuse(String),
}

impl ExecTarget {
    /// The target for a session: `sandboxed` says whether its sandbox mode covers it;
    /// `backend` builds the backend (only asked for when needed).
    pub fn resolve(
        host: ExecHost,
        sandboxed: bool,
        backend: impl FnOnce() -> Result<Arc<dyn SandboxBackend>, String>,
    ) -> ExecTarget {
        match (host, sandboxed) {
            (ExecHost::Node, _) => ExecTarget::Refuse(
                "tools.exec.host is \"node\", and openclaw-rs has no node hosts; the command \
                 was not run"
                    .into(),
            ),
            (ExecHost::Gateway, _) | (ExecHost::Auto, false) => ExecTarget::Host,
            (ExecHost::Sandbox, false) => ExecTarget::Refuse(
                "tools.exec.host is \"sandbox\" but sandboxing is off for this session \
                 (agents.defaults.sandbox.mode); the command was not run"
                    .into(),
            ),
            (_, true) => match backend() {
                Ok(b) => match b.availability().refusal() {
                    Some(why) => ExecTarget::Refuse(why),
                    None => ExecTarget::Sandbox(b),
                },
                Err(e) => ExecTarget::Refuse(e),
            },
        }
    }

    /// `host`, `sandbox (<backend>)` or `refused: <why>`.
    pub fn describe(&self) -> String {
        match self {
            ExecTarget::Host => "host".into(),
            ExecTarget::Sandbox(b) => format!("sandbox ({})", b.name()),
            ExecTarget::Refuse(why) => format!("refused: {why}"),
        }
    }
}

impl fmt::Debug for ExecTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl PartialEq for ExecTarget {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (ExecTarget::Host, ExecTarget::Host) => true,
            (ExecTarget::Sandbox(a), ExecTarget::Sandbox(b)) => Arc::ptr_eq(a, b),
            (ExecTarget::Refuse(a), ExecTarget::Refuse(b)) => a == b,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(Availability);
    impl SandboxBackend for Fixed {
        fn name(&self) -> &str {
            "native"
        }
        fn availability(&self) -> &Availability {
            &self.0
        }
        fn command(&self, _: &ExecRequest) -> Result<SandboxedCommand, String> {
            Err("unused".into())
        }
    }

    fn backend(ok: bool) -> Arc<dyn SandboxBackend> {
        Arc::new(Fixed(Availability {
            backend: "native".into(),
            layers: vec![Layer {
                name: "landlock".into(),
                ok,
                detail: "kernel without Landlock".into(),
            }],
        }))
    }

    #[test]
    fn host_setting_and_availability_pick_the_target() {
        let t = ExecTarget::resolve(ExecHost::Auto, false, || Ok(backend(true)));
        assert_eq!(t, ExecTarget::Host);
        let t = ExecTarget::resolve(ExecHost::Auto, true, || Ok(backend(true)));
        assert!(matches!(t, ExecTarget::Sandbox(_)));
        let t = ExecTarget::resolve(ExecHost::Gateway, true, || Ok(backend(true)));
        assert_eq!(t, ExecTarget::Host);
        let t = ExecTarget::resolve(ExecHost::Sandbox, false, || Ok(backend(true)));
        assert!(t.describe().contains("sandboxing is off"), "{t:?}");
        let t = ExecTarget::resolve(ExecHost::Auto, true, || Ok(backend(false)));
        assert!(
            t.describe().contains("landlock: kernel without Landlock"),
            "{t:?}"
        );
    }
}
