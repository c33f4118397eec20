//! The directory walk shared by `grep` and `find`: hidden files included, `.gitignore`/`.ignore`
//! honoured as ripgrep and fd do, `.git` itself skipped, entries in file-name order.

use std::path::Path;

use ignore::WalkBuilder;
use ignore::overrides::Override;

/// A walker over `root`. `require_git`: honour `.gitignore` only inside a git repository
/// (ripgrep's default; pi's fd call passes `--no-require-git`).
pub fn walker(root: &Path, require_git: bool, overrides: Option<Override>) -> ignore::Walk {
    let mut b = WalkBuilder::new(root);
    b.hidden(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(true)
        .ignore(true)
        .parents(true)
        .require_git(require_git)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .filter_entry(|e| e.file_name() != ".git");
    if let Some(o) = overrides {
        b.overrides(o);
    }
    b.build()
}

/// `path` relative to `root`, with `/` separators.
pub fn relative_posix(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
