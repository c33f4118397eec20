//! The in-sandbox server (`openclaw __openclaw-sandbox-serve <spec>`): started by bubblewrap
//! as the warm sandbox's first program with the listening socket as descriptor 3. It restricts
//! itself exactly as the one-shot helper does (Landlock, seccomp; commands inherit both), makes
//! itself undumpable (a command cannot ptrace it), then serves one command per connection on
//! a thread of its own: the command joins its pids cgroup (the descriptor the client passed),
//! starts a session, takes its limits and runs with the client's stdin/stdout/stderr.

use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use openclaw_core::tool::ShellLimits;

use super::wire::{self, RunOutcome, RunRequest};
use crate::helper::HelperSpec;

/// The first argument that selects the server mode.
pub const SERVE_ARG: &str = "__openclaw-sandbox-serve";
/// The descriptor the listening socket arrives on.
pub(crate) const LISTEN_FD: RawFd = 3;
/// Commands served at once; more are refused (the host's runs are bounded well below this).
const MAX_RUNNING: usize = 64;

/// Serves until the listening socket fails (bubblewrap is killed long before, normally).
pub(crate) fn serve(spec: &HelperSpec) -> Result<std::convert::Infallible, String> {
    // SAFETY: the host set up descriptor 3 as the listening socket before `exec`.
    let listener = unsafe { UnixListener::from_raw_fd(LISTEN_FD) };
    set_cloexec(listener.as_raw_fd())?;
    crate::helper::restrict(spec)?;
    // SAFETY: prctl with integer arguments only.
    if unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) } != 0 {
        return Err(format!(
            "cannot make the server undumpable: {}",
            std::io::Error::last_os_error()
        ));
    }
    let running = Arc::new(AtomicUsize::new(0));
    loop {
        let conn = match listener.accept() {
            Ok((conn, _)) => conn,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("the server's socket failed: {e}")),
        };
        if !same_user(&conn) {
            // Another local user found the abstract socket: not theirs to use.
            continue;
        }
        if running.fetch_add(1, Ordering::SeqCst) >= MAX_RUNNING {
            running.fetch_sub(1, Ordering::SeqCst);
            answer(
                &conn,
                &RunOutcome::Refused {
                    reason: format!("{MAX_RUNNING} commands are already running in this sandbox"),
                },
            );
            continue;
        }
        let count = running.clone();
        let spawned = std::thread::Builder::new()
            .name("sandbox-command".into())
            .spawn(move || {
                let outcome = handle(&conn);
                answer(&conn, &outcome);
                count.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            running.fetch_sub(1, Ordering::SeqCst);
            eprintln!("openclaw sandbox server: cannot start a thread: {e}");
        }
    }
}

/// Whether the peer runs as this process's user.
fn same_user(conn: &UnixStream) -> bool {
    let Ok(cred) = nix::sys::socket::getsockopt(conn, nix::sys::socket::sockopt::PeerCredentials)
    else {
        return false;
    };
    // SAFETY: getuid never fails.
    cred.uid() == unsafe { libc::getuid() }
}

fn set_cloexec(fd: RawFd) -> Result<(), String> {
    // SAFETY: fcntl on a descriptor this process owns.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } != 0 {
        return Err(format!(
            "the listening socket (descriptor {fd}) is not usable: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

fn answer(conn: &UnixStream, outcome: &RunOutcome) {
    let Ok(mut line) = serde_json::to_vec(outcome) else {
        return;
    };
    line.push(b'\n');
    // The client may be gone (aborted): nothing to tell then.
    let _ = (&*conn).write_all(&line);
}

fn handle(conn: &UnixStream) -> RunOutcome {
    let fds = match wire::recv_fds(conn) {
        Ok(fds) => fds,
        Err(reason) => return RunOutcome::Refused { reason },
    };
    let req = match wire::read_request(conn) {
        Ok(req) => req,
        Err(reason) => return RunOutcome::Refused { reason },
    };
    match run(req, fds) {
        Ok(outcome) => outcome,
        Err(reason) => RunOutcome::Refused { reason },
    }
}

fn run(req: RunRequest, fds: Vec<OwnedFd>) -> Result<RunOutcome, String> {
    let mut fds = fds.into_iter();
    let (Some(stdin), Some(stdout), Some(stderr), Some(cgroup)) =
        (fds.next(), fds.next(), fds.next(), fds.next())
    else {
        return Err("missing descriptors".into());
    };
    let limits = ShellLimits {
        max_processes: None,
        max_file_size: req.limits.max_file_size,
        max_memory: req.limits.max_memory,
        max_cpu_seconds: req.limits.max_cpu_seconds,
    };
    let rlimits = openclaw_core::tool::limits::rlimits(&limits);
    let mut cmd = Command::new(&req.program);
    cmd.args(&req.args)
        .current_dir(&req.cwd)
        .env_clear()
        .envs(req.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::from(stdin))
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr));
    let cgroup_fd = cgroup.as_raw_fd();
    // SAFETY: the hook calls write, setsid and get/setrlimit only (async-signal-safe), on
    // data prepared before the fork.
    unsafe {
        cmd.pre_exec(move || {
            // Into the command's cgroup first, so everything it starts is counted and killed.
            if libc::write(cgroup_fd, b"0".as_ptr().cast(), 1) != 1 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            openclaw_core::tool::limits::apply_in_child(&rlimits)
        });
    }
    let mut child = cmd.spawn().map_err(|e| {
        format!(
            "cannot run {} in {}: {e}",
            req.program.display(),
            req.cwd.display()
        )
    })?;
    // Our copies of the command's descriptors go now, or its output never reaches EOF.
    drop(cmd);
    drop(cgroup);
    let status = child
        .wait()
        .map_err(|e| format!("cannot wait for the command: {e}"))?;
    Ok(match (status.code(), status.signal()) {
        (Some(code), _) => RunOutcome::Exited { code },
        (None, Some(signal)) => RunOutcome::Signalled { signal },
        (None, None) => RunOutcome::Refused {
            reason: format!("the command ended without a status ({status})"),
        },
    })
}
