//! `openclaw agents list|status|config`: the agents of openclaw.json (`agents.list`) and their
//! session directories; edits go through the same JSON5 reader/writer as `openclaw config`.

use openclaw_core::config::{self, OpenClawConfig};
use serde_json::{Value, json};

use super::config::{get_path, parse_value, read_raw, redact, set_in_file, set_path};
use super::store;
use crate::cli::{AgentConfigAction, AgentsCmd};
use crate::error::{CliError, CliResult};
use crate::output::{Table, format_time, iso_time, print_json};

fn agent_entry(doc: &Value, id: &str) -> Option<(usize, Value)> {
    doc.pointer("/agents/list")
        .and_then(Value::as_array)?
        .iter()
        .enumerate()
        .find(|(_, a)| a.get("id").and_then(Value::as_str) == Some(id))
        .map(|(i, a)| (i, a.clone()))
}

fn model_of(cfg: &OpenClawConfig, id: &str) -> Option<String> {
    cfg.agents
        .list
        .iter()
        .find(|a| a.id == id)
        .and_then(|a| a.model.primary().map(str::to_string))
        .or_else(|| cfg.agents.defaults.model.primary().map(str::to_string))
}

fn summary(cfg: &OpenClawConfig, id: &str) -> Value {
    let sessions = store::agent_sessions(id);
    let last = sessions.first().map(|s| s.modified);
    json!({
        "id": id,
        "configured": cfg.agents.list.iter().any(|a| a.id == id),
        "model": model_of(cfg, id),
        "workspace": cfg.section("agents").and_then(|a| a.get("list")).and_then(Value::as_array)
            .and_then(|l| l.iter().find(|a| a.get("id").and_then(Value::as_str) == Some(id)))
            .and_then(|a| a.get("workspace")).cloned(),
        "sessionsDir": store::sessions_dir(id),
        "sessions": sessions.len(),
        "lastActive": last.map(iso_time),
    })
}

fn known(cfg: &OpenClawConfig, id: &str) -> CliResult {
    let ids = store::agent_ids(cfg);
    if ids.iter().any(|i| i == id) {
        Ok(())
    } else {
        Err(CliError::usage(format!("unknown agent \"{id}\""))
            .hint(format!("known agents: {}", ids.join(", "))))
    }
}

pub fn run(cmd: AgentsCmd) -> CliResult {
    let cfg = OpenClawConfig::load()?;
    match cmd {
        AgentsCmd::List(json) => {
            let ids = store::agent_ids(&cfg);
            if json.json {
                let rows: Vec<Value> = ids.iter().map(|id| summary(&cfg, id)).collect();
                print_json(&json!({ "agents": rows }));
                return Ok(());
            }
            let mut t = Table::new(&["id", "model", "sessions", "last active"]);
            for id in &ids {
                let sessions = store::agent_sessions(id);
                t.row(vec![
                    id.clone(),
                    model_of(&cfg, id).unwrap_or_else(|| "(default)".into()),
                    sessions.len().to_string(),
                    sessions
                        .first()
                        .map(|s| format_time(s.modified))
                        .unwrap_or_else(|| "-".into()),
                ]);
            }
            t.print();
            Ok(())
        }
        AgentsCmd::Status { id, json } => {
            known(&cfg, &id)?;
            let s = summary(&cfg, &id);
            if json.json {
                print_json(&s);
            } else {
                for (k, v) in s.as_object().into_iter().flatten() {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => "-".into(),
                        other => other.to_string(),
                    };
                    crate::out!("{k:>12}  {v}");
                }
            }
            Ok(())
        }
        AgentsCmd::Config { id, action, json } => {
            let path = config::config_path();
            let doc = read_raw(&path)?;
            match action {
                None => {
                    known(&cfg, &id)?;
                    let entry = agent_entry(&doc, &id)
                        .map(|(_, e)| e)
                        .unwrap_or_else(|| json!({ "id": id }));
                    print_json(&redact(&entry));
                    let _ = json;
                    Ok(())
                }
                Some(AgentConfigAction::Get { key }) => {
                    let entry = agent_entry(&doc, &id)
                        .map(|(_, e)| e)
                        .unwrap_or(Value::Null);
                    let v = get_path(&entry, &key).cloned().ok_or_else(|| {
                        CliError::failure(format!("{key} is not set for agent \"{id}\""))
                    })?;
                    match redact(&json!({ key.clone(): v }))[&key].clone() {
                        Value::String(s) if !json.json => crate::out!("{s}"),
                        other => print_json(&other),
                    }
                    Ok(())
                }
                Some(AgentConfigAction::Set { key, value }) => {
                    if key == "id" {
                        return Err(CliError::usage("an agent's id cannot be changed here"));
                    }
                    let value = parse_value(&value);
                    match agent_entry(&doc, &id) {
                        Some((idx, _)) => {
                            set_in_file(&path, &format!("agents.list.{idx}.{key}"), &value)?
                        }
                        None => {
                            let mut entry = json!({ "id": id });
                            set_path(&mut entry, &key, value)?;
                            match doc.pointer("/agents/list").and_then(Value::as_array) {
                                // Appended: the list's other entries and comments stay.
                                Some(list) => set_in_file(
                                    &path,
                                    &format!("agents.list.{}", list.len()),
                                    &entry,
                                )?,
                                None => set_in_file(&path, "agents.list", &json!([entry]))?,
                            }
                        }
                    }
                    eprintln!("Set {key} for agent \"{id}\" in {}", path.display());
                    Ok(())
                }
            }
        }
    }
}
