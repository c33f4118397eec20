//! The Bot API over HTTP: every call is `POST <apiRoot>/bot<token>/<method>` with a JSON body
//! and answers `{ok, result}` or `{ok:false, error_code, description, parameters}`. The typed
//! requests and the parts of `Update` / `Message` this channel reads. Errors never carry the
//! URL (it contains the token).

use std::time::Duration;

use openclaw_core::channel::ChannelError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// One bot's API endpoint.
#[derive(Clone)]
pub struct BotApi {
    http: reqwest::Client,
    /// `<apiRoot>/bot<token>` (a secret: never logged).
    base: String,
}

impl std::fmt::Debug for BotApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BotApi { .. }")
    }
}

#[derive(Deserialize)]
struct Envelope<T> {
    ok: bool,
    result: Option<T>,
    error_code: Option<u16>,
    description: Option<String>,
    parameters: Option<ResponseParameters>,
}

#[derive(Deserialize)]
struct ResponseParameters {
    retry_after: Option<u64>,
}

impl BotApi {
    /// A client of its own (a new connection pool: nothing survives from an earlier one).
    pub fn new(api_root: &str, token: &str) -> Result<Self, ChannelError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(2)
            .build()
            .map_err(|e| ChannelError::Config(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            http,
            base: format!("{}/bot{token}", api_root.trim_end_matches('/')),
        })
    }

    /// Downloads `<apiRoot>/file/bot<token>/<file_path>`, refusing a body over `max` bytes
    /// (checked while it streams in).
    pub async fn download_file(
        &self,
        file_path: &str,
        max: u64,
        timeout: Duration,
    ) -> Result<Vec<u8>, ChannelError> {
        let url = match self.base.rsplit_once("/bot") {
            Some((root, token)) => format!("{root}/file/bot{token}/{file_path}"),
            None => return Err(ChannelError::Config("bad API base".into())),
        };
        let fetch = async {
            let mut res = self.http.get(url).send().await.map_err(transport)?;
            if !res.status().is_success() {
                return Err(ChannelError::Api {
                    code: res.status().as_u16(),
                    description: "file download failed".into(),
                    retry_after_s: None,
                });
            }
            if res.content_length().is_some_and(|l| l > max) {
                return Err(ChannelError::Config(format!(
                    "file larger than {max} bytes"
                )));
            }
            let mut out = Vec::new();
            while let Some(chunk) = res.chunk().await.map_err(transport)? {
                if (out.len() + chunk.len()) as u64 > max {
                    return Err(ChannelError::Config(format!(
                        "file larger than {max} bytes"
                    )));
                }
                out.extend_from_slice(&chunk);
            }
            Ok(out)
        };
        match tokio::time::timeout(timeout, fetch).await {
            Ok(r) => r,
            Err(_) => Err(ChannelError::Transport {
                message: "Telegram API: file download timed out".into(),
                sent: true,
            }),
        }
    }

    /// Calls `method` with a multipart `form` (a file upload), waiting at most `timeout`.
    pub async fn call_form<T: DeserializeOwned>(
        &self,
        method: &str,
        form: reqwest::multipart::Form,
        timeout: Duration,
    ) -> Result<T, ChannelError> {
        let res = self
            .http
            .post(format!("{}/{method}", self.base))
            .multipart(form)
            .timeout(timeout)
            .send()
            .await
            .map_err(transport)?;
        Self::answer(method, res).await
    }

    /// Calls `method` with `body`, waiting at most `timeout` for the whole answer.
    pub async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: &str,
        body: &B,
        timeout: Duration,
    ) -> Result<T, ChannelError> {
        let res = self
            .http
            .post(format!("{}/{method}", self.base))
            .json(body)
            .timeout(timeout)
            .send()
            .await
            .map_err(transport)?;
        Self::answer(method, res).await
    }

    async fn answer<T: DeserializeOwned>(
        method: &str,
        res: reqwest::Response,
    ) -> Result<T, ChannelError> {
        let status = res.status().as_u16();
        let bytes = res.bytes().await.map_err(transport)?;
        let env: Envelope<T> = serde_json::from_slice(&bytes).map_err(|e| ChannelError::Api {
            code: status,
            description: format!("unreadable {method} answer: {e}"),
            retry_after_s: None,
        })?;
        match (env.ok, env.result) {
            (true, Some(r)) => Ok(r),
            _ => Err(ChannelError::Api {
                code: env.error_code.unwrap_or(status),
                description: env
                    .description
                    .unwrap_or_else(|| format!("{method} failed with HTTP {status}")),
                retry_after_s: env.parameters.and_then(|p| p.retry_after),
            }),
        }
    }
}

fn transport(e: reqwest::Error) -> ChannelError {
    let sent = !e.is_connect() && !e.is_builder();
    let message = if e.is_timeout() {
        "Telegram API: timed out".to_owned()
    } else {
        format!("Telegram API: {}", e.without_url())
    };
    ChannelError::Transport { message, sent }
}

/// `getUpdates`.
#[derive(Debug, Serialize)]
pub struct GetUpdates<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
    pub limit: u32,
    pub timeout: u64,
    pub allowed_updates: &'a [&'a str],
}

/// What OpenClaw asks `getUpdates` for (the same list, so a bot shared with it behaves alike).
pub const ALLOWED_UPDATES: &[&str] = &[
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "callback_query",
    "my_chat_member",
    "message_reaction",
];

/// `sendMessage`.
#[derive(Debug, Serialize)]
pub struct SendMessage<'a> {
    pub chat_id: &'a str,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_thread_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_parameters: Option<ReplyParameters>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disable_notification: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboardMarkup>,
}

/// `reply_markup` with inline buttons.
#[derive(Debug, Clone, Serialize)]
pub struct InlineKeyboardMarkup {
    pub inline_keyboard: Vec<Vec<InlineKeyboardButton>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InlineKeyboardButton {
    pub text: String,
    pub callback_data: String,
}

/// `answerCallbackQuery`.
#[derive(Debug, Serialize)]
pub struct AnswerCallbackQuery<'a> {
    pub callback_query_id: &'a str,
    pub text: &'a str,
}

/// `editMessageReplyMarkup` (an empty keyboard removes the buttons).
#[derive(Debug, Serialize)]
pub struct EditMessageReplyMarkup<'a> {
    pub chat_id: &'a str,
    pub message_id: i64,
    pub reply_markup: InlineKeyboardMarkup,
}

/// `editMessageText`.
#[derive(Debug, Serialize)]
pub struct EditMessageText<'a> {
    pub chat_id: &'a str,
    pub message_id: i64,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<&'static str>,
}

/// `deleteMessage`.
#[derive(Debug, Serialize)]
pub struct DeleteMessage<'a> {
    pub chat_id: &'a str,
    pub message_id: i64,
}

/// `sendPhoto` with a URL Telegram fetches (an upload goes as multipart with the same fields).
#[derive(Debug, Serialize)]
pub struct SendPhoto<'a> {
    pub chat_id: &'a str,
    pub photo: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_thread_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_parameters: Option<ReplyParameters>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub disable_notification: bool,
}

#[derive(Debug, Serialize)]
pub struct ReplyParameters {
    pub message_id: i64,
    pub allow_sending_without_reply: bool,
}

/// `sendChatAction`.
#[derive(Debug, Serialize)]
pub struct SendChatAction<'a> {
    pub chat_id: &'a str,
    pub action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_thread_id: Option<i64>,
}

/// `setWebhook`.
#[derive(Debug, Serialize)]
pub struct SetWebhook<'a> {
    pub url: &'a str,
    pub secret_token: &'a str,
    pub allowed_updates: &'a [&'a str],
    pub drop_pending_updates: bool,
}

/// `deleteWebhook`.
#[derive(Debug, Serialize)]
pub struct DeleteWebhook {
    pub drop_pending_updates: bool,
}

/// An empty body.
#[derive(Debug, Serialize)]
pub struct Empty {}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct User {
    pub id: i64,
    #[serde(default)]
    pub is_bot: bool,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Chat {
    pub id: i64,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub is_forum: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Entity {
    #[serde(rename = "type")]
    pub kind: String,
    pub offset: usize,
    pub length: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    pub message_id: i64,
    #[serde(default)]
    pub from: Option<User>,
    pub chat: Chat,
    #[serde(default)]
    pub date: i64,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub caption: Option<String>,
    #[serde(default)]
    pub message_thread_id: Option<i64>,
    #[serde(default)]
    pub entities: Vec<Entity>,
    #[serde(default)]
    pub reply_to_message: Option<Box<Message>>,
    /// A photo, in increasing sizes.
    #[serde(default)]
    pub photo: Vec<PhotoSize>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PhotoSize {
    pub file_id: String,
    #[serde(default)]
    pub file_size: Option<u64>,
}

/// A pressed inline button.
#[derive(Debug, Clone, Deserialize)]
pub struct CallbackQuery {
    pub id: String,
    pub from: User,
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub data: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Update {
    pub update_id: i64,
    #[serde(default)]
    pub message: Option<Message>,
    #[serde(default)]
    pub callback_query: Option<CallbackQuery>,
}
