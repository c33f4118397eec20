//! Delivering a reply: chunked at the account's limit on paragraph / line / whitespace
//! bounds, each chunk sent and its message id recorded before the next goes, so a replay
//! resends only what was not recorded. A send is retried only when a retry cannot duplicate
//! it (rate limits honour `retry_after`; 5xx; a connection that never reached the platform).

use std::time::Duration;

use openclaw_core::channel::policy::{AccountPolicy, ReplyToMode};
use openclaw_core::channel::{
    ChannelAccount, ChannelError, OutboundMedia, OutboundText, SentMessage, Target,
};
use openclaw_state::{ChannelStore, IngressRow};

use super::ChannelService;

/// Attempts per chunk.
const ATTEMPTS: u32 = 4;
/// The longest wait a rate limit may ask for before the chunk is given up.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Sends `msg`, retrying what is safe to retry.
pub(super) async fn send_with_retry(
    account: &dyn ChannelAccount,
    msg: &OutboundText,
) -> Result<SentMessage, ChannelError> {
    retry(|| account.send_text(msg)).await
}

/// Sends the media message `msg`, retrying what is safe to retry.
pub(super) async fn send_media_with_retry(
    account: &dyn ChannelAccount,
    msg: &OutboundMedia,
) -> Result<SentMessage, ChannelError> {
    retry(|| account.send_media(msg)).await
}

async fn retry<'a, F, Fut>(mut send: F) -> Result<SentMessage, ChannelError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<SentMessage, ChannelError>> + 'a,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match send().await {
            Ok(s) => return Ok(s),
            Err(e) if attempt < ATTEMPTS && e.retry_is_safe() => {
                let wait = match &e {
                    ChannelError::Api {
                        retry_after_s: Some(s),
                        ..
                    } => Duration::from_secs(*s),
                    _ => Duration::from_millis(500 * u64::from(attempt)),
                };
                if wait > MAX_RETRY_AFTER {
                    return Err(e);
                }
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Sends the chunks of `text` not yet recorded on `row`.
pub(super) async fn reply(
    svc: &ChannelService,
    account: &dyn ChannelAccount,
    policy: &AccountPolicy,
    row: &IngressRow,
    text: &str,
) -> Result<(), String> {
    let m = &row.message;
    let chunks = account.chunk(text);
    for (i, chunk) in chunks.iter().enumerate().skip(row.sent.len()) {
        let reply_to_id = match policy.reply_to_mode {
            ReplyToMode::Off => None,
            ReplyToMode::All => Some(m.message_id.clone()),
            ReplyToMode::First | ReplyToMode::Batched => (i == 0).then(|| m.message_id.clone()),
        };
        let msg = OutboundText {
            to: Target {
                chat_id: m.chat_id.clone(),
                thread_id: m.thread_id.clone(),
            },
            text: chunk.clone(),
            reply_to_id,
            ..OutboundText::default()
        };
        let sent = send_with_retry(account, &msg)
            .await
            .map_err(|e| format!("reply chunk {} of {}: {e}", i + 1, chunks.len()))?;
        svc.store
            .record_ingress_sent(row.id, &sent.message_id)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
