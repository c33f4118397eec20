//! Everything a tool command started, found and killed: each command runs with a unique
//! marker in its environment ([`MARKER_VAR`]), which every descendant inherits — also one that
//! called `setsid` or double-forked to leave the process group and its parent. Killing a
//! command kills, in rounds until none is left, its shell, its process group, the shell's
//! descendants (walking `/proc` parent links) and every process carrying its marker.
//!
//! A host that runs tools for a long time (the gateway, RPC mode) calls [`become_subreaper`]:
//! orphans of its commands are then re-parented to it instead of `init`, so they stay in its
//! process tree, and a reaper thread collects those it adopted once they exit (only processes
//! seen alive with a tool marker, never a child someone else spawned and will wait for).

use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// The environment variable carrying a command's marker.
pub const MARKER_VAR: &str = "OPENCLAW_TOOL_RUN";

/// How often the reaper thread looks for exited orphans.
const REAP_INTERVAL: Duration = Duration::from_secs(2);
/// Kill rounds before giving up on a command that keeps forking.
const KILL_ROUNDS: usize = 16;

static SUBREAPER: AtomicBool = AtomicBool::new(false);

#[derive(Default)]
struct Registry {
    /// Tool shells still running: children a `Child` handle will wait for.
    shells: HashSet<i32>,
    /// Orphans of tool commands re-parented to this process, to reap when they exit.
    adopted: HashSet<i32>,
}

fn registry() -> MutexGuard<'static, Registry> {
    static R: OnceLock<Mutex<Registry>> = OnceLock::new();
    R.get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// A fresh marker value for one command.
pub(crate) fn new_marker() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

/// Makes this process the subreaper of everything it starts and starts the reaper thread.
/// Idempotent. Linux only (elsewhere an `Unsupported` error).
pub fn become_subreaper() -> io::Result<()> {
    if SUBREAPER.load(Ordering::Acquire) {
        return Ok(());
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes an integer flag; no memory involved.
        if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
        if !SUBREAPER.swap(true, Ordering::AcqRel) {
            std::thread::Builder::new()
                .name("openclaw-reaper".into())
                .spawn(|| {
                    loop {
                        std::thread::sleep(REAP_INTERVAL);
                        reap_adopted();
                    }
                })?;
        }
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "a child subreaper needs Linux",
    ))
}

/// Whether [`become_subreaper`] succeeded.
pub fn is_subreaper() -> bool {
    SUBREAPER.load(Ordering::Acquire)
}

/// Spawns with the registry held, so the reaper never mistakes the new shell for an orphan.
pub(crate) fn spawn_registered(
    command: &mut tokio::process::Command,
) -> io::Result<tokio::process::Child> {
    let mut reg = registry();
    let child = command.spawn()?;
    if let Some(pid) = child.id() {
        reg.shells.insert(pid as i32);
    }
    Ok(child)
}

/// The shell was waited for: it is no longer ours to keep from the reaper.
pub(crate) fn unregister_shell(pid: i32) {
    registry().shells.remove(&pid);
}

/// One line of `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy)]
struct Proc {
    pid: i32,
    ppid: i32,
    pgid: i32,
    zombie: bool,
}

fn read_stat(pid: i32) -> Option<Proc> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    let rest = &s[s.rfind(')')? + 1..];
    let mut f = rest.split_ascii_whitespace();
    let state = f.next()?;
    let ppid = f.next()?.parse().ok()?;
    let pgid = f.next()?.parse().ok()?;
    Some(Proc {
        pid,
        ppid,
        pgid,
        zombie: state == "Z" || state == "X",
    })
}

fn scan() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(read_stat)
        .collect()
}

/// This process's children, from each thread's `children` list (`None` when the kernel does
/// not provide them).
fn own_children() -> Option<Vec<i32>> {
    let mut out = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let list = std::fs::read_to_string(task.path().join("children")).ok()?;
        out.extend(
            list.split_ascii_whitespace()
                .filter_map(|p| p.parse::<i32>().ok()),
        );
    }
    Some(out)
}

/// The marker in `pid`'s environment (as it was at its `exec`), if any.
fn marker_of(pid: i32) -> Option<String> {
    let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    let key = format!("{MARKER_VAR}=");
    env.split(|b| *b == 0)
        .find_map(|kv| kv.strip_prefix(key.as_bytes()))
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// The marker this process itself inherited (when a tool started it): never a tool's.
fn own_marker() -> Option<&'static str> {
    static OWN: OnceLock<Option<String>> = OnceLock::new();
    OWN.get_or_init(|| std::env::var(MARKER_VAR).ok())
        .as_deref()
}

fn signal(pid: i32, sig: i32) {
    // SAFETY: kill(2) takes integers only.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Everything the command with shell `shell_pid` and `marker` started that is still alive.
fn members(procs: &[Proc], shell_pid: i32, marker: &str) -> HashSet<i32> {
    let me = std::process::id() as i32;
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for p in procs {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let mut roots: Vec<i32> = procs
        .iter()
        .filter(|p| !p.zombie && p.pid != me)
        .filter(|p| {
            p.pid == shell_pid
                || p.pgid == shell_pid
                || marker_of(p.pid).is_some_and(|m| m == marker)
        })
        .map(|p| p.pid)
        .collect();
    let mut found = HashSet::new();
    while let Some(pid) = roots.pop() {
        if pid == me || !found.insert(pid) {
            continue;
        }
        if let Some(kids) = children.get(&pid) {
            roots.extend(kids.iter().copied());
        }
    }
    let zombies: HashSet<i32> = procs.iter().filter(|p| p.zombie).map(|p| p.pid).collect();
    found.retain(|p| !zombies.contains(p));
    found
}

/// Kills the command's shell and everything it started (see the module doc), then reaps
/// what this process adopted.
pub(crate) fn kill_command(shell_pid: i32, marker: &str) {
    // The group first: the common case, and it stops the group forking while we look.
    signal(-shell_pid, libc::SIGKILL);
    let me = std::process::id() as i32;
    let mut killed = HashSet::new();
    for _ in 0..KILL_ROUNDS {
        let procs = scan();
        let new: Vec<i32> = members(&procs, shell_pid, marker)
            .into_iter()
            .filter(|p| !killed.contains(p))
            .collect();
        if new.is_empty() {
            break;
        }
        {
            let mut reg = registry();
            for p in procs.iter().filter(|p| new.contains(&p.pid)) {
                if p.ppid == me && !reg.shells.contains(&p.pid) {
                    reg.adopted.insert(p.pid);
                }
            }
        }
        for pid in new {
            signal(pid, libc::SIGKILL);
            killed.insert(pid);
        }
    }
    reap_adopted();
}

/// Notes this process's orphaned tool descendants (alive, carrying a tool marker) and reaps
/// those of them that exited.
pub fn reap_adopted() {
    if !is_subreaper() {
        return;
    }
    let me = std::process::id() as i32;
    let procs: Vec<Proc> = match own_children() {
        Some(pids) => pids.into_iter().filter_map(read_stat).collect(),
        None => scan(),
    };
    let mut reg = registry();
    for p in &procs {
        if p.ppid != me || reg.shells.contains(&p.pid) || reg.adopted.contains(&p.pid) {
            continue;
        }
        if !p.zombie && marker_of(p.pid).is_some_and(|m| Some(m.as_str()) != own_marker()) {
            reg.adopted.insert(p.pid);
        }
    }
    let adopted: Vec<i32> = reg.adopted.iter().copied().collect();
    for pid in adopted {
        let mut status = 0;
        // SAFETY: waitpid on one pid we adopted; WNOHANG never blocks.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid || r < 0 {
            reg.adopted.remove(&pid);
        }
    }
}

/// Whether `pid` is alive (a zombie counts as gone).
pub fn is_alive(pid: i32) -> bool {
    read_stat(pid).is_some_and(|p| !p.zombie)
}
