//! Telegram media: outbound photos (`sendPhoto` with a URL Telegram fetches, or a local file
//! uploaded as multipart, at most [`MAX_PHOTO_UPLOAD`] bytes) and inbound photos (`getFile`,
//! then the file downloaded from `<apiRoot>/file/bot<token>/<file_path>`, at most
//! [`MAX_PHOTO_DOWNLOAD`] bytes, streamed so a larger body is refused before it is read).

use std::time::Duration;

use openclaw_core::channel::{ChannelError, OutboundMedia};
use serde::{Deserialize, Serialize};

use super::api::{self, BotApi, ReplyParameters, SendPhoto};
use super::html;

/// Telegram's limit on a photo sent by upload.
pub const MAX_PHOTO_UPLOAD: u64 = 10 * 1024 * 1024;
/// The largest inbound photo handed to the model.
pub const MAX_PHOTO_DOWNLOAD: u64 = 10 * 1024 * 1024;
/// Telegram's limit on a caption.
const CAPTION_MAX: usize = 1024;
const MEDIA_TIMEOUT: Duration = Duration::from_secs(60);

/// Sends `msg` as a photo.
pub(super) async fn send_photo(
    api: &BotApi,
    msg: &OutboundMedia,
    thread: Option<i64>,
) -> Result<api::Message, ChannelError> {
    let caption = msg.caption.as_deref().map(|c| {
        let c: String = c.chars().take(CAPTION_MAX).collect();
        html::markdown_to_html(&c)
    });
    let reply = msg
        .reply_to_id
        .as_deref()
        .and_then(|r| r.parse().ok())
        .map(|message_id| ReplyParameters {
            message_id,
            allow_sending_without_reply: true,
        });
    let media = msg.media.trim();
    if media.starts_with("http://") || media.starts_with("https://") {
        let req = SendPhoto {
            chat_id: &msg.to.chat_id,
            photo: media,
            caption: caption.as_deref(),
            parse_mode: caption.as_ref().map(|_| "HTML"),
            message_thread_id: thread,
            reply_parameters: reply,
            disable_notification: msg.silent,
        };
        return api.call("sendPhoto", &req, MEDIA_TIMEOUT).await;
    }
    let path = media.strip_prefix("file://").unwrap_or(media);
    let bytes = read_bounded(path).await?;
    let name = std::path::Path::new(path)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("photo")
        .to_owned();
    let part = reqwest::multipart::Part::bytes(bytes).file_name(name);
    let mut form = reqwest::multipart::Form::new()
        .text("chat_id", msg.to.chat_id.clone())
        .part("photo", part);
    if let Some(c) = caption {
        form = form.text("caption", c).text("parse_mode", "HTML");
    }
    if let Some(t) = thread {
        form = form.text("message_thread_id", t.to_string());
    }
    if let Some(r) = reply {
        let json = serde_json::to_string(&r)
            .map_err(|e| ChannelError::Config(format!("reply_parameters: {e}")))?;
        form = form.text("reply_parameters", json);
    }
    if msg.silent {
        form = form.text("disable_notification", "true");
    }
    api.call_form("sendPhoto", form, MEDIA_TIMEOUT).await
}

async fn read_bounded(path: &str) -> Result<Vec<u8>, ChannelError> {
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| ChannelError::Config(format!("media {path}: {e}")))?;
    if !meta.is_file() {
        return Err(ChannelError::Config(format!("media {path}: not a file")));
    }
    if meta.len() > MAX_PHOTO_UPLOAD {
        return Err(ChannelError::Config(format!(
            "media {path}: {} bytes, more than Telegram's {MAX_PHOTO_UPLOAD} for a photo",
            meta.len()
        )));
    }
    tokio::fs::read(path)
        .await
        .map_err(|e| ChannelError::Config(format!("media {path}: {e}")))
}

/// `getFile`.
#[derive(Debug, Serialize)]
struct GetFile<'a> {
    file_id: &'a str,
}

/// What `getFile` answers.
#[derive(Debug, Deserialize)]
struct File {
    #[serde(default)]
    file_size: Option<u64>,
    #[serde(default)]
    file_path: Option<String>,
}

/// An inbound photo, downloaded.
#[derive(Debug, Clone)]
pub struct Downloaded {
    pub bytes: Vec<u8>,
    pub mime_type: String,
}

/// Downloads the file `file_id` (a photo's largest size that fits the bound).
pub(super) async fn download(api: &BotApi, file_id: &str) -> Result<Downloaded, ChannelError> {
    let file: File = api
        .call("getFile", &GetFile { file_id }, Duration::from_secs(20))
        .await?;
    if file.file_size.is_some_and(|s| s > MAX_PHOTO_DOWNLOAD) {
        return Err(ChannelError::Config(format!(
            "the photo is larger than {MAX_PHOTO_DOWNLOAD} bytes"
        )));
    }
    let Some(path) = file.file_path else {
        return Err(ChannelError::Config("getFile gave no file_path".into()));
    };
    let bytes = api
        .download_file(&path, MAX_PHOTO_DOWNLOAD, MEDIA_TIMEOUT)
        .await?;
    let mime_type = if bytes.starts_with(&[0x89, b'P', b'N', b'G']) {
        "image/png"
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        "image/webp"
    } else if bytes.starts_with(b"GIF8") {
        "image/gif"
    } else {
        "image/jpeg"
    };
    Ok(Downloaded {
        bytes,
        mime_type: mime_type.to_owned(),
    })
}
