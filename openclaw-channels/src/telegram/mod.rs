//! Telegram over the Bot API: one [`TelegramAccount`] per configured bot.
//!
//! - `api`: the HTTP client and the typed requests / updates;
//! - `html`: Markdown to Telegram HTML with escaping;
//! - `poll`: the supervised long-polling loop (offsets committed through the sink first,
//!   reconnect with backoff and jitter, the stall watchdog).
//! - `webhook`: webhook mode (`webhookUrl`/`webhookSecret`/`webhookPath`/`webhookHost`/
//!   `webhookPort`): a listener committing each update before its 200;
//! - `media`: photos out (`sendPhoto`) and in (`getFile` + a bounded download);
//! - `buttons`: inline keyboards and pressed buttons (`callback_query`);
//! - `menu`: the command menu (`deleteMyCommands` / `setMyCommands`, `customCommands`).
//!
//! Config (`channels.telegram`, per account under `accounts.<id>`): `botToken` | `tokenFile`
//! (the default account also reads `TELEGRAM_BOT_TOKEN`), `apiRoot` (default
//! `https://api.telegram.org`, without `/bot<token>`), `textChunkLimit` (4000, at most 4096),
//! `customCommands` (`[{command, description}]`, extra menu entries), and ours: `pollTimeoutSeconds` (30, the long poll's `timeout`) and `stallTimeoutMs` (the
//! watchdog: a poll with no answer for this long is abandoned and the connection rebuilt;
//! default the poll timeout + 15 s).

pub mod api;
mod buttons;
pub mod html;
pub mod media;
pub mod menu;
mod poll;
pub mod webhook;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use openclaw_core::CancellationToken;
use openclaw_core::channel::policy::account_value;
use openclaw_core::channel::{
    AccountStatus, Button, ChannelAccount, ChannelError, FetchedMedia, InboundMedia, InboundSink,
    MenuCommand, OutboundMedia, OutboundText, ProbeResult, SentMessage, StatusCell, Target,
};
use serde::Deserialize;

use api::{BotApi, ReplyParameters, SendChatAction, SendMessage, User};

/// Telegram's own limit on a message's text.
const TELEGRAM_MAX: usize = 4096;
const DEFAULT_API_ROOT: &str = "https://api.telegram.org";
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountConfig {
    bot_token: Option<String>,
    token_file: Option<PathBuf>,
    api_root: Option<String>,
    text_chunk_limit: Option<usize>,
    poll_timeout_seconds: Option<u64>,
    stall_timeout_ms: Option<u64>,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    webhook_path: Option<String>,
    webhook_host: Option<String>,
    webhook_port: Option<u16>,
    #[serde(default)]
    custom_commands: Vec<menu::CustomCommand>,
}

/// The account ids of `channels.telegram`.
pub fn account_ids(section: &serde_json::Value) -> Vec<String> {
    openclaw_core::channel::policy::account_ids(section, &["botToken", "tokenFile"])
}

/// One Telegram bot.
pub struct TelegramAccount {
    account_id: String,
    /// The bot token (never logged, never in status).
    token: Option<String>,
    api_root: String,
    chunk_limit: usize,
    poll_timeout: Duration,
    stall_timeout: Duration,
    status: StatusCell,
    /// The bot itself (`getMe`), for mention detection.
    me: Mutex<Option<User>>,
    /// The outbound client (sends never share the poll's connection).
    out: Mutex<Option<BotApi>>,
    /// Webhook mode instead of long polling.
    webhook: Option<webhook::WebhookConfig>,
    /// The gateway's commands for the menu (set before the account runs).
    menu: Mutex<Vec<MenuCommand>>,
    /// `customCommands`: menu entries of the account's own.
    custom_commands: Vec<menu::CustomCommand>,
    /// The menu was registered in this run (it is registered once per run).
    menu_synced: AtomicBool,
}

impl TelegramAccount {
    /// Account `account_id` of the `channels.telegram` section.
    pub fn from_section(
        section: &serde_json::Value,
        account_id: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let value = account_value(section, account_id);
        let cfg: AccountConfig = serde_json::from_value(value)
            .map_err(|e| format!("channels.telegram ({account_id}): {e}"))?;
        let (token, source) = crate::token::resolve(
            cfg.bot_token.as_deref(),
            cfg.token_file.as_deref(),
            "TELEGRAM_BOT_TOKEN",
            account_id,
            env,
        )?;
        let poll = cfg.poll_timeout_seconds.unwrap_or(30).min(50);
        let stall = cfg
            .stall_timeout_ms
            .map(Duration::from_millis)
            .unwrap_or(Duration::from_secs(poll + 15));
        let webhook = webhook::WebhookConfig::from_keys(
            cfg.webhook_url,
            cfg.webhook_secret,
            cfg.webhook_path,
            cfg.webhook_host,
            cfg.webhook_port,
        )
        .map_err(|e| format!("channels.telegram ({account_id}): {e}"))?;
        let status = StatusCell::default();
        status.update(|s| {
            s.configured = token.is_some();
            s.token_source = Some(source.to_owned());
            s.mode = if webhook.is_some() {
                "webhook"
            } else {
                "polling"
            }
            .into();
            s.lifecycle = "stopped".into();
        });
        Ok(Self {
            account_id: account_id.to_owned(),
            token,
            api_root: cfg.api_root.unwrap_or_else(|| DEFAULT_API_ROOT.to_owned()),
            chunk_limit: cfg.text_chunk_limit.unwrap_or(4000).clamp(1, TELEGRAM_MAX),
            poll_timeout: Duration::from_secs(poll),
            stall_timeout: stall.max(Duration::from_millis(200)),
            status,
            me: Mutex::new(None),
            out: Mutex::new(None),
            webhook,
            menu: Mutex::new(Vec::new()),
            custom_commands: cfg.custom_commands,
            menu_synced: AtomicBool::new(false),
        })
    }

    /// Registers the command menu unless this run already did.
    async fn sync_menu(&self, api: &BotApi) {
        if !self.menu_synced.load(Ordering::SeqCst) && menu::sync(self, api).await {
            self.menu_synced.store(true, Ordering::SeqCst);
        }
    }

    fn api(&self) -> Result<BotApi, ChannelError> {
        let token = self.token.as_deref().ok_or_else(not_configured)?;
        let mut out = openclaw_core::sync::lock(&self.out);
        if let Some(api) = out.as_ref() {
            return Ok(api.clone());
        }
        let api = BotApi::new(&self.api_root, token)?;
        *out = Some(api.clone());
        Ok(api)
    }

    async fn send_message(&self, req: &SendMessage<'_>) -> Result<SentMessage, ChannelError> {
        let sent: api::Message = self.api()?.call("sendMessage", req, SEND_TIMEOUT).await?;
        self.status
            .update(|s| s.last_outbound_at = Some(openclaw_core::message::now_ms().max(0) as u64));
        Ok(SentMessage {
            message_id: sent.message_id.to_string(),
            chat_id: sent.chat.id.to_string(),
        })
    }
}

fn not_configured() -> ChannelError {
    ChannelError::Config(
        "not configured: set channels.telegram.botToken, tokenFile or TELEGRAM_BOT_TOKEN".into(),
    )
}

fn thread_of(target: &Target) -> Option<i64> {
    target.thread_id.as_deref().and_then(|t| t.parse().ok())
}

#[async_trait]
impl ChannelAccount for TelegramAccount {
    fn channel(&self) -> &'static str {
        "telegram"
    }

    fn account_id(&self) -> &str {
        &self.account_id
    }

    fn text_chunk_limit(&self) -> usize {
        self.chunk_limit
    }

    fn status(&self) -> AccountStatus {
        self.status.get()
    }

    async fn run(&self, sink: Arc<dyn InboundSink>, cancel: CancellationToken) {
        self.menu_synced.store(false, Ordering::SeqCst);
        match &self.webhook {
            Some(w) => webhook::run(self, w, sink, cancel).await,
            None => poll::run(self, sink, cancel).await,
        }
    }

    fn set_command_menu(&self, commands: Vec<MenuCommand>) {
        *openclaw_core::sync::lock(&self.menu) = commands;
    }

    async fn send_text(&self, msg: &OutboundText) -> Result<SentMessage, ChannelError> {
        let html = if msg.raw_html {
            msg.text.clone()
        } else {
            html::markdown_to_html(&msg.text)
        };
        let reply = msg
            .reply_to_id
            .as_deref()
            .and_then(|r| r.parse().ok())
            .map(|message_id| ReplyParameters {
                message_id,
                allow_sending_without_reply: true,
            });
        let mut req = SendMessage {
            chat_id: &msg.to.chat_id,
            text: &html,
            parse_mode: Some("HTML"),
            message_thread_id: thread_of(&msg.to),
            reply_parameters: reply,
            disable_notification: msg.silent,
            reply_markup: None,
        };
        match self.send_message(&req).await {
            // Telegram refused the markup (it delivered nothing): send the text as it was.
            Err(ChannelError::Api {
                code: 400,
                description,
                ..
            }) if description.contains("can't parse entities") => {
                req.text = &msg.text;
                req.parse_mode = None;
                self.send_message(&req).await
            }
            other => other,
        }
    }

    async fn edit_text(
        &self,
        to: &Target,
        message_id: &str,
        text: &str,
    ) -> Result<(), ChannelError> {
        let message_id: i64 = message_id
            .parse()
            .map_err(|_| ChannelError::Config(format!("bad message id {message_id:?}")))?;
        let html = html::markdown_to_html(text);
        let mut req = api::EditMessageText {
            chat_id: &to.chat_id,
            message_id,
            text: &html,
            parse_mode: Some("HTML"),
        };
        let api = self.api()?;
        let mut r: Result<api::Message, ChannelError> =
            api.call("editMessageText", &req, SEND_TIMEOUT).await;
        if let Err(ChannelError::Api {
            code: 400,
            description,
            ..
        }) = &r
            && description.contains("can't parse entities")
        {
            req.text = text;
            req.parse_mode = None;
            r = api.call("editMessageText", &req, SEND_TIMEOUT).await;
        }
        match r {
            Ok(_) => Ok(()),
            // The message already reads so: what an edit wanted.
            Err(ChannelError::Api { description, .. })
                if description.contains("message is not modified") =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    async fn delete_message(&self, to: &Target, message_id: &str) -> Result<(), ChannelError> {
        let message_id: i64 = message_id
            .parse()
            .map_err(|_| ChannelError::Config(format!("bad message id {message_id:?}")))?;
        let req = api::DeleteMessage {
            chat_id: &to.chat_id,
            message_id,
        };
        let _: bool = self
            .api()?
            .call("deleteMessage", &req, SEND_TIMEOUT)
            .await?;
        Ok(())
    }

    fn can_edit(&self) -> bool {
        true
    }

    async fn send_media(&self, msg: &OutboundMedia) -> Result<SentMessage, ChannelError> {
        let sent = media::send_photo(&self.api()?, msg, thread_of(&msg.to)).await?;
        self.status
            .update(|s| s.last_outbound_at = Some(openclaw_core::message::now_ms().max(0) as u64));
        Ok(SentMessage {
            message_id: sent.message_id.to_string(),
            chat_id: sent.chat.id.to_string(),
        })
    }

    async fn send_buttons(
        &self,
        msg: &OutboundText,
        rows: &[Vec<Button>],
    ) -> Result<SentMessage, ChannelError> {
        let html = html::markdown_to_html(&msg.text);
        let req = SendMessage {
            chat_id: &msg.to.chat_id,
            text: &html,
            parse_mode: Some("HTML"),
            message_thread_id: thread_of(&msg.to),
            reply_parameters: None,
            disable_notification: msg.silent,
            reply_markup: Some(buttons::keyboard(rows)),
        };
        self.send_message(&req).await
    }

    async fn fetch_media(&self, item: &InboundMedia) -> Result<FetchedMedia, ChannelError> {
        let got = media::download(&self.api()?, &item.file_id).await?;
        Ok(FetchedMedia {
            bytes: got.bytes,
            mime_type: got.mime_type,
        })
    }

    async fn send_typing(&self, to: &Target) -> Result<(), ChannelError> {
        let req = SendChatAction {
            chat_id: &to.chat_id,
            action: "typing",
            message_thread_id: thread_of(to),
        };
        let _: bool = self
            .api()?
            .call("sendChatAction", &req, SEND_TIMEOUT)
            .await?;
        Ok(())
    }

    async fn probe(&self) -> ProbeResult {
        let started = Instant::now();
        let res: Result<User, ChannelError> = match self.api() {
            Ok(api) => {
                api.call("getMe", &api::Empty {}, Duration::from_secs(10))
                    .await
            }
            Err(e) => Err(e),
        };
        ProbeResult::from_outcome(started.elapsed().as_millis() as u64, res)
    }

    async fn logout(&self) -> Result<bool, ChannelError> {
        Err(ChannelError::Unsupported(
            "channel telegram does not support logout".into(),
        ))
    }

    fn pairing_text(&self, sender_id: &str, code: &str) -> String {
        let id = html::escape(sender_id);
        format!(
            "OpenClaw: access not configured.\n\nYour Telegram user id: {id}\nPairing code:\n\n\
             <pre><code>{code}\n</code></pre>\nAsk the bot owner to approve with:\n\n\
             <pre><code>openclaw pairing approve telegram {code}\n</code></pre>"
        )
    }
}
