//! Agent workspaces: the folder each agent works in, seeded on first use with the bootstrap
//! files (AGENTS.md, SOUL.md, IDENTITY.md, USER.md, TOOLS.md, MEMORY.md, and BOOTSTRAP.md for
//! a brand-new workspace) from our own templates, and the "Project Context" block built from
//! them for the system prompt, with OpenClaw's limits: `agents.defaults.bootstrapMaxChars`
//! (20,000 per file, the v4 default) and `agents.defaults.bootstrapTotalMaxChars` (60,000).
//! `agents.files.*` read and write these files.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// Files injected into the system prompt, in this order.
pub const BOOTSTRAP_FILES: &[&str] = &[
    "AGENTS.md",
    "SOUL.md",
    "TOOLS.md",
    "IDENTITY.md",
    "USER.md",
    "BOOTSTRAP.md",
    "MEMORY.md",
];

/// Files `agents.files.*` may touch (the bootstrap set plus the optional ones).
pub const EDITABLE_FILES: &[&str] = &[
    "AGENTS.md",
    "SOUL.md",
    "TOOLS.md",
    "IDENTITY.md",
    "USER.md",
    "BOOTSTRAP.md",
    "MEMORY.md",
    "HEARTBEAT.md",
    "BOOT.md",
];

/// OpenClaw's v4 default per-file limit.
pub const DEFAULT_MAX_CHARS: usize = 20_000;
/// OpenClaw's default total limit (both versions).
pub const DEFAULT_TOTAL_MAX_CHARS: usize = 60_000;

fn template(name: &str, agent_id: &str) -> String {
    match name {
        "AGENTS.md" => format!(
            "# Operating notes for agent `{agent_id}`\n\n\
             - This folder is your workspace. Keep your working files here.\n\
             - Read SOUL.md for tone, USER.md for who you help, TOOLS.md for local tool notes.\n\
             - Write lasting facts worth remembering into MEMORY.md; keep it short and current.\n\
             - Ask before doing anything destructive or anything that leaves this machine.\n"
        ),
        "SOUL.md" => "# Persona\n\n\
             Be direct, warm and useful. Prefer doing over describing. Say so plainly when you \
             are unsure, and keep answers as short as the question allows.\n"
            .to_owned(),
        "TOOLS.md" => "# Tool notes\n\n\
             Notes about the tools and conventions of this machine (paths, commands, services). \
             Nothing recorded yet.\n"
            .to_owned(),
        "IDENTITY.md" => {
            format!("# Identity\n\n- Name: {agent_id}\n- Vibe: calm and capable\n- Emoji: 🦞\n")
        }
        "USER.md" => "# The user\n\n\
             Nothing known yet. Add the user's name, preferences and time zone as you learn them.\n"
            .to_owned(),
        "MEMORY.md" => "# Memory\n\nLong-term notes. Empty so far.\n".to_owned(),
        "BOOTSTRAP.md" => "# First run\n\n\
             This workspace is new. In your first conversation, introduce yourself briefly, ask \
             the user how they would like to be addressed, and record what you learn in USER.md \
             and IDENTITY.md. Delete this file once that is done.\n"
            .to_owned(),
        _ => String::new(),
    }
}

/// Creates the workspace and any missing bootstrap file (BOOTSTRAP.md only when the folder
/// did not exist yet). `skip` (`agents.defaults.skipBootstrap`) only creates the folder.
pub fn seed(workspace: &Path, agent_id: &str, skip: bool) -> std::io::Result<()> {
    let brand_new = !workspace.exists();
    std::fs::create_dir_all(workspace)?;
    if skip {
        return Ok(());
    }
    for name in BOOTSTRAP_FILES {
        if *name == "BOOTSTRAP.md" && !brand_new {
            continue;
        }
        let path = workspace.join(name);
        if !path.exists() {
            std::fs::write(&path, template(name, agent_id))?;
        }
    }
    Ok(())
}

/// Cuts `text` to `max` characters, keeping the head and the tail around a marker.
fn clip(text: &str, max: usize, name: &str) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_owned();
    }
    let head = max * 7 / 10;
    let tail = max / 5;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(count - tail).collect();
    format!("{start}\n\n[… {name} truncated: {count} characters, limit {max} …]\n\n{end}")
}

/// The "Project Context" block: each bootstrap file under its own heading, a marker for a
/// missing one, each clipped to `per_file` and the whole to `total` characters.
pub fn project_context(workspace: &Path, per_file: usize, total: usize) -> String {
    let mut out = String::from(PROJECT_CONTEXT_HEAD);
    let mut used = 0usize;
    for name in BOOTSTRAP_FILES {
        let path = workspace.join(name);
        let body = match std::fs::read_to_string(&path) {
            Ok(text) => clip(text.trim_end(), per_file, name),
            Err(_) if *name == "BOOTSTRAP.md" || *name == "MEMORY.md" => continue,
            Err(_) => format!("[missing file: {}]", path.display()),
        };
        let remaining = total.saturating_sub(used);
        if remaining == 0 {
            out.push_str(&format!(
                "\n## {name}\n\n[omitted: total context limit {total} reached]\n"
            ));
            continue;
        }
        let body = clip(&body, remaining, name);
        used += body.chars().count();
        out.push_str(&format!("\n## {name}\n\n{body}\n"));
    }
    out
}

/// The first line of [`project_context`]'s section in a system prompt.
const PROJECT_CONTEXT_HEAD: &str =
    "# Project Context\n\nThe following workspace files were loaded:\n";

/// `system_prompt` in light context (OpenClaw's `lightContext` / lightweight bootstrap): the
/// workspace files sections (the gateway's and pi's context files after it) replaced by
/// HEARTBEAT.md alone (`keep`, already rendered; empty for none); everything else — pi's
/// instructions, skills, date — kept.
pub fn light_prompt(system_prompt: &str, keep: &str) -> String {
    let Some(start) = system_prompt.find(PROJECT_CONTEXT_HEAD) else {
        return system_prompt.to_owned();
    };
    let rest = &system_prompt[start..];
    let end = [
        rest.find("\n\nThe following skills provide"),
        rest.rfind("\nCurrent date: "),
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(rest.len());
    let mut out = system_prompt[..start].to_owned();
    out.push_str(keep);
    out.push_str(&rest[end..]);
    out
}

/// The light context's one file: HEARTBEAT.md, clipped at `per_file` characters (empty when
/// there is none).
pub fn heartbeat_context(workspace: &Path, per_file: usize) -> String {
    match std::fs::read_to_string(workspace.join("HEARTBEAT.md")) {
        Ok(text) => format!(
            "{PROJECT_CONTEXT_HEAD}\n## HEARTBEAT.md\n\n{}\n",
            clip(text.trim_end(), per_file, "HEARTBEAT.md")
        ),
        Err(_) => String::new(),
    }
}

pub use openclaw_core::tool::path::confine;

fn file_row(workspace: &Path, name: &str, with_content: bool) -> Result<Value, String> {
    let path = workspace.join(name);
    // A bootstrap file that is a link out of the workspace is neither read nor described.
    confine(workspace, &path)?;
    Ok(match std::fs::metadata(&path) {
        Ok(meta) => {
            let updated = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_millis() as u64);
            let mut row = json!({"name": name, "path": path.display().to_string(), "missing": false,
                "size": meta.len(), "updatedAtMs": updated});
            if with_content {
                row["content"] = json!(std::fs::read_to_string(&path).unwrap_or_default());
            }
            row
        }
        Err(_) => json!({"name": name, "path": path.display().to_string(), "missing": true}),
    })
}

/// `agents.files.list` rows (a file linking out of the workspace is listed as missing).
pub fn list_files(workspace: &Path) -> Vec<Value> {
    EDITABLE_FILES
        .iter()
        .filter(|n| **n != "BOOT.md" && **n != "HEARTBEAT.md" || workspace.join(n).exists())
        .map(|n| {
            file_row(workspace, n, false).unwrap_or_else(|_| {
                json!({"name": n, "path": workspace.join(n).display().to_string(), "missing": true})
            })
        })
        .collect()
}

/// One file with its content (`agents.files.get`).
pub fn get_file(workspace: &Path, name: &str) -> Result<Value, String> {
    file_row(workspace, name, true)
}

/// Writes one file (`agents.files.set`) and returns its row; a link out of the workspace is
/// refused rather than replaced.
pub fn set_file(workspace: &Path, name: &str, content: &str) -> Result<Value, String> {
    let path: PathBuf = workspace.join(name);
    confine(workspace, &path)?;
    openclaw_core::fsutil::atomic_write(
        &path,
        content.as_bytes(),
        openclaw_core::fsutil::Permissions::Default,
    )
    .map_err(|e| e.to_string())?;
    file_row(workspace, name, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_once_and_injects_with_limits() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("workspace");
        seed(&ws, "main", false).unwrap();
        assert!(ws.join("BOOTSTRAP.md").exists());
        std::fs::remove_file(ws.join("BOOTSTRAP.md")).unwrap();
        std::fs::write(ws.join("SOUL.md"), "x".repeat(50)).unwrap();
        seed(&ws, "main", false).unwrap();
        assert!(
            !ws.join("BOOTSTRAP.md").exists(),
            "only a new workspace gets BOOTSTRAP.md"
        );
        assert_eq!(
            std::fs::read_to_string(ws.join("SOUL.md")).unwrap().len(),
            50
        );
        let ctx = project_context(&ws, 20, 10_000);
        assert!(ctx.contains("## SOUL.md"));
        assert!(ctx.contains("SOUL.md truncated: 50 characters, limit 20"));
        std::fs::remove_file(ws.join("USER.md")).unwrap();
        assert!(project_context(&ws, 100, 10_000).contains("[missing file:"));
        let small = project_context(&ws, 1000, 30);
        assert!(small.contains("total context limit 30 reached"));
    }
}
