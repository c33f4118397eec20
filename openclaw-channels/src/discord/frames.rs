//! The Discord gateway frames this channel sends and reads (API v10, JSON encoding), typed
//! from Discord's documentation: every frame is `{op, d, s, t}`; `d` is decoded into the
//! struct of its opcode (and, for dispatches, its event name).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::rest::{Channel, User};

pub const OP_DISPATCH: u8 = 0;
pub const OP_HEARTBEAT: u8 = 1;
pub const OP_IDENTIFY: u8 = 2;
pub const OP_RESUME: u8 = 6;
pub const OP_RECONNECT: u8 = 7;
pub const OP_INVALID_SESSION: u8 = 9;
pub const OP_HELLO: u8 = 10;
pub const OP_HEARTBEAT_ACK: u8 = 11;

/// `GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT` (the last is privileged:
/// without it in the Developer Portal Discord closes with 4014).
pub const INTENTS: u64 = (1 << 0) | (1 << 9) | (1 << 12) | (1 << 15);

/// A frame as read: `d` stays a JSON value until its opcode says what it is.
#[derive(Debug, Deserialize)]
pub struct Incoming {
    pub op: u8,
    #[serde(default)]
    pub d: Value,
    #[serde(default)]
    pub s: Option<u64>,
    #[serde(default)]
    pub t: Option<String>,
}

/// A frame as sent.
#[derive(Debug, Serialize)]
pub struct Outgoing<D: Serialize> {
    pub op: u8,
    pub d: D,
}

/// Hello (op 10).
#[derive(Debug, Deserialize)]
pub struct Hello {
    pub heartbeat_interval: u64,
}

#[derive(Debug, Serialize)]
pub struct Properties {
    pub os: &'static str,
    pub browser: &'static str,
    pub device: &'static str,
}

/// Identify (op 2).
#[derive(Debug, Serialize)]
pub struct Identify<'a> {
    pub token: &'a str,
    pub intents: u64,
    pub properties: Properties,
}

/// Resume (op 6).
#[derive(Debug, Serialize)]
pub struct Resume<'a> {
    pub token: &'a str,
    pub session_id: &'a str,
    pub seq: u64,
}

/// `READY`.
#[derive(Debug, Deserialize)]
pub struct Ready {
    pub session_id: String,
    pub resume_gateway_url: String,
    pub user: User,
}

/// `GUILD_CREATE` (only what routing needs).
#[derive(Debug, Deserialize)]
pub struct GuildCreate {
    pub id: String,
    #[serde(default)]
    pub channels: Vec<Channel>,
    #[serde(default)]
    pub threads: Vec<Channel>,
}

/// `THREAD_LIST_SYNC`.
#[derive(Debug, Deserialize)]
pub struct ThreadListSync {
    #[serde(default)]
    pub threads: Vec<Channel>,
}

/// A guild member as a message carries it.
#[derive(Debug, Default, Deserialize)]
pub struct Member {
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub nick: Option<String>,
}

/// The message a reply refers to.
#[derive(Debug, Deserialize)]
pub struct Referenced {
    pub author: Option<User>,
}

/// `MESSAGE_CREATE`.
#[derive(Debug, Deserialize)]
pub struct MessageCreate {
    pub id: String,
    pub channel_id: String,
    #[serde(default)]
    pub guild_id: Option<String>,
    pub author: User,
    #[serde(default)]
    pub member: Option<Member>,
    #[serde(default)]
    pub content: String,
    #[serde(default)]
    pub mentions: Vec<User>,
    #[serde(default)]
    pub referenced_message: Option<Box<Referenced>>,
    #[serde(default)]
    pub webhook_id: Option<String>,
    /// 0 default, 19 reply; others (joins, pins, …) are system messages.
    #[serde(rename = "type", default)]
    pub kind: u8,
}

/// What a close code means for the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseAction {
    /// Reconnect and resume the session.
    Resume,
    /// Reconnect with a new session (4007 invalid seq, 4009 session timed out).
    Identify,
    /// Do not reconnect: the configuration must change (4004 bad token, 4014 intents, …).
    Fatal,
}

/// Discord's gateway close codes.
pub fn close_action(code: u16) -> (CloseAction, &'static str) {
    match code {
        4004 => (
            CloseAction::Fatal,
            "authentication failed (check the bot token)",
        ),
        4010 => (CloseAction::Fatal, "invalid shard"),
        4011 => (CloseAction::Fatal, "sharding required"),
        4012 => (CloseAction::Fatal, "invalid API version"),
        4013 => (CloseAction::Fatal, "invalid intents"),
        4014 => (
            CloseAction::Fatal,
            "disallowed intents (enable the Message Content intent for the bot in the Discord Developer Portal)",
        ),
        4007 => (CloseAction::Identify, "invalid sequence"),
        4009 => (CloseAction::Identify, "session timed out"),
        4000 => (CloseAction::Resume, "unknown error"),
        4001 => (CloseAction::Resume, "unknown opcode"),
        4002 => (CloseAction::Resume, "decode error"),
        4003 => (CloseAction::Identify, "not authenticated"),
        4005 => (CloseAction::Resume, "already authenticated"),
        4008 => (CloseAction::Resume, "rate limited"),
        _ => (CloseAction::Resume, "closed"),
    }
}
