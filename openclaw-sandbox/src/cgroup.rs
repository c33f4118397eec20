//! A pids cgroup per sandboxed command, when this process may make one (cgroup v1's `pids`
//! hierarchy, or a v2 cgroup with the `pids` controller delegated): `pids.max` bounds the
//! processes the command runs at once, also for root, whom `RLIMIT_NPROC` does not bind.
//! The child joins it before `exec`; it is emptied and removed when the command is over.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// One command's cgroup directory.
#[derive(Debug)]
pub(crate) struct PidsCgroup {
    dir: PathBuf,
}

/// Where this process may create pids cgroups, found once.
pub(crate) fn base() -> Option<&'static Path> {
    static BASE: OnceLock<Option<PathBuf>> = OnceLock::new();
    BASE.get_or_init(find_base).as_deref()
}

fn find_base() -> Option<PathBuf> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let mut candidates = Vec::new();
    for line in own.lines() {
        let mut f = line.splitn(3, ':');
        let (Some(_), Some(ctrl), Some(path)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let rel = path.trim_start_matches('/');
        if ctrl.split(',').any(|c| c == "pids") {
            candidates.push(Path::new("/sys/fs/cgroup/pids").join(rel));
        } else if ctrl.is_empty() {
            for root in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"] {
                let dir = Path::new(root).join(rel);
                let ctl = std::fs::read_to_string(dir.join("cgroup.subtree_control"));
                if ctl.is_ok_and(|c| c.split_whitespace().any(|w| w == "pids")) {
                    candidates.push(dir);
                }
            }
        }
    }
    let base = candidates.into_iter().find(|dir| probe(dir))?;
    sweep(&base);
    Some(base)
}

/// Removes command cgroups left empty by a process that died before it could (older than a
/// minute, so one another process is just setting up is left alone; one with processes in
/// it cannot be removed at all).
fn sweep(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().starts_with("openclaw-sbx-") {
            continue;
        }
        let old = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > Duration::from_secs(60));
        if old {
            let _ = std::fs::remove_dir(e.path());
        }
    }
}

/// Whether a child cgroup with a working `pids.max` can be made under `dir`.
fn probe(dir: &Path) -> bool {
    let trial = dir.join(format!("openclaw-sbx-probe-{}", std::process::id()));
    let ok =
        std::fs::create_dir(&trial).is_ok() && std::fs::write(trial.join("pids.max"), "8").is_ok();
    let _ = std::fs::remove_dir(&trial);
    ok
}

impl PidsCgroup {
    /// A fresh cgroup allowing `max` processes (`None`: no bound, only the grouping); `None`
    /// when no pids cgroup can be made here.
    pub(crate) fn create(max: Option<u64>) -> Result<Option<PidsCgroup>, String> {
        let Some(base) = base() else {
            return Ok(None);
        };
        let dir = base.join(format!(
            "openclaw-sbx-{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        ));
        std::fs::create_dir(&dir)
            .map_err(|e| format!("cannot create the cgroup {}: {e}", dir.display()))?;
        let cg = PidsCgroup { dir };
        let max = max.map_or_else(|| "max".to_owned(), |n| n.to_string());
        std::fs::write(cg.dir.join("pids.max"), max)
            .map_err(|e| format!("cannot set pids.max in {}: {e}", cg.dir.display()))?;
        Ok(Some(cg))
    }

    /// The file the child writes `0` to.
    pub(crate) fn procs_file(&self) -> PathBuf {
        self.dir.join("cgroup.procs")
    }

    /// Kills what is left in it and removes it: at once when it is already empty, else on a
    /// thread of its own (the last processes may take a moment to go; the command's caller
    /// does not wait for that).
    pub(crate) fn remove(self) {
        for _ in 0..3 {
            self.kill_all();
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let spawned = std::thread::Builder::new()
            .name("sandbox-cgroup".into())
            .spawn(move || self.remove_now());
        if let Err(e) = spawned {
            tracing::warn!("sandbox: cannot start the cgroup clean-up: {e}");
        }
    }

    fn kill_all(&self) {
        let pids = std::fs::read_to_string(self.procs_file()).unwrap_or_default();
        for pid in pids.lines().filter_map(|p| p.trim().parse::<i32>().ok()) {
            // SAFETY: kill(2) takes integers only.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }

    fn remove_now(self) {
        for _ in 0..50 {
            self.kill_all();
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        tracing::warn!("sandbox: cannot remove the cgroup {}", self.dir.display());
    }
}
