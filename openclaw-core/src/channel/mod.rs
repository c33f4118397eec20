//! Messaging channels (Telegram today; Discord, Slack, webhook pairs and IRC next): the
//! runtime-agnostic vocabulary every channel and the gateway's channel manager share.
//!
//! - this module: the [`ChannelAccount`] trait one account of a platform implements
//!   (inbound loop with acknowledgement, `send_text`, typing, probe, logout, pairing texts),
//!   the [`InboundSink`] it commits inbound messages to before it acknowledges them to the
//!   platform, and the typed messages and status snapshot;
//! - `chunk`: splitting a reply at a channel's limit on paragraph, line or whitespace bounds;
//! - `keys`: OpenClaw's session keys for a conversation (`session.dmScope`);
//! - `policy`: the shared `channels.<id>` keys (`dmPolicy`, `allowFrom`, `groupPolicy`,
//!   `groups`, `textChunkLimit`, `replyToMode`) and top-level `bindings[]`;
//! - `pairing`: DM pairing codes, limits and the texts a stranger receives;
//! - `streaming`: the `streaming` key (edit-in-place or not).
//!
//! Implementations (which need a runtime and HTTP) live in the `openclaw-channels` crate; the
//! durable queue, routing and dispatch in the gateway.

pub mod chunk;
pub mod keys;
pub mod pairing;
pub mod policy;
pub mod streaming;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::CancellationToken;

/// What kind of conversation a message belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatType {
    Direct,
    Group,
    Channel,
}

impl ChatType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatType::Direct => "direct",
            ChatType::Group => "group",
            ChatType::Channel => "channel",
        }
    }
}

/// Who sent an inbound message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sender {
    /// The platform's stable user id (Telegram: the numeric user id).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default)]
    pub is_bot: bool,
}

impl Sender {
    /// "Alice (@alice) id:4242", as OpenClaw labels a session's origin.
    pub fn label(&self) -> String {
        let name = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let mut out = String::new();
        if !name.is_empty() {
            out.push_str(&name);
            out.push(' ');
        }
        if let Some(u) = &self.username {
            out.push_str(&format!("(@{u}) "));
        }
        out.push_str(&format!("id:{}", self.id));
        out
    }
}

/// One inbound message, as committed to the state database before the platform is told it
/// was received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMessage {
    /// The channel id (`telegram`).
    pub channel: String,
    pub account_id: String,
    /// Unique per account: duplicates with the same key are dropped (Telegram:
    /// `<chat id>:<message id>`).
    pub dedupe_key: String,
    /// The platform's message id (what a reply refers to).
    pub message_id: String,
    pub chat_type: ChatType,
    /// The conversation: the DM peer or the group / channel id.
    pub chat_id: String,
    /// A forum topic or thread inside the conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
    pub sender: Sender,
    pub text: String,
    /// Whether the bot was mentioned (or replied to) in a group message.
    #[serde(default)]
    pub mentioned: bool,
    /// Media attached to the message (a photo), fetched with [`ChannelAccount::fetch_media`]
    /// when the message is dispatched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<InboundMedia>,
    /// Milliseconds since the epoch, as the platform stamped it.
    pub timestamp_ms: u64,
    /// The server ("guild" on Discord) a group message was posted in, for policies keyed by
    /// server (`channels.discord.guilds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild: Option<GuildContext>,
}

/// Where in a server (a Discord guild) a message was posted, and the sender's roles there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuildContext {
    pub id: String,
    /// The channel's name (a thread's parent channel), when known: `guilds.*.channels` may be
    /// keyed by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_name: Option<String>,
    /// The sender's role ids in the guild.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
}

/// A media item of an inbound message: the platform's reference, not the bytes (those are
/// downloaded, size-bounded, only when the message reaches the agent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundMedia {
    /// `photo`.
    pub kind: String,
    /// The platform's file reference (Telegram: `file_id`).
    pub file_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// Downloaded media: the bytes and their MIME type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedMedia {
    pub bytes: Vec<u8>,
    pub mime_type: String,
}

/// Where an outbound message goes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub chat_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<String>,
}

/// One outbound text message (one chunk: the caller chunks).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundText {
    pub to: Target,
    /// Markdown, converted to the platform's markup by the channel, unless `raw_html`.
    pub text: String,
    pub reply_to_id: Option<String>,
    pub silent: bool,
    /// The text is already the platform's markup (`send {parseMode:"HTML"}`).
    pub raw_html: bool,
}

/// One outbound media message (a photo today): `media` is an `http(s)` URL the platform
/// fetches itself or a local file path the channel uploads (size-bounded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundMedia {
    pub to: Target,
    pub media: String,
    /// Markdown, converted like [`OutboundText::text`]; at most the platform's caption limit.
    pub caption: Option<String>,
    pub reply_to_id: Option<String>,
    pub silent: bool,
}

/// An inline button under a message: its label and the data the platform returns when it is
/// pressed (Telegram: `callback_data`, at most 64 bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub text: String,
    pub data: String,
}

/// A press of an inline button, as the platform reported it. Not durable: a press that is
/// lost is pressed again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ButtonPress {
    pub channel: String,
    pub account_id: String,
    pub sender: Sender,
    /// The chat and message the button was under.
    pub chat_id: String,
    pub message_id: Option<String>,
    pub data: String,
}

/// One entry of a platform's native command menu (Telegram's `BotCommand`): the command
/// without its slash, and what the menu shows for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuCommand {
    pub command: String,
    pub description: String,
}

/// What the platform answered to a send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SentMessage {
    pub message_id: String,
    pub chat_id: String,
}

/// What went wrong talking to a platform.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    /// The platform refused the request (Telegram `{ok:false, error_code, description}`).
    /// `retry_after_s` is set for rate limits.
    #[error("{code}: {description}")]
    Api {
        code: u16,
        description: String,
        retry_after_s: Option<u64>,
    },
    /// The request never got an answer (connect error, timeout, bad body). `sent` is false
    /// when the request certainly did not reach the platform (safe to retry).
    #[error("{message}")]
    Transport { message: String, sent: bool },
    /// The account's configuration cannot be used.
    #[error("{0}")]
    Config(String),
    /// The operation is not supported by this channel.
    #[error("{0}")]
    Unsupported(String),
}

impl ChannelError {
    /// Whether sending again cannot duplicate a message that reached the platform.
    pub fn retry_is_safe(&self) -> bool {
        match self {
            ChannelError::Api { code, .. } => *code == 429 || *code >= 500,
            ChannelError::Transport { sent, .. } => !sent,
            _ => false,
        }
    }
}

/// An account's runtime state, as `channels.status` shows it (OpenClaw's account snapshot).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountStatus {
    /// Credentials are present (a token, a token file, …).
    pub configured: bool,
    /// Where the credentials came from (`config`, `tokenFile`, `env`, `none`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_source: Option<String>,
    pub running: bool,
    pub connected: bool,
    /// `starting`, `ready`, `reconnecting`, `stopped`.
    pub lifecycle: String,
    pub mode: String,
    pub reconnect_attempts: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_connected_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_inbound_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_outbound_at: Option<u64>,
    /// The last time the platform answered the inbound loop (a long poll returning), which is
    /// what the stall watchdog measures (outbound sends do not count).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_transport_activity_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_start_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_stop_at: Option<u64>,
    pub last_error: Option<String>,
    /// Stalls the watchdog detected.
    pub stalls: u64,
    /// Problems that did not stop the account (a command menu Telegram refused), newest last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The bot as the platform describes it (Telegram `getMe`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot: Option<Value>,
}

/// A shared, lock-protected [`AccountStatus`] the account's loop writes and the manager reads.
#[derive(Debug, Clone, Default)]
pub struct StatusCell(Arc<Mutex<AccountStatus>>);

impl StatusCell {
    pub fn get(&self) -> AccountStatus {
        crate::sync::lock(&self.0).clone()
    }

    pub fn update(&self, f: impl FnOnce(&mut AccountStatus)) {
        f(&mut crate::sync::lock(&self.0));
    }

    /// An account's loop begins (`at_ms`): running, lifecycle `starting`.
    pub fn starting(&self, at_ms: u64) {
        self.update(|s| {
            s.running = true;
            s.lifecycle = "starting".into();
            s.last_start_at = Some(at_ms);
        });
    }
}

/// Where an account commits what it received. The account acknowledges messages to the
/// platform (Telegram: advances `offset`) only after [`InboundSink::commit`] returned `Ok`, so
/// a crash replays them (dropped again by their dedupe key) and never loses one.
#[async_trait]
pub trait InboundSink: Send + Sync {
    /// The account's saved cursor (Telegram: the next `offset`), if any.
    async fn cursor(&self, channel: &str, account_id: &str) -> Result<Option<String>, String>;
    /// Handles a button press; returns the short text the presser is shown. The default
    /// handles nothing.
    async fn press(&self, press: ButtonPress) -> String {
        let _ = press;
        "This button is not handled here.".to_owned()
    }
    /// Durably records `messages` (duplicates by dedupe key dropped) and the new `cursor`, in
    /// one transaction.
    async fn commit(
        &self,
        channel: &str,
        account_id: &str,
        messages: Vec<InboundMessage>,
        cursor: Option<String>,
    ) -> Result<(), String>;
}

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeResult {
    pub ok: bool,
    pub elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot: Option<Value>,
}

impl ProbeResult {
    /// The probe's outcome after `elapsed_ms`: the bot's identity as the platform described it,
    /// or the error.
    pub fn from_outcome<B: Serialize>(elapsed_ms: u64, outcome: Result<B, ChannelError>) -> Self {
        match outcome {
            Ok(me) => ProbeResult {
                ok: true,
                elapsed_ms,
                error: None,
                bot: serde_json::to_value(&me).ok(),
            },
            Err(e) => ProbeResult {
                ok: false,
                elapsed_ms,
                error: Some(e.to_string()),
                bot: None,
            },
        }
    }
}

/// One configured account of a channel. The gateway's manager starts [`ChannelAccount::run`]
/// on a task per account and cancels it to stop; everything else may be called at any time.
#[async_trait]
pub trait ChannelAccount: Send + Sync {
    /// `telegram`, `discord`, …
    fn channel(&self) -> &'static str;
    fn account_id(&self) -> &str;
    /// The longest text one message may carry (`textChunkLimit`, capped by the platform).
    fn text_chunk_limit(&self) -> usize;
    /// The live status snapshot.
    fn status(&self) -> AccountStatus;
    /// The inbound loop, supervised (reconnects with backoff and jitter, a stall watchdog),
    /// until `cancel`. Commits every message to `sink` before acknowledging it.
    async fn run(&self, sink: Arc<dyn InboundSink>, cancel: CancellationToken);
    /// Sends one message (already chunked); the platform's message id on success.
    async fn send_text(&self, msg: &OutboundText) -> Result<SentMessage, ChannelError>;
    /// Sends one media message; the platform's message id on success. Channels without media
    /// support keep this default, which refuses by name.
    async fn send_media(&self, msg: &OutboundMedia) -> Result<SentMessage, ChannelError> {
        let _ = msg;
        Err(ChannelError::Unsupported(format!(
            "channel {} cannot send media",
            self.channel()
        )))
    }
    /// Sends one text message with rows of inline buttons. Channels without buttons keep this
    /// default, which refuses by name.
    async fn send_buttons(
        &self,
        msg: &OutboundText,
        rows: &[Vec<Button>],
    ) -> Result<SentMessage, ChannelError> {
        let _ = (msg, rows);
        Err(ChannelError::Unsupported(format!(
            "channel {} cannot send buttons",
            self.channel()
        )))
    }
    /// Downloads an inbound media item (size-bounded by the channel). Channels without media
    /// keep this default, which refuses by name.
    async fn fetch_media(&self, media: &InboundMedia) -> Result<FetchedMedia, ChannelError> {
        Err(ChannelError::Unsupported(format!(
            "channel {} cannot fetch {}",
            self.channel(),
            media.kind
        )))
    }
    /// Replaces the text of message `message_id` in `to` (sent by this account) with `text`
    /// (Markdown, converted as [`ChannelAccount::send_text`] converts it). Editing to the text
    /// the message already has succeeds. Channels that cannot edit keep this default, which
    /// refuses by name; [`ChannelAccount::can_edit`] says which is which.
    async fn edit_text(
        &self,
        to: &Target,
        message_id: &str,
        text: &str,
    ) -> Result<(), ChannelError> {
        let _ = (to, message_id, text);
        Err(ChannelError::Unsupported(format!(
            "channel {} cannot edit messages",
            self.channel()
        )))
    }
    /// Deletes message `message_id` in `to` (sent by this account).
    async fn delete_message(&self, to: &Target, message_id: &str) -> Result<(), ChannelError> {
        let _ = (to, message_id);
        Err(ChannelError::Unsupported(format!(
            "channel {} cannot delete messages",
            self.channel()
        )))
    }
    /// Whether [`ChannelAccount::edit_text`] and [`ChannelAccount::delete_message`] work here
    /// (what streaming a reply by editing it in place needs).
    fn can_edit(&self) -> bool {
        false
    }
    /// The gateway's slash commands, for platforms with a native command menu (Telegram's
    /// `setMyCommands`): the account registers them (with its own custom entries) when it
    /// connects. Called before [`ChannelAccount::run`]; others ignore it.
    fn set_command_menu(&self, commands: Vec<MenuCommand>) {
        let _ = commands;
    }
    /// Shows "typing…" in `to` (a few seconds on most platforms).
    async fn send_typing(&self, to: &Target) -> Result<(), ChannelError>;
    /// Checks the credentials against the platform (Telegram `getMe`).
    async fn probe(&self) -> ProbeResult;
    /// Forgets the session with the platform (Telegram: `logOut` is not used; a bot token
    /// stays valid, so logout is unsupported there and says so).
    async fn logout(&self) -> Result<bool, ChannelError>;
    /// `text` split into the messages one reply needs (the channel's limit; Discord also caps
    /// lines per message).
    fn chunk(&self, text: &str) -> Vec<String> {
        chunk::chunk_text(text, self.text_chunk_limit())
    }
    /// The target of a DM to user `sender_id` (Telegram: the user id is the chat id; Discord:
    /// `user:<id>`, whose DM channel the account opens).
    fn dm_target(&self, sender_id: &str) -> String {
        sender_id.to_owned()
    }
    /// The reply a stranger gets under `dmPolicy: "pairing"` (once per request).
    fn pairing_text(&self, sender_id: &str, code: &str) -> String;
    /// What an approved sender is told with `--notify`.
    fn approved_text(&self) -> String {
        pairing::APPROVED_TEXT.to_owned()
    }
}
