//! The client (`openclaw __openclaw-sandbox-client <socket name> <cgroup.procs> <request>`): the
//! host process the shell tool spawns for a command that runs in a warm sandbox. It hands its
//! stdin/stdout/stderr and the command's cgroup to the server, waits, and ends the way the
//! command did (the same exit code, or killed by the same signal), so the tool sees what it
//! would see from a shell of its own. Killing it (abort, timeout) is followed by the tool's
//! clean-up, which kills everything in the command's cgroup.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixStream};

use super::wire::{self, RunOutcome};

/// The first argument that selects the client mode.
pub const CLIENT_ARG: &str = "__openclaw-sandbox-client";

/// Runs one command through the server and returns the exit status to end with (after
/// re-raising a signal the command died of).
pub(crate) fn run(socket: &str, cgroup_procs: &str, request: &str) -> Result<i32, String> {
    let addr = SocketAddr::from_abstract_name(socket.as_bytes())
        .map_err(|e| format!("bad socket name: {e}"))?;
    let conn = UnixStream::connect_addr(&addr)
        .map_err(|e| format!("the warm sandbox is not running ({e})"))?;
    let cgroup = std::fs::OpenOptions::new()
        .write(true)
        .open(cgroup_procs)
        .map_err(|e| format!("cannot open the command's cgroup {cgroup_procs}: {e}"))?;
    wire::send_fds(&conn, &[0, 1, 2, cgroup.as_raw_fd()])?;
    drop(cgroup);
    (&conn)
        .write_all(request.as_bytes())
        .and_then(|()| conn.shutdown(std::net::Shutdown::Write))
        .map_err(|e| format!("cannot send the request: {e}"))?;
    let mut line = String::new();
    BufReader::new(&conn)
        .take_line(&mut line)
        .map_err(|e| format!("the warm sandbox went away during the command ({e})"))?;
    let outcome: RunOutcome = serde_json::from_str(&line)
        .map_err(|_| "the warm sandbox went away during the command".to_string())?;
    match outcome {
        RunOutcome::Refused { reason } => Err(reason),
        RunOutcome::Signalled { signal } => {
            // SAFETY: signal/raise with integer arguments; end the way the command ended.
            unsafe {
                libc::signal(signal, libc::SIG_DFL);
                libc::raise(signal);
            }
            Ok(128 + signal)
        }
        RunOutcome::Exited { code } => Ok(code),
    }
}

/// One line, at most 64 KiB.
trait TakeLine {
    fn take_line(self, line: &mut String) -> std::io::Result<usize>;
}

impl<R: BufRead> TakeLine for R {
    fn take_line(self, line: &mut String) -> std::io::Result<usize> {
        std::io::Read::take(self, 64 * 1024).read_line(line)
    }
}
