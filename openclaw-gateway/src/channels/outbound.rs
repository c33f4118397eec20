//! The one outbound path of `send` and `message.action` `send`: the account resolved, the text
//! chunked at its limit, media sent as photos (the first carrying the text as its caption when
//! it fits), each message's send checked and retried only when a retry cannot duplicate it.
//! Local media files are read only from the state directory and the system temp directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use openclaw_core::channel::policy::normalize_sender;
use openclaw_core::channel::{ChannelAccount, OutboundMedia, OutboundText, SentMessage, Target};
use openclaw_core::protocol::ErrorShape;

use super::methods::known;
use super::{ChannelService, deliver};

/// A caption longer than this goes as its own text message before the media.
const CAPTION_MAX: usize = 1024;

/// One outbound message, resolved from `send` or `message.action`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outgoing {
    pub channel: String,
    pub account_id: Option<String>,
    pub to: String,
    pub text: String,
    pub media: Vec<String>,
    pub thread_id: Option<String>,
    pub reply_to_id: Option<String>,
    pub silent: bool,
    pub raw_html: bool,
}

/// Sends `out`; the account used and the last message the platform accepted.
pub(crate) async fn deliver(
    svc: &Arc<ChannelService>,
    out: &Outgoing,
) -> Result<(Arc<dyn ChannelAccount>, SentMessage), ErrorShape> {
    known(&out.channel).map_err(|_| {
        ErrorShape::invalid_request(format!("unsupported channel: {}", out.channel))
    })?;
    let Some(account) = svc.account(&out.channel, out.account_id.as_deref()) else {
        return Err(ErrorShape::invalid_request(format!(
            "no {} account is configured on this gateway",
            out.channel
        )));
    };
    if out.text.trim().is_empty() && out.media.is_empty() {
        return Err(ErrorShape::invalid_request("send: message is required"));
    }
    let roots = media_roots(svc);
    let media = out
        .media
        .iter()
        .map(|m| check_media(m, &roots))
        .collect::<Result<Vec<_>, _>>()?;
    let to = Target {
        chat_id: normalize_sender(&out.to),
        thread_id: out.thread_id.clone(),
    };
    let caption_fits = out.text.chars().count() <= CAPTION_MAX && !out.raw_html;
    let out_media_empty = media.is_empty();
    let mut last = None;
    let mut first = true;
    if !out.text.trim().is_empty() && (out_media_empty || !caption_fits) {
        for chunk in account.chunk(&out.text) {
            let msg = OutboundText {
                to: to.clone(),
                text: chunk,
                reply_to_id: if first { out.reply_to_id.clone() } else { None },
                silent: out.silent,
                raw_html: out.raw_html,
            };
            first = false;
            last = Some(send_text(account.as_ref(), &msg).await?);
        }
    }
    for (i, m) in media.iter().enumerate() {
        let msg = OutboundMedia {
            to: to.clone(),
            media: m.clone(),
            caption: (i == 0 && caption_fits && !out.text.trim().is_empty())
                .then(|| out.text.clone()),
            reply_to_id: if first { out.reply_to_id.clone() } else { None },
            silent: out.silent,
        };
        first = false;
        let sent = deliver::send_media_with_retry(account.as_ref(), &msg)
            .await
            .map_err(|e| ErrorShape::unavailable(format!("send failed: {e}")))?;
        last = Some(sent);
    }
    match last {
        Some(sent) => Ok((account, sent)),
        None => Err(ErrorShape::invalid_request("send: message is empty")),
    }
}

async fn send_text(
    account: &dyn ChannelAccount,
    msg: &OutboundText,
) -> Result<SentMessage, ErrorShape> {
    deliver::send_with_retry(account, msg)
        .await
        .map_err(|e| ErrorShape::unavailable(format!("send failed: {e}")))
}

/// Where local media may be read from.
fn media_roots(svc: &ChannelService) -> Vec<PathBuf> {
    let env = svc.env;
    let state = crate::config::state_dir(&env);
    [state, std::env::temp_dir()]
        .into_iter()
        .filter_map(|p| p.canonicalize().ok())
        .collect()
}

/// An `http(s)` URL, or a local file inside one of `roots` (its real path is what is sent,
/// so a symlink swapped after the check cannot lead outside them).
fn check_media(media: &str, roots: &[PathBuf]) -> Result<String, ErrorShape> {
    if media.starts_with("https://") || media.starts_with("http://") {
        return Ok(media.to_owned());
    }
    let path = Path::new(media.strip_prefix("file://").unwrap_or(media));
    let real = path
        .canonicalize()
        .map_err(|e| ErrorShape::invalid_request(format!("send: media {media}: {e}")))?;
    if roots.iter().any(|r| real.starts_with(r)) {
        Ok(real.to_string_lossy().into_owned())
    } else {
        Err(ErrorShape::invalid_request(format!(
            "send: media {media} is outside the allowed media directories (the state \
             directory and the system temp directory); send a URL instead"
        )))
    }
}
