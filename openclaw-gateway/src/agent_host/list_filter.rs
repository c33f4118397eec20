//! `sessions.list`'s filters and order, as one typed value read from the params: every
//! filter OpenClaw's schema accepts is either applied here or refused (`ownerFirst` and the
//! owner filters need owners, which this single-owner gateway does not keep; they are no-ops
//! by definition, since every session has the same owner).

use openclaw_core::protocol::ErrorShape;
use serde_json::{Map, Value};

use crate::methods::params::Params;
use crate::state::now_ms;

/// How rows are ordered (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortBy {
    UpdatedAt,
    LastInteractionAt,
    /// Sessions with a run in progress first, then by `updatedAt`.
    Activity,
}

/// The filters of one `sessions.list` call.
#[derive(Debug, Default)]
pub(crate) struct ListFilter {
    active_minutes: Option<u64>,
    search: Option<String>,
    label: Option<String>,
    spawned_by: Option<String>,
    active_only: bool,
    archived: Option<bool>,
    exclude_subagents: bool,
    exclude_cron: bool,
    exclude_system: bool,
    pub sort_by: Option<SortBy>,
    pub derived_titles: bool,
    pub last_message: bool,
}

/// The part of a key after `agent:<id>:`.
fn rest_of(key: &str) -> &str {
    key.strip_prefix("agent:")
        .and_then(|r| r.split_once(':'))
        .map_or(key, |(_, rest)| rest)
}

impl ListFilter {
    pub fn from_params(p: &Params) -> Result<Self, ErrorShape> {
        let flag = |k: &str| -> Result<bool, ErrorShape> { Ok(p.bool(k)?.unwrap_or(false)) };
        if p.bool("includeActivitySummary")? == Some(true) {
            return Err(ErrorShape::invalid_request(
                "includeActivitySummary is not supported by this gateway",
            ));
        }
        p.bool("ownerFirst")?;
        p.bool("includeGlobal")?;
        p.bool("includeUnknown")?;
        Ok(ListFilter {
            active_minutes: p.uint("activeMinutes", 1, u64::MAX)?,
            search: p.str("search")?.map(str::to_lowercase),
            label: p.str("label")?.map(str::to_owned),
            spawned_by: p.str("spawnedBy")?.map(str::to_owned),
            active_only: flag("activeOnly")?,
            archived: p.bool("archived")?,
            exclude_subagents: flag("excludeSubagents")?,
            exclude_cron: flag("excludeCron")?,
            exclude_system: flag("excludeSystem")?,
            sort_by: match p.choice("sortBy", &["updatedAt", "lastInteractionAt", "activity"])? {
                Some("lastInteractionAt") => Some(SortBy::LastInteractionAt),
                Some("activity") => Some(SortBy::Activity),
                Some(_) => Some(SortBy::UpdatedAt),
                None => None,
            },
            derived_titles: flag("includeDerivedTitles")?,
            last_message: flag("includeLastMessage")?,
        })
    }

    /// Whether the session `key` with index `entry` is listed (`running`: a run is in progress).
    pub fn keeps(&self, key: &str, entry: &Map<String, Value>, running: bool) -> bool {
        let text = |k: &str| entry.get(k).and_then(Value::as_str);
        let at = entry.get("updatedAt").and_then(Value::as_u64).unwrap_or(0);
        let rest = rest_of(key);
        let archived = entry.get("archived").and_then(Value::as_bool) == Some(true);
        let spawned = text("spawnedBy").is_some() || rest.starts_with("subagent:");
        !(self
            .active_minutes
            .is_some_and(|m| now_ms().saturating_sub(at) > m * 60_000)
            || self
                .label
                .as_deref()
                .is_some_and(|l| text("label") != Some(l))
            || self
                .spawned_by
                .as_deref()
                .is_some_and(|s| text("spawnedBy") != Some(s))
            || (self.active_only && !running)
            || self.archived.is_some_and(|a| a != archived)
            || (self.exclude_subagents && spawned)
            || (self.exclude_cron && rest.starts_with("cron:"))
            || (self.exclude_system
                && ["hook:", "heartbeat", "system"]
                    .iter()
                    .any(|p| rest.starts_with(p)))
            || self.search.as_deref().is_some_and(|s| {
                ![Some(key), text("label"), text("displayName")]
                    .into_iter()
                    .flatten()
                    .any(|t| t.to_lowercase().contains(s))
            }))
    }

    /// The sort key of a row (larger first).
    pub fn rank(&self, entry: &Map<String, Value>, running: bool) -> (bool, u64) {
        let num = |k: &str| entry.get(k).and_then(Value::as_u64).unwrap_or(0);
        match self.sort_by {
            Some(SortBy::LastInteractionAt) => (false, num("lastInteractionAt")),
            Some(SortBy::Activity) => (running, num("updatedAt")),
            _ => (false, num("updatedAt")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn filters_apply_to_keys_and_entries() {
        let f = ListFilter {
            exclude_cron: true,
            exclude_subagents: true,
            ..ListFilter::default()
        };
        let e = entry(json!({"updatedAt": 1}));
        assert!(f.keeps("agent:main:main", &e, false));
        assert!(!f.keeps("agent:main:cron:job1", &e, false));
        assert!(!f.keeps("agent:main:subagent:x", &e, false));
        assert!(!f.keeps(
            "agent:main:x",
            &entry(json!({"spawnedBy": "agent:main:main"})),
            false
        ));
        let f = ListFilter {
            search: Some("road".into()),
            active_only: true,
            ..ListFilter::default()
        };
        let labelled = entry(json!({"label": "Roadmap"}));
        assert!(f.keeps("agent:main:a", &labelled, true));
        assert!(!f.keeps("agent:main:a", &labelled, false));
        assert!(!f.keeps("agent:main:a", &e, true));
    }
}
