//! Streaming a reply by editing it in place (`streaming.mode: "partial"`, on channels that can
//! edit): while the run writes, the reply so far is shown in a message edited at most once per
//! `streaming.preview.throttleMs` (1 s); text past the channel's limit continues in new
//! messages ("pages", one per chunk of the reply so far — every page but the last is final,
//! since a chunk depends only on the text before its end). When the run ends, the pages are
//! made to read exactly the reply's chunks, as a non-streamed reply would have been sent:
//! pages that differ are edited, missing ones sent, surplus ones deleted.
//!
//! Each page's message id is recorded on the ingress row when it is sent, so a replay after a
//! crash edits the same messages rather than sending the reply twice (an edit is idempotent;
//! "message is not modified" counts as done). The first page waits for 30 characters, as
//! OpenClaw's drafts do, so short replies are simply sent. A preview edit that fails stops the
//! previewing (the final delivery still happens); a final edit that fails after retries deletes
//! that page and the ones after it and sends their text anew — the reply is never left stale,
//! missing or doubled. A run that fails or is stopped (`/stop`) leaves what it had streamed.

use std::time::Duration;

use openclaw_core::channel::policy::{AccountPolicy, ReplyToMode};
use openclaw_core::channel::{ChannelAccount, ChannelError, OutboundText, Target};
use openclaw_state::{ChannelStore, IngressRow};

use super::{ChannelService, deliver};

/// The first page is sent once the reply has this many characters (OpenClaw's drafts).
const MIN_INITIAL_CHARS: usize = 30;
/// Attempts per final edit (edits are idempotent: any transport error may be retried).
const EDIT_ATTEMPTS: u32 = 3;

/// One message of a streamed reply: its id and the text it shows (`None`: unknown, a page
/// recorded before a restart).
struct Page {
    id: String,
    shows: Option<String>,
}

/// A reply being streamed into `row`'s conversation.
pub(super) struct Preview<'a> {
    svc: &'a ChannelService,
    account: &'a dyn ChannelAccount,
    row: &'a IngressRow,
    reply_to_mode: ReplyToMode,
    pages: Vec<Page>,
    /// An update failed: no more updates before the final delivery.
    stopped: bool,
}

impl<'a> Preview<'a> {
    /// The preview of `row`'s reply, continuing the pages a previous attempt recorded.
    pub fn new(
        svc: &'a ChannelService,
        account: &'a dyn ChannelAccount,
        policy: &AccountPolicy,
        row: &'a IngressRow,
    ) -> Self {
        Self {
            svc,
            account,
            row,
            reply_to_mode: policy.reply_to_mode,
            pages: row
                .sent
                .iter()
                .map(|id| Page {
                    id: id.clone(),
                    shows: None,
                })
                .collect(),
            stopped: false,
        }
    }

    fn target(&self) -> Target {
        Target {
            chat_id: self.row.message.chat_id.clone(),
            thread_id: self.row.message.thread_id.clone(),
        }
    }

    fn page_message(&self, i: usize, text: &str) -> OutboundText {
        let quote = Some(self.row.message.message_id.clone());
        OutboundText {
            to: self.target(),
            text: text.to_owned(),
            reply_to_id: match self.reply_to_mode {
                ReplyToMode::Off => None,
                ReplyToMode::All => quote,
                ReplyToMode::First | ReplyToMode::Batched => quote.filter(|_| i == 0),
            },
            ..OutboundText::default()
        }
    }

    /// Sends page `i` reading `text` and records it.
    async fn send_page(&mut self, i: usize, text: &str, retry: bool) -> Result<(), String> {
        let msg = self.page_message(i, text);
        let sent = if retry {
            deliver::send_with_retry(self.account, &msg).await
        } else {
            self.account.send_text(&msg).await
        }
        .map_err(|e| format!("reply part {}: {e}", i + 1))?;
        self.svc
            .store
            .record_ingress_sent(self.row.id, &sent.message_id)
            .map_err(|e| e.to_string())?;
        self.pages.push(Page {
            id: sent.message_id,
            shows: Some(text.to_owned()),
        });
        Ok(())
    }

    /// Shows `text`, the reply so far.
    pub async fn update(&mut self, text: &str) {
        if self.stopped || (self.pages.is_empty() && text.chars().count() < MIN_INITIAL_CHARS) {
            return;
        }
        let target = self.target();
        for (i, chunk) in self.account.chunk(text).iter().enumerate() {
            let outcome = match self.pages.get(i) {
                Some(p) if p.shows.as_deref() == Some(chunk) => continue,
                Some(p) => self
                    .account
                    .edit_text(&target, &p.id, chunk)
                    .await
                    .map(|()| self.pages[i].shows = Some(chunk.clone()))
                    .map_err(|e| e.to_string()),
                None => self.send_page(i, chunk, false).await,
            };
            if let Err(e) = outcome {
                tracing::debug!("channels: streaming preview stopped: {e}");
                self.stopped = true;
                return;
            }
        }
    }

    /// Makes the pages read exactly `text`'s chunks (see the module doc).
    pub async fn finish(mut self, text: &str) -> Result<(), String> {
        let chunks = self.account.chunk(text);
        let target = self.target();
        let mut i = 0;
        while i < chunks.len() {
            let Some(page) = self.pages.get(i) else {
                self.send_page(i, &chunks[i], true).await?;
                i += 1;
                continue;
            };
            if page.shows.as_deref() != Some(chunks[i].as_str()) {
                if let Err(e) = edit_with_retry(self.account, &target, &page.id, &chunks[i]).await {
                    tracing::warn!(
                        "channels: final edit of reply part {} failed ({e}); sending it again",
                        i + 1
                    );
                    self.drop_pages_from(i).await?;
                    continue;
                }
                self.pages[i].shows = Some(chunks[i].clone());
            }
            i += 1;
        }
        if self.pages.len() > chunks.len() {
            self.drop_pages_from(chunks.len()).await?;
        }
        Ok(())
    }

    /// The reply came to nothing (an empty or silent answer): its pages are deleted.
    pub async fn discard(mut self) -> Result<(), String> {
        self.drop_pages_from(0).await
    }

    /// Deletes pages `from..` (best effort: a page that cannot be deleted is logged) and
    /// records the rest as the reply's messages.
    async fn drop_pages_from(&mut self, from: usize) -> Result<(), String> {
        let target = self.target();
        for p in self.pages.drain(from..) {
            if let Err(e) = self.account.delete_message(&target, &p.id).await {
                tracing::warn!("channels: a stale reply part could not be deleted: {e}");
            }
        }
        let ids: Vec<String> = self.pages.iter().map(|p| p.id.clone()).collect();
        self.svc
            .store
            .set_ingress_sent(self.row.id, &ids)
            .map_err(|e| e.to_string())
    }
}

/// Edits, retrying what an edit may retry: rate limits, 5xx and any transport failure (an
/// edit applied twice reads the same).
async fn edit_with_retry(
    account: &dyn ChannelAccount,
    to: &Target,
    id: &str,
    text: &str,
) -> Result<(), ChannelError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match account.edit_text(to, id, text).await {
            Ok(()) => return Ok(()),
            Err(e) if attempt < EDIT_ATTEMPTS && retryable(&e) => {
                let wait = match &e {
                    ChannelError::Api {
                        retry_after_s: Some(s),
                        ..
                    } => Duration::from_secs(*s),
                    _ => Duration::from_millis(500 * u64::from(attempt)),
                };
                if wait > Duration::from_secs(30) {
                    return Err(e);
                }
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e),
        }
    }
}

fn retryable(e: &ChannelError) -> bool {
    e.retry_is_safe() || matches!(e, ChannelError::Transport { .. })
}
