//! `openclaw memory status|index|search`: the agents' memory index in the state database, as
//! OpenClaw's memory CLI has them. They work on the state dir directly (the database is shared
//! safely with a running gateway: WAL and a busy timeout); only `index` and `status --index`
//! write, and only to the index — never to the workspace.

use std::path::PathBuf;
use std::sync::Arc;

use openclaw_core::config::{self, OpenClawConfig};
use openclaw_gateway::roster::{AgentEntry, Roster};
use openclaw_memory::tools::INDEX_EMBED_TIMEOUT;
use openclaw_memory::{Embedder, MemoryIndex, MemorySettings, SearchRequest, SyncReport};
use serde_json::{Value, json};

use crate::error::{CliError, CliResult};
use crate::memory_args::MemoryCmd;
use crate::output::print_json;

struct Target {
    agent: AgentEntry,
    workspace: PathBuf,
    settings: MemorySettings,
}

fn targets(
    cfg: &Value,
    state_dir: &std::path::Path,
    agent: Option<&str>,
    all: bool,
) -> CliResult<Vec<Target>> {
    let roster = Roster::from_config(cfg, state_dir);
    let chosen: Vec<AgentEntry> = match agent {
        Some(id) => vec![
            roster
                .get(id)
                .cloned()
                .ok_or_else(|| CliError::usage(format!("unknown agent id \"{id}\"")))?,
        ],
        None if all => roster.agents.clone(),
        None => roster
            .get(roster.default_id())
            .cloned()
            .into_iter()
            .collect(),
    };
    let env = |k: &str| std::env::var(k).ok();
    chosen
        .into_iter()
        .map(|a| {
            let settings = MemorySettings::resolve(cfg, &a.id, &env).map_err(CliError::usage)?;
            let workspace = config::expand_home(std::path::Path::new(&a.workspace));
            Ok(Target {
                agent: a,
                workspace,
                settings,
            })
        })
        .collect()
}

fn embedder(t: &Target) -> CliResult<Option<Embedder>> {
    t.settings
        .embeddings
        .clone()
        .map(|ep| Embedder::new(ep, INDEX_EMBED_TIMEOUT))
        .transpose()
        .map_err(|e| CliError::failure(e.to_string()))
}

pub fn run(cmd: MemoryCmd) -> CliResult {
    let cfg = OpenClawConfig::load()?;
    let state_dir = config::state_dir();
    let index = MemoryIndex::new(&state_dir);
    let rt = super::runtime()?;
    match cmd {
        MemoryCmd::Status {
            agent,
            deep,
            index: reindex,
            json,
        } => {
            let ts = targets(&cfg.raw, &state_dir, agent.as_deref(), true)?;
            rt.block_on(status(&index, &ts, deep, reindex, json.json))
        }
        MemoryCmd::Index {
            agent,
            force,
            verbose,
        } => {
            let ts = targets(&cfg.raw, &state_dir, agent.as_deref(), true)?;
            rt.block_on(reindex(&index, &ts, force, verbose))
        }
        MemoryCmd::Search {
            query,
            query_flag,
            agent,
            max_results,
            min_score,
            json,
        } => {
            let Some(q) = query_flag.or(query).filter(|q| !q.trim().is_empty()) else {
                return Err(CliError::usage(
                    "a query is required: openclaw memory search <query>",
                ));
            };
            let ts = targets(&cfg.raw, &state_dir, agent.as_deref(), false)?;
            let t = ts
                .first()
                .ok_or_else(|| CliError::usage("no agent is configured"))?;
            rt.block_on(search(&index, t, &q, max_results, min_score, json.json))
        }
    }
}

fn print_report(id: &str, r: &SyncReport, verbose: bool) {
    crate::out!(
        "{id}: {} memory file(s): {} indexed, {} unchanged, {} removed{}",
        r.files,
        r.indexed,
        r.unchanged,
        r.removed,
        if r.embedded > 0 {
            format!(", {} chunk(s) embedded", r.embedded)
        } else {
            String::new()
        }
    );
    for (p, e) in &r.failed {
        eprintln!("  not indexed: {p}: {e}");
    }
    if verbose {
        for p in &r.truncated {
            crate::out!("  truncated at the chunk bound: {p}");
        }
    }
    if let Some(n) = &r.embed_note {
        eprintln!("  embeddings: {n}");
    }
    if r.capped {
        eprintln!(
            "  more than {} memory files: the rest are not indexed",
            openclaw_memory::files::MAX_FILES
        );
    }
}

async fn reindex(index: &Arc<MemoryIndex>, ts: &[Target], force: bool, verbose: bool) -> CliResult {
    let mut failed = false;
    for t in ts {
        if !t.settings.enabled {
            crate::out!("{}: memory search is disabled", t.agent.id);
            continue;
        }
        if verbose {
            let (p, m) = match &t.settings.embeddings {
                Some(e) => (e.provider.as_str(), e.model.as_str()),
                None => ("none", "-"),
            };
            crate::out!(
                "{}: workspace {}, provider {p}, model {m}",
                t.agent.id,
                t.workspace.display()
            );
        }
        let emb = embedder(t)?;
        let r = index
            .sync(&t.agent.id, &t.workspace, force, emb.as_ref())
            .await
            .map_err(|e| CliError::failure(e.to_string()))?;
        if r.files == 0 {
            crate::out!(
                "{}: no memory files in {} (nothing indexed)",
                t.agent.id,
                t.workspace.display()
            );
        } else {
            print_report(&t.agent.id, &r, verbose);
        }
        failed |= !r.failed.is_empty();
    }
    if failed {
        return Err(CliError::failure(
            "some memory files could not be indexed (listed above)",
        ));
    }
    Ok(())
}

async fn status(
    index: &Arc<MemoryIndex>,
    ts: &[Target],
    deep: bool,
    reindex: bool,
    json: bool,
) -> CliResult {
    let mut out = Vec::new();
    for t in ts {
        let emb = embedder(t)?;
        if reindex && t.settings.enabled {
            index
                .sync(&t.agent.id, &t.workspace, false, emb.as_ref())
                .await
                .map_err(|e| CliError::failure(e.to_string()))?;
        }
        let model = t.settings.embeddings.as_ref().map(|e| e.model.clone());
        let id = t.agent.id.clone();
        let m = model.clone();
        let (counts, last, failed) = index
            .with_db(|db| {
                let counts = db.counts(&id, m.as_deref())?;
                let failed: Vec<(String, String)> = db
                    .files(&id)?
                    .into_values()
                    .filter_map(|f| f.error.map(|e| (f.path, e)))
                    .collect();
                Ok((counts, db.agent(&id)?, failed))
            })
            .map_err(|e| CliError::failure(e.to_string()))?;
        let probe = match (&emb, deep) {
            (Some(e), true) => Some(match e.embed(&["ping"]).await {
                Ok(v) => json!({"ok": true, "dims": v.first().map_or(0, Vec::len)}),
                Err(err) => json!({"ok": false, "error": err.to_string()}),
            }),
            _ => None,
        };
        out.push(json!({
            "agentId": t.agent.id,
            "status": {
                "enabled": t.settings.enabled,
                "workspaceDir": t.workspace,
                "provider": t.settings.embeddings.as_ref().map_or("none", |e| e.provider.as_str()),
                "model": model,
                "mode": if t.settings.embeddings.is_some() { "hybrid" } else { "fts-only" },
                "files": counts.files,
                "chunks": counts.chunks,
                "embeddedChunks": counts.embedded,
                "failedFiles": failed.iter().map(|(p, e)| json!({"path": p, "error": e})).collect::<Vec<_>>(),
                "lastSyncAt": last.as_ref().map(|l| l.synced_at),
                "embeddingNote": last.as_ref().and_then(|l| l.embed_note.clone())
                    .or_else(|| t.settings.embed_note.clone()),
                "probe": probe,
            }
        }));
    }
    if json {
        print_json(&Value::Array(out));
        return Ok(());
    }
    for a in &out {
        let s = &a["status"];
        crate::out!("Agent {}", a["agentId"].as_str().unwrap_or_default());
        crate::out!(
            "  workspace  {}",
            s["workspaceDir"].as_str().unwrap_or_default()
        );
        if s["enabled"] == false {
            crate::out!("  memory search is disabled");
            continue;
        }
        let indexed = match s["lastSyncAt"].as_u64() {
            Some(_) => format!("{} file(s), {} chunk(s)", s["files"], s["chunks"]),
            None => "not indexed yet (openclaw memory index)".into(),
        };
        crate::out!("  index      {indexed}");
        crate::out!(
            "  search     {} (provider {}{})",
            s["mode"].as_str().unwrap_or_default(),
            s["provider"].as_str().unwrap_or_default(),
            s["model"]
                .as_str()
                .map(|m| format!(", model {m}, {} chunk(s) embedded", s["embeddedChunks"]))
                .unwrap_or_default()
        );
        if let Some(n) = s["embeddingNote"].as_str() {
            crate::out!("  note       {n}");
        }
        if let Some(p) = s["probe"].as_object() {
            crate::out!("  probe      {}", Value::Object(p.clone()));
        }
        for f in s["failedFiles"].as_array().into_iter().flatten() {
            crate::out!(
                "  not indexed  {}: {}",
                f["path"].as_str().unwrap_or_default(),
                f["error"].as_str().unwrap_or_default()
            );
        }
    }
    Ok(())
}

async fn search(
    index: &Arc<MemoryIndex>,
    t: &Target,
    query: &str,
    max_results: Option<u32>,
    min_score: Option<f64>,
    json: bool,
) -> CliResult {
    if !t.settings.enabled {
        if json {
            print_json(&json!({"agentId": t.agent.id, "status": "disabled"}));
            return Ok(());
        }
        return Err(CliError::failure(format!(
            "memory search is disabled for agent {}",
            t.agent.id
        )));
    }
    let emb = embedder(t)?;
    let req = SearchRequest {
        agent_id: &t.agent.id,
        workspace: &t.workspace,
        query,
        max_results: max_results.map(|n| n as usize),
        min_score,
    };
    let resp = openclaw_memory::search(index, &t.settings, emb.as_ref(), req)
        .await
        .map_err(|e| CliError::failure(e.to_string()))?;
    if json {
        print_json(&serde_json::to_value(&resp).unwrap_or(Value::Null));
        return Ok(());
    }
    if let Some(w) = &resp.warning {
        eprintln!("warning: {w}");
    }
    if resp.results.is_empty() {
        crate::out!("No matches.");
        return Ok(());
    }
    for h in &resp.results {
        crate::out!("{:.3}  {}", h.score, h.citation);
        for line in h.snippet.lines().take(6) {
            crate::out!("    {line}");
        }
    }
    Ok(())
}
