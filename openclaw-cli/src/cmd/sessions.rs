//! `openclaw sessions list|show|export|archive|delete` over the agents' session directories
//! (see [`super::store`]); reading and rendering is openclaw-core's session module.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use openclaw_core::config::OpenClawConfig;
use serde_json::{Value, json};

use super::sessions_export::{load_messages, message_line, to_html, to_markdown};
use super::store::{self, Found};
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

fn key_index(agent: &str) -> Vec<(String, String)> {
    // (session id, key) pairs from the store.
    store::load_store(agent)
        .into_iter()
        .filter_map(|(k, v)| {
            v.get("sessionId")
                .and_then(Value::as_str)
                .map(|id| (id.to_string(), k))
        })
        .collect()
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

fn list(cfg: &OpenClawConfig, agent: Option<String>, as_json: bool) -> CliResult {
    let agent_filter_is_none = agent.is_none();
    let mut rows = Vec::new();
    for a in agents_for(cfg, agent)? {
        let keys = key_index(&a);
        for s in store::agent_sessions(&a) {
            let key = keys
                .iter()
                .find(|(id, _)| *id == s.id)
                .map(|(_, k)| k.clone());
            rows.push((a.clone(), key, s));
        }
    }
    if agent_filter_is_none {
        for s in store::local_sessions() {
            rows.push(("local".into(), None, s));
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.2.modified));
    if as_json {
        let out: Vec<Value> = rows
            .iter()
            .map(|(a, k, s)| {
                json!({
                    "agentId": a, "key": k, "sessionId": s.id, "path": s.path, "name": s.name,
                    "created": s.created, "modified": iso_time(s.modified),
                    "messageCount": s.message_count, "firstMessage": s.first_message,
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
    let mut t = Table::new(&[
        "agent",
        "key / id",
        "modified",
        "msgs",
        "name / first message",
    ]);
    for (a, k, s) in &rows {
        let title = s
            .name
            .clone()
            .unwrap_or_else(|| one_line(&s.first_message, 50));
        let id = k.clone().unwrap_or_else(|| s.id.clone());
        t.row(vec![
            a.clone(),
            id,
            format_time(s.modified),
            s.message_count.to_string(),
            title,
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

fn delete(cfg: &OpenClawConfig, what: &str, as_json: bool) -> CliResult {
    let Found { agent, key, path } = store::find(cfg, what)?;
    std::fs::remove_file(&path)
        .map_err(|e| CliError::failure(format!("cannot delete {}: {e}", path.display())))?;
    if let Some(agent) = &agent {
        let mut st = store::load_store(agent);
        let id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let before = st.len();
        st.retain(|k, v| {
            Some(k) != key.as_ref()
                && v.get("sessionId").and_then(Value::as_str) != Some(id.as_str())
        });
        if st.len() != before {
            store::save_store(agent, &st)?;
        }
    }
    if as_json {
        print_json(&json!({ "deleted": path, "key": key }));
    } else {
        crate::out!("Deleted {}", path.display());
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
