//! The `channels.<id>` keys every channel shares (OpenClaw's names and defaults), how an
//! account's settings are resolved (`channels.<id>.accounts.<accountId>` over the channel's
//! own keys), who may talk to the bot (`dmPolicy`, `allowFrom`, `groupPolicy`, `groups`), and
//! which agent a conversation goes to (top-level `bindings[]`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::streaming::{StreamMode, Streaming};
use super::{ChatType, InboundMessage};

/// The account used when a channel configures no `accounts`.
pub const DEFAULT_ACCOUNT: &str = "default";

/// `dmPolicy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DmPolicy {
    /// Strangers get a pairing code; approved senders may chat (OpenClaw's default).
    #[default]
    Pairing,
    /// Only `allowFrom` (and approved pairings) may chat; others are ignored silently.
    Allowlist,
    /// Anyone (requires `allowFrom: ["*"]`).
    Open,
    /// No DMs at all.
    Disabled,
}

impl DmPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            DmPolicy::Pairing => "pairing",
            DmPolicy::Allowlist => "allowlist",
            DmPolicy::Open => "open",
            DmPolicy::Disabled => "disabled",
        }
    }
}

/// `groupPolicy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupPolicy {
    /// Only groups listed in `groups` (or `"*"`) (OpenClaw's default, fail-closed).
    #[default]
    Allowlist,
    Open,
    Disabled,
}

/// `replyToMode`: which reply chunks quote the inbound message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyToMode {
    #[default]
    Off,
    First,
    All,
    Batched,
}

/// One entry of `groups`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupConfig {
    /// Answer only when mentioned (default true).
    pub require_mention: Option<bool>,
    #[serde(default)]
    pub allow_from: Vec<AllowEntry>,
}

/// An `allowFrom` entry: a sender id as a string or a number.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum AllowEntry {
    Text(String),
    Number(i64),
}

impl AllowEntry {
    /// The entry as a bare id (`tg:` / `telegram:` prefixes removed, lower-cased).
    pub fn normalized(&self) -> String {
        match self {
            AllowEntry::Number(n) => n.to_string(),
            AllowEntry::Text(t) => normalize_sender(t),
        }
    }
}

/// A sender id as allow lists store it.
pub fn normalize_sender(id: &str) -> String {
    let t = id.trim();
    let t = t
        .strip_prefix("telegram:")
        .or_else(|| t.strip_prefix("tg:"))
        .or_else(|| t.strip_prefix("discord:"))
        .unwrap_or(t);
    t.to_lowercase()
}

/// One entry of Discord's `guilds` (keyed by guild id, or `"*"`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuildConfig {
    /// Answer only when mentioned (default true); a channel's own setting wins.
    pub require_mention: Option<bool>,
    /// Sender ids allowed to talk to the bot here (with `roles`: either matches).
    #[serde(default)]
    pub users: Vec<AllowEntry>,
    /// Role ids whose members may talk to the bot here.
    #[serde(default)]
    pub roles: Vec<AllowEntry>,
    /// When present, an allowlist of channels (by id or name, or `"*"`).
    pub channels: Option<BTreeMap<String, GuildChannelConfig>>,
}

/// One entry of `guilds.<id>.channels`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuildChannelConfig {
    pub enabled: Option<bool>,
    /// The legacy name of `enabled`.
    pub allow: Option<bool>,
    pub require_mention: Option<bool>,
    #[serde(default)]
    pub users: Vec<AllowEntry>,
    #[serde(default)]
    pub roles: Vec<AllowEntry>,
}

/// The shared keys of one account, resolved.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountPolicy {
    pub enabled: Option<bool>,
    #[serde(default)]
    pub dm_policy: DmPolicy,
    #[serde(default)]
    pub allow_from: Vec<AllowEntry>,
    #[serde(default)]
    pub group_policy: GroupPolicy,
    #[serde(default)]
    pub group_allow_from: Vec<AllowEntry>,
    #[serde(default)]
    pub groups: BTreeMap<String, GroupConfig>,
    pub text_chunk_limit: Option<usize>,
    #[serde(default)]
    pub reply_to_mode: ReplyToMode,
    #[serde(default)]
    pub streaming: Streaming,
    /// The legacy name of `streaming.mode`.
    pub stream_mode: Option<StreamMode>,
    /// Discord's per-guild settings (guild messages are checked against these, not `groups`).
    #[serde(default)]
    pub guilds: BTreeMap<String, GuildConfig>,
}

impl AccountPolicy {
    /// How replies stream (`streaming.mode`, else the legacy `streamMode`; `off` when unset).
    pub fn stream_mode(&self) -> StreamMode {
        self.streaming.mode.or(self.stream_mode).unwrap_or_default()
    }

    /// The least time between two edits of a streamed reply.
    pub fn stream_throttle(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.streaming.throttle_ms.unwrap_or(1000).max(250))
    }
}

/// What to do with an inbound message, before anything reaches an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    Allowed,
    /// A stranger's DM under `pairing`: create (or refresh) a pairing request.
    Pair,
    /// Ignored silently, with the reason (for the log).
    Drop(&'static str),
}

impl AccountPolicy {
    /// Whether `sender` is in `allowFrom` (or `allowFrom` has `"*"`), or in `approved` (the
    /// senders approved through pairing, for `pairing` and `allowlist`).
    fn dm_allowed(&self, sender: &str, approved: &[String]) -> bool {
        let s = normalize_sender(sender);
        self.allow_from
            .iter()
            .any(|e| matches!(e.normalized().as_str(), "*") || e.normalized() == s)
            || approved.iter().any(|a| normalize_sender(a) == s)
    }

    /// The decision for a message of `chat_type` from `sender` in `chat_id`; `approved` are the
    /// senders approved by pairing (DM access only).
    pub fn access(
        &self,
        chat_type: ChatType,
        chat_id: &str,
        sender: &str,
        mentioned: bool,
        approved: &[String],
    ) -> Access {
        match chat_type {
            ChatType::Direct => match self.dm_policy {
                DmPolicy::Disabled => Access::Drop("dmPolicy is disabled"),
                DmPolicy::Open if self.dm_allowed(sender, &[]) => Access::Allowed,
                DmPolicy::Open => Access::Drop("dmPolicy open needs allowFrom [\"*\"]"),
                DmPolicy::Allowlist if self.dm_allowed(sender, approved) => Access::Allowed,
                DmPolicy::Allowlist => Access::Drop("sender not in allowFrom"),
                DmPolicy::Pairing if self.dm_allowed(sender, approved) => Access::Allowed,
                DmPolicy::Pairing => Access::Pair,
            },
            ChatType::Group | ChatType::Channel => self.group_access(chat_id, sender, mentioned),
        }
    }

    /// The decision for inbound message `m` ([`AccountPolicy::access`], with a guild
    /// message checked against `guilds`).
    pub fn access_message(&self, m: &InboundMessage, approved: &[String]) -> Access {
        match (&m.guild, m.chat_type) {
            (Some(g), ChatType::Group | ChatType::Channel) => self.guild_access(m, g),
            _ => self.access(m.chat_type, &m.chat_id, &m.sender.id, m.mentioned, approved),
        }
    }

    /// Discord's rules: the guild must be listed (or `"*"`) under `allowlist`; a guild with a
    /// `channels` map allows only the channels it lists (by id or name, or `"*"`); `users` /
    /// `roles` (guild's and channel's), when set, must match the sender; mention gating per
    /// channel, else per guild, else on.
    fn guild_access(&self, m: &InboundMessage, g: &super::GuildContext) -> Access {
        let guild = self.guilds.get(&g.id).or_else(|| self.guilds.get("*"));
        match (self.group_policy, guild) {
            (GroupPolicy::Disabled, _) => return Access::Drop("groupPolicy is disabled"),
            (GroupPolicy::Allowlist, None) => return Access::Drop("guild not in guilds"),
            _ => {}
        }
        let default = GuildConfig::default();
        let guild = guild.unwrap_or(&default);
        let channel = match &guild.channels {
            None => None,
            Some(map) => {
                let by_name = g.channel_name.as_deref().and_then(|n| {
                    map.get(n)
                        .or_else(|| map.get(&format!("#{n}")))
                        .or_else(|| {
                            map.iter()
                                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                                .map(|(_, v)| v)
                        })
                });
                match map.get(&m.chat_id).or(by_name).or_else(|| map.get("*")) {
                    None => return Access::Drop("channel not in the guild's channels"),
                    Some(c) if c.enabled.or(c.allow) == Some(false) => {
                        return Access::Drop("channel disabled");
                    }
                    Some(c) => Some(c),
                }
            }
        };
        let users: Vec<&AllowEntry> = guild
            .users
            .iter()
            .chain(channel.map(|c| c.users.iter()).into_iter().flatten())
            .chain(self.group_allow_from.iter())
            .collect();
        let roles: Vec<&AllowEntry> = guild
            .roles
            .iter()
            .chain(channel.map(|c| c.roles.iter()).into_iter().flatten())
            .collect();
        if !users.is_empty() || !roles.is_empty() {
            let s = normalize_sender(&m.sender.id);
            let by_user = users
                .iter()
                .any(|e| e.normalized() == "*" || e.normalized() == s);
            let by_role = roles.iter().any(|e| {
                g.roles
                    .iter()
                    .any(|r| e.normalized() == normalize_sender(r))
            });
            if !by_user && !by_role {
                return Access::Drop("sender not in the guild's users or roles");
            }
        }
        let require = channel
            .and_then(|c| c.require_mention)
            .or(guild.require_mention)
            .unwrap_or(true);
        if require && !m.mentioned {
            return Access::Drop("not mentioned");
        }
        Access::Allowed
    }

    fn group_access(&self, chat_id: &str, sender: &str, mentioned: bool) -> Access {
        let group = self.groups.get(chat_id).or_else(|| self.groups.get("*"));
        match (self.group_policy, group) {
            (GroupPolicy::Disabled, _) => return Access::Drop("groupPolicy is disabled"),
            (GroupPolicy::Allowlist, None) => return Access::Drop("group not in groups"),
            _ => {}
        }
        let senders: Vec<&AllowEntry> = group
            .map(|g| g.allow_from.iter())
            .into_iter()
            .flatten()
            .chain(self.group_allow_from.iter())
            .collect();
        let s = normalize_sender(sender);
        if !senders.is_empty()
            && !senders
                .iter()
                .any(|e| e.normalized() == "*" || e.normalized() == s)
        {
            return Access::Drop("sender not in the group's allowFrom");
        }
        if group.and_then(|g| g.require_mention).unwrap_or(true) && !mentioned {
            return Access::Drop("not mentioned");
        }
        Access::Allowed
    }
}

/// The account ids of a `channels.<id>` section: the keys of `accounts`, plus `default` when
/// the section has credentials of its own or no accounts at all.
pub fn account_ids(section: &Value, own_credential_keys: &[&str]) -> Vec<String> {
    let accounts = section.get("accounts").and_then(Value::as_object);
    let mut ids: Vec<String> = accounts
        .map(|a| a.keys().cloned().collect())
        .unwrap_or_default();
    let own = own_credential_keys
        .iter()
        .any(|k| section.get(*k).is_some());
    if (own || ids.is_empty()) && !ids.iter().any(|i| i == DEFAULT_ACCOUNT) {
        ids.insert(0, DEFAULT_ACCOUNT.to_owned());
    }
    ids
}

/// One account's settings: the section's keys (without `accounts`) overlaid by
/// `accounts.<accountId>`'s.
pub fn account_value(section: &Value, account_id: &str) -> Value {
    let mut merged: Map<String, Value> = section
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| *k != "accounts")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    if let Some(own) = section
        .get("accounts")
        .and_then(|a| a.get(account_id))
        .and_then(Value::as_object)
    {
        for (k, v) in own {
            merged.insert(k.clone(), v.clone());
        }
    }
    Value::Object(merged)
}

/// A `bindings[]` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    pub agent_id: String,
    #[serde(rename = "match")]
    pub matcher: BindingMatch,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingMatch {
    pub channel: String,
    pub account_id: Option<String>,
    pub peer: Option<BindingPeer>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BindingPeer {
    pub kind: String,
    pub id: AllowEntry,
}

/// The agent `bindings` route a conversation to (the most specific match: peer, then account,
/// then channel), or `None` for the default agent.
pub fn bound_agent(
    bindings: &[Binding],
    channel: &str,
    account_id: &str,
    chat_type: ChatType,
    peer_id: &str,
) -> Option<String> {
    let peer_norm = normalize_sender(peer_id);
    bindings
        .iter()
        .filter(|b| b.matcher.channel.eq_ignore_ascii_case(channel))
        .filter_map(|b| {
            let acct = match b.matcher.account_id.as_deref() {
                None => 0,
                Some("*") => 1,
                Some(a) if a.eq_ignore_ascii_case(account_id) => 2,
                Some(_) => return None,
            };
            let peer = match &b.matcher.peer {
                None => 0,
                Some(p) if p.kind == chat_type.as_str() && p.id.normalized() == peer_norm => 4,
                Some(_) => return None,
            };
            Some((peer + acct, &b.agent_id))
        })
        // The first of equally specific bindings wins.
        .fold(None::<(i32, &String)>, |best, (score, agent)| match best {
            Some((s, _)) if s >= score => best,
            _ => Some((score, agent)),
        })
        .map(|(_, a)| a.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(v: Value) -> AccountPolicy {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn streaming_in_every_form_openclaw_accepts() {
        assert_eq!(policy(json!({})).stream_mode(), StreamMode::Off);
        let p = policy(
            json!({"streaming": {"mode": "partial", "chunkMode": "newline",
                                            "preview": {"throttleMs": 100}}}),
        );
        assert_eq!(p.stream_mode(), StreamMode::Partial);
        assert_eq!(p.streaming.chunk_mode.as_deref(), Some("newline"));
        assert_eq!(p.stream_throttle(), std::time::Duration::from_millis(250));
        assert_eq!(
            policy(json!({"streaming": "block"})).stream_mode(),
            StreamMode::Block
        );
        assert_eq!(
            policy(json!({"streaming": true})).stream_mode(),
            StreamMode::Partial
        );
        assert_eq!(
            policy(json!({"streamMode": "partial"})).stream_mode(),
            StreamMode::Partial
        );
        assert_eq!(
            policy(json!({"streaming": {"chunkMode": "length"}})).stream_throttle(),
            std::time::Duration::from_secs(1)
        );
        let bad = serde_json::from_value::<AccountPolicy>(json!({"streaming": "loud"}));
        assert!(bad.unwrap_err().to_string().contains("streaming must be"));
    }

    #[test]
    fn dm_policies() {
        let p = policy(json!({}));
        assert_eq!(p.dm_policy, DmPolicy::Pairing);
        assert_eq!(
            p.access(ChatType::Direct, "1", "1", false, &[]),
            Access::Pair
        );
        assert_eq!(
            p.access(ChatType::Direct, "1", "1", false, &["1".into()]),
            Access::Allowed
        );
        let allow = policy(json!({"dmPolicy": "allowlist", "allowFrom": ["tg:42", 7]}));
        assert_eq!(
            allow.access(ChatType::Direct, "42", "42", false, &[]),
            Access::Allowed
        );
        assert_eq!(
            allow.access(ChatType::Direct, "7", "7", false, &[]),
            Access::Allowed
        );
        assert!(matches!(
            allow.access(ChatType::Direct, "8", "8", false, &[]),
            Access::Drop(_)
        ));
        let open = policy(json!({"dmPolicy": "open"}));
        assert!(matches!(
            open.access(ChatType::Direct, "8", "8", false, &[]),
            Access::Drop(_)
        ));
        let open = policy(json!({"dmPolicy": "open", "allowFrom": ["*"]}));
        assert_eq!(
            open.access(ChatType::Direct, "8", "8", false, &[]),
            Access::Allowed
        );
    }

    #[test]
    fn pairing_approval_grants_no_group_access() {
        let p = policy(json!({}));
        assert!(matches!(
            p.access(ChatType::Group, "-100", "1", true, &["1".into()]),
            Access::Drop(_)
        ));
        let g = policy(json!({"groups": {"-100": {}}}));
        assert!(matches!(
            g.access(ChatType::Group, "-100", "1", false, &[]),
            Access::Drop("not mentioned")
        ));
        assert_eq!(
            g.access(ChatType::Group, "-100", "1", true, &[]),
            Access::Allowed
        );
    }

    fn guild_msg(channel: &str, name: &str, sender: &str, mentioned: bool) -> InboundMessage {
        InboundMessage {
            channel: "discord".into(),
            account_id: "default".into(),
            dedupe_key: "x".into(),
            message_id: "1".into(),
            chat_type: ChatType::Channel,
            chat_id: channel.into(),
            thread_id: None,
            sender: super::super::Sender {
                id: sender.into(),
                ..Default::default()
            },
            text: "hi".into(),
            mentioned,
            timestamp_ms: 0,
            guild: Some(super::super::GuildContext {
                id: "g1".into(),
                channel_name: Some(name.into()),
                roles: vec!["r1".into()],
            }),
            media: Vec::new(),
        }
    }

    #[test]
    fn discord_guilds_gate_channels_users_and_mentions() {
        let none = policy(json!({}));
        assert_eq!(
            none.access_message(&guild_msg("c1", "general", "u1", true), &["u1".into()]),
            Access::Drop("guild not in guilds")
        );
        let p = policy(json!({"guilds": {"g1": {"channels": {"general": {},
            "quiet": {"enabled": false}, "c9": {"requireMention": false}}}}}));
        assert_eq!(
            p.access_message(&guild_msg("c1", "general", "u1", false), &[]),
            Access::Drop("not mentioned")
        );
        assert_eq!(
            p.access_message(&guild_msg("c1", "general", "u1", true), &[]),
            Access::Allowed
        );
        assert_eq!(
            p.access_message(&guild_msg("c2", "quiet", "u1", true), &[]),
            Access::Drop("channel disabled")
        );
        assert_eq!(
            p.access_message(&guild_msg("c3", "other", "u1", true), &[]),
            Access::Drop("channel not in the guild's channels")
        );
        assert_eq!(
            p.access_message(&guild_msg("c9", "x", "u1", false), &[]),
            Access::Allowed
        );
        let users = policy(json!({"guilds": {"*": {"users": ["discord:u2"], "roles": ["r7"]}}}));
        assert_eq!(
            users.access_message(&guild_msg("c1", "general", "u1", true), &[]),
            Access::Drop("sender not in the guild's users or roles")
        );
        assert_eq!(
            users.access_message(&guild_msg("c1", "general", "u2", true), &[]),
            Access::Allowed
        );
        let roles = policy(json!({"guilds": {"g1": {"roles": ["r1"]}}}));
        assert_eq!(
            roles.access_message(&guild_msg("c1", "general", "u1", true), &[]),
            Access::Allowed
        );
    }

    #[test]
    fn accounts_and_bindings() {
        let s = json!({"botToken": "x", "dmPolicy": "allowlist", "accounts": {"work": {"dmPolicy": "open"}}});
        assert_eq!(account_ids(&s, &["botToken"]), ["default", "work"]);
        assert_eq!(account_value(&s, "work")["dmPolicy"], "open");
        assert_eq!(account_value(&s, "default")["dmPolicy"], "allowlist");
        let b: Vec<Binding> = serde_json::from_value(json!([
            {"agentId": "ch", "match": {"channel": "telegram"}},
            {"agentId": "alice", "match": {"channel": "telegram", "peer": {"kind": "direct", "id": "42"}}},
        ]))
        .unwrap();
        assert_eq!(
            bound_agent(&b, "telegram", "default", ChatType::Direct, "42").as_deref(),
            Some("alice")
        );
        assert_eq!(
            bound_agent(&b, "telegram", "default", ChatType::Direct, "43").as_deref(),
            Some("ch")
        );
        assert_eq!(
            bound_agent(&b, "discord", "default", ChatType::Direct, "42"),
            None
        );
    }
}
