//! Agent-to-agent messaging: the `sessions_send` tool, given to every gateway agent, sends a
//! message to another agent's session (its `main` session unless a key is given) and waits for
//! the reply. Loop protection: a chain of calls may be at most [`MAX_A2A_DEPTH`] deep, and a
//! run may not message a session that is already waiting in its own chain (that would wait on
//! itself).

use std::sync::{Arc, Weak};

use async_trait::async_trait;
use openclaw_core::engine::Engine;
use openclaw_core::event::ToolOutput;
use openclaw_core::tool::{Tool, ToolCallContext, ToolError};
use serde_json::{Value, json};

use super::Core;
use super::live::{Live, RunSpec};
use super::run::{TurnRequest, outcome_of, spawn_run};

/// The deepest chain of agent-to-agent calls (user → A → B → C).
pub const MAX_A2A_DEPTH: u32 = 3;

struct SessionsSend {
    core: Weak<Core>,
    live: Weak<Live>,
}

/// The tool's name and description (also listed by `tools.catalog`).
pub(crate) const SESSIONS_SEND: (&str, &str) = (
    "sessions_send",
    "Send a message to another agent (its main session, or the given session key) and wait \
     for its reply. Use it to delegate to or consult another agent.",
);

/// Adds `sessions_send` to the engine's tools, unless the agent's tool policy denies it.
pub(crate) fn install(core: &Arc<Core>, live: &Arc<Live>, engine: &Engine) {
    if !core.settings().allows(&live.agent_id, SESSIONS_SEND.0) {
        return;
    }
    let mut tools = engine.agent().tools();
    tools.push(Arc::new(SessionsSend {
        core: Arc::downgrade(core),
        live: Arc::downgrade(live),
    }));
    engine.agent().set_tools(tools);
}

#[async_trait]
impl Tool for SessionsSend {
    fn name(&self) -> &str {
        SESSIONS_SEND.0
    }

    fn description(&self) -> &str {
        SESSIONS_SEND.1
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "agentId": {"type": "string", "description": "The agent to message"},
                "sessionKey": {"type": "string", "description": "A session key (agent:<id>:<key>) instead of the agent's main session"},
                "message": {"type": "string", "description": "What to send"}
            },
            "required": ["message"]
        })
    }

    async fn execute(&self, args: Value, ctx: ToolCallContext) -> Result<ToolOutput, ToolError> {
        let (Some(core), Some(live)) = (self.core.upgrade(), self.live.upgrade()) else {
            return Err(ToolError::new("the gateway is shutting down"));
        };
        let message = args
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let target = match (
            args.get("sessionKey").and_then(Value::as_str),
            args.get("agentId").and_then(Value::as_str),
        ) {
            (Some(k), _) => k.to_owned(),
            (None, Some(a)) => format!("agent:{a}:main"),
            (None, None) => {
                return Err(ToolError::new("give agentId or sessionKey"));
            }
        };
        let (key, agent) = core.canonical_key(&target, None);
        if core.agent(&agent).is_none() {
            return Err(ToolError::new(format!("unknown agent id \"{agent}\"")));
        }
        let (depth, mut chain) = live
            .with_run(|r| (r.depth, r.chain.clone()))
            .unwrap_or((0, Vec::new()));
        chain.push(live.key.clone());
        if depth + 1 > MAX_A2A_DEPTH {
            return Err(ToolError::new(format!(
                "agent-to-agent depth limit reached ({MAX_A2A_DEPTH}); answer without delegating"
            )));
        }
        if chain.contains(&key) {
            return Err(ToolError::new(format!(
                "{key} is already waiting in this conversation chain; messaging it would loop"
            )));
        }
        let run_id = format!("a2a-{}", uuid::Uuid::new_v4());
        let target_live = core.live_for(&key, &agent);
        let rx = spawn_run(
            &core,
            target_live,
            TurnRequest {
                spec: RunSpec {
                    run_id: run_id.clone(),
                    origin: None,
                    channel: super::live::CHANNEL_WEBCHAT,
                    admin: false,
                    depth: depth + 1,
                    chain,
                    tap: None,
                },
                message,
                options: Default::default(),
                timeout: None,
                gate: None,
                heartbeat_ack: None,
            },
        );
        let outcome = tokio::select! {
            o = outcome_of(rx) => o,
            _ = ctx.cancel.cancelled() => {
                let _ = super::chat::abort_key(&core, &key, Some(&run_id)).await;
                return Err(ToolError::new("aborted"));
            }
        };
        match outcome {
            Some(o) if o.status == "ok" => Ok(ToolOutput::text(o.text)),
            Some(o) => Err(ToolError::new(format!(
                "{agent} did not answer: {}",
                o.error.unwrap_or_else(|| o.status.to_owned())
            ))),
            None => Err(ToolError::new("the run was lost")),
        }
    }
}
