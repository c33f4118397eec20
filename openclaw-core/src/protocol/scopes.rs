//! Roles, operator scopes and the per-method access table: which role and scope each method
//! needs, and which scope each event needs to be delivered.
//!
//! Rules (same idea in v3 and v4): `health` needs nothing beyond authentication; node-role
//! methods need `role:"node"`; everything else needs `role:"operator"` and a scope, where
//! `operator.admin` satisfies every scope, `operator.write` also satisfies `operator.read`, and
//! a method missing from the table needs `operator.admin`.

use std::fmt;

/// A connection's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Operator,
    Node,
}

impl Role {
    /// Parses the wire name; other values are refused (`invalid role`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "operator" => Some(Role::Operator),
            "node" => Some(Role::Node),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Node => "node",
        }
    }
}

/// An operator scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Admin,
    Read,
    Write,
    Approvals,
    Pairing,
    TalkSecrets,
    Questions,
    Talk,
}

impl Scope {
    /// Every scope, in the order OpenClaw grants them to a full-access client.
    pub const ALL: [Scope; 8] = [
        Scope::Admin,
        Scope::Read,
        Scope::Write,
        Scope::Approvals,
        Scope::Pairing,
        Scope::TalkSecrets,
        Scope::Questions,
        Scope::Talk,
    ];

    pub fn parse(name: &str) -> Option<Self> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Admin => "operator.admin",
            Scope::Read => "operator.read",
            Scope::Write => "operator.write",
            Scope::Approvals => "operator.approvals",
            Scope::Pairing => "operator.pairing",
            Scope::TalkSecrets => "operator.talk.secrets",
            Scope::Questions => "operator.questions",
            Scope::Talk => "operator.talk",
        }
    }

    /// Whether holding `granted` satisfies a requirement of `self`.
    pub fn satisfied_by(self, granted: &[Scope]) -> bool {
        granted.iter().any(|g| {
            *g == self
                || *g == Scope::Admin
                || (*g == Scope::Write && matches!(self, Scope::Read | Scope::Talk))
        })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a method needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodAccess {
    /// Any authenticated connection (`health`).
    Authenticated,
    /// Only `role:"node"` connections.
    Node,
    /// An operator connection holding this scope.
    Operator(Scope),
}

const NODE_METHODS: &[&str] = &[
    "node.invoke.result",
    "node.event",
    "node.pending.pull",
    "node.pending.ack",
    "node.pending.drain",
    "node.canvas.capability.refresh",
    "skills.bins",
    "node.pluginTools.update",
    "node.skills.update",
];

const READ_METHODS: &[&str] = &[
    "diagnostics.stability",
    "doctor.memory.status",
    "doctor.memory.dreamDiary",
    "logs.tail",
    "channels.status",
    "status",
    "usage.status",
    "usage.cost",
    "tts.status",
    "tts.providers",
    "tts.personas",
    "commands.list",
    "models.list",
    "models.authStatus",
    "tools.catalog",
    "tools.effective",
    "plugins.uiDescriptors",
    "agents.list",
    "agent.identity.get",
    "skills.status",
    "skills.search",
    "skills.detail",
    "skills.securityVerdicts",
    "skills.skillCard",
    "voicewake.get",
    "voicewake.routing.get",
    "sessions.list",
    "sessions.get",
    "sessions.preview",
    "sessions.describe",
    "sessions.resolve",
    "sessions.compaction.list",
    "sessions.compaction.get",
    "sessions.subscribe",
    "sessions.unsubscribe",
    "sessions.messages.subscribe",
    "sessions.messages.unsubscribe",
    "sessions.usage",
    "sessions.usage.timeseries",
    "sessions.usage.logs",
    "cron.list",
    "cron.get",
    "cron.status",
    "cron.runs",
    "gateway.identity.get",
    "gateway.restart.preflight",
    "system-presence",
    "last-heartbeat",
    "node.list",
    "node.describe",
    "chat.history",
    "chat.startup",
    "config.get",
    "config.schema",
    "config.schema.lookup",
    "talk.config",
    "agents.files.list",
    "agents.files.get",
    "artifacts.list",
    "artifacts.get",
    "artifacts.download",
];

const WRITE_METHODS: &[&str] = &[
    "message.action",
    "send",
    "poll",
    "agent",
    "agent.wait",
    "wake",
    "talk.mode",
    "talk.speak",
    "tts.enable",
    "tts.disable",
    "tts.convert",
    "tts.setProvider",
    "tts.setPersona",
    "voicewake.set",
    "voicewake.routing.set",
    "node.invoke",
    "tools.invoke",
    "chat.send",
    "chat.abort",
    "sessions.create",
    "sessions.send",
    "sessions.steer",
    "sessions.abort",
    "sessions.compaction.branch",
    "push.test",
    "node.pending.enqueue",
];

const APPROVALS_METHODS: &[&str] = &[
    "exec.approval.get",
    "exec.approval.list",
    "exec.approval.request",
    "exec.approval.waitDecision",
    "exec.approval.resolve",
    "plugin.approval.list",
    "plugin.approval.request",
    "plugin.approval.waitDecision",
    "plugin.approval.resolve",
    "approval.get",
    "approval.resolve",
    "approval.history",
    "openclaw.approval.list",
];

const PAIRING_METHODS: &[&str] = &[
    "node.pair.request",
    "node.pair.list",
    "node.pair.approve",
    "node.pair.reject",
    "node.pair.remove",
    "node.pair.verify",
    "device.pair.list",
    "device.pair.approve",
    "device.pair.reject",
    "device.pair.remove",
    "channels.pairing.list",
    "channels.pairing.approve",
    "channels.pairing.dismiss",
    "device.token.rotate",
    "device.token.revoke",
    "node.rename",
];

const QUESTIONS_METHODS: &[&str] = &[
    "question.list",
    "question.get",
    "question.resolve",
    "question.request",
    "question.waitAnswer",
];

/// The access a method needs. Methods not in the table (including `connect` after the
/// handshake, `config.set`/`patch`/`apply` and unknown names) need `operator.admin`.
pub fn method_access(method: &str) -> MethodAccess {
    let has = |list: &[&str]| list.contains(&method);
    if method == "health" {
        MethodAccess::Authenticated
    } else if has(NODE_METHODS) {
        MethodAccess::Node
    } else if has(READ_METHODS) {
        MethodAccess::Operator(Scope::Read)
    } else if has(WRITE_METHODS) || method.starts_with("talk.realtime.") {
        MethodAccess::Operator(Scope::Write)
    } else if has(APPROVALS_METHODS) {
        MethodAccess::Operator(Scope::Approvals)
    } else if has(PAIRING_METHODS) {
        MethodAccess::Operator(Scope::Pairing)
    } else if has(QUESTIONS_METHODS) {
        MethodAccess::Operator(Scope::Questions)
    } else {
        MethodAccess::Operator(Scope::Admin)
    }
}

/// Who receives a broadcast event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventAccess {
    /// Sent to every authenticated connection whatever its role or scopes.
    Everyone,
    /// Sent only to operator connections holding the scope.
    Operator(Scope),
    /// Not broadcast (names missing from the table fail closed).
    Never,
}

/// The delivery rule for a broadcast event (`presence` follows 9.6 and needs read).
pub fn event_access(event: &str) -> EventAccess {
    match event {
        "tick" | "health" | "heartbeat" | "shutdown" | "update.available"
        | "gateway.suspension" => EventAccess::Everyone,
        "presence" | "agent" | "chat" | "cron" | "sessions.changed" | "session.message"
        | "session.tool" => EventAccess::Operator(Scope::Read),
        e if e.starts_with("voicewake.") => EventAccess::Operator(Scope::Read),
        e if e.starts_with("exec.approval.") || e.starts_with("plugin.approval.") => {
            EventAccess::Operator(Scope::Approvals)
        }
        e if e.starts_with("device.pair.") || e.starts_with("node.pair.") => {
            EventAccess::Operator(Scope::Pairing)
        }
        "talk.mode" => EventAccess::Operator(Scope::Write),
        e if e.starts_with("plugin.") => EventAccess::Operator(Scope::Write),
        _ => EventAccess::Never,
    }
}
