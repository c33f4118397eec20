//! A stdio MCP server's process: spawned in its own process group (so everything it starts can
//! be killed with it), with OpenClaw's env safety filter applied to the configured `env`, its
//! stderr read into the log line by line (each line capped at 8 KiB), and a guard that kills
//! the whole group and reaps the child when the connection is dropped. The guard's task also
//! reports when the process exits on its own, which is how a crash is noticed.

use std::process::Stdio;

use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::oneshot;

use crate::config::ServerConfig;

/// Longest stderr line logged whole; the tail of a longer one is kept.
const STDERR_LINE_MAX: usize = 8 * 1024;
/// Stderr lines logged in a burst, and refilled per second after it: a chatty server cannot
/// fill the log (dropped lines are counted in the next line logged).
const STDERR_BURST: f64 = 200.0;
const STDERR_PER_SEC: f64 = 20.0;

/// Keys OpenClaw refuses in a stdio server's `env` (interpreter start-up hooks and loader
/// hijacks); prefixes end in `*`.
const BLOCKED_ENV: &[&str] = &[
    "NODE_OPTIONS",
    "NODE_PATH",
    "PYTHONSTARTUP",
    "PYTHONPATH",
    "PYTHONHOME",
    "PERL5OPT",
    "PERL5LIB",
    "RUBYOPT",
    "RUBYLIB",
    "BASHOPTS",
    "BASH_ENV",
    "ENV",
    "KSH_ENV",
    "ZDOTDIR",
    "SHELLOPTS",
    "PS4",
    "LD_*",
    "DYLD_*",
    "BASH_FUNC_*",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
];

/// Whether OpenClaw's filter drops `key` from a server's `env`.
pub fn env_key_blocked(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    BLOCKED_ENV.iter().any(|b| match b.strip_suffix('*') {
        Some(prefix) => upper.starts_with(prefix),
        None => upper == *b,
    })
}

/// A running server process, its pipes taken by the transport.
pub struct Spawned {
    pub stdin: ChildStdin,
    pub stdout: ChildStdout,
    pub guard: ProcessGuard,
    /// Fires with the exit text when the process ends on its own.
    pub exited: oneshot::Receiver<String>,
}

/// Kills the server's process group (and reaps the child) when dropped.
pub struct ProcessGuard {
    kill: Option<oneshot::Sender<()>>,
    pub pid: u32,
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        if let Some(k) = self.kill.take() {
            let _ = k.send(());
        }
        // Also here, synchronously: the watcher task may never run again (runtime shutdown).
        kill_group(self.pid);
    }
}

fn kill_group(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        if pid > 1 {
            // SAFETY: killpg only sends a signal; a gone group is ESRCH, which is fine.
            unsafe {
                libc::killpg(pid, libc::SIGKILL);
            }
        }
    }
}

/// Starts `cfg`'s command. `name` labels the stderr lines (`bundle-mcp:<name>:`).
pub fn spawn(name: &str, cfg: &ServerConfig, log: &crate::LogSink) -> std::io::Result<Spawned> {
    let command = cfg.command.clone().unwrap_or_default();
    let mut cmd = Command::new(&command);
    cmd.args(&cfg.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    for (k, v) in &cfg.env {
        if env_key_blocked(k) {
            log(&format!(
                "bundle-mcp:{name}: env {k} dropped (interpreter or loader hook)"
            ));
            continue;
        }
        cmd.env(k, v);
    }
    if let Some(dir) = cfg.work_dir() {
        cmd.current_dir(dir);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot start {command}: {e}")))?;
    let pid = child.id().unwrap_or(0);
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        kill_group(pid);
        return Err(std::io::Error::other("the server's pipes were not created"));
    };
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(log_stderr(name.to_owned(), stderr, log.clone()));
    }
    let (kill_tx, kill_rx) = oneshot::channel();
    let (exit_tx, exit_rx) = oneshot::channel();
    tokio::spawn(watch(child, pid, kill_rx, exit_tx));
    Ok(Spawned {
        stdin,
        stdout,
        guard: ProcessGuard {
            kill: Some(kill_tx),
            pid,
        },
        exited: exit_rx,
    })
}

/// Waits for the child: an exit of its own is reported (and the rest of its group killed); a
/// kill request kills the group. Either way the child is reaped.
async fn watch(
    mut child: Child,
    pid: u32,
    kill: oneshot::Receiver<()>,
    exited: oneshot::Sender<String>,
) {
    tokio::select! {
        status = child.wait() => {
            kill_group(pid);
            let text = match status {
                Ok(s) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
                    (Some(c), _) => format!("exited with status {c}"),
                    (None, Some(sig)) => format!("killed by signal {sig}"),
                    _ => "exited".to_owned(),
                },
                Err(e) => format!("lost: {e}"),
            };
            let _ = exited.send(text);
        }
        _ = kill => {
            kill_group(pid);
            let _ = child.wait().await;
        }
    }
}

/// Logs the server's stderr, one log line per line, each capped (the tail is kept, marked).
async fn log_stderr(name: String, mut stderr: tokio::process::ChildStderr, log: crate::LogSink) {
    let mut line: Vec<u8> = Vec::new();
    let mut truncated = false;
    let mut limit = Rate {
        tokens: STDERR_BURST,
        at: std::time::Instant::now(),
        dropped: 0,
    };
    let mut buf = [0u8; 4096];
    loop {
        let n = match stderr.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &b in &buf[..n] {
            if b == b'\n' {
                limit.emit(&log, &name, &line, truncated);
                line.clear();
                truncated = false;
                continue;
            }
            if line.len() >= STDERR_LINE_MAX {
                line.drain(..STDERR_LINE_MAX / 2);
                truncated = true;
            }
            line.push(b);
        }
    }
    if !line.is_empty() {
        limit.emit(&log, &name, &line, truncated);
    }
}

/// The stderr rate limit (a token bucket).
struct Rate {
    tokens: f64,
    at: std::time::Instant,
    dropped: u64,
}

impl Rate {
    fn emit(&mut self, log: &crate::LogSink, name: &str, line: &[u8], truncated: bool) {
        let now = std::time::Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * STDERR_PER_SEC;
        self.tokens = (self.tokens + refill).min(STDERR_BURST);
        self.at = now;
        if self.tokens < 1.0 {
            self.dropped += 1;
            return;
        }
        self.tokens -= 1.0;
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        let mark = if truncated {
            "[stderr line truncated] "
        } else {
            ""
        };
        if self.dropped > 0 {
            log(&format!(
                "bundle-mcp:{name}: [{} stderr lines dropped]",
                self.dropped
            ));
            self.dropped = 0;
        }
        log(&format!("bundle-mcp:{name}: {mark}{text}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_env_filter_drops_interpreter_and_loader_hooks() {
        for k in [
            "NODE_OPTIONS",
            "LD_PRELOAD",
            "ld_library_path",
            "DYLD_INSERT_LIBRARIES",
            "BASH_FUNC_x%%",
        ] {
            assert!(env_key_blocked(k), "{k}");
        }
        for k in [
            "GITHUB_TOKEN",
            "API_BASE",
            "HTTP_PROXY",
            "AWS_ACCESS_KEY_ID",
        ] {
            assert!(!env_key_blocked(k), "{k}");
        }
    }
}
