//! Finding skills under a list of roots, in precedence order.
//!
//! A directory holding `SKILL.md` is one skill (nothing below it is searched); other
//! directories are searched recursively (dot directories and `node_modules` skipped, entries
//! in byte order, at most [`Limits::max_depth`] levels); in pi's own roots a `.md` file directly
//! in the root is a skill too. The first root that has a name wins it; a later skill with the
//! same name is kept as [`Shadowed`], and the same file reached twice (a symlink) is loaded once.
//! A file that cannot be read or parsed, or lacks a description, is a [`Problem`] naming it; it
//! never hides its siblings. Everything is bounded: file size, skills per root, directory
//! entries read per root, depth.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::frontmatter::{self, OpenClawMetadata, SkillFrontmatter};

/// Whose a root is, as pi's `sourceInfo.scope` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Project,
    User,
}

/// One place skills are looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillRoot {
    pub dir: PathBuf,
    /// OpenClaw's source label (`openclaw-workspace`, `agents-skills-project`,
    /// `agents-skills-personal`, `openclaw-managed`, `openclaw-extra`) or pi's (`pi-project`,
    /// `pi-user`).
    pub source: &'static str,
    pub scope: Scope,
    /// pi's `sourceInfo.baseDir` for what is found here (`<cwd>/.pi` or the agent dir).
    pub base_dir: PathBuf,
    /// `.md` files directly in the root are skills (pi's own `skills/` folders only).
    pub root_markdown: bool,
}

/// How much discovery reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A skill file larger than this is refused (OpenClaw: 256,000 bytes).
    pub max_file_bytes: u64,
    /// Skills loaded from one root at most (OpenClaw: 200).
    pub max_skills_per_root: usize,
    /// Directory entries read under one root at most (OpenClaw: 10,000).
    pub max_entries_per_root: usize,
    /// Directory levels searched below a root (OpenClaw: 6).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 256_000,
            max_skills_per_root: 200,
            max_entries_per_root: 10_000,
            max_depth: 6,
        }
    }
}

/// A loaded skill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skill {
    pub name: String,
    pub description: String,
    /// The `SKILL.md` (or root `.md`) file.
    pub file_path: PathBuf,
    /// The directory holding it: relative references in the skill resolve here.
    pub base_dir: PathBuf,
    pub source: &'static str,
    pub scope: Scope,
    /// The root's pi `baseDir`.
    pub root_base: PathBuf,
    pub disable_model_invocation: bool,
    pub user_invocable: bool,
    pub homepage: Option<String>,
    pub openclaw: Option<OpenClawMetadata>,
    /// Agent Skills naming rules the file breaks (pi warns and loads it anyway).
    pub warnings: Vec<String>,
}

/// A skill file that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Problem {
    pub path: PathBuf,
    pub message: String,
}

/// A skill hidden by an earlier one of the same name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Shadowed {
    pub name: String,
    pub winner_path: PathBuf,
    pub loser_path: PathBuf,
}

/// What [`discover`] found.
#[derive(Debug, Clone, Default)]
pub struct Discovered {
    pub skills: Vec<Skill>,
    pub problems: Vec<Problem>,
    pub shadowed: Vec<Shadowed>,
}

/// Loads the skills under `roots`, earlier roots first.
pub fn discover(roots: &[SkillRoot], limits: &Limits) -> Discovered {
    let mut out = Discovered::default();
    let mut seen_files: Vec<PathBuf> = Vec::new();
    for root in roots {
        let mut walk = Walk {
            root,
            limits,
            entries_left: limits.max_entries_per_root,
            found: Vec::new(),
            problems: Vec::new(),
            truncated: false,
        };
        walk.dir(&root.dir, 0);
        if walk.truncated {
            walk.problems.push(Problem {
                path: root.dir.clone(),
                message: format!(
                    "skill search stopped at its limit ({} skills, {} directory entries, {} levels): some skills here were not loaded",
                    limits.max_skills_per_root, limits.max_entries_per_root, limits.max_depth
                ),
            });
        }
        out.problems.append(&mut walk.problems);
        for skill in walk.found {
            let real = std::fs::canonicalize(&skill.file_path).unwrap_or(skill.file_path.clone());
            if seen_files.contains(&real) {
                continue;
            }
            if let Some(winner) = out.skills.iter().find(|s| s.name == skill.name) {
                out.shadowed.push(Shadowed {
                    name: skill.name.clone(),
                    winner_path: winner.file_path.clone(),
                    loser_path: skill.file_path.clone(),
                });
                continue;
            }
            seen_files.push(real);
            out.skills.push(skill);
        }
    }
    out
}

struct Walk<'a> {
    root: &'a SkillRoot,
    limits: &'a Limits,
    entries_left: usize,
    found: Vec<Skill>,
    problems: Vec<Problem>,
    truncated: bool,
}

impl Walk<'_> {
    fn dir(&mut self, dir: &Path, depth: usize) {
        let skill_file = dir.join("SKILL.md");
        if std::fs::metadata(&skill_file).is_ok_and(|m| m.is_file()) {
            self.load(&skill_file);
            return;
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && depth == 0 => return,
            Err(e) => {
                self.problems.push(Problem {
                    path: dir.to_path_buf(),
                    message: format!("cannot read the directory: {e}"),
                });
                return;
            }
        };
        let mut names = Vec::new();
        for entry in entries {
            if self.entries_left == 0 {
                self.truncated = true;
                break;
            }
            self.entries_left -= 1;
            if let Ok(entry) = entry {
                names.push(entry.file_name());
            }
        }
        names.sort();
        for name in names {
            let text = name.to_string_lossy();
            if text.starts_with('.') || text == "node_modules" {
                continue;
            }
            let path = dir.join(&name);
            // Follows symlinks; a broken one is skipped, as pi does.
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                if depth + 1 > self.limits.max_depth {
                    self.truncated = true;
                    continue;
                }
                self.dir(&path, depth + 1);
            } else if meta.is_file()
                && depth == 0
                && self.root.root_markdown
                && text.ends_with(".md")
            {
                self.load(&path);
            }
        }
    }

    fn load(&mut self, file: &Path) {
        if self.found.len() >= self.limits.max_skills_per_root {
            self.truncated = true;
            return;
        }
        match load_skill(file, self.root, self.limits.max_file_bytes) {
            Ok(skill) => self.found.push(skill),
            Err(message) => self.problems.push(Problem {
                path: file.to_path_buf(),
                message,
            }),
        }
    }
}

/// Reads at most `max` bytes of a UTF-8 text file; a larger or non-text file is an error.
pub fn read_bounded(path: &Path, max: u64) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(format!("larger than the {max} bytes allowed"));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
}

fn load_skill(file: &Path, root: &SkillRoot, max: u64) -> Result<Skill, String> {
    let content = read_bounded(file, max)?;
    let split = frontmatter::split(&content);
    let fm: SkillFrontmatter = match &split.yaml {
        Some(yaml) => frontmatter::parse(yaml)?,
        None => SkillFrontmatter::default(),
    };
    let base_dir = file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let dir_name = base_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let description = fm.description.clone().unwrap_or_default();
    if description.trim().is_empty() {
        return Err("description is required".into());
    }
    let name = fm
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| dir_name.clone());
    let openclaw = match &fm.metadata {
        Some(m) => m.openclaw()?,
        None => None,
    };
    let mut warnings = name_warnings(&name, &dir_name);
    if description.chars().count() > 1024 {
        warnings.push(format!(
            "description exceeds 1024 characters ({})",
            description.chars().count()
        ));
    }
    Ok(Skill {
        name,
        description,
        file_path: file.to_path_buf(),
        base_dir,
        source: root.source,
        scope: root.scope,
        root_base: root.base_dir.clone(),
        disable_model_invocation: fm.disable_model_invocation == Some(true),
        user_invocable: fm.user_invocable != Some(false),
        homepage: fm.homepage,
        openclaw,
        warnings,
    })
}

/// The Agent Skills naming rules (pi reports them as warnings and loads the skill anyway).
fn name_warnings(name: &str, dir_name: &str) -> Vec<String> {
    let mut out = Vec::new();
    if name != dir_name {
        out.push(format!(
            "name \"{name}\" does not match parent directory \"{dir_name}\""
        ));
    }
    if name.chars().count() > 64 {
        out.push(format!(
            "name exceeds 64 characters ({})",
            name.chars().count()
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        out.push(
            "name contains invalid characters (must be lowercase a-z, 0-9, hyphens only)".into(),
        );
    }
    if name.starts_with('-') || name.ends_with('-') {
        out.push("name must not start or end with a hyphen".into());
    }
    if name.contains("--") {
        out.push("name must not contain consecutive hyphens".into());
    }
    out
}
