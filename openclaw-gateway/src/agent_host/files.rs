//! `agents.files.list` / `get` / `set`: the bootstrap files of an agent's workspace (never
//! through a link that leads out of it).

use std::path::PathBuf;
use std::sync::Arc;

use openclaw_core::protocol::ErrorShape;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Core;
use super::workspace;
use openclaw_core::protocol::params::parse;
use openclaw_core::protocol::system::{FilesGetParams, FilesListParams, FilesSetParams};

pub(crate) fn agent_files(
    core: &Arc<Core>,
    method: &str,
    params: Option<Value>,
) -> Result<Value, ErrorShape> {
    let (agent_id, name, set) = match method {
        "agents.files.list" => (
            parse::<FilesListParams>(method, params)?.agent_id,
            None,
            None,
        ),
        "agents.files.get" => {
            let p: FilesGetParams = parse(method, params)?;
            (p.agent_id, Some(p.name), None)
        }
        _ => {
            let p: FilesSetParams = parse(method, params)?;
            (p.agent_id, Some(p.name), Some((p.content, p.expected_hash)))
        }
    };
    let agent = core
        .agent(&agent_id)
        .ok_or_else(|| ErrorShape::invalid_request(format!("unknown agent id \"{agent_id}\"")))?;
    let ws = PathBuf::from(&agent.workspace);
    if let Some(n) = name
        .as_deref()
        .filter(|n| !workspace::EDITABLE_FILES.contains(n))
    {
        return Err(ErrorShape::invalid_request(format!(
            "unsupported file \"{n}\" (allowed: {})",
            workspace::EDITABLE_FILES.join(", ")
        )));
    }
    let mut out = json!({"agentId": agent.id, "workspace": agent.workspace});
    match (name.as_deref(), set) {
        (None, _) => out["files"] = json!(workspace::list_files(&ws)),
        (Some(n), None) => {
            out["file"] = workspace::get_file(&ws, n)
                .map_err(|e| ErrorShape::invalid_request(format!("cannot read {n}: {e}")))?;
            if let Some(h) = current_hash(&ws, n) {
                out["hash"] = json!(h);
            }
        }
        (Some(n), Some((content, expected))) => {
            if let Some(expected) = expected.as_deref() {
                if current_hash(&ws, n).as_deref() != Some(expected) {
                    return Err(ErrorShape::invalid_request(format!(
                        "{n} changed since it was read (expectedHash does not match); \
                         get it again and retry"
                    )));
                }
            }
            let file = workspace::set_file(&ws, n, &content)
                .map_err(|e| ErrorShape::unavailable(format!("cannot write {n}: {e}")))?;
            out["ok"] = json!(true);
            out["file"] = file;
            out["hash"] = json!(hash_of(content.as_bytes()));
            // Live engines of this agent pick up the new prompt on their next start.
            for l in core.all_live() {
                if l.agent_id == agent.id && l.is_idle() {
                    l.drop_engine();
                }
            }
        }
    }
    Ok(out)
}

fn hash_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 hex of the workspace file as it is on disk (`None` when it does not exist).
fn current_hash(ws: &std::path::Path, name: &str) -> Option<String> {
    std::fs::read(ws.join(name)).ok().map(|b| hash_of(&b))
}
