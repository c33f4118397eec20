//! Running a shell command the way pi's `bash` tool and RPC `bash` command do: `<shell> -c`
//! in its own process group under the command's resource limits, stdout and stderr merged
//! into one pipe, streamed to a callback, with abort and timeout killing everything the
//! command started (`proctree`: also what left the group; dropping the future does too).
//! Also the RPC flavour's sanitiser and [`run_rpc_bash`] for the RPC `bash` command.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use super::limits::ShellLimits;
use super::proctree;
use super::spill::{OutputCollector, SpillFiles};
use super::truncate::{Limits, TruncationResult, truncate_tail};
use crate::cancel::CancellationToken;
use crate::sandbox::{Cleanup, ExecRequest, ExecTarget};

/// How long to keep reading after the shell exited while something it started still holds
/// the output pipe open.
const DRAIN_GRACE: Duration = Duration::from_millis(200);

/// Variables added to a host command's environment (a run's skill env); `Debug` shows the
/// names only, since values may be credentials.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ExtraEnv(pub Arc<Vec<(String, String)>>);

impl std::fmt::Debug for ExtraEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}

/// A command to run.
#[derive(Debug, Clone, Default)]
pub struct ShellCommand {
    pub command: String,
    pub cwd: PathBuf,
    /// The shell (`-c` is passed); `None` picks `/bin/bash`, `bash` on PATH, else `sh`.
    pub shell: Option<PathBuf>,
    /// A line run before the command.
    pub command_prefix: Option<String>,
    /// Put first on PATH.
    pub bin_dir: Option<PathBuf>,
    pub timeout: Option<Duration>,
    /// Resource limits set in the child before `exec` (a sandbox's own when sandboxed).
    pub limits: ShellLimits,
    /// Where it runs: the host, a sandbox, or refused.
    pub target: ExecTarget,
    /// Added to the environment on the host; a sandbox does not get them (as OpenClaw's
    /// skill env).
    pub env: ExtraEnv,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShellOutcome {
    /// The exit code; `None` when killed (by us or by a signal).
    pub exit_code: Option<i32>,
    pub cancelled: bool,
    pub timed_out: bool,
}

/// The shell to use: `configured` if given (it must exist), else `/bin/bash`, `bash` on PATH,
/// else `sh`.
pub fn resolve_shell(configured: Option<&Path>) -> io::Result<PathBuf> {
    if let Some(p) = configured {
        if p.exists() {
            return Ok(p.to_path_buf());
        }
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("Custom shell path not found: {}", p.display()),
        ));
    }
    if Path::new("/bin/bash").exists() {
        return Ok(PathBuf::from("/bin/bash"));
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let cand = dir.join("bash");
            if cand.is_file() {
                return Ok(cand);
            }
        }
    }
    Ok(PathBuf::from("sh"))
}

/// A pipe (read end, write end), both close-on-exec.
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [libc::c_int; 2] = [-1, -1];
    // SAFETY: pipe(2) writes two new descriptors into the two-element array.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    for fd in [&r, &w] {
        // SAFETY: fcntl on a valid descriptor we own.
        if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok((r, w))
}

/// The running command: kills everything it started when dropped while armed, and hands
/// its shell back to the reaper's view when dropped at all.
struct CommandGuard {
    pid: Option<i32>,
    armed: bool,
    killed: bool,
    marker: String,
    /// The sandbox's clean-up, run last.
    cleanup: Option<Cleanup>,
}

impl CommandGuard {
    fn kill(&mut self) {
        if let (Some(pid), true) = (self.pid, self.armed) {
            self.armed = false;
            self.killed = true;
            proctree::kill_command(pid, &self.marker);
        }
    }
}

impl Drop for CommandGuard {
    fn drop(&mut self) {
        self.kill();
        if let Some(pid) = self.pid {
            proctree::unregister_shell(pid);
        }
        if let Some(cleanup) = self.cleanup.take() {
            cleanup(self.killed);
        }
    }
}

/// The process to start for `cmd`: `<shell> -c <script>` on the host, or what the sandbox
/// backend makes of it, with the resource limits (and pids cgroup) applied in the child.
async fn build_command(
    cmd: &ShellCommand,
    shell: &Path,
    script: &str,
    marker: &str,
) -> io::Result<(tokio::process::Command, Option<Cleanup>)> {
    let backend = match &cmd.target {
        ExecTarget::Host => return Ok((host_command(cmd, shell, script), None)),
        ExecTarget::Refuse(why) => return Err(io::Error::other(why.clone())),
        ExecTarget::Sandbox(b) => b.clone(),
    };
    let req = ExecRequest {
        shell: shell.to_path_buf(),
        script: script.to_owned(),
        cwd: cmd.cwd.clone(),
        env: vec![(proctree::MARKER_VAR.to_owned(), marker.to_owned())],
    };
    let mut sc = tokio::task::spawn_blocking(move || backend.command(&req))
        .await
        .map_err(io::Error::other)?
        .map_err(io::Error::other)?;
    let mut command = tokio::process::Command::new(&sc.program);
    command.args(&sc.args).current_dir(&sc.cwd);
    if sc.clear_env {
        command.env_clear();
    }
    command.envs(sc.env.iter().map(|(k, v)| (k, v)));
    let limits = sc.limits.as_ref().map_or(cmd.limits, ShellLimits::from);
    let rlimits = super::limits::rlimits(&limits);
    let cgroup = match &sc.join_cgroup {
        Some(p) => Some(
            std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).map_err(io::Error::other)?,
        ),
        None => None,
    };
    // SAFETY: the hook only calls getrlimit/setrlimit, open, write and close (all
    // async-signal-safe) on data prepared before the fork.
    unsafe {
        command.pre_exec(move || {
            if let Some(path) = &cgroup {
                super::limits::join_cgroup_in_child(path)?;
            }
            super::limits::apply_in_child(&rlimits)
        });
    }
    Ok((command, sc.cleanup.take()))
}

/// `<shell> -c <script>` in the command's directory under its limits, `bin_dir` first on PATH.
fn host_command(cmd: &ShellCommand, shell: &Path, script: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(shell);
    command.arg("-c").arg(script).current_dir(&cmd.cwd);
    command.envs(cmd.env.0.iter().map(|(k, v)| (k, v)));
    let rlimits = super::limits::rlimits(&cmd.limits);
    // SAFETY: the hook only calls getrlimit/setrlimit (async-signal-safe) on data prepared
    // before the fork.
    unsafe {
        command.pre_exec(move || super::limits::apply_in_child(&rlimits));
    }
    if let Some(bin) = &cmd.bin_dir {
        let mut paths = vec![bin.clone()];
        if let Some(old) = std::env::var_os("PATH") {
            paths.extend(std::env::split_paths(&old));
        }
        if let Ok(joined) = std::env::join_paths(paths) {
            command.env("PATH", joined);
        }
    }
    command
}

/// Run `cmd`, passing every chunk of merged output to `on_chunk`. Abort (`cancel`) and the
/// timeout kill everything the command started; so does dropping the returned future.
pub async fn run_shell(
    cmd: &ShellCommand,
    cancel: &CancellationToken,
    mut on_chunk: impl FnMut(&[u8]),
) -> io::Result<ShellOutcome> {
    let shell = resolve_shell(cmd.shell.as_deref())?;
    if !cmd.cwd.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("Working directory does not exist: {}", cmd.cwd.display()),
        ));
    }
    let script = match &cmd.command_prefix {
        Some(prefix) if !prefix.is_empty() => format!("{prefix}\n{}", cmd.command),
        _ => cmd.command.clone(),
    };
    let marker = proctree::new_marker();
    let (reader, writer) = pipe()?;
    let (mut command, cleanup) = build_command(cmd, &shell, &script, &marker).await?;
    command
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer.try_clone()?))
        .stderr(Stdio::from(writer))
        .env(proctree::MARKER_VAR, &marker)
        .process_group(0);
    let mut child = proctree::spawn_registered(&mut command)?;
    // Our copies of the write end must go, or the pipe never reaches EOF.
    drop(command);
    let pid = child.id().map(|p| p as i32);
    let mut guard = CommandGuard {
        pid,
        armed: true,
        killed: false,
        marker,
        cleanup,
    };
    let outcome = read_until_done(cmd, cancel, &mut child, reader, &mut guard, &mut on_chunk).await;
    drop(guard);
    proctree::reap_adopted();
    outcome
}

/// The read loop of [`run_shell`]: output until EOF and exit, abort or timeout.
async fn read_until_done(
    cmd: &ShellCommand,
    cancel: &CancellationToken,
    child: &mut tokio::process::Child,
    reader: OwnedFd,
    guard: &mut CommandGuard,
    on_chunk: &mut impl FnMut(&[u8]),
) -> io::Result<ShellOutcome> {
    let mut reader = tokio::net::unix::pipe::Receiver::from_owned_fd(reader)?;

    let mut outcome = ShellOutcome::default();
    let mut buf = vec![0u8; 16 * 1024];
    let mut eof = false;
    let mut exited = false;
    let far = Instant::now() + Duration::from_secs(86_400 * 365);
    let deadline = cmd.timeout.map_or(far, |t| Instant::now() + t);
    let mut grace = far;
    let cancelled = cancel.cancelled();
    tokio::pin!(cancelled);
    loop {
        if eof && exited {
            break;
        }
        tokio::select! {
            r = reader.read(&mut buf), if !eof => match r {
                Ok(0) => eof = true,
                Ok(n) => {
                    on_chunk(&buf[..n]);
                    if exited {
                        grace = Instant::now() + DRAIN_GRACE;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => eof = true,
            },
            status = child.wait(), if !exited => {
                let status = status?;
                outcome.exit_code = status.code();
                exited = true;
                grace = Instant::now() + DRAIN_GRACE;
            }
            _ = &mut cancelled => {
                outcome.cancelled = true;
                break;
            }
            _ = tokio::time::sleep_until(deadline) => {
                outcome.timed_out = true;
                break;
            }
            _ = tokio::time::sleep_until(grace), if exited && !eof => break,
        }
    }
    if outcome.cancelled || outcome.timed_out {
        guard.kill();
        outcome.exit_code = None;
        let _ = child.wait().await;
        // Whatever was already in the pipe.
        let drain_until = Instant::now() + Duration::from_millis(100);
        while let Ok(Ok(n)) = tokio::time::timeout_at(drain_until, reader.read(&mut buf)).await {
            if n == 0 {
                break;
            }
            on_chunk(&buf[..n]);
        }
    } else {
        // Finished on its own: leave anything it deliberately started in the background.
        guard.armed = false;
    }
    Ok(outcome)
}

/// ANSI escape sequences (the `ansi-regex` pattern pi's `strip-ansi` uses).
fn ansi_regex() -> Option<&'static regex::Regex> {
    static RE: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(
            r"[\x1b\x{9b}][\[\]()#;?]*(?:(?:(?:(?:;[-a-zA-Z\d/#&.:=?%@~_]+)*|[a-zA-Z\d]+(?:;[-a-zA-Z\d/#&.:=?%@~_]*)*)?\x07)|(?:(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PR-TZcf-nq-uy=><~]))",
        )
        .ok()
    })
    .as_ref()
}

/// The RPC flavour's clean-up: ANSI escapes stripped, control characters (except tab and
/// newline) and `\r` removed.
pub fn sanitize_output(text: &str) -> String {
    let stripped = match ansi_regex() {
        Some(re) => re.replace_all(text, ""),
        None => std::borrow::Cow::Borrowed(text),
    };
    stripped
        .chars()
        .filter(|&c| {
            let code = c as u32;
            c == '\t' || c == '\n' || (code > 0x1f && !(0xFFF9..=0xFFFB).contains(&code))
        })
        .collect()
}

/// The RPC `bash` command's result (`response.data`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BashResult {
    pub output: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    pub cancelled: bool,
    pub truncated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_output_path: Option<String>,
}

/// Run a command for the RPC `bash` command: sanitised, tail-truncated output; a non-zero exit
/// is not an error; abort gives `cancelled: true` and no exit code.
pub async fn run_rpc_bash(
    cmd: &ShellCommand,
    cancel: &CancellationToken,
    spill: (&SpillFiles, u64),
) -> io::Result<BashResult> {
    let mut collector = OutputCollector::new(spill.1);
    let outcome = run_shell(cmd, cancel, |chunk| collector.push(chunk)).await?;
    collector.finish();
    let t: TruncationResult = truncate_tail(&sanitize_output(&collector.text()), Limits::default());
    if t.truncated {
        collector.ensure_spill_file();
        collector.keep(spill.0);
    }
    collector.finish();
    Ok(BashResult {
        output: t.content,
        exit_code: if outcome.cancelled {
            None
        } else {
            outcome.exit_code
        },
        cancelled: outcome.cancelled,
        truncated: t.truncated,
        full_output_path: collector
            .full_output_path()
            .map(|p| p.to_string_lossy().into_owned()),
    })
}

#[cfg(test)]
#[path = "shell_tests.rs"]
mod tests;
