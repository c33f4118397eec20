//! Discord: one [`DiscordAccount`] per configured bot — the gateway WebSocket for inbound,
//! REST for sends.
//!
//! - `frames`: the gateway frames this channel uses, typed (hello, identify, resume,
//!   heartbeat / ACK, dispatches `READY`, `RESUMED`, `GUILD_CREATE`, `THREAD_*`, `CHANNEL_*`,
//!   `MESSAGE_CREATE`, reconnect, invalid session) and the close codes;
//! - `gateway`: the supervised connection loop (identify or resume, heartbeats with jitter and
//!   ACK tracking, zombie detection, reconnect, messages committed through the sink with the
//!   session and sequence as the cursor);
//! - `inbound`: a `MESSAGE_CREATE` as an inbound message (DMs, guild channels, threads,
//!   mentions);
//! - `rest`: the REST client with Discord's rate limits;
//! - `text`: 2000-character / 17-line chunking and mass-mention neutralising.
//!
//! Config (`channels.discord`, per account under `accounts.<id>`): `token` | `tokenFile` (the
//! default account also reads `DISCORD_BOT_TOKEN`), `textChunkLimit` (2000, at most 2000),
//! `maxLinesPerMessage` (17), `allowBots` (false), `dm.enabled`; and ours, so tests can point
//! the account at a loopback fake: `apiRoot` (default `https://discord.com/api/v10`) and
//! `gatewayUrl` (default: what `GET /gateway/bot` says).

mod frames;
mod gateway;
mod inbound;
pub mod rest;
pub mod text;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use openclaw_core::CancellationToken;
use openclaw_core::channel::policy::account_value;
use openclaw_core::channel::{
    AccountStatus, ChannelAccount, ChannelError, InboundSink, OutboundText, ProbeResult,
    SentMessage, StatusCell, Target,
};
use serde::Deserialize;

use rest::{AllowedMentions, CreateDm, CreateMessage, EditMessage, MessageReference, Rest, User};

/// Discord's own limit on a message's content.
const DISCORD_MAX: usize = 2000;
const DEFAULT_API_ROOT: &str = "https://discord.com/api/v10";
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Sends of one chunk with the same nonce (a lost answer, a 5xx) before giving up.
const SEND_ATTEMPTS: u32 = 3;
/// `SUPPRESS_NOTIFICATIONS`.
const FLAG_SILENT: u64 = 1 << 12;
/// Cached DM channels and channel descriptions, at most.
const CACHE_MAX: usize = 10_000;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DmConfig {
    enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountConfig {
    token: Option<String>,
    token_file: Option<PathBuf>,
    api_root: Option<String>,
    gateway_url: Option<String>,
    text_chunk_limit: Option<usize>,
    max_lines_per_message: Option<usize>,
    #[serde(default)]
    allow_bots: bool,
    #[serde(default)]
    dm: DmConfig,
}

/// The account ids of `channels.discord`.
pub fn account_ids(section: &serde_json::Value) -> Vec<String> {
    openclaw_core::channel::policy::account_ids(section, &["token", "tokenFile"])
}

/// One Discord bot.
pub struct DiscordAccount {
    account_id: String,
    /// The bot token (never logged, never in status).
    token: Option<String>,
    api_root: String,
    gateway_url: Option<String>,
    chunk_limit: usize,
    max_lines: usize,
    allow_bots: bool,
    dms_enabled: bool,
    status: StatusCell,
    /// The bot itself (from `READY`), for mentions and to skip its own messages.
    me: Mutex<Option<User>>,
    /// Channel id → what routing needs (type, name, parent), from the gateway and REST.
    channels: Mutex<HashMap<String, rest::Channel>>,
    /// User id → DM channel id.
    dm_channels: Mutex<HashMap<String, String>>,
    rest: Mutex<Option<Rest>>,
}

impl DiscordAccount {
    /// Account `account_id` of the `channels.discord` section.
    pub fn from_section(
        section: &serde_json::Value,
        account_id: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let value = account_value(section, account_id);
        let cfg: AccountConfig = serde_json::from_value(value)
            .map_err(|e| format!("channels.discord ({account_id}): {e}"))?;
        let (token, source) = crate::token::resolve(
            cfg.token.as_deref(),
            cfg.token_file.as_deref(),
            "DISCORD_BOT_TOKEN",
            account_id,
            env,
        )?;
        // A token pasted with its "Bot " prefix still works.
        let token = token.map(|t| t.strip_prefix("Bot ").unwrap_or(&t).trim().to_owned());
        let status = StatusCell::default();
        status.update(|s| {
            s.configured = token.is_some();
            s.token_source = Some(source.to_owned());
            s.mode = "gateway".into();
            s.lifecycle = "stopped".into();
        });
        Ok(Self {
            account_id: account_id.to_owned(),
            token,
            api_root: cfg
                .api_root
                .unwrap_or_else(|| DEFAULT_API_ROOT.to_owned())
                .trim_end_matches('/')
                .to_owned(),
            gateway_url: cfg.gateway_url,
            chunk_limit: cfg
                .text_chunk_limit
                .unwrap_or(DISCORD_MAX)
                .clamp(16, DISCORD_MAX),
            max_lines: cfg.max_lines_per_message.unwrap_or(17).max(3),
            allow_bots: cfg.allow_bots,
            dms_enabled: cfg.dm.enabled != Some(false),
            status,
            me: Mutex::new(None),
            channels: Mutex::default(),
            dm_channels: Mutex::default(),
            rest: Mutex::new(None),
        })
    }

    fn rest(&self) -> Result<Rest, ChannelError> {
        let token = self.token.as_deref().ok_or_else(not_configured)?;
        let mut rest = openclaw_core::sync::lock(&self.rest);
        if let Some(r) = rest.as_ref() {
            return Ok(r.clone());
        }
        let r = Rest::new(&self.api_root, token)?;
        *rest = Some(r.clone());
        Ok(r)
    }

    /// The channel id a target names: `user:<id>` / `<@id>` (its DM channel, opened once),
    /// `channel:<id>` / `<#id>`, or a bare channel id; a thread wins over its parent.
    async fn channel_of(&self, to: &Target) -> Result<String, ChannelError> {
        if let Some(t) = to.thread_id.as_deref().filter(|t| !t.is_empty()) {
            return Ok(t.to_owned());
        }
        let raw = to.chat_id.trim();
        let raw = raw.strip_prefix("discord:").unwrap_or(raw);
        let user = raw.strip_prefix("user:").or_else(|| {
            raw.strip_prefix("<@")
                .and_then(|r| r.strip_suffix('>'))
                .map(|r| r.trim_start_matches('!'))
        });
        if let Some(user) = user {
            return self.dm_channel(user).await;
        }
        let channel = raw
            .strip_prefix("channel:")
            .or_else(|| raw.strip_prefix("<#").and_then(|r| r.strip_suffix('>')))
            .unwrap_or(raw);
        if channel.is_empty() || !channel.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ChannelError::Config(format!(
                "not a Discord target: {raw:?} (use channel:<id>, user:<id> or a channel id)"
            )));
        }
        Ok(channel.to_owned())
    }

    async fn dm_channel(&self, user: &str) -> Result<String, ChannelError> {
        if let Some(c) = openclaw_core::sync::lock(&self.dm_channels).get(user) {
            return Ok(c.clone());
        }
        let ch: rest::Channel = self
            .rest()?
            .post(
                "/users/@me/channels",
                &CreateDm { recipient_id: user },
                SEND_TIMEOUT,
            )
            .await?;
        let mut dms = openclaw_core::sync::lock(&self.dm_channels);
        if dms.len() >= CACHE_MAX {
            dms.clear();
        }
        dms.insert(user.to_owned(), ch.id.clone());
        Ok(ch.id)
    }

    /// Creates one message, retrying lost answers and 5xx with the same nonce (Discord returns
    /// the message already created for a nonce it has seen, so a retry never duplicates).
    async fn create_message(
        &self,
        channel: &str,
        body: &CreateMessage<'_>,
    ) -> Result<rest::Message, ChannelError> {
        let rest = self.rest()?;
        let path = format!("/channels/{channel}/messages");
        let mut attempt = 0;
        loop {
            attempt += 1;
            match rest
                .post::<_, rest::Message>(&path, body, SEND_TIMEOUT)
                .await
            {
                Err(e) if attempt < SEND_ATTEMPTS && retry_with_nonce(&e) => {
                    tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
                }
                other => return other,
            }
        }
    }
}

/// A failure after which sending the same nonce again is safe and useful.
fn retry_with_nonce(e: &ChannelError) -> bool {
    match e {
        ChannelError::Api { code, .. } => *code >= 500,
        ChannelError::Transport { .. } => true,
        _ => false,
    }
}

fn not_configured() -> ChannelError {
    ChannelError::Config(
        "not configured: set channels.discord.token, tokenFile or DISCORD_BOT_TOKEN".into(),
    )
}

/// A nonce for one message (Discord allows 25 characters).
fn nonce() -> String {
    use rand::Rng;
    let n: u64 = rand::thread_rng().r#gen();
    format!("oc{n:x}")
}

#[async_trait]
impl ChannelAccount for DiscordAccount {
    fn channel(&self) -> &'static str {
        "discord"
    }

    fn account_id(&self) -> &str {
        &self.account_id
    }

    fn text_chunk_limit(&self) -> usize {
        self.chunk_limit
    }

    fn chunk(&self, text: &str) -> Vec<String> {
        text::chunk(text, self.chunk_limit, self.max_lines)
    }

    fn dm_target(&self, sender_id: &str) -> String {
        format!("user:{sender_id}")
    }

    fn status(&self) -> AccountStatus {
        self.status.get()
    }

    async fn run(&self, sink: Arc<dyn InboundSink>, cancel: CancellationToken) {
        gateway::run(self, sink, cancel).await;
    }

    async fn send_text(&self, msg: &OutboundText) -> Result<SentMessage, ChannelError> {
        let channel = self.channel_of(&msg.to).await?;
        let content = text::neutralize_mass_mentions(&msg.text);
        if content.chars().count() > DISCORD_MAX {
            return Err(ChannelError::Config(format!(
                "a Discord message holds at most {DISCORD_MAX} characters (chunk first)"
            )));
        }
        let nonce = nonce();
        let body = CreateMessage {
            content: &content,
            message_reference: msg.reply_to_id.as_deref().filter(|r| !r.is_empty()).map(
                |message_id| MessageReference {
                    message_id,
                    fail_if_not_exists: false,
                },
            ),
            // Users named in the text may be notified; roles, @everyone and @here never.
            allowed_mentions: AllowedMentions {
                parse: &["users"],
                replied_user: true,
            },
            nonce: &nonce,
            enforce_nonce: true,
            flags: msg.silent.then_some(FLAG_SILENT),
        };
        let sent = self.create_message(&channel, &body).await?;
        self.status
            .update(|s| s.last_outbound_at = Some(openclaw_core::message::now_ms().max(0) as u64));
        Ok(SentMessage {
            message_id: sent.id,
            chat_id: sent.channel_id,
        })
    }

    async fn edit_text(
        &self,
        to: &Target,
        message_id: &str,
        text: &str,
    ) -> Result<(), ChannelError> {
        let channel = self.channel_of(to).await?;
        let content = text::neutralize_mass_mentions(text);
        if content.chars().count() > DISCORD_MAX {
            return Err(ChannelError::Config(format!(
                "a Discord message holds at most {DISCORD_MAX} characters (chunk first)"
            )));
        }
        let body = EditMessage {
            content: &content,
            allowed_mentions: AllowedMentions {
                parse: &["users"],
                replied_user: true,
            },
        };
        let _: rest::Message = self
            .rest()?
            .patch(
                &format!("/channels/{channel}/messages/{message_id}"),
                &body,
                SEND_TIMEOUT,
            )
            .await?;
        Ok(())
    }

    async fn delete_message(&self, to: &Target, message_id: &str) -> Result<(), ChannelError> {
        let channel = self.channel_of(to).await?;
        self.rest()?
            .delete(
                &format!("/channels/{channel}/messages/{message_id}"),
                SEND_TIMEOUT,
            )
            .await
    }

    fn can_edit(&self) -> bool {
        true
    }

    async fn send_typing(&self, to: &Target) -> Result<(), ChannelError> {
        let channel = self.channel_of(to).await?;
        self.rest()?
            .post_empty(&format!("/channels/{channel}/typing"), SEND_TIMEOUT)
            .await
    }

    async fn probe(&self) -> ProbeResult {
        let started = Instant::now();
        let res: Result<User, ChannelError> = match self.rest() {
            Ok(r) => r.get("/users/@me", Duration::from_secs(10)).await,
            Err(e) => Err(e),
        };
        ProbeResult::from_outcome(started.elapsed().as_millis() as u64, res)
    }

    async fn logout(&self) -> Result<bool, ChannelError> {
        Err(ChannelError::Unsupported(
            "channel discord does not support logout".into(),
        ))
    }

    fn pairing_text(&self, sender_id: &str, code: &str) -> String {
        format!(
            "OpenClaw: access not configured.\n\nYour Discord user id: {sender_id}\nPairing code:\n\n\
             ```\n{code}\n```\nAsk the bot owner to approve with:\n\n\
             ```\nopenclaw pairing approve discord {code}\n```"
        )
    }
}
