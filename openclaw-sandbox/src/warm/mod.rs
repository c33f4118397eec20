//! The warm sandbox: one long-lived bubblewrap per scope and shape, running the in-sandbox
//! [`server`], so a command costs a fork inside it instead of new namespaces and mounts. Each
//! command still gets a pids cgroup of its own (the server moves it there before `exec`),
//! its own session, its limits, and everything in that cgroup is killed when it is over, as
//! in the one-shot path. Namespaces, the private `/tmp` and the mounts persist for the
//! scope's commands, as a docker/podman sandbox container does.
//!
//! The pool is process-wide and bounded: at most [`MAX_SERVERS`] servers, each retired when
//! idle for [`IDLE`], when its process exited, or when its scope's shape changed (a config
//! change, or a credential directory that appeared and must now be hidden: the shape includes
//! every mount). The socket has a random name in the host network namespace's abstract socket
//! space (nothing on disk to leak when the process dies); the server serves only peers of its
//! own user, and a sandbox without network cannot see it at all.

pub(crate) mod client;
pub(crate) mod server;
pub(crate) mod wire;

use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Warm servers kept at once; a scope beyond that runs its commands the one-shot way.
pub(crate) const MAX_SERVERS: usize = 8;
/// An idle server is retired after this.
pub(crate) const IDLE: Duration = Duration::from_secs(300);

/// One running server.
pub(crate) struct Server {
    scope: String,
    shape: String,
    child: Mutex<Child>,
    /// The abstract socket's name (without the leading NUL).
    socket: String,
    /// Commands running through it now.
    active: Arc<AtomicUsize>,
    last_used: Mutex<Instant>,
}

impl Server {
    pub(crate) fn socket(&self) -> &str {
        &self.socket
    }

    /// Counts a command as running until the returned guard drops.
    pub(crate) fn begin(&self) -> ActiveGuard {
        self.active.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut t) = self.last_used.lock() {
            *t = Instant::now();
        }
        ActiveGuard(self.active.clone())
    }

    fn alive(&self) -> bool {
        match self.child.lock() {
            Ok(mut c) => matches!(c.try_wait(), Ok(None)),
            Err(_) => false,
        }
    }

    fn idle_for(&self) -> Duration {
        self.last_used.lock().map_or(IDLE, |t| t.elapsed())
    }

    fn busy(&self) -> bool {
        self.active.load(Ordering::SeqCst) > 0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(child) = self.child.get_mut() {
            // bubblewrap's namespace init dies with it, and every process in the namespace.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Marks one command as running on a server.
pub(crate) struct ActiveGuard(Arc<AtomicUsize>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What starts a server: bubblewrap, its arguments up to the helper, the helper inside, the
/// server's spec.
pub(crate) struct Launch {
    pub bwrap: PathBuf,
    pub args: Vec<OsString>,
    pub helper_inside: &'static str,
    pub spec: String,
}

static POOL: Mutex<Vec<Arc<Server>>> = Mutex::new(Vec::new());

/// The running server for `scope` with this `shape` (a digest of everything that makes up the
/// sandbox), started if needed, with one command counted on it; `None` when the pool is full
/// of busy servers.
pub(crate) fn server_for(
    scope: &str,
    shape: &str,
    launch: impl FnOnce() -> Launch,
) -> Result<Option<(Arc<Server>, ActiveGuard)>, String> {
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    // Retire the dead, the long idle, and this scope's servers of another shape.
    pool.retain(|s| {
        s.busy() || (s.alive() && s.idle_for() < IDLE && (s.scope != scope || s.shape == shape))
    });
    if let Some(s) = pool.iter().find(|s| s.scope == scope && s.shape == shape) {
        let guard = s.begin();
        return Ok(Some((s.clone(), guard)));
    }
    if pool.len() >= MAX_SERVERS {
        let lru = pool
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.busy())
            .max_by_key(|(_, s)| s.idle_for())
            .map(|(i, _)| i);
        match lru {
            Some(i) => {
                pool.swap_remove(i);
            }
            None => return Ok(None),
        }
    }
    let server = Arc::new(start(scope, shape, launch())?);
    pool.push(server.clone());
    let guard = server.begin();
    Ok(Some((server, guard)))
}

fn start(scope: &str, shape: &str, l: Launch) -> Result<Server, String> {
    let socket = format!(
        "openclaw-sbx-{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    );
    let addr = SocketAddr::from_abstract_name(socket.as_bytes())
        .map_err(|e| format!("bad socket name: {e}"))?;
    let listener = UnixListener::bind_addr(&addr)
        .map_err(|e| format!("cannot listen for the warm sandbox: {e}"))?;
    let listen_fd = listener.as_raw_fd();
    let mut cmd = Command::new(&l.bwrap);
    cmd.args(&l.args)
        .arg(l.helper_inside)
        .arg(server::SERVE_ARG)
        .arg(&l.spec)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    // SAFETY: dup2/fcntl on descriptors that exist in the child (async-signal-safe).
    unsafe {
        cmd.pre_exec(move || {
            let target = server::LISTEN_FD;
            if listen_fd == target {
                if libc::fcntl(target, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(listen_fd, target) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start bubblewrap ({}): {e}", l.bwrap.display()))?;
    // The server holds the socket now; ours closes, so a dead server refuses connections.
    drop(listener);
    Ok(Server {
        scope: scope.to_owned(),
        shape: shape.to_owned(),
        child: Mutex::new(child),
        socket,
        active: Arc::new(AtomicUsize::new(0)),
        last_used: Mutex::new(Instant::now()),
    })
}

/// Stops every warm server (tests; a config reload retires them by shape on their own).
#[doc(hidden)]
pub fn shutdown_all() {
    let drained: Vec<Arc<Server>> = POOL
        .lock()
        .map(|mut p| p.drain(..).collect())
        .unwrap_or_default();
    drop(drained);
}

/// Servers running now (tests).
#[doc(hidden)]
pub fn running() -> usize {
    POOL.lock().map_or(0, |p| p.len())
}
