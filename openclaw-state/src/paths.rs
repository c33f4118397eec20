//! Where things live under a state dir, and transcript paths stored relative to it: a copied
//! or moved state dir keeps working and never writes into the original's files, and a stored
//! path can never point outside the state dir.

use std::path::{Component, Path, PathBuf};

/// The database file: `<stateDir>/state.sqlite`.
pub fn database(state_dir: &Path) -> PathBuf {
    state_dir.join("state.sqlite")
}

/// The gateway's lock file: `<stateDir>/gateway.lock`.
pub fn gateway_lock(state_dir: &Path) -> PathBuf {
    state_dir.join("gateway.lock")
}

/// An agent's transcripts folder: `<stateDir>/agents/<agentId>/sessions`.
pub fn sessions_dir(state_dir: &Path, agent_id: &str) -> PathBuf {
    state_dir.join("agents").join(agent_id).join("sessions")
}

/// The stored form of a transcript path: relative to `state_dir`, `/`-separated. `None` when
/// the file is not under the state dir.
pub fn to_relative(state_dir: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(state_dir).ok()?;
    let parts: Vec<&str> = rel
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect::<Option<_>>()?;
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// The file a stored path names. `None` for a path that is absolute or climbs out of the
/// state dir (a hand-edited or hostile database row).
pub fn resolve(state_dir: &Path, stored: &str) -> Option<PathBuf> {
    let rel = Path::new(stored);
    let safe = !stored.is_empty()
        && rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    safe.then(|| state_dir.join(rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_paths_are_relative_and_stay_inside() {
        let dir = Path::new("/home/u/.openclaw");
        let file = dir.join("agents/main/sessions/a.jsonl");
        let rel = to_relative(dir, &file).unwrap();
        assert_eq!(rel, "agents/main/sessions/a.jsonl");
        assert_eq!(
            resolve(Path::new("/copy"), &rel).unwrap(),
            Path::new("/copy").join(&rel)
        );
        assert_eq!(to_relative(dir, Path::new("/elsewhere/a.jsonl")), None);
        assert_eq!(resolve(dir, "/etc/passwd"), None);
        assert_eq!(resolve(dir, "agents/../../x"), None);
        assert_eq!(resolve(dir, ""), None);
    }
}
