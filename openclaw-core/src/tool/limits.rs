//! What bounds a shell command the tools run: the default timeout, the cap on the output
//! spill file, and the per-command resource limits (`setrlimit` in the child before `exec`).
//! [`ExecConfig`] is the typed `tools.exec` section of `openclaw.json` (also per agent);
//! [`ExecSettings`] is what is left after layering it over the defaults.

use std::time::Duration;

use serde::Deserialize;

/// OpenClaw's default exec timeout (`tools.exec.timeoutSeconds`).
pub const DEFAULT_EXEC_TIMEOUT_SECS: u64 = 1800;
/// The default cap on a command's output spill file.
pub const DEFAULT_OUTPUT_FILE_MAX_MB: u64 = 64;
/// Default `RLIMIT_NPROC` headroom: processes the command may add to its user's count.
pub const DEFAULT_MAX_PROCESSES: u64 = 1024;
/// Default `RLIMIT_FSIZE`: the largest file a command may write.
pub const DEFAULT_MAX_FILE_SIZE_MB: u64 = 4096;
/// Default `RLIMIT_DATA`: a process's data segment (heap and private mappings).
pub const DEFAULT_MAX_MEMORY_MB: u64 = 8192;
/// Default `RLIMIT_CPU`: CPU seconds per process.
pub const DEFAULT_MAX_CPU_SECONDS: u64 = 3600;

const MIB: u64 = 1024 * 1024;

/// `setrlimit`'s resource type (glibc's enum, an int elsewhere).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub type Resource = libc::__rlimit_resource_t;
#[cfg(all(target_os = "linux", not(target_env = "gnu")))]
pub type Resource = libc::c_int;

/// `tools.exec.limits` as written (0 means unlimited).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecLimitsConfig {
    pub max_processes: Option<u64>,
    pub max_file_size_mb: Option<u64>,
    pub max_memory_mb: Option<u64>,
    pub max_cpu_seconds: Option<u64>,
}

/// The `tools.exec` keys the shell honours, as written (unknown keys are OpenClaw's others).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecConfig {
    /// The default timeout of a command that names none (0: none).
    pub timeout_seconds: Option<u64>,
    /// The cap on a command's output spill file (0: no spill file at all).
    pub output_file_max_mb: Option<u64>,
    #[serde(default)]
    pub limits: ExecLimitsConfig,
}

/// Per-command resource limits (`None`: inherited from the host unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShellLimits {
    /// Processes the command may add to its user's current count (`RLIMIT_NPROC` is per user,
    /// so the limit is set to the user's count at spawn plus this).
    pub max_processes: Option<u64>,
    pub max_file_size: Option<u64>,
    pub max_memory: Option<u64>,
    pub max_cpu_seconds: Option<u64>,
}

impl Default for ShellLimits {
    fn default() -> Self {
        ShellLimits {
            max_processes: Some(DEFAULT_MAX_PROCESSES),
            max_file_size: Some(DEFAULT_MAX_FILE_SIZE_MB * MIB),
            max_memory: Some(DEFAULT_MAX_MEMORY_MB * MIB),
            max_cpu_seconds: Some(DEFAULT_MAX_CPU_SECONDS),
        }
    }
}

impl ShellLimits {
    /// No limits at all.
    pub fn none() -> Self {
        ShellLimits {
            max_processes: None,
            max_file_size: None,
            max_memory: None,
            max_cpu_seconds: None,
        }
    }
}

impl From<&crate::sandbox::SandboxLimits> for ShellLimits {
    /// A sandbox's limits (`maxProcesses` is headroom over the user's count, as here).
    fn from(l: &crate::sandbox::SandboxLimits) -> Self {
        ShellLimits {
            max_processes: l.max_processes,
            max_file_size: l.max_file_size_mb.map(|m| m.saturating_mul(MIB)),
            max_memory: l.max_memory_mb.map(|m| m.saturating_mul(MIB)),
            max_cpu_seconds: l.max_cpu_seconds,
        }
    }
}

/// What the shell tools run with once the configuration is resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecSettings {
    /// Applied when the call names no timeout.
    pub default_timeout: Option<Duration>,
    /// The spill file stops growing here (the in-memory tail keeps going).
    pub output_file_max_bytes: u64,
    pub limits: ShellLimits,
}

impl Default for ExecSettings {
    fn default() -> Self {
        ExecSettings {
            default_timeout: Some(Duration::from_secs(DEFAULT_EXEC_TIMEOUT_SECS)),
            output_file_max_bytes: DEFAULT_OUTPUT_FILE_MAX_MB * MIB,
            limits: ShellLimits::default(),
        }
    }
}

/// `Some(n)` as a limit, 0 as none.
fn limit(n: u64) -> Option<u64> {
    (n > 0).then_some(n)
}

impl ExecSettings {
    /// The defaults with each layer applied in order (global `tools.exec`, then the agent's).
    pub fn from_layers<'a>(layers: impl IntoIterator<Item = &'a ExecConfig>) -> Self {
        let mut s = ExecSettings::default();
        for l in layers {
            if let Some(t) = l.timeout_seconds {
                s.default_timeout = limit(t).map(Duration::from_secs);
            }
            if let Some(mb) = l.output_file_max_mb {
                s.output_file_max_bytes = mb.saturating_mul(MIB);
            }
            let lim = &l.limits;
            if let Some(n) = lim.max_processes {
                s.limits.max_processes = limit(n);
            }
            if let Some(n) = lim.max_file_size_mb {
                s.limits.max_file_size = limit(n.saturating_mul(MIB));
            }
            if let Some(n) = lim.max_memory_mb {
                s.limits.max_memory = limit(n.saturating_mul(MIB));
            }
            if let Some(n) = lim.max_cpu_seconds {
                s.limits.max_cpu_seconds = limit(n);
            }
        }
        s
    }

    /// `tools.exec` of a parsed `openclaw.json` (a section that does not parse is an error).
    pub fn from_openclaw_json(raw: &serde_json::Value) -> Result<Self, String> {
        match raw.pointer("/tools/exec") {
            None => Ok(ExecSettings::default()),
            Some(v) => serde_json::from_value::<ExecConfig>(v.clone())
                .map(|c| ExecSettings::from_layers([&c]))
                .map_err(|e| format!("tools.exec: {e}")),
        }
    }
}

/// The limits as `(resource, value)` pairs for [`apply_in_child`], computed in the parent
/// (the process count needs a look at `/proc`, which the child must not do after `fork`).
/// Public for the native sandbox's in-sandbox server, which sets them on its commands.
#[cfg(target_os = "linux")]
pub fn rlimits(l: &ShellLimits) -> Vec<(Resource, u64)> {
    let mut out = Vec::new();
    if let Some(n) = l.max_processes {
        out.push((libc::RLIMIT_NPROC, user_process_count().saturating_add(n)));
    }
    if let Some(n) = l.max_file_size {
        out.push((libc::RLIMIT_FSIZE, n));
    }
    if let Some(n) = l.max_memory {
        out.push((libc::RLIMIT_DATA, n));
    }
    if let Some(n) = l.max_cpu_seconds {
        out.push((libc::RLIMIT_CPU, n));
    }
    out
}

/// Processes (threads count too, as for `RLIMIT_NPROC`) owned by this process's real user.
#[cfg(target_os = "linux")]
fn user_process_count() -> u64 {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: getuid never fails and touches no memory.
    let uid = unsafe { libc::getuid() };
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut n = 0u64;
    for e in dir.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if e.metadata().is_ok_and(|m| m.uid() == uid) {
            let threads = std::fs::read_dir(e.path().join("task")).map_or(1, |t| t.count());
            n += threads as u64;
        }
    }
    n
}

/// Lowers the soft and hard limits in the forked child. Only async-signal-safe calls: this
/// runs between `fork` and `exec`. A limit above the current hard limit is left as it is.
#[cfg(target_os = "linux")]
pub fn apply_in_child(limits: &[(Resource, u64)]) -> std::io::Result<()> {
    for &(res, value) in limits {
        let mut cur = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit write/read one rlimit struct we own.
        unsafe {
            if libc::getrlimit(res, &mut cur) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let v = value.min(cur.rlim_max);
            let new = libc::rlimit {
                rlim_cur: v,
                rlim_max: v,
            };
            if libc::setrlimit(res, &new) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// Moves the forked child into a cgroup by writing `0` to its `cgroup.procs` (or v1 `tasks`).
/// Only async-signal-safe calls (`open`, `write`, `close`) on a path prepared before the fork.
#[cfg(target_os = "linux")]
pub(crate) fn join_cgroup_in_child(procs: &std::ffi::CStr) -> std::io::Result<()> {
    // SAFETY: open/write/close on a NUL-terminated path and a one-byte buffer we own.
    unsafe {
        let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let n = libc::write(fd, b"0".as_ptr().cast(), 1);
        let err = std::io::Error::last_os_error();
        libc::close(fd);
        if n != 1 {
            return Err(err);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_override_defaults_and_zero_means_unlimited() {
        let global: ExecConfig = serde_json::from_value(serde_json::json!({
            "timeoutSeconds": 5, "outputFileMaxMb": 1, "limits": {"maxMemoryMb": 0}
        }))
        .unwrap();
        let agent: ExecConfig = serde_json::from_value(
            serde_json::json!({"timeoutSeconds": 0, "limits": {"maxProcesses": 7}}),
        )
        .unwrap();
        let s = ExecSettings::from_layers([&global, &agent]);
        assert_eq!(s.default_timeout, None);
        assert_eq!(s.output_file_max_bytes, MIB);
        assert_eq!(s.limits.max_memory, None);
        assert_eq!(s.limits.max_processes, Some(7));
        assert_eq!(s.limits.max_cpu_seconds, Some(DEFAULT_MAX_CPU_SECONDS));
        let d = ExecSettings::from_openclaw_json(&serde_json::json!({})).unwrap();
        assert_eq!(d.default_timeout, Some(Duration::from_secs(1800)));
        assert!(
            ExecSettings::from_openclaw_json(
                &serde_json::json!({"tools": {"exec": {"timeoutSeconds": "x"}}})
            )
            .is_err()
        );
    }
}
