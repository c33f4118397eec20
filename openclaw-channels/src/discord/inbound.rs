//! A `MESSAGE_CREATE` as an inbound message: a DM (no guild) is `direct` with the DM channel
//! as the chat; a guild message is `channel` with its channel as the chat, or — in a thread —
//! the thread's parent as the chat and the thread as `thread_id` (so the session key is
//! `…:channel:<parent>:thread:<thread>` and the parent's `guilds.*.channels` entry applies).
//! The bot's own messages, other bots' (unless `allowBots`), webhooks, system messages and
//! empty texts are skipped. A mention is the bot in `mentions`, `<@id>` in the text, or a reply
//! to one of the bot's messages; the bot's own mention is taken out of the text.

use std::time::Duration;

use openclaw_core::channel::{ChatType, GuildContext, InboundMessage, Sender};

use super::DiscordAccount;
use super::frames::MessageCreate;
use super::rest::{Channel, User};

/// Discord's epoch (2015-01-01) in milliseconds: a snowflake's creation time is
/// `(id >> 22) + DISCORD_EPOCH`.
const DISCORD_EPOCH: u64 = 1_420_070_400_000;

fn snowflake_ms(id: &str) -> u64 {
    id.parse::<u64>()
        .map(|n| (n >> 22) + DISCORD_EPOCH)
        .unwrap_or(0)
}

impl DiscordAccount {
    /// Remembers channels and threads the gateway described.
    pub(super) fn remember(&self, channels: impl IntoIterator<Item = Channel>) {
        let mut cache = openclaw_core::sync::lock(&self.channels);
        for c in channels {
            if cache.len() >= super::CACHE_MAX && !cache.contains_key(&c.id) {
                cache.clear();
            }
            cache.insert(c.id.clone(), c);
        }
    }

    /// The channel `id`, from the cache or (once) from REST; `None` when Discord cannot say.
    async fn describe(&self, id: &str) -> Option<Channel> {
        if let Some(c) = openclaw_core::sync::lock(&self.channels).get(id) {
            return Some(c.clone());
        }
        let rest = self.rest().ok()?;
        let c: Channel = rest
            .get(&format!("/channels/{id}"), Duration::from_secs(5))
            .await
            .ok()?;
        self.remember([c.clone()]);
        Some(c)
    }

    /// `m` as an inbound message, or `None` when it is not for the agent.
    pub(super) async fn inbound(&self, m: MessageCreate, me: &User) -> Option<InboundMessage> {
        if m.author.id == me.id
            || (m.author.bot && !self.allow_bots)
            || m.webhook_id.is_some()
            || !matches!(m.kind, 0 | 19)
        {
            return None;
        }
        let mine = [format!("<@{}>", me.id), format!("<@!{}>", me.id)];
        let mentioned = m.mentions.iter().any(|u| u.id == me.id)
            || mine.iter().any(|t| m.content.contains(t.as_str()))
            || m.referenced_message
                .as_ref()
                .and_then(|r| r.author.as_ref())
                .is_some_and(|a| a.id == me.id);
        let mut text = m.content.clone();
        for t in &mine {
            text = text.replace(t.as_str(), "");
        }
        let text = text.trim().to_owned();
        if text.is_empty() {
            return None;
        }
        let (chat_type, chat_id, thread_id, guild) = match &m.guild_id {
            None => {
                if !self.dms_enabled {
                    return None;
                }
                (ChatType::Direct, m.channel_id.clone(), None, None)
            }
            Some(g) => {
                let here = self.describe(&m.channel_id).await;
                let (chat, thread, name) = match here {
                    Some(c) if c.is_thread() => {
                        let parent = c.parent_id.clone().unwrap_or_else(|| c.id.clone());
                        let name = match self.describe(&parent).await {
                            Some(p) => p.name,
                            None => None,
                        };
                        (parent, Some(c.id), name)
                    }
                    Some(c) => (c.id, None, c.name),
                    None => (m.channel_id.clone(), None, None),
                };
                let ctx = GuildContext {
                    id: g.clone(),
                    channel_name: name,
                    roles: m
                        .member
                        .as_ref()
                        .map(|x| x.roles.clone())
                        .unwrap_or_default(),
                };
                (ChatType::Channel, chat, thread, Some(ctx))
            }
        };
        let nick = m.member.as_ref().and_then(|x| x.nick.clone());
        Some(InboundMessage {
            channel: "discord".into(),
            account_id: self.account_id.clone(),
            dedupe_key: format!("{}:{}", m.channel_id, m.id),
            timestamp_ms: snowflake_ms(&m.id),
            message_id: m.id,
            chat_type,
            chat_id,
            thread_id,
            sender: Sender {
                id: m.author.id,
                username: Some(m.author.username).filter(|u| !u.is_empty()),
                first_name: nick.or(m.author.global_name),
                last_name: None,
                is_bot: m.author.bot,
            },
            text,
            mentioned: chat_type != ChatType::Direct && mentioned,
            guild,
            media: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snowflakes_carry_their_time() {
        // Discord's documented example: 175928847299117063 → 2016-04-30T11:18:25.796Z.
        assert_eq!(snowflake_ms("175928847299117063"), 1_462_015_105_796);
        assert_eq!(snowflake_ms("x"), 0);
    }
}
