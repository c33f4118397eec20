//! The skills watcher, as OpenClaw's `skills.load.watch` (default on): `SKILL.md` files added,
//! edited or removed under the agents' skill roots (see `SkillCatalog::openclaw_roots`) reach the
//! next turn without a restart. Sessions' engines snapshot their skills when they start; a change
//! here tells the backend (`GatewayBackend::skills_changed`), which restarts idle engines before
//! their next run, so the next system prompt lists the new set (`skills.status` and
//! `commands.list` read the files on every call anyway).
//!
//! Bounded as OpenClaw's watcher is: each directory is watched on its own (no recursive watch of
//! a whole tree), at most [`MAX_DEPTH`] levels below a root and [`MAX_WATCHED_DIRS`] in all;
//! dot folders, `node_modules`, `dist`, `build`, `venv`, `__pycache__` are never entered, nor is
//! a skill's own folder below its `SKILL.md`. A root that does not exist yet is noticed through
//! its nearest existing parent. Events are debounced ([`DEBOUNCE`], OpenClaw's 250 ms); a burst
//! causes one rescan, and a rescan that finds the same `SKILL.md` files (path, size, modified
//! time) changes nothing. The roots are recomputed every [`ROOTS_EVERY`], so a config reload
//! (new agents, `skills.load.extraDirs`) is followed; while some folder cannot be watched (the
//! system refused a watch, or the bound was reached) every tick rescans instead.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use notify::{RecursiveMode, Watcher};
use openclaw_core::CancellationToken;
use openclaw_core::skills::{OpenClawPlaces, SkillCatalog, SkillRoot};
use serde_json::Value;

use crate::state::Shared;

/// OpenClaw's built-in debounce of skills watcher events.
pub const DEBOUNCE: Duration = Duration::from_millis(250);
/// Directory levels watched below a root (OpenClaw's grouped-skills watch depth).
pub const MAX_DEPTH: usize = 6;
/// Directories watched at most, across every root.
pub const MAX_WATCHED_DIRS: usize = 2048;
/// How often the roots are recomputed from the live config.
pub const ROOTS_EVERY: Duration = Duration::from_secs(2);
/// Folder names never entered (OpenClaw's default ignore list; dot folders too).
const IGNORED: [&str; 5] = ["node_modules", "dist", "build", "venv", "__pycache__"];

/// Whether `skills.load.watch` is on (absent: on).
pub fn watch_enabled(config: &Value) -> bool {
    config
        .pointer("/skills/load/watch")
        .and_then(Value::as_bool)
        != Some(false)
}

/// Every agent's skill roots, each directory once, in a stable order.
pub fn roots(config: &Value, state_dir: &Path) -> Vec<SkillRoot> {
    let roster = crate::roster::Roster::from_config(config, state_dir);
    let home = dirs::home_dir();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for agent in &roster.agents {
        let workspace = openclaw_core::config::expand_home(Path::new(&agent.workspace));
        let places = OpenClawPlaces {
            workspace: &workspace,
            state_dir,
            home: home.as_deref(),
            config,
            agent_filter: None,
        };
        for root in SkillCatalog::openclaw_roots(&places) {
            if seen.insert(root.dir.clone()) {
                out.push(root);
            }
        }
    }
    out
}

/// What to watch and what the skill files look like now.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Directories to watch (each non-recursively).
    pub dirs: BTreeSet<PathBuf>,
    /// Every skill file found: path, size, modified time.
    pub files: BTreeSet<(PathBuf, u64, Option<SystemTime>)>,
    /// [`MAX_WATCHED_DIRS`] was reached: deeper or later folders are not watched.
    pub truncated: bool,
}

fn ignored(name: &str) -> bool {
    name.starts_with('.') || IGNORED.contains(&name)
}

/// Walks the roots (bounded as the module says).
pub fn scan(roots: &[SkillRoot]) -> Scan {
    let mut out = Scan::default();
    for root in roots {
        if !root.dir.is_dir() {
            // Not there yet: its nearest existing parent shows it appearing.
            if let Some(parent) = root.dir.ancestors().skip(1).find(|p| p.is_dir()) {
                out.dirs.insert(parent.to_path_buf());
            }
            continue;
        }
        let mut queue = vec![(root.dir.clone(), 0usize)];
        while let Some((dir, depth)) = queue.pop() {
            if out.dirs.len() >= MAX_WATCHED_DIRS {
                out.truncated = true;
                return out;
            }
            out.dirs.insert(dir.clone());
            scan_dir(&dir, depth, root.root_markdown, &mut out, &mut queue);
        }
    }
    out
}

/// One directory: its skill file (then it is a skill and not entered further), the `.md` files
/// of a pi root, and the subfolders to walk.
fn scan_dir(
    dir: &Path,
    depth: usize,
    root_markdown: bool,
    out: &mut Scan,
    queue: &mut Vec<(PathBuf, usize)>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs = Vec::new();
    let mut is_skill = false;
    for entry in entries.flatten().take(10_000) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        let markdown = root_markdown && depth == 0 && name.ends_with(".md");
        if meta.is_file() && (name == "SKILL.md" || markdown) {
            is_skill |= name == "SKILL.md";
            out.files.insert((path, meta.len(), meta.modified().ok()));
        } else if meta.is_dir() && depth < MAX_DEPTH && !ignored(&name) {
            subdirs.push((path, depth + 1));
        }
    }
    if !is_skill {
        queue.extend(subdirs);
    }
}

/// Whether an event's path can change the skills: a `.md` file, or anything that is not a
/// plain file now (a folder, or something removed).
fn relevant(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "md") || !path.is_file()
}

/// Starts the watcher task (it idles while `skills.load.watch` is false). Returns `None` when
/// the platform has no file watching (logged); the task ends with `stop`.
pub(crate) fn spawn(
    shared: Arc<Shared>,
    stop: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    let handler = move |res: notify_debouncer_mini::DebounceEventResult| {
        let any = match res {
            Ok(events) => events.iter().any(|e| relevant(&e.path)),
            // An overflowed or failed watch: rescan to be safe.
            Err(_) => true,
        };
        if any {
            // Full: a rescan is already pending, which covers this event too.
            let _ = tx.try_send(());
        }
    };
    let mut debouncer = match notify_debouncer_mini::new_debouncer(DEBOUNCE, handler) {
        Ok(d) => d,
        Err(e) => {
            shared.log.line(&format!("skills watcher not started: {e}"));
            return None;
        }
    };
    Some(tokio::spawn(async move {
        let mut state = WatchState::default();
        let mut tick = tokio::time::interval(ROOTS_EVERY);
        loop {
            let event = tokio::select! {
                _ = stop.cancelled() => return,
                got = rx.recv() => match got {
                    Some(()) => true,
                    None => return,
                },
                _ = tick.tick() => false,
            };
            let config = shared.config_value();
            let enabled = watch_enabled(&config);
            let roots = if enabled {
                roots(&config, &shared.state_dir)
            } else {
                Vec::new()
            };
            let dirs: Vec<PathBuf> = roots.iter().map(|r| r.dir.clone()).collect();
            // Unchanged roots and every folder watched: only an event calls for a rescan.
            // Otherwise (watches refused, the folder bound reached) every tick rescans.
            if !event && dirs == state.roots && !state.degraded {
                continue;
            }
            let Ok(found) = tokio::task::spawn_blocking(move || scan(&roots)).await else {
                continue;
            };
            let first = state.files.is_none();
            state.apply(debouncer.watcher(), &found, &shared);
            state.roots = dirs;
            let changed = state.files.as_ref() != Some(&found.files);
            state.files = Some(found.files);
            if changed && !first && enabled {
                shared
                    .log
                    .line("skills changed on disk: sessions pick them up on their next turn");
                shared.backend.skills_changed();
            }
        }
    }))
}

/// What the task watches now.
#[derive(Default)]
struct WatchState {
    roots: Vec<PathBuf>,
    watched: BTreeSet<PathBuf>,
    files: Option<BTreeSet<(PathBuf, u64, Option<SystemTime>)>>,
    warned: bool,
    /// Some folder is not watched (refused, or past the bound): rescan on every tick.
    degraded: bool,
}

impl WatchState {
    /// Makes the watched set `scan.dirs`; a watch the system refuses (no inotify watches
    /// left) is logged once and the roots are still rescanned every [`ROOTS_EVERY`].
    fn apply(&mut self, watcher: &mut dyn Watcher, scan: &Scan, shared: &Shared) {
        for gone in self.watched.difference(&scan.dirs) {
            let _ = watcher.unwatch(gone);
        }
        self.watched.retain(|d| scan.dirs.contains(d));
        let mut refused = None;
        for dir in scan.dirs.difference(&self.watched.clone()) {
            match watcher.watch(dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(dir.clone());
                }
                Err(e) => refused = Some(format!("{}: {e}", dir.display())),
            }
        }
        self.degraded = refused.is_some() || scan.truncated;
        let problem = match (refused, scan.truncated) {
            (Some(e), _) => Some(format!("a skills folder cannot be watched ({e})")),
            (None, true) => Some(format!(
                "more than {MAX_WATCHED_DIRS} skills folders: the rest are not watched"
            )),
            (None, false) => None,
        };
        if let Some(p) = problem {
            if !self.warned {
                self.warned = true;
                shared.log.line(&format!(
                    "skills watcher: {p}; changes there are seen within {} s",
                    ROOTS_EVERY.as_secs()
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_core::skills::Scope;

    fn root(dir: &Path) -> SkillRoot {
        SkillRoot {
            dir: dir.to_path_buf(),
            source: "openclaw-workspace",
            scope: Scope::Project,
            base_dir: dir.to_path_buf(),
            root_markdown: false,
        }
    }

    #[test]
    fn scan_skips_ignored_trees_and_skill_internals() {
        let d = tempfile::tempdir().unwrap();
        let skills = d.path().join("skills");
        for sub in [
            "a/scripts/deep",
            "group/b",
            "node_modules/x",
            ".git/objects",
            "group/b/references",
        ] {
            std::fs::create_dir_all(skills.join(sub)).unwrap();
        }
        std::fs::write(skills.join("a/SKILL.md"), "---\n---\n").unwrap();
        std::fs::write(skills.join("group/b/SKILL.md"), "---\n---\n").unwrap();
        std::fs::write(skills.join("node_modules/x/SKILL.md"), "x").unwrap();
        let found = scan(&[root(&skills)]);
        let rel: Vec<_> = found
            .dirs
            .iter()
            .map(|p| p.strip_prefix(&skills).unwrap().display().to_string())
            .collect();
        assert_eq!(rel, ["", "a", "group", "group/b"]);
        assert_eq!(found.files.len(), 2);
        assert!(!found.truncated);
        // A missing root is watched through its nearest existing parent.
        let missing = scan(&[root(&d.path().join("nope/skills"))]);
        assert_eq!(missing.dirs, BTreeSet::from([d.path().to_path_buf()]));
        assert!(missing.files.is_empty());
    }

    #[test]
    fn scan_is_bounded() {
        let d = tempfile::tempdir().unwrap();
        for i in 0..(MAX_WATCHED_DIRS + 10) {
            std::fs::create_dir_all(d.path().join(format!("d{i}"))).unwrap();
        }
        let found = scan(&[root(d.path())]);
        assert_eq!(found.dirs.len(), MAX_WATCHED_DIRS);
        assert!(found.truncated);
    }
}
