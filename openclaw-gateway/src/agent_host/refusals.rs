//! The params of `chat.send` and `agent` that OpenClaw's schemas accept but this gateway
//! cannot carry out (channel delivery and routing, fast mode, work contexts, tool bindings,
//! guards against state it does not keep, prompt and bootstrap modes): each is refused by
//! name with the reason, never dropped. The values that ask for nothing (`deliver: false`,
//! `fastMode: false`, `null`, empty lists and objects) are accepted: the real OpenClaw CLI and
//! TUI send some of them on every call.

use openclaw_core::protocol::ErrorShape;
use openclaw_core::protocol::chat::{AgentParams, ChatSendParams, FastMode, PromptMode};
use serde_json::Value;

const NO_CHANNELS: &str = "no channels are configured on this gateway";
const NO_FAST_MODE: &str = "no model provider of this gateway has a fast mode";
const NO_PROVENANCE: &str = "input provenance is not kept by this gateway";

/// `null`, `[]`, `{}` and `""`: a param that asks for nothing.
fn asks(v: &Option<Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}

/// The first param of `groups` (reason, [(name, asked for)]) that asks for something.
fn refuse_first(groups: &[(&str, &[(&str, bool)])]) -> Result<(), ErrorShape> {
    for (why, params) in groups {
        if let Some((name, _)) = params.iter().find(|(_, on)| *on) {
            return Err(ErrorShape::invalid_request(format!("{name}: {why}")));
        }
    }
    Ok(())
}

/// Refuses the `chat.send` params this gateway cannot carry out.
pub(crate) fn refuse_chat_send(p: &ChatSendParams) -> Result<(), ErrorShape> {
    let fast = p
        .fast_mode
        .as_ref()
        .is_some_and(|f| *f != FastMode::Flag(false));
    let mentions = p.mentions.as_ref().is_some_and(|m| !m.is_empty());
    refuse_first(&[
        (
            NO_CHANNELS,
            &[
                ("deliver", p.deliver == Some(true)),
                ("originatingChannel", asks(&p.originating_channel)),
                ("originatingTo", asks(&p.originating_to)),
                ("originatingAccountId", asks(&p.originating_account_id)),
                ("originatingThreadId", asks(&p.originating_thread_id)),
                ("replyToId", asks(&p.reply_to_id)),
                ("mentions", mentions),
            ],
        ),
        (
            NO_PROVENANCE,
            &[
                ("systemInputProvenance", asks(&p.system_input_provenance)),
                (
                    "systemProvenanceReceipt",
                    asks(&p.system_provenance_receipt),
                ),
            ],
        ),
        (
            NO_FAST_MODE,
            &[
                ("fastMode", fast),
                ("fastAutoOnSeconds", asks(&p.fast_auto_on_seconds)),
            ],
        ),
        (
            "this gateway keeps no work contexts or intents",
            &[
                ("workContext", asks(&p.work_context)),
                ("intent", asks(&p.intent)),
            ],
        ),
        (
            "this gateway has no per-message tool bindings",
            &[("toolBindings", asks(&p.tool_bindings))],
        ),
        (
            "this gateway keeps no routing contracts, permission modes or per-session tool \
             overrides to check it against",
            &[
                (
                    "expectedSessionRoutingContract",
                    asks(&p.expected_session_routing_contract),
                ),
                ("expectedPermissionMode", asks(&p.expected_permission_mode)),
                ("expectedToolOverrides", asks(&p.expected_tool_overrides)),
            ],
        ),
    ])
}

/// Refuses the `agent` params this gateway cannot carry out. `disableMessageTool` is accepted:
/// there is no message tool to disable.
pub(crate) fn refuse_agent(p: &AgentParams) -> Result<(), ErrorShape> {
    let prompt_mode = p.prompt_mode.is_some_and(|m| m != PromptMode::Full);
    let lane = p.lane.as_deref().is_some_and(|l| l != "main");
    refuse_first(&[
        (
            NO_CHANNELS,
            &[
                ("deliver", p.deliver == Some(true)),
                ("bestEffortDeliver", p.best_effort_deliver == Some(true)),
                ("to", asks(&p.to)),
                ("replyTo", asks(&p.reply_to)),
                ("channel", asks(&p.channel)),
                ("replyChannel", asks(&p.reply_channel)),
                ("accountId", asks(&p.account_id)),
                ("replyAccountId", asks(&p.reply_account_id)),
                ("threadId", asks(&p.thread_id)),
                ("groupId", asks(&p.group_id)),
                ("groupChannel", asks(&p.group_channel)),
                ("groupSpace", asks(&p.group_space)),
            ],
        ),
        (
            "only \"full\" (the agent's whole system prompt, workspace files included) is \
             supported",
            &[
                ("promptMode", prompt_mode),
                ("bootstrapContextMode", asks(&p.bootstrap_context_mode)),
                (
                    "bootstrapContextRunKind",
                    asks(&p.bootstrap_context_run_kind),
                ),
            ],
        ),
        (
            "internal events are not accepted from clients",
            &[(
                "internalEvents",
                p.internal_events.as_ref().is_some_and(|e| !e.is_empty()),
            )],
        ),
        (
            NO_PROVENANCE,
            &[("inputProvenance", asks(&p.input_provenance))],
        ),
        (
            "a run uses its agent's workspace",
            &[
                ("cwd", asks(&p.cwd)),
                ("sessionEffects", asks(&p.session_effects)),
            ],
        ),
        ("agent runs use the main lane (\"main\")", &[("lane", lane)]),
    ])
}
