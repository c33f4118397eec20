//! The `automations` tool (OpenClaw's scheduler tool, alias `cron`) in an agent's engine: the
//! tool's logic is the cron module's (`cron::tool`); this side decides who is calling — the
//! run the tool executes in — and whether the agent's tool policy gives it the tool at all.

use std::sync::{Arc, Weak};

use async_trait::async_trait;
use openclaw_core::event::ToolOutput;
use openclaw_core::tool::{Tool, ToolCallContext, ToolError};
use openclaw_state::RouteStore;
use serde_json::Value;

use super::Core;
use super::live::{CHANNEL_CRON, CHANNEL_WEBCHAT, Live};
use crate::cron::CronService;
use crate::cron::tool::{self, Caller};

struct Automations {
    cron: Weak<CronService>,
    core: Weak<Core>,
    live: Weak<Live>,
}

/// Adds `automations` to the engine's tools when the gateway runs cron and the agent's tool
/// policy admits it (by its name, its alias `cron` or `group:automation`; a deny of either
/// name removes it).
pub(crate) fn install(core: &Arc<Core>, live: &Arc<Live>, engine: &openclaw_core::engine::Engine) {
    let Some(cron) = core.cron.get() else {
        return;
    };
    if !core.settings().allows(&live.agent_id, tool::NAME) {
        return;
    }
    let mut tools = engine.agent().tools();
    tools.push(Arc::new(Automations {
        cron: cron.clone(),
        core: Arc::downgrade(core),
        live: Arc::downgrade(live),
    }));
    engine.agent().set_tools(tools);
}

/// Whether a channel sender is a configured owner (`commands.ownerAllowFrom`: entries
/// `"<channel>:<id>"` or a bare id).
fn is_owner(config: &Value, channel: &str, sender: &str) -> bool {
    let Some(list) = config
        .pointer("/commands/ownerAllowFrom")
        .and_then(Value::as_array)
    else {
        return false;
    };
    let qualified = format!("{channel}:{sender}");
    list.iter()
        .filter_map(Value::as_str)
        .any(|e| e == qualified || e == sender)
}

impl Automations {
    /// The turn the tool runs in, as a [`Caller`].
    fn caller(&self, core: &Core, live: &Live, cron: &CronService) -> Caller {
        let (channel, admin, run_id) = live
            .with_run(|r| (r.channel, r.admin, r.run_id.clone()))
            .unwrap_or(("", false, String::new()));
        let manage_all = match channel {
            CHANNEL_WEBCHAT => admin,
            CHANNEL_CRON => false,
            other => cron
                .store()
                .route_of(&live.key)
                .ok()
                .flatten()
                .and_then(|r| r.sender)
                .is_some_and(|s| is_owner(&core.settings().config, other, &s)),
        };
        // Run ids `cron:<jobId>:<ms>` and `manual:<jobId>:<ms>:<n>`.
        let cron_job = (channel == CHANNEL_CRON)
            .then(|| run_id.split(':').nth(1).map(str::to_owned))
            .flatten();
        Caller {
            agent_id: live.agent_id.clone(),
            session_key: live.key.clone(),
            manage_all,
            cron_job,
        }
    }
}

#[async_trait]
impl Tool for Automations {
    fn name(&self) -> &str {
        tool::NAME
    }

    fn description(&self) -> &str {
        tool::description()
    }

    fn parameters(&self) -> Value {
        tool::parameters()
    }

    async fn execute(&self, args: Value, _ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        let (Some(cron), Some(core), Some(live)) = (
            self.cron.upgrade(),
            self.core.upgrade(),
            self.live.upgrade(),
        ) else {
            return Err(ToolError::new("the gateway is shutting down"));
        };
        let caller = self.caller(&core, &live, &cron);
        let result = tool::execute(&cron, &caller, &args).map_err(ToolError::new)?;
        let text = serde_json::to_string_pretty(&result).unwrap_or_default();
        Ok(ToolOutput::text(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_are_matched_qualified_or_bare() {
        let cfg = serde_json::json!({"commands": {"ownerAllowFrom": ["telegram:42", "7"]}});
        assert!(is_owner(&cfg, "telegram", "42"));
        assert!(is_owner(&cfg, "telegram", "7"));
        assert!(!is_owner(&cfg, "discord", "42"));
        assert!(!is_owner(&serde_json::json!({}), "telegram", "42"));
    }
}
