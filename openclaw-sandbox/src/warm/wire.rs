//! What the client and the in-sandbox server say to each other over the server's Unix socket:
//! one connection per command. The client sends one byte carrying its descriptors
//! (`SCM_RIGHTS`: stdin, stdout, stderr and the command's `cgroup.procs`), then the
//! [`RunRequest`] as JSON and shuts its side down; the server answers one [`RunOutcome`] line
//! when the command is over.

use std::io::{IoSlice, IoSliceMut, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use nix::sys::socket::{ControlMessage, ControlMessageOwned, MsgFlags, recvmsg, sendmsg};
use serde::{Deserialize, Serialize};

/// The descriptors a request carries, in this order.
pub(crate) const FDS: usize = 4;
/// The largest request the server reads (the script is in it).
pub(crate) const MAX_REQUEST: u64 = 8 * 1024 * 1024;

/// One command to run in the warm sandbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunRequest {
    /// The program (the shell) and its arguments.
    pub program: PathBuf,
    pub args: Vec<String>,
    /// The directory it starts in (a path inside the sandbox, which equals the host's).
    pub cwd: PathBuf,
    /// Its whole environment.
    pub env: Vec<(String, String)>,
    /// Resource limits set before `exec`.
    pub limits: WireLimits,
}

/// The `setrlimit` values of a command (bytes and seconds; `None`: unchanged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WireLimits {
    pub max_file_size: Option<u64>,
    pub max_memory: Option<u64>,
    pub max_cpu_seconds: Option<u64>,
}

/// How the command ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub(crate) enum RunOutcome {
    Exited {
        code: i32,
    },
    Signalled {
        signal: i32,
    },
    /// It could not be started (the reason goes to the command's stderr too).
    Refused {
        reason: String,
    },
}

/// Sends `fds` with a one-byte message.
pub(crate) fn send_fds(sock: &UnixStream, fds: &[RawFd; FDS]) -> Result<(), String> {
    let cmsg = [ControlMessage::ScmRights(fds)];
    let iov = [IoSlice::new(b"F")];
    sendmsg::<()>(sock.as_raw_fd(), &iov, &cmsg, MsgFlags::empty(), None)
        .map(|_| ())
        .map_err(|e| format!("cannot pass the command's descriptors: {e}"))
}

/// Receives the one-byte message and exactly [`FDS`] descriptors (close-on-exec here).
pub(crate) fn recv_fds(sock: &UnixStream) -> Result<Vec<OwnedFd>, String> {
    let mut byte = [0u8; 1];
    let mut iov = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([RawFd; FDS]);
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(|e| format!("cannot receive the command's descriptors: {e}"))?;
    let mut fds = Vec::new();
    for c in msg
        .cmsgs()
        .map_err(|e| format!("bad control message: {e}"))?
    {
        if let ControlMessageOwned::ScmRights(raw) = c {
            // SAFETY: the kernel just installed these descriptors in this process for us.
            fds.extend(
                raw.into_iter()
                    .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
            );
        }
    }
    if fds.len() != FDS {
        return Err(format!("expected {FDS} descriptors, got {}", fds.len()));
    }
    Ok(fds)
}

/// Reads the rest of the connection as one request (bounded).
pub(crate) fn read_request(sock: &UnixStream) -> Result<RunRequest, String> {
    let mut text = Vec::new();
    sock.take(MAX_REQUEST + 1)
        .read_to_end(&mut text)
        .map_err(|e| format!("cannot read the request: {e}"))?;
    if text.len() as u64 > MAX_REQUEST {
        return Err(format!("the request is over {MAX_REQUEST} bytes"));
    }
    serde_json::from_slice(&text).map_err(|e| format!("bad request: {e}"))
}
