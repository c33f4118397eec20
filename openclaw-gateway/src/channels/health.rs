//! The channel part of `health` (its result, the `health` event and hello-ok's snapshot):
//! `channels`, `channelOrder`, `channelLabels`, as OpenClaw's health collector builds them —
//! one entry per configured channel, carrying its default account's summary and every
//! account by id. Built from the live status cells: no probe, no platform call, no lock held
//! across an await.

use std::collections::BTreeMap;

use openclaw_core::channel::policy::DEFAULT_ACCOUNT;
use openclaw_core::protocol::channels::{HealthAccount, HealthChannel};
use serde_json::{Map, Value, json};

use super::ChannelService;

/// `health`'s `channels`, `channelOrder` and `channelLabels`.
pub(crate) struct HealthChannels {
    pub channels: Value,
    pub order: Vec<String>,
    pub labels: Value,
}

impl ChannelService {
    pub(crate) fn health_channels(&self) -> HealthChannels {
        let mut by_channel: BTreeMap<String, BTreeMap<String, HealthAccount>> = BTreeMap::new();
        for ((channel, id), e) in openclaw_core::sync::lock(&self.accounts).iter() {
            let s = e.account.status();
            let account = HealthAccount {
                account_id: id.clone(),
                enabled: e.enabled,
                configured: s.configured,
                running: s.running,
                connected: s.connected,
                reconnect_attempts: s.reconnect_attempts,
                last_connected_at: s.last_connected_at,
                last_start_at: s.last_start_at,
                last_stop_at: s.last_stop_at,
                last_inbound_at: s.last_inbound_at,
                last_outbound_at: s.last_outbound_at,
                last_error: s.last_error,
                mode: (!s.mode.is_empty()).then_some(s.mode),
                dm_policy: e.policy.dm_policy.as_str().to_owned(),
                allow_from: e.policy.allow_from.iter().map(|a| a.normalized()).collect(),
                token_source: s.token_source.unwrap_or_else(|| "none".into()),
                last_probe_at: e.last_probe.as_ref().map(|(at, _)| *at),
            };
            by_channel
                .entry(channel.clone())
                .or_default()
                .insert(id.clone(), account);
        }
        let mut channels = Map::new();
        let mut order = Vec::new();
        let mut labels = Map::new();
        for (channel, label) in openclaw_channels::KNOWN {
            let Some(accounts) = by_channel.remove(*channel) else {
                continue;
            };
            let Some(preferred) = accounts
                .get(DEFAULT_ACCOUNT)
                .or_else(|| accounts.values().next())
                .cloned()
            else {
                continue;
            };
            let entry = HealthChannel {
                preferred,
                accounts,
            };
            channels.insert(
                (*channel).to_owned(),
                serde_json::to_value(entry).unwrap_or(Value::Null),
            );
            order.push((*channel).to_owned());
            labels.insert((*channel).to_owned(), json!(label));
        }
        HealthChannels {
            channels: Value::Object(channels),
            order,
            labels: Value::Object(labels),
        }
    }
}
