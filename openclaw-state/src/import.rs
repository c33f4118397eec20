//! Importing OpenClaw's session index: every `<stateDir>/agents/<id>/sessions/sessions.json`
//! not imported yet is read and its entries inserted (a key already in the database wins), in
//! one transaction that also records the import, so it happens once. The file itself is only
//! read. A file that cannot be read or parsed stops the import with an error naming it:
//! unreadable is not empty.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde_json::{Map, Value};

use crate::row::SessionRow;
use crate::{StateError, StateResult, now_ms, paths};

/// The `sessions.json` files under `state_dir`, in agent order.
fn candidates(state_dir: &Path) -> StateResult<Vec<(String, PathBuf)>> {
    let root = state_dir.join("agents");
    let entries = match std::fs::read_dir(&root) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(StateError::Import {
                path: root,
                reason: e.to_string(),
            });
        }
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let Some(agent) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let file = paths::sessions_dir(state_dir, &agent).join("sessions.json");
        if file.exists() {
            out.push((agent, file));
        }
    }
    out.sort();
    Ok(out)
}

/// Imports the files not imported yet (see the module docs).
pub(crate) fn import_all(conn: &mut Connection, state_dir: &Path) -> StateResult<()> {
    for (agent, file) in candidates(state_dir)? {
        let rel =
            paths::to_relative(state_dir, &file).unwrap_or_else(|| file.display().to_string());
        let done: Option<i64> = conn
            .query_row("SELECT 1 FROM imports WHERE path = ?1", [&rel], |r| {
                r.get(0)
            })
            .optional()?;
        if done.is_some() {
            continue;
        }
        let rows = read_index(state_dir, &agent, &file)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let again: Option<i64> = tx
            .query_row("SELECT 1 FROM imports WHERE path = ?1", [&rel], |r| {
                r.get(0)
            })
            .optional()?;
        if again.is_some() {
            continue;
        }
        let mut inserted = 0;
        for row in &rows {
            if crate::sqlite::insert_new(&tx, row)? {
                inserted += 1;
            }
        }
        tx.execute(
            "INSERT INTO imports (path, imported_at, entries) VALUES (?1, ?2, ?3)",
            params![rel, now_ms() as i64, inserted],
        )?;
        tx.commit()?;
        tracing::info!(
            "imported {inserted} session(s) of agent {agent} from {}",
            file.display()
        );
    }
    Ok(())
}

/// The rows of one `sessions.json` (keys mapped to rows, transcript paths made relative).
pub(crate) fn read_index(
    state_dir: &Path,
    agent: &str,
    file: &Path,
) -> StateResult<Vec<SessionRow>> {
    let err = |reason: String| StateError::Import {
        path: file.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(file).map_err(|e| err(e.to_string()))?;
    let map: Map<String, Value> = serde_json::from_str(&text)
        .map_err(|e| err(format!("not a JSON object of entries: {e}")))?;
    let mut rows = Vec::with_capacity(map.len());
    for (key, entry) in map {
        let Value::Object(entry) = entry else {
            return Err(err(format!("the entry of \"{key}\" is not an object")));
        };
        let mut row = typed_entry(entry);
        row.key = key;
        if row.agent_id.is_empty() {
            row.agent_id = agent.to_owned();
        }
        row.transcript = transcript_of(state_dir, agent, &row);
        rows.push(row);
    }
    Ok(rows)
}

/// An entry as a row. A field whose value does not have the type this project reads (an
/// entry written by another version) is kept, untyped, under `importedInvalid`.
fn typed_entry(entry: Map<String, Value>) -> SessionRow {
    if let Ok(row) = serde_json::from_value(Value::Object(entry.clone())) {
        return row;
    }
    let mut good = Map::new();
    let mut bad = Map::new();
    for (k, v) in entry {
        let one = Value::Object(Map::from_iter([(k.clone(), v.clone())]));
        if serde_json::from_value::<SessionRow>(one).is_ok() {
            good.insert(k, v);
        } else {
            bad.insert(k, v);
        }
    }
    let mut row: SessionRow = serde_json::from_value(Value::Object(good)).unwrap_or_default();
    row.meta
        .extra
        .insert("importedInvalid".into(), Value::Object(bad));
    row
}

/// The relative transcript path of an imported entry: its `sessionFile` when it lies under the
/// state dir, else the file of that name in the agent's folder, else `<sessionId>.jsonl` there.
fn transcript_of(state_dir: &Path, agent: &str, row: &SessionRow) -> Option<String> {
    let dir = paths::sessions_dir(state_dir, agent);
    if let Some(stored) = row.transcript.as_deref() {
        let p = Path::new(stored);
        if let Some(rel) = paths::to_relative(state_dir, p) {
            return Some(rel);
        }
        if let Some(name) = p.file_name() {
            return paths::to_relative(state_dir, &dir.join(name));
        }
    }
    let id = row.session_id.as_deref()?;
    paths::to_relative(state_dir, &dir.join(format!("{id}.jsonl")))
}
