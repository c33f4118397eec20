//! Sandbox backends behind `openclaw_core::sandbox::SandboxBackend`: the native Linux backend
//! (`native`: bubblewrap + Landlock + seccomp + rlimits and a pids cgroup, no daemon; the
//! default) and the docker/podman backend (`docker`, command-compatible with OpenClaw's). Kept
//! out of `openclaw-core` so the embeddable core carries no Landlock/seccomp dependencies.
//! [`exec_target`] is the one place a session's `bash` target is decided; `probe` checks
//! availability once, when the configuration is loaded; `helper` is the in-sandbox helper mode.

use std::path::Path;
use std::sync::Arc;

use openclaw_core::sandbox::{
    Availability, BackendKind, ExecTarget, SandboxBackend, SandboxSettings,
};
use sha2::Digest;

mod cgroup;
pub mod docker;
pub mod helper;
#[cfg(target_os = "linux")]
mod landlock_rules;
#[cfg(target_os = "linux")]
pub mod native;
pub mod probe;
#[cfg(target_os = "linux")]
mod seccomp;
#[cfg(target_os = "linux")]
pub mod warm;

pub use helper::{HELPER_ARG, run_if_requested};
pub use probe::set_helper_path;

/// Credentials under a home directory, hidden when a mounted workspace contains them.
pub(crate) const HOME_SECRETS: [&str; 10] = [
    ".ssh",
    ".aws",
    ".gnupg",
    ".config/gcloud",
    ".azure",
    ".docker",
    ".kube",
    ".netrc",
    ".git-credentials",
    ".pi",
];

/// The first 8 hex digits of the SHA-256 of `text`.
pub(crate) fn short_hash(text: &str) -> String {
    let digest = sha2::Sha256::digest(text.as_bytes());
    hex::encode(&digest[..4])
}

/// A scope key as a file and container name: `agent:main` → `agent-main-<8 hex>`.
pub fn slug(scope_key: &str) -> String {
    let mut s: String = scope_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.truncate(48);
    format!("{}-{}", s.trim_matches('-'), short_hash(scope_key))
}

/// The availability of `settings`' backend on this machine.
pub fn availability(settings: &SandboxSettings) -> Availability {
    match settings.backend {
        #[cfg(target_os = "linux")]
        BackendKind::Native => probe::native(settings),
        #[cfg(not(target_os = "linux"))]
        BackendKind::Native => Availability {
            backend: "native".into(),
            layers: vec![openclaw_core::sandbox::Layer {
                name: "platform".into(),
                ok: false,
                detail: "the native sandbox needs Linux".into(),
            }],
        },
        BackendKind::Docker => docker::availability("docker", settings),
        BackendKind::Podman => docker::availability("podman", settings),
    }
}

/// The backend for agent `agent_id`'s scope (`session_key` for `scope: session`), with the
/// agent's workspace on the host.
pub fn backend(
    settings: &SandboxSettings,
    agent_id: &str,
    session_key: Option<&str>,
    workspace: &Path,
) -> Arc<dyn SandboxBackend> {
    let scope_key = settings.scope_key(agent_id, session_key);
    let avail = availability(settings);
    let ws = workspace.to_path_buf();
    match settings.backend {
        #[cfg(target_os = "linux")]
        BackendKind::Native => Arc::new(native::NativeBackend::new(
            settings.clone(),
            ws,
            &scope_key,
            avail,
        )),
        #[cfg(not(target_os = "linux"))]
        BackendKind::Native => Arc::new(docker::ContainerBackend::new(
            "native",
            settings.clone(),
            ws,
            &scope_key,
            avail,
        )),
        BackendKind::Docker => Arc::new(docker::ContainerBackend::new(
            "docker",
            settings.clone(),
            ws,
            &scope_key,
            avail,
        )),
        BackendKind::Podman => Arc::new(docker::ContainerBackend::new(
            "podman",
            settings.clone(),
            ws,
            &scope_key,
            avail,
        )),
    }
}

/// Where `bash` of session `session_key` (of agent `agent_id`, workspace `workspace`) runs:
/// the host, a sandbox, or a refusal saying why.
pub fn exec_target(
    settings: &SandboxSettings,
    agent_id: &str,
    session_key: Option<&str>,
    workspace: &Path,
) -> ExecTarget {
    let sandboxed = settings.applies_to(agent_id, session_key);
    ExecTarget::resolve(settings.exec_host, sandboxed, || {
        Ok(backend(settings, agent_id, session_key, workspace))
    })
}
