//! Usage and cost per model, summed from every transcript of every agent (live, reset and
//! deleted ones alike: what was spent stays spent), for `usage.status`.

use std::collections::BTreeMap;
use std::path::Path;

use openclaw_core::session::{SessionEntry, SessionManager};

use super::Core;
use crate::backend::{ModelUsage, UsageTotals};

/// Adds the assistant messages of one transcript file to `into`.
fn add_file(path: &Path, into: &mut BTreeMap<(String, String), UsageTotals>) {
    let Ok(manager) = SessionManager::open(path, "") else {
        tracing::warn!("usage: cannot read the transcript {}", path.display());
        return;
    };
    for entry in manager.entries() {
        let SessionEntry::Message(m) = entry else {
            continue;
        };
        let Some(a) = m.message.as_assistant() else {
            continue;
        };
        let t = into
            .entry((a.provider.clone(), a.model.clone()))
            .or_default();
        t.input += a.usage.input;
        t.output += a.usage.output;
        t.cache_read += a.usage.cache_read;
        t.cache_write += a.usage.cache_write;
        t.total_tokens += a.usage.total_tokens;
        t.cost += a.usage.cost.total;
        t.messages += 1;
    }
}

/// Usage per (provider, model) over the transcripts in every agent's session directory.
pub(crate) fn collect(core: &Core) -> Vec<ModelUsage> {
    let mut totals = BTreeMap::new();
    for agent in &core.settings().roster.agents {
        let dir = core.sessions_dir(&agent.id);
        let Ok(files) = std::fs::read_dir(&dir) else {
            continue;
        };
        for f in files.flatten() {
            let path = f.path();
            if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().contains(".jsonl"))
            {
                add_file(&path, &mut totals);
            }
        }
    }
    totals
        .into_iter()
        .map(|((provider, model), totals)| ModelUsage {
            provider,
            model,
            totals,
        })
        .collect()
}
