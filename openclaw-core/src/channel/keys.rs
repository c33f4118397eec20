//! OpenClaw's session keys for channel conversations (`buildAgentPeerSessionKey`; ids
//! lower-cased): a DM lands in `agent:<id>:main` by default, or a key per peer per
//! `session.dmScope`; a group in `agent:<id>:<channel>:group:<id>`, a forum topic under it as
//! `:topic:<id>` (Telegram), a thread as `:thread:<id>` (Discord, Slack).

use serde::{Deserialize, Serialize};

use super::ChatType;

/// `session.dmScope`: how direct messages map to sessions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DmScope {
    /// Every DM shares the agent's main session (OpenClaw's default).
    #[default]
    Main,
    PerPeer,
    PerChannelPeer,
    PerAccountChannelPeer,
}

/// The conversation a key is built for.
#[derive(Debug, Clone, Copy)]
pub struct Conversation<'a> {
    pub channel: &'a str,
    pub account_id: &'a str,
    pub chat_type: ChatType,
    /// The DM peer, or the group / channel id.
    pub peer_id: &'a str,
    /// A Telegram forum topic.
    pub topic_id: Option<&'a str>,
}

/// The session key of `conv` for `agent_id`.
pub fn session_key(agent_id: &str, conv: &Conversation<'_>, dm_scope: DmScope) -> String {
    let agent = agent_id.to_lowercase();
    let channel = conv.channel.to_lowercase();
    let peer = conv.peer_id.to_lowercase();
    let base = match conv.chat_type {
        ChatType::Direct => match dm_scope {
            DmScope::Main => format!("agent:{agent}:main"),
            DmScope::PerPeer => format!("agent:{agent}:direct:{peer}"),
            DmScope::PerChannelPeer => format!("agent:{agent}:{channel}:direct:{peer}"),
            DmScope::PerAccountChannelPeer => format!(
                "agent:{agent}:{channel}:{}:direct:{peer}",
                conv.account_id.to_lowercase()
            ),
        },
        ChatType::Group => format!("agent:{agent}:{channel}:group:{peer}"),
        ChatType::Channel => format!("agent:{agent}:{channel}:channel:{peer}"),
    };
    // Telegram's forum topics are `:topic:`; Slack and Discord threads `:thread:`.
    let marker = if channel == "telegram" {
        "topic"
    } else {
        "thread"
    };
    match conv.topic_id {
        Some(t) if conv.chat_type != ChatType::Direct => {
            format!("{base}:{marker}:{}", t.to_lowercase())
        }
        _ => base,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(
        chat_type: ChatType,
        peer: &'static str,
        topic: Option<&'static str>,
    ) -> Conversation<'static> {
        Conversation {
            channel: "telegram",
            account_id: "Default",
            chat_type,
            peer_id: peer,
            topic_id: topic,
        }
    }

    #[test]
    fn keys_match_openclaw() {
        let dm = conv(ChatType::Direct, "4242", None);
        assert_eq!(session_key("main", &dm, DmScope::Main), "agent:main:main");
        assert_eq!(
            session_key("main", &dm, DmScope::PerPeer),
            "agent:main:direct:4242"
        );
        assert_eq!(
            session_key("main", &dm, DmScope::PerChannelPeer),
            "agent:main:telegram:direct:4242"
        );
        assert_eq!(
            session_key("Main", &dm, DmScope::PerAccountChannelPeer),
            "agent:main:telegram:default:direct:4242"
        );
        let topic = conv(ChatType::Group, "-1001234567890", Some("42"));
        assert_eq!(
            session_key("main", &topic, DmScope::Main),
            "agent:main:telegram:group:-1001234567890:topic:42"
        );
        let thread = Conversation {
            channel: "discord",
            chat_type: ChatType::Channel,
            peer_id: "555",
            topic_id: Some("777"),
            ..topic
        };
        assert_eq!(
            session_key("main", &thread, DmScope::Main),
            "agent:main:discord:channel:555:thread:777"
        );
    }
}
