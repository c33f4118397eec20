//! Discord's REST API (v10) over reqwest: the typed requests and answers the channel uses
//! (`GET /users/@me`, `GET /gateway/bot`, `GET /channels/{id}`, `POST /channels/{id}/messages`,
//! `POST /channels/{id}/typing`, `POST /users/@me/channels`) and Discord's rate limits.
//!
//! Rate limits: a route whose answer said `X-RateLimit-Remaining: 0` is not called again
//! before its `X-RateLimit-Reset-After`; a 429 is waited out (`retry_after`, at most
//! [`MAX_WAIT`]) and the request sent again — a 429 means Discord did nothing, so that retry
//! cannot duplicate. Message creation carries a `nonce` with `enforce_nonce`, so a retry after
//! an answer that never arrived returns the message already created instead of a second one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use openclaw_core::channel::ChannelError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The longest rate-limit wait honoured before a request is given up (the caller's retry
/// policy takes over with `retry_after_s`).
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// 429s answered in a row before a request is given up.
const MAX_429: u32 = 3;
/// A body larger than this is refused (Discord's answers are small).
const MAX_BODY: usize = 1 << 20;

/// A Discord user (the bot itself, a message author).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_name: Option<String>,
    #[serde(default)]
    pub bot: bool,
}

/// A channel, as far as routing needs it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Channel {
    pub id: String,
    #[serde(rename = "type", default)]
    pub kind: u8,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub guild_id: Option<String>,
}

impl Channel {
    /// A public, private or announcement thread.
    pub fn is_thread(&self) -> bool {
        matches!(self.kind, 10..=12)
    }
}

/// `GET /gateway/bot`.
#[derive(Debug, Clone, Deserialize)]
pub struct GatewayBot {
    pub url: String,
}

/// `message_reference` of a reply.
#[derive(Debug, Clone, Serialize)]
pub struct MessageReference<'a> {
    pub message_id: &'a str,
    /// A reply to a deleted message is still sent (as a plain message).
    pub fail_if_not_exists: bool,
}

/// `allowed_mentions`: which mentions in the text may notify.
#[derive(Debug, Clone, Serialize)]
pub struct AllowedMentions {
    pub parse: &'static [&'static str],
    pub replied_user: bool,
}

/// `POST /channels/{id}/messages`.
#[derive(Debug, Clone, Serialize)]
pub struct CreateMessage<'a> {
    pub content: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_reference: Option<MessageReference<'a>>,
    pub allowed_mentions: AllowedMentions,
    pub nonce: &'a str,
    pub enforce_nonce: bool,
    /// `SUPPRESS_NOTIFICATIONS` (4096) for a silent send.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<u64>,
}

/// `PATCH /channels/{id}/messages/{id}`.
#[derive(Debug, Clone, Serialize)]
pub struct EditMessage<'a> {
    pub content: &'a str,
    pub allowed_mentions: AllowedMentions,
}

/// `POST /users/@me/channels`.
#[derive(Debug, Clone, Serialize)]
pub struct CreateDm<'a> {
    pub recipient_id: &'a str,
}

/// A created message.
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    pub id: String,
    pub channel_id: String,
}

/// Discord's error body.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    retry_after: Option<f64>,
}

/// The REST client of one bot (cheap to clone; clones share the rate-limit state).
#[derive(Clone)]
pub struct Rest {
    http: reqwest::Client,
    root: String,
    auth: String,
    /// Route → not before (a bucket that said it was exhausted).
    blocked: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Rest {
    /// A client for `root` (e.g. `https://discord.com/api/v10`) with `token`.
    pub fn new(root: &str, token: &str) -> Result<Self, ChannelError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent("DiscordBot (https://github.com/openclaw/openclaw-rs, 0.1)")
            .build()
            .map_err(|e| ChannelError::Config(format!("http client: {e}")))?;
        Ok(Self {
            http,
            root: root.trim_end_matches('/').to_owned(),
            auth: format!("Bot {token}"),
            blocked: Arc::default(),
        })
    }

    /// `GET path`.
    pub async fn get<R: DeserializeOwned>(
        &self,
        path: &str,
        timeout: Duration,
    ) -> Result<R, ChannelError> {
        self.call(reqwest::Method::GET, path, None::<&()>, timeout)
            .await
            .and_then(decode)
    }

    /// `POST path` with a JSON body; the decoded answer.
    pub async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        timeout: Duration,
    ) -> Result<R, ChannelError> {
        self.call(reqwest::Method::POST, path, Some(body), timeout)
            .await
            .and_then(decode)
    }

    /// `PATCH path` with a JSON body; the decoded answer.
    pub async fn patch<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        timeout: Duration,
    ) -> Result<R, ChannelError> {
        self.call(reqwest::Method::PATCH, path, Some(body), timeout)
            .await
            .and_then(decode)
    }

    /// `DELETE path`, the answer ignored.
    pub async fn delete(&self, path: &str, timeout: Duration) -> Result<(), ChannelError> {
        self.call(reqwest::Method::DELETE, path, None::<&()>, timeout)
            .await
            .map(|_| ())
    }

    /// `POST path` without a body, the answer ignored (typing).
    pub async fn post_empty(&self, path: &str, timeout: Duration) -> Result<(), ChannelError> {
        self.call(reqwest::Method::POST, path, None::<&()>, timeout)
            .await
            .map(|_| ())
    }

    /// Sends the request, honouring the route's bucket and waiting out 429s.
    async fn call<B: Serialize>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&B>,
        timeout: Duration,
    ) -> Result<Vec<u8>, ChannelError> {
        let route = format!("{method} {path}");
        let mut limited = 0;
        loop {
            let not_before = openclaw_core::sync::lock(&self.blocked)
                .get(&route)
                .copied();
            if let Some(t) = not_before {
                let wait = t.saturating_duration_since(Instant::now());
                tokio::time::sleep(wait.min(MAX_WAIT)).await;
            }
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.root))
                .header("Authorization", &self.auth)
                .timeout(timeout);
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = req.send().await.map_err(transport)?;
            let status = resp.status();
            let headers = resp.headers().clone();
            self.note_bucket(&route, &headers);
            let bytes = read_body(resp).await?;
            if status.is_success() {
                return Ok(bytes);
            }
            let err: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_default();
            if status.as_u16() == 429 {
                let after = err
                    .retry_after
                    .or_else(|| header_f64(&headers, "retry-after"))
                    .unwrap_or(1.0)
                    .max(0.0);
                let wait = Duration::from_secs_f64(after.min(3600.0));
                limited += 1;
                if limited < MAX_429 && wait <= MAX_WAIT {
                    tokio::time::sleep(wait).await;
                    continue;
                }
                return Err(ChannelError::Api {
                    code: 429,
                    description: format!("rate limited: {}", err.message),
                    retry_after_s: Some(wait.as_secs_f64().ceil() as u64),
                });
            }
            let description = if err.message.is_empty() {
                status.canonical_reason().unwrap_or("error").to_owned()
            } else {
                err.message
            };
            return Err(ChannelError::Api {
                code: status.as_u16(),
                description,
                retry_after_s: None,
            });
        }
    }

    /// Remembers an exhausted bucket until it resets.
    fn note_bucket(&self, route: &str, headers: &reqwest::header::HeaderMap) {
        let remaining = headers
            .get("x-ratelimit-remaining")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let reset_after = header_f64(headers, "x-ratelimit-reset-after");
        let mut blocked = openclaw_core::sync::lock(&self.blocked);
        match (remaining, reset_after) {
            (Some(0), Some(after)) => {
                let after = Duration::from_secs_f64(after.clamp(0.0, 3600.0));
                blocked.insert(route.to_owned(), Instant::now() + after);
            }
            _ => {
                blocked.remove(route);
            }
        }
        // Bounded: forget buckets that have reset.
        if blocked.len() > 1024 {
            let now = Instant::now();
            blocked.retain(|_, t| *t > now);
        }
    }
}

fn header_f64(headers: &reqwest::header::HeaderMap, name: &str) -> Option<f64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

fn transport(e: reqwest::Error) -> ChannelError {
    let connect = e.is_connect();
    let timeout = e.is_timeout();
    // Without the URL (short), with the innermost cause ("Connection refused", …).
    let mut root: Option<String> = None;
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        root = Some(c.to_string());
        cause = c.source();
    }
    let head = e.without_url().to_string();
    ChannelError::Transport {
        message: if timeout {
            "request timed out".into()
        } else {
            match root {
                Some(r) if r != head => format!("{head}: {r}"),
                _ => head,
            }
        },
        // A connect error never reached Discord.
        sent: !connect,
    }
}

async fn read_body(mut resp: reqwest::Response) -> Result<Vec<u8>, ChannelError> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if out.len() + chunk.len() > MAX_BODY {
            return Err(ChannelError::Transport {
                message: "answer too large".into(),
                sent: true,
            });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn decode<R: DeserializeOwned>(bytes: Vec<u8>) -> Result<R, ChannelError> {
    serde_json::from_slice(&bytes).map_err(|e| ChannelError::Transport {
        message: format!("unexpected answer: {e}"),
        sent: true,
    })
}
