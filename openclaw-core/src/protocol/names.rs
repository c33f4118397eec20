//! The method and event names this implementation advertises in `hello-ok.features`.
//!
//! [`gateway_methods`] is every method the gateway answers: [`CORE_METHODS`], answered by the
//! gateway itself, then [`ENGINE_METHODS`], answered through its backend seam (the agent host).
//! `connect` is not listed, as in OpenClaw.

/// Methods answered by the gateway itself.
pub const CORE_METHODS: &[&str] = &[
    "health",
    "status",
    "system-presence",
    "logs.tail",
    "usage.status",
    "commands.list",
    "tools.catalog",
    "models.list",
    "agents.list",
    "agent.identity.get",
    "config.get",
    "config.set",
    "config.patch",
    "config.schema",
    "device.pair.list",
    "device.pair.approve",
    "device.pair.reject",
    "device.pair.remove",
    "sessions.subscribe",
    "sessions.unsubscribe",
    "question.list",
    "plugin.approval.list",
];

/// Methods answered by the agent engine behind the backend seam.
pub const ENGINE_METHODS: &[&str] = &[
    "chat.send",
    "chat.history",
    "chat.abort",
    "chat.inject",
    "agent",
    "agent.wait",
    "send",
    "sessions.list",
    "sessions.get",
    "sessions.preview",
    "sessions.describe",
    "sessions.resolve",
    "sessions.create",
    "sessions.patch",
    "sessions.reset",
    "sessions.delete",
    "sessions.compact",
    "sessions.send",
    "sessions.steer",
    "sessions.abort",
    "agents.files.list",
    "agents.files.get",
    "agents.files.set",
];

/// Every method advertised in `hello-ok.features.methods`.
pub fn gateway_methods() -> Vec<String> {
    CORE_METHODS
        .iter()
        .chain(ENGINE_METHODS)
        .map(|m| (*m).to_owned())
        .collect()
}

/// Events advertised in `hello-ok.features.events`.
pub const GATEWAY_EVENTS: &[&str] = &[
    "connect.challenge",
    "agent",
    "chat",
    "session.message",
    "session.tool",
    "sessions.changed",
    "presence",
    "tick",
    "shutdown",
    "health",
    "heartbeat",
    "device.pair.requested",
    "device.pair.resolved",
];
