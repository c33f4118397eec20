//! `sessions.list`'s filters and order, read from the params into the store's
//! [`SessionQuery`] (so they run in SQL): every filter OpenClaw's schema accepts is either
//! applied, refused, or a no-op by definition (see [`ListFilter::from_params`]). Without a filter the query is the store's one indexed page.

use openclaw_core::protocol::ErrorShape;
use openclaw_state::{KindFilter, SessionOrder, SessionQuery};

use crate::state::now_ms;
use openclaw_core::protocol::sessions::{ListParams, SortBy};

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
    /// The filters of `p`. `ownerFirst`, `includeGlobal` and `includeUnknown` change nothing
    /// by definition here: every session has the one owner, and every session is an agent's
    /// direct session (keys are always `agent:<id>:…`), so there are no global or unknown rows
    /// to include or leave out.
    pub fn from_params(p: &ListParams) -> Result<Self, ErrorShape> {
        if p.include_activity_summary == Some(true) {
            return Err(ErrorShape::invalid_request(
                "includeActivitySummary is not supported by this gateway",
            ));
        }
        let flag = |f: Option<bool>| f.unwrap_or(false);
        let active = p.active_minutes.map(|m| m.get());
        Ok(ListFilter {
            query: SessionQuery {
                updated_since: active.map(|m| now_ms().saturating_sub(m.saturating_mul(60_000))),
                label: p.label.as_ref().map(|s| s.to_string()),
                spawned_by: p.spawned_by.as_ref().map(|s| s.to_string()),
                search: p.search.as_ref().map(|s| s.to_string()),
                archived: p.archived,
                exclude: KindFilter {
                    subagents: flag(p.exclude_subagents),
                    cron: flag(p.exclude_cron),
                    system: flag(p.exclude_system),
                },
                order: match p.sort_by {
                    Some(SortBy::LastInteractionAt) => SessionOrder::LastInteractionAt,
                    _ => SessionOrder::UpdatedAt,
                },
                limit: p.limit.map(|n| n.usize()),
                offset: p.offset.map_or(0, |o| o.usize()),
                ..SessionQuery::default()
            },
            active_only: flag(p.active_only),
            activity_first: p.sort_by == Some(SortBy::Activity),
            derived_titles: flag(p.include_derived_titles),
            last_message: flag(p.include_last_message),
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
