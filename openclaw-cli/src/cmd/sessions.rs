//! `openclaw sessions list|show|export|archive|delete` over the agents' session directories
//! (see [`super::store`]); reading and rendering is openclaw-core's session module.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use openclaw_core::config::OpenClawConfig;
use openclaw_state::{SessionQuery, StateStore};
use serde_json::{Value, json};

use super::sessions_export::{load_messages, message_line, to_html, to_markdown};
use super::store;
use crate::cli::{ExportFormat, SessionsCmd};
use crate::error::{CliError, CliResult};
use crate::output::{Table, format_time, iso_time, one_line, print_json};

/// Parses `7d`, `12h`, `30m`, `45s`, `2w`.
pub fn parse_age(s: &str) -> CliResult<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| {
        CliError::usage(format!("invalid age \"{s}\""))
            .hint("use a number and a unit: 30m, 12h, 7d, 2w")
    })?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" | "" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(
                CliError::usage(format!("invalid age unit \"{unit}\"")).hint("use s, m, h, d or w")
            );
        }
    };
    Ok(Duration::from_secs(n * secs))
}

pub fn run(cmd: SessionsCmd) -> CliResult {
    let cfg = OpenClawConfig::load()?;
    match cmd {
        SessionsCmd::List { agent, json } => list(&cfg, agent, json.json),
        SessionsCmd::Show { key_or_id, json } => show(&cfg, &key_or_id, json.json),
        SessionsCmd::Export {
            key_or_id,
            format,
            output,
        } => export(&cfg, &key_or_id, format, output),
        SessionsCmd::Archive {
            older_than,
            agent,
            dry_run,
            json,
        } => archive(&cfg, &older_than, agent, dry_run, json.json),
        SessionsCmd::Delete { key_or_id, json } => delete(&cfg, &key_or_id, json.json),
    }
}

fn agents_for(cfg: &OpenClawConfig, agent: Option<String>) -> CliResult<Vec<String>> {
    let all = store::agent_ids(cfg);
    match agent {
        Some(a) if all.contains(&a) => Ok(vec![a]),
        Some(a) => Err(CliError::usage(format!("unknown agent \"{a}\""))
            .hint(format!("known agents: {}", all.join(", ")))),
        None => Ok(all),
    }
}

/// One line of `sessions list`.
struct Listed {
    agent: String,
    key: Option<String>,
    id: String,
    path: Option<PathBuf>,
    modified: SystemTime,
    title: String,
    /// The first user message (local sessions, whose listing reads it anyway).
    first_message: Option<String>,
}

/// The agents' sessions from the index (one query, no transcript read), then the in-process
/// engine's local sessions; newest first.
fn list(cfg: &OpenClawConfig, agent: Option<String>, as_json: bool) -> CliResult {
    let agent_filter_is_none = agent.is_none();
    let agents = agents_for(cfg, agent)?;
    let state = store::open_state()?;
    let page = state
        .list_sessions(&SessionQuery {
            agent_ids: Some(agents),
            ..SessionQuery::default()
        })
        .map_err(store::state_err)?;
    let mut rows: Vec<Listed> = page
        .rows
        .iter()
        .map(|r| Listed {
            agent: r.agent_id.clone(),
            key: Some(r.key.clone()),
            id: r.session_id.clone().unwrap_or_default(),
            path: state.transcript_path(r),
            modified: SystemTime::UNIX_EPOCH + Duration::from_millis(r.updated_at),
            title: r
                .label
                .clone()
                .or_else(|| r.meta.display_name.clone())
                .unwrap_or_default(),
            first_message: None,
        })
        .collect();
    if agent_filter_is_none {
        for s in store::local_sessions() {
            rows.push(Listed {
                agent: "local".into(),
                key: None,
                id: s.id,
                path: Some(s.path),
                modified: s.modified,
                title: s.name.unwrap_or_else(|| one_line(&s.first_message, 50)),
                first_message: Some(s.first_message),
            });
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.modified));
    if as_json {
        let out: Vec<Value> = rows
            .iter()
            .map(|r| {
                json!({
                    "agentId": r.agent, "key": r.key, "sessionId": r.id, "path": r.path,
                    "modified": iso_time(r.modified), "title": r.title,
                    "firstMessage": r.first_message,
                })
            })
            .collect();
        print_json(&json!({ "sessions": out }));
        return Ok(());
    }
    if rows.is_empty() {
        crate::out!("No sessions yet. Start one with `openclaw`.");
        return Ok(());
    }
    let mut t = Table::new(&["agent", "key / id", "modified", "label / first message"]);
    for r in rows {
        t.row(vec![
            r.agent,
            r.key.unwrap_or(r.id),
            format_time(r.modified),
            r.title,
        ]);
    }
    t.print();
    Ok(())
}

fn show(cfg: &OpenClawConfig, what: &str, as_json: bool) -> CliResult {
    let found = store::find(cfg, what)?;
    let (name, messages) = load_messages(&found.path)?;
    if as_json {
        print_json(&json!({
            "path": found.path, "agentId": found.agent, "key": found.key, "name": name,
            "messages": messages,
        }));
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{}{}",
        found.path.display(),
        name.map(|n| format!("  ({n})")).unwrap_or_default()
    );
    for m in &messages {
        let (role, text) = message_line(m);
        let _ = writeln!(out, "{role:>10}  {}", one_line(&text, 110));
    }
    Ok(())
}

fn export(
    cfg: &OpenClawConfig,
    what: &str,
    format: ExportFormat,
    output: Option<PathBuf>,
) -> CliResult {
    let found = store::find(cfg, what)?;
    let body = match format {
        ExportFormat::Jsonl => std::fs::read_to_string(&found.path)?,
        ExportFormat::Md | ExportFormat::Html => {
            let (name, messages) = load_messages(&found.path)?;
            let title = name.unwrap_or_else(|| {
                found
                    .path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
            if format == ExportFormat::Md {
                to_markdown(&title, &messages)
            } else {
                to_html(&title, &messages)
            }
        }
    };
    match output {
        Some(p) => {
            std::fs::write(&p, body)
                .map_err(|e| CliError::failure(format!("cannot write {}: {e}", p.display())))?;
            eprintln!("Wrote {}", p.display());
        }
        None => {
            let _ = std::io::stdout().lock().write_all(body.as_bytes());
        }
    }
    Ok(())
}

fn archive(
    cfg: &OpenClawConfig,
    age: &str,
    agent: Option<String>,
    dry_run: bool,
    as_json: bool,
) -> CliResult {
    let age = parse_age(age)?;
    let cutoff = SystemTime::now()
        .checked_sub(age)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut todo: Vec<(String, PathBuf)> = Vec::new();
    if agent.is_none() {
        for s in store::local_sessions() {
            if s.modified < cutoff {
                todo.push(("local".into(), s.path));
            }
        }
    }
    for a in agents_for(cfg, agent)? {
        for s in store::agent_sessions(&a) {
            if s.modified < cutoff {
                todo.push((a.clone(), s.path));
            }
        }
    }
    let show_bar = !as_json && !dry_run && todo.len() >= 20 && std::io::stderr().is_terminal();
    let bar = show_bar.then(|| {
        let b = indicatif::ProgressBar::new(todo.len() as u64);
        if let Ok(style) =
            indicatif::ProgressStyle::with_template("archiving {bar:40} {pos}/{len} {wide_msg}")
        {
            b.set_style(style);
        }
        b
    });
    let mut moved = Vec::new();
    for (agent, path) in &todo {
        if let Some(b) = &bar {
            b.set_message(
                path.file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
        }
        let Some(dir) = path.parent() else { continue };
        let dest_dir = dir.join("archive");
        let dest = dest_dir.join(path.file_name().unwrap_or_default());
        if !dry_run {
            std::fs::create_dir_all(&dest_dir)?;
            std::fs::rename(path, &dest)
                .map_err(|e| CliError::failure(format!("cannot move {}: {e}", path.display())))?;
        }
        moved.push(json!({ "agentId": agent, "from": path, "to": dest }));
        if let Some(b) = &bar {
            b.inc(1);
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if as_json {
        print_json(&json!({ "dryRun": dry_run, "archived": moved }));
    } else if dry_run {
        crate::out!("Would archive {} session(s).", moved.len());
        for m in &moved {
            crate::out!("  {}", m["from"].as_str().unwrap_or_default());
        }
    } else {
        crate::out!("Archived {} session(s).", moved.len());
    }
    Ok(())
}

/// Removes the session's index row (found by key or session id) and its transcript. The row
/// goes first, in the database the gateway reads, so a running gateway does not bring it back.
fn delete(cfg: &OpenClawConfig, what: &str, as_json: bool) -> CliResult {
    let found = store::find(cfg, what)?;
    let state = store::open_state()?;
    let row = match (&found.key, &found.session_id) {
        (Some(key), _) => Some(key.clone()),
        (None, Some(id)) => state
            .session_by_id(id)
            .map_err(store::state_err)?
            .map(|r| r.key),
        (None, None) => None,
    };
    if let Some(key) = &row {
        state.delete_session(key).map_err(store::state_err)?;
    }
    match std::fs::remove_file(&found.path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && row.is_some() => {}
        Err(e) => {
            return Err(CliError::failure(format!(
                "cannot delete {}: {e}",
                found.path.display()
            )));
        }
    }
    if as_json {
        print_json(&json!({ "deleted": found.path, "key": row }));
    } else {
        crate::out!("Deleted {}", found.path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_parse_with_units() {
        assert_eq!(parse_age("7d").unwrap(), Duration::from_secs(7 * 86_400));
        assert_eq!(parse_age("30m").unwrap(), Duration::from_secs(1800));
        assert_eq!(parse_age("x").unwrap_err().code, 2);
        assert_eq!(parse_age("5y").unwrap_err().code, 2);
    }
}
