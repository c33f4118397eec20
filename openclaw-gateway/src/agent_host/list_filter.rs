//! `sessions.list`'s filters and order, read from the params into the store's
//! [`SessionQuery`] (so they run in SQL): every filter OpenClaw's schema accepts is either
//! applied or refused (`ownerFirst` and the owner filters need owners, which this single-owner
//! gateway does not keep; they are no-ops by definition, since every session has the same
//! owner). Without a filter the query is the store's one indexed page.

use openclaw_core::protocol::ErrorShape;
use openclaw_state::{KindFilter, SessionOrder, SessionQuery};

use crate::methods::params::Params;
use crate::state::now_ms;

/// The filters of one `sessions.list` call.
#[derive(Debug, Default)]
pub(crate) struct ListFilter {
    /// Everything but the agents, the page and the running sessions.
    query: SessionQuery,
    active_only: bool,
    /// `sortBy: "activity"`: sessions with a run in progress first.
    activity_first: bool,
    pub derived_titles: bool,
    pub last_message: bool,
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
        let active = p.uint("activeMinutes", 1, u64::MAX)?;
        let sort = p.choice("sortBy", &["updatedAt", "lastInteractionAt", "activity"])?;
        Ok(ListFilter {
            query: SessionQuery {
                updated_since: active.map(|m| now_ms().saturating_sub(m.saturating_mul(60_000))),
                label: p.str("label")?.map(str::to_owned),
                spawned_by: p.str("spawnedBy")?.map(str::to_owned),
                search: p.str("search")?.map(str::to_owned),
                archived: p.bool("archived")?,
                exclude: KindFilter {
                    subagents: flag("excludeSubagents")?,
                    cron: flag("excludeCron")?,
                    system: flag("excludeSystem")?,
                },
                order: match sort {
                    Some("lastInteractionAt") => SessionOrder::LastInteractionAt,
                    _ => SessionOrder::UpdatedAt,
                },
                limit: p.uint("limit", 1, u64::MAX)?.map(|n| n as usize),
                offset: p.uint("offset", 0, u64::MAX)?.unwrap_or(0) as usize,
                ..SessionQuery::default()
            },
            active_only: flag("activeOnly")?,
            activity_first: sort == Some("activity"),
            derived_titles: flag("includeDerivedTitles")?,
            last_message: flag("includeLastMessage")?,
        })
    }

    /// Whether the answer needs the keys of the sessions with a run in progress.
    pub fn needs_running(&self) -> bool {
        self.active_only || self.activity_first
    }

    /// The store query over `agents`, given the keys with a run in progress.
    pub fn query(&self, agents: Vec<String>, running: Vec<String>) -> SessionQuery {
        let mut q = self.query.clone();
        q.agent_ids = Some(agents);
        if self.active_only {
            q.keys = Some(running.clone());
        }
        if self.activity_first {
            q.first_keys = running;
        }
        q
    }
}
