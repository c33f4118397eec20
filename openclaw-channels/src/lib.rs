//! The messaging channels the gateway runs, each an implementation of openclaw-core's
//! [`ChannelAccount`](openclaw_core::channel::ChannelAccount):
//!
//! - `telegram`: the Bot API over reqwest (long polling with offsets or a webhook,
//!   `sendMessage` in HTML parse mode, photos, inline buttons, typing), `apiRoot` configurable;
//! - `discord`: the gateway WebSocket (identify / resume, heartbeats with zombie detection)
//!   plus REST for sends (rate limits, nonces), `apiRoot` and `gatewayUrl` configurable;
//! - `backoff`: reconnect delays with jitter, shared by every channel's supervisor;
//! - `testing` (feature `testing`): a fake Telegram Bot API on loopback that records requests
//!   and serves updates, for this crate's and the gateway's tests; `testing_discord`: a fake
//!   Discord gateway and REST API on loopback.
//!
//! A new channel is one module here: its config, its transport loop committing to the
//! [`InboundSink`](openclaw_core::channel::InboundSink), its send; plus one line in
//! [`account_for`].

pub mod backoff;
pub mod discord;
pub mod telegram;
#[cfg(feature = "testing")]
pub mod testing;
#[cfg(feature = "testing")]
pub mod testing_discord;
mod token;

use std::sync::Arc;

use openclaw_core::channel::ChannelAccount;
use serde_json::Value;

/// The channels this build knows, in `channels.status` order, with their labels.
pub const KNOWN: &[(&str, &str)] = &[("telegram", "Telegram"), ("discord", "Discord")];

/// The account ids of `channels.<channel>` (`section`).
pub fn account_ids(channel: &str, section: &Value) -> Vec<String> {
    match channel {
        "telegram" => telegram::account_ids(section),
        "discord" => discord::account_ids(section),
        _ => Vec::new(),
    }
}

/// Builds account `account_id` of `channel` from its `channels.<channel>` section; an error
/// names what is wrong with the config (never the secret).
pub fn account_for(
    channel: &str,
    section: &Value,
    account_id: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Arc<dyn ChannelAccount>, String> {
    match channel {
        "telegram" => Ok(Arc::new(telegram::TelegramAccount::from_section(
            section, account_id, env,
        )?)),
        "discord" => Ok(Arc::new(discord::DiscordAccount::from_section(
            section, account_id, env,
        )?)),
        other => Err(format!("unknown channel \"{other}\"")),
    }
}
