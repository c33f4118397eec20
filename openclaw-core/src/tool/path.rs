//! Path resolution for the tools, as pi does it: odd Unicode spaces become plain spaces, a
//! leading `@` is dropped, `~` is the home directory, and relative paths are resolved against
//! the tool's working directory (lexically, like Node's `path.resolve`).

use std::path::{Component, Path, PathBuf};

use unicode_normalization::UnicodeNormalization;

fn is_odd_space(c: char) -> bool {
    matches!(
        c,
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Normalise the spelling of a path the model gave: spaces, `@` prefix, `~`.
pub fn expand_path(raw: &str) -> String {
    let spaced: String = raw
        .chars()
        .map(|c| if is_odd_space(c) { ' ' } else { c })
        .collect();
    let stripped = spaced.strip_prefix('@').unwrap_or(&spaced);
    let home = || dirs::home_dir().map(|h| h.to_string_lossy().into_owned());
    if stripped == "~" {
        if let Some(h) = home() {
            return h;
        }
    } else if let Some(rest) = stripped.strip_prefix("~/") {
        if let Some(h) = home() {
            return format!("{}/{}", h.trim_end_matches('/'), rest);
        }
    }
    stripped.to_string()
}

/// Remove `.` and resolve `..` without touching the filesystem.
pub fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// The directory (or file) a search tool works on: its optional `path` argument resolved
/// against `cwd`, the cwd itself when absent or empty.
pub fn search_root(path: Option<&str>, cwd: &Path) -> PathBuf {
    resolve_to_cwd(path.filter(|p| !p.is_empty()).unwrap_or("."), cwd)
}

/// The absolute path `raw` names, relative paths taken from `cwd`.
pub fn resolve_to_cwd(raw: &str, cwd: &Path) -> PathBuf {
    let expanded = expand_path(raw);
    let p = Path::new(&expanded);
    if p.is_absolute() {
        normalize_lexically(p)
    } else {
        normalize_lexically(&cwd.join(p))
    }
}

/// Like [`resolve_to_cwd`], but when the file does not exist tries the spellings macOS uses in
/// screenshot names (narrow no-break space before AM/PM, decomposed Unicode, curly quote).
pub fn resolve_read_path(raw: &str, cwd: &Path) -> PathBuf {
    let resolved = resolve_to_cwd(raw, cwd);
    if resolved.exists() {
        return resolved;
    }
    let s = resolved.to_string_lossy().into_owned();
    let am_pm = s
        .replace(" AM.", "\u{202F}AM.")
        .replace(" PM.", "\u{202F}PM.");
    let nfd: String = s.nfd().collect();
    let curly = s.replace('\'', "\u{2019}");
    let nfd_curly: String = curly.nfd().collect();
    for candidate in [am_pm, nfd, curly, nfd_curly] {
        if candidate != s && Path::new(&candidate).exists() {
            return PathBuf::from(candidate);
        }
    }
    resolved
}

/// An IO error worded as Node words it (`ENOENT: no such file or directory, access '<path>'`),
/// which is what pi's tools report.
pub fn node_io_error(err: &std::io::Error, syscall: &str, path: &Path) -> String {
    use std::io::ErrorKind;
    let p = path.display();
    match err.kind() {
        ErrorKind::NotFound => format!("ENOENT: no such file or directory, {syscall} '{p}'"),
        ErrorKind::PermissionDenied => format!("EACCES: permission denied, {syscall} '{p}'"),
        ErrorKind::IsADirectory => format!("EISDIR: illegal operation on a directory, {syscall}"),
        ErrorKind::NotADirectory => format!("ENOTDIR: not a directory, {syscall} '{p}'"),
        _ => format!("{err}, {syscall} '{p}'"),
    }
}

/// Where `path` really is, every symlink on the way resolved (the part that does not exist yet
/// taken as written); an error unless that is inside `workspace`. A dangling link is refused:
/// writing through it would create its target wherever it points.
pub fn confine(workspace: &Path, path: &Path) -> Result<PathBuf, String> {
    let outside = || {
        format!(
            "{} is outside the agent's workspace {}",
            path.display(),
            workspace.display()
        )
    };
    let root = match std::fs::canonicalize(workspace) {
        Ok(r) => r,
        // Nothing exists under a workspace not yet created, so no link can lead out of it.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return if path.starts_with(workspace) {
                Ok(path.to_path_buf())
            } else {
                Err(outside())
            };
        }
        Err(e) => {
            return Err(format!(
                "cannot open the workspace {}: {e}",
                workspace.display()
            ));
        }
    };
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        match std::fs::symlink_metadata(&existing) {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                rest.push(existing.file_name().ok_or_else(outside)?.to_owned());
                if !existing.pop() {
                    return Err(outside());
                }
            }
            Err(e) => return Err(format!("{}: {e}", existing.display())),
        }
    }
    let mut real = std::fs::canonicalize(&existing).map_err(|_| outside())?;
    for name in rest.iter().rev() {
        real.push(name);
    }
    if real.starts_with(&root) {
        Ok(real)
    } else {
        Err(outside())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_at_and_dots() {
        let cwd = Path::new("/work/proj");
        assert_eq!(
            resolve_to_cwd("a.txt", cwd),
            PathBuf::from("/work/proj/a.txt")
        );
        assert_eq!(
            resolve_to_cwd("@src/b.rs", cwd),
            PathBuf::from("/work/proj/src/b.rs")
        );
        assert_eq!(
            resolve_to_cwd("./x/../y", cwd),
            PathBuf::from("/work/proj/y")
        );
        assert_eq!(
            resolve_to_cwd("/etc/hosts", cwd),
            PathBuf::from("/etc/hosts")
        );
        assert_eq!(resolve_to_cwd(".", cwd), PathBuf::from("/work/proj"));
        assert_eq!(
            resolve_to_cwd("a\u{00A0}b", cwd),
            PathBuf::from("/work/proj/a b")
        );
    }

    #[test]
    fn expands_home() {
        let Some(home) = crate::testing::prereq::home_dir() else {
            return;
        };
        assert_eq!(resolve_to_cwd("~/f", Path::new("/x")), home.join("f"));
        assert_eq!(
            resolve_to_cwd("~", Path::new("/x")),
            normalize_lexically(&home)
        );
    }

    #[test]
    fn read_path_finds_screenshot_spelling() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("Shot 10.00.00\u{202F}AM.png");
        std::fs::write(&real, b"x").unwrap();
        let got = resolve_read_path("Shot 10.00.00 AM.png", dir.path());
        assert_eq!(got, real);
    }
}
