//! `@path` mentions: a lazily built index of the working tree (respecting .gitignore through
//! the `ignore` crate) and fuzzy matching over it (nucleo).

use std::path::{Path, PathBuf};

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher};

/// Files indexed at most (so a mention in a huge tree stays quick).
const MAX_FILES: usize = 20_000;

/// The files under a root, built on first use.
#[derive(Debug)]
pub struct FileIndex {
    root: PathBuf,
    files: Option<Vec<String>>,
}

impl FileIndex {
    /// An index of `root` (nothing is read until the first search).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FileIndex {
            root: root.into(),
            files: None,
        }
    }

    fn files(&mut self) -> &[String] {
        let root = self.root.clone();
        self.files.get_or_insert_with(|| walk(&root))
    }

    /// The best `limit` paths matching `query` (fuzzy; empty query lists the first files).
    pub fn search(&mut self, query: &str, limit: usize) -> Vec<String> {
        let files = self.files();
        if query.is_empty() {
            return files.iter().take(limit).cloned().collect();
        }
        let mut matcher = Matcher::new(Config::DEFAULT.match_paths());
        let pattern = Pattern::parse(query, CaseMatching::Smart, Normalization::Smart);
        let mut hits = pattern.match_list(files.iter(), &mut matcher);
        // Prefer shorter paths among equal scores.
        hits.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.len().cmp(&b.0.len())));
        hits.into_iter()
            .take(limit)
            .map(|(p, _)| p.clone())
            .collect()
    }
}

fn walk(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .require_git(false)
        .max_depth(Some(16))
        .build();
    for entry in walker.flatten() {
        if out.len() >= MAX_FILES {
            break;
        }
        let Ok(rel) = entry.path().strip_prefix(root) else {
            continue;
        };
        if rel.as_os_str().is_empty() {
            continue;
        }
        let mut s = rel.to_string_lossy().replace('\\', "/");
        if entry.file_type().is_some_and(|t| t.is_dir()) {
            s.push('/');
        }
        out.push(s);
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_search_respects_gitignore() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/tui")).unwrap();
        std::fs::create_dir_all(root.join("target")).unwrap();
        std::fs::write(root.join(".gitignore"), "target/\n").unwrap();
        std::fs::write(root.join("src/tui/composer.rs"), "").unwrap();
        std::fs::write(root.join("src/main.rs"), "").unwrap();
        std::fs::write(root.join("target/composer.rs"), "").unwrap();
        let mut idx = FileIndex::new(root);
        let hits = idx.search("cmpsr", 5);
        assert_eq!(hits, vec!["src/tui/composer.rs".to_string()]);
        assert!(idx.search("", 100).iter().all(|p| !p.starts_with("target")));
    }
}
