//! The method and event names this implementation advertises in `hello-ok.features`: only
//! methods that are implemented and events that are emitted. [`gateway_methods`] lists what the
//! gateway answers itself plus, when an agent engine is behind it, [`ENGINE_METHODS`].
//! `connect` is not listed, as in OpenClaw. A method OpenClaw has and this gateway does not is
//! answered `unknown method`.

/// Methods answered by the gateway itself.
pub const CORE_METHODS: &[&str] = &[
    "health",
    "status",
    "system-presence",
    "logs.tail",
    "usage.status",
    "commands.list",
    "tools.catalog",
    "skills.status",
    "skills.skillCard",
    "skills.detail",
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
    "cron.status",
    "cron.list",
    "cron.get",
    "cron.add",
    "cron.update",
    "cron.remove",
    "cron.run",
    "cron.runs",
    "channels.status",
    "channels.start",
    "channels.stop",
    "channels.logout",
    "channels.pairing.list",
    "channels.pairing.approve",
    "channels.pairing.dismiss",
    "send",
    "message.action",
    "wake",
    "last-heartbeat",
    "set-heartbeats",
];

/// Methods answered by the agent engine behind the backend seam.
pub const ENGINE_METHODS: &[&str] = &[
    "chat.send",
    "chat.history",
    "chat.startup",
    "chat.abort",
    "chat.inject",
    "agent",
    "agent.wait",
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
    "sessions.messages.subscribe",
    "sessions.messages.unsubscribe",
    "agents.files.list",
    "agents.files.get",
    "agents.files.set",
];

/// Every method advertised in `hello-ok.features.methods` (the engine's only with an engine).
pub fn gateway_methods(with_engine: bool) -> Vec<String> {
    let engine: &[&str] = if with_engine { ENGINE_METHODS } else { &[] };
    CORE_METHODS
        .iter()
        .chain(engine)
        .map(|m| (*m).to_owned())
        .collect()
}

/// Events advertised in `hello-ok.features.events`.
pub const GATEWAY_EVENTS: &[&str] = &[
    "connect.challenge",
    "agent",
    "chat",
    "sessions.changed",
    "presence",
    "tick",
    "shutdown",
    "health",
    "device.pair.requested",
    "device.pair.resolved",
    "cron",
    "heartbeat",
];
