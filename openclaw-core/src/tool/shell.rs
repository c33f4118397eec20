//! Running a shell command the way pi's `bash` tool and RPC `bash` command do: `<shell> -c`
//! in its own process group, stdout and stderr merged into one pipe, streamed to a callback,
//! with abort and timeout killing the whole process tree (and dropping the future too).
//! Also the output collector (rolling tail + spill of long output to a temp file), the RPC
//! flavour's sanitiser and [`run_rpc_bash`] for the RPC `bash` command.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncReadExt;
use tokio::time::Instant;

use super::truncate::{DEFAULT_MAX_BYTES, Limits, TruncationResult, truncate_tail};
use crate::cancel::CancellationToken;

/// How long to keep reading after the shell exited while something it started still holds
/// the output pipe open.
const DRAIN_GRACE: Duration = Duration::from_millis(200);

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

/// Kills the process group when dropped while armed.
struct GroupGuard {
    pgid: Option<i32>,
}

impl GroupGuard {
    fn kill(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Run `cmd`, passing every chunk of merged output to `on_chunk`. Abort (`cancel`) and the
/// timeout kill the whole process group; so does dropping the returned future.
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
    let (reader, writer) = pipe()?;
    let writer2 = writer.try_clone()?;
    let mut command = tokio::process::Command::new(&shell);
    command
        .arg("-c")
        .arg(&script)
        .current_dir(&cmd.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::from(writer2))
        .process_group(0);
    if let Some(bin) = &cmd.bin_dir {
        let mut paths = vec![bin.clone()];
        if let Some(old) = std::env::var_os("PATH") {
            paths.extend(std::env::split_paths(&old));
        }
        if let Ok(joined) = std::env::join_paths(paths) {
            command.env("PATH", joined);
        }
    }
    let mut child = command.spawn()?;
    // Our copies of the write end must go, or the pipe never reaches EOF.
    drop(command);
    let mut guard = GroupGuard {
        pgid: child.id().map(|p| p as i32),
    };
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
        guard.pgid = None;
    }
    Ok(outcome)
}

/// Collects a command's output: a rolling window of the last chunks (at least 100 KB) and,
/// once the output passes 50 KB, the whole of it in a temp file `pi-bash-<16 hex>.log`.
#[derive(Debug, Default)]
pub struct OutputCollector {
    chunks: VecDeque<Vec<u8>>,
    chunk_bytes: usize,
    total_bytes: usize,
    spill: Option<(PathBuf, std::fs::File)>,
}

impl OutputCollector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a chunk.
    pub fn push(&mut self, data: &[u8]) {
        self.total_bytes += data.len();
        if self.total_bytes > DEFAULT_MAX_BYTES {
            self.ensure_spill_file();
        }
        if let Some((_, f)) = &mut self.spill {
            let _ = f.write_all(data);
        }
        self.chunks.push_back(data.to_vec());
        self.chunk_bytes += data.len();
        while self.chunk_bytes > DEFAULT_MAX_BYTES * 2 && self.chunks.len() > 1 {
            if let Some(old) = self.chunks.pop_front() {
                self.chunk_bytes -= old.len();
            }
        }
    }

    /// Start the temp file (with everything so far) if there is none yet; the output is then
    /// complete in it, since the rolling window only drops chunks after the file exists.
    pub fn ensure_spill_file(&mut self) -> Option<&Path> {
        if self.spill.is_none() {
            let name = format!("pi-bash-{:016x}.log", rand::random::<u64>());
            let path = std::env::temp_dir().join(name);
            if let Ok(mut f) = std::fs::File::create(&path) {
                for c in &self.chunks {
                    let _ = f.write_all(c);
                }
                self.spill = Some((path, f));
            }
        }
        self.full_output_path()
    }

    /// Every byte seen.
    pub fn total_bytes(&self) -> usize {
        self.total_bytes
    }

    /// The rolling window as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        let mut all = Vec::with_capacity(self.chunk_bytes);
        for c in &self.chunks {
            all.extend_from_slice(c);
        }
        String::from_utf8_lossy(&all).into_owned()
    }

    /// The temp file holding the full output, once there is one.
    pub fn full_output_path(&self) -> Option<&Path> {
        self.spill.as_ref().map(|(p, _)| p.as_path())
    }

    /// Flush the temp file.
    pub fn finish(&mut self) {
        if let Some((_, f)) = &mut self.spill {
            let _ = f.flush();
        }
    }
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
) -> io::Result<BashResult> {
    let mut collector = OutputCollector::new();
    let outcome = run_shell(cmd, cancel, |chunk| collector.push(chunk)).await?;
    collector.finish();
    let t: TruncationResult = truncate_tail(&sanitize_output(&collector.text()), Limits::default());
    if t.truncated {
        collector.ensure_spill_file();
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
