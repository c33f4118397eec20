//! The channel manager: the configured accounts of every messaging channel (Telegram today),
//! started, stopped and restarted as `openclaw.json` changes, the durable inbound queue they
//! commit to, and the dispatcher that turns queued messages into agent runs and replies.
//!
//! - this module: [`ChannelService`] — accounts from `channels.<id>` (a changed account is
//!   stopped and started again, a removed one stopped), per-account status, the
//!   [`InboundSink`] over the state database, `bindings[]` / `session.dmScope`;
//! - `dispatch`: a queued message's life — access policy (`dmPolicy`, `groupPolicy`), DM
//!   pairing, the run through [`GatewayBackend::channel_turn`], the reply;
//! - `deliver`: chunking, sending with safe retries, recording each chunk's message id;
//! - `stream`: a reply streamed by editing it in place (`streaming.mode: "partial"`);
//! - `methods`: `channels.status|start|stop|logout`, `channels.pairing.*`, `send`.
//!
//! Guarantees: a message is in the database before the platform is acknowledged; a run is
//! replayed at most once after a crash (`ChannelStore::claim_ingress` counts attempts); a
//! reply's chunks already recorded as sent are never sent again.

mod action;
mod approvals;
mod deliver;
mod dispatch;
mod health;
pub(crate) mod methods;
mod outbound;
mod stream;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use openclaw_core::CancellationToken;
use openclaw_core::channel::keys::DmScope;
use openclaw_core::channel::policy::{AccountPolicy, Binding, account_value};
use openclaw_core::channel::{ChannelAccount, ChatType, InboundMessage, InboundSink, MenuCommand};
use openclaw_state::{ChannelStore, SqliteStore};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{Notify, Semaphore};

use crate::backend::GatewayBackend;

/// What the dispatcher asks the agent host to run for an allowed inbound message.
#[derive(Debug, Clone)]
pub struct ChannelTurn {
    pub run_id: String,
    pub channel: String,
    pub account_id: String,
    pub chat_type: ChatType,
    /// The DM peer, or the group id.
    pub peer_id: String,
    pub topic_id: Option<String>,
    /// From `bindings[]`; the default agent when `None`.
    pub agent_id: Option<String>,
    pub dm_scope: DmScope,
    /// The user message (text plus the untrusted conversation-info block).
    pub message: String,
    /// Recorded on the session row as `origin`.
    pub origin: SessionOrigin,
    /// Images of the message (a Telegram photo), for the model.
    pub images: Vec<openclaw_core::message::ImageContent>,
    /// The sender's text when it is one of the gateway's slash commands: carried out on the
    /// conversation's session instead of reaching the model (`message` is then what `/new
    /// <text>` runs on the new session).
    pub command: Option<String>,
    /// Where the run publishes the text of its current reply as it grows (streaming by
    /// edit-in-place), when the account streams.
    pub preview: Option<tokio::sync::watch::Sender<String>>,
}

/// A session's `origin`, as OpenClaw records it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionOrigin {
    pub label: String,
    pub provider: String,
    pub surface: String,
    pub chat_type: &'static str,
    pub from: String,
    pub to: String,
    pub account_id: String,
}

/// How a channel turn ended.
#[derive(Debug, Clone, Default)]
pub struct ChannelTurnOutcome {
    pub ok: bool,
    pub text: String,
    pub error: Option<String>,
    pub session_key: Option<String>,
}

impl ChannelTurnOutcome {
    pub fn failed(error: String) -> Self {
        Self {
            error: Some(error),
            ..Self::default()
        }
    }
}

/// One configured account.
struct Entry {
    account: Arc<dyn ChannelAccount>,
    policy: AccountPolicy,
    /// The account's resolved config, to notice a change.
    fingerprint: Value,
    enabled: bool,
    run: Option<(CancellationToken, tokio::task::JoinHandle<()>)>,
    last_probe: Option<(u64, Value)>,
}

type AccountKey = (String, String);

/// The routing part of the config.
#[derive(Default)]
struct Routing {
    bindings: Vec<Binding>,
    dm_scope: DmScope,
}

/// The channel manager (see the module doc).
pub struct ChannelService {
    store: Arc<SqliteStore>,
    backend: Arc<dyn GatewayBackend>,
    env: fn(&str) -> Option<String>,
    accounts: Mutex<HashMap<AccountKey, Entry>>,
    /// Accounts whose config cannot be used, with the reason.
    broken: Mutex<HashMap<AccountKey, String>>,
    routing: RwLock<Routing>,
    wake: Arc<Notify>,
    /// Ingress rows being worked on, and the conversations they belong to (one at a time each).
    inflight: Mutex<(HashSet<i64>, HashSet<String>)>,
    lanes: Arc<Semaphore>,
    stop: CancellationToken,
    /// The exec approvals, once attached (inline-button approvals).
    approvals: approvals::ApprovalsCell,
    /// Who may answer exec approvals per account (`execApprovals.approvers`, else the numeric
    /// `commands.ownerAllowFrom`).
    approvers: approvals::Approvers,
}

/// At most this many channel runs at once (the agent host's lanes bound them again).
const MAX_PARALLEL: usize = 8;

impl ChannelService {
    pub fn new(
        store: Arc<SqliteStore>,
        backend: Arc<dyn GatewayBackend>,
        env: fn(&str) -> Option<String>,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            backend,
            env,
            accounts: Mutex::default(),
            broken: Mutex::default(),
            routing: RwLock::default(),
            wake: Arc::new(Notify::new()),
            inflight: Mutex::default(),
            lanes: Arc::new(Semaphore::new(MAX_PARALLEL)),
            stop: CancellationToken::new(),
            approvals: approvals::ApprovalsCell::default(),
            approvers: approvals::Approvers::default(),
        })
    }

    fn sink(&self) -> Arc<dyn InboundSink> {
        Arc::new(StoreSink {
            store: self.store.clone(),
            wake: self.wake.clone(),
            approvals: self.approvals.clone(),
            approvers: self.approvers.clone(),
        })
    }

    /// Makes `config` the running one: accounts added, changed (restarted) or removed.
    pub fn apply_config(self: &Arc<Self>, config: &Value) {
        let routing = Routing {
            bindings: config
                .get("bindings")
                .and_then(|b| serde_json::from_value(b.clone()).ok())
                .unwrap_or_default(),
            dm_scope: config
                .pointer("/session/dmScope")
                .and_then(|s| serde_json::from_value(s.clone()).ok())
                .unwrap_or_default(),
        };
        *self.routing.write().unwrap_or_else(|e| e.into_inner()) = routing;
        self.approvers.apply(config);
        let menu = command_menu(config);
        let mut wanted: HashMap<AccountKey, (Value, bool)> = HashMap::new();
        for (channel, _) in openclaw_channels::KNOWN {
            let Some(section) = config.pointer(&format!("/channels/{channel}")) else {
                continue;
            };
            let channel_on = section.get("enabled").and_then(Value::as_bool) != Some(false);
            for id in openclaw_channels::account_ids(channel, section) {
                let value = account_value(section, &id);
                let on = channel_on && value.get("enabled").and_then(Value::as_bool) != Some(false);
                wanted.insert(((*channel).to_owned(), id), (section.clone(), on));
            }
        }
        let mut accounts = openclaw_core::sync::lock(&self.accounts);
        let mut broken = openclaw_core::sync::lock(&self.broken);
        broken.clear();
        let gone: Vec<AccountKey> = accounts
            .iter()
            .filter(|(k, e)| {
                wanted.get(*k).is_none_or(|(section, on)| {
                    account_value(section, &k.1) != e.fingerprint || *on != e.enabled
                })
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            if let Some(mut e) = accounts.remove(&k) {
                stop_run(&mut e);
            }
        }
        for ((channel, id), (section, on)) in wanted {
            let key = (channel.clone(), id.clone());
            if accounts.contains_key(&key) {
                continue;
            }
            let value = account_value(&section, &id);
            let policy: Result<AccountPolicy, _> = serde_json::from_value(value.clone());
            let account = openclaw_channels::account_for(&channel, &section, &id, &self.env);
            match (account, policy) {
                (Ok(account), Ok(policy)) => {
                    account.set_command_menu(menu.clone());
                    let mut e = Entry {
                        account,
                        policy,
                        fingerprint: value.clone(),
                        enabled: on,
                        run: None,
                        last_probe: None,
                    };
                    if on {
                        self.start_run(&mut e);
                    }
                    accounts.insert(key, e);
                }
                (Err(e), _) => {
                    broken.insert(key, e);
                }
                (_, Err(e)) => {
                    broken.insert(key, format!("channels.{channel} ({id}): {e}"));
                }
            }
        }
    }

    fn start_run(&self, e: &mut Entry) {
        if e.run.is_some() {
            return;
        }
        let cancel = self.stop.child();
        let (account, sink, c) = (e.account.clone(), self.sink(), cancel.clone());
        let task = tokio::spawn(async move { account.run(sink, c).await });
        e.run = Some((cancel, task));
    }

    /// Starts the dispatcher; returns its task.
    pub fn start(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move { dispatch::run(me).await })
    }

    /// Stops every account and the dispatcher.
    pub fn stop(&self) {
        self.stop.cancel();
        for e in openclaw_core::sync::lock(&self.accounts).values_mut() {
            stop_run(e);
        }
    }

    /// The account `(channel, account_id)` (`None` for the channel's default account).
    pub(crate) fn account(
        &self,
        channel: &str,
        account_id: Option<&str>,
    ) -> Option<Arc<dyn ChannelAccount>> {
        let accounts = openclaw_core::sync::lock(&self.accounts);
        let id = account_id.unwrap_or(openclaw_core::channel::policy::DEFAULT_ACCOUNT);
        accounts
            .get(&(channel.to_owned(), id.to_owned()))
            .or_else(|| {
                // No `default` account: the channel's only one.
                let mut of_channel = accounts.iter().filter(|(k, _)| k.0 == channel);
                match (account_id, of_channel.next(), of_channel.next()) {
                    (None, Some((_, e)), None) => Some(e),
                    _ => None,
                }
            })
            .map(|e| e.account.clone())
    }

    fn policy(
        &self,
        channel: &str,
        account_id: &str,
    ) -> Option<(Arc<dyn ChannelAccount>, AccountPolicy)> {
        openclaw_core::sync::lock(&self.accounts)
            .get(&(channel.to_owned(), account_id.to_owned()))
            .map(|e| (e.account.clone(), e.policy.clone()))
    }
}

/// The gateway's slash commands (the table `chat.send` and channel turns carry out) as a
/// platform menu; none with `commands.native: false`.
fn command_menu(config: &Value) -> Vec<MenuCommand> {
    if config.pointer("/commands/native") == Some(&Value::Bool(false)) {
        return Vec::new();
    }
    crate::agent_host::commands::COMMANDS
        .iter()
        .map(|c| MenuCommand {
            command: c.name.to_owned(),
            description: c.description.to_owned(),
        })
        .collect()
}

fn stop_run(e: &mut Entry) {
    if let Some((cancel, task)) = e.run.take() {
        cancel.cancel();
        // The loop ends at its next await; a task that does not is aborted, so no poller
        // (and no socket) outlives its account.
        tokio::spawn(async move {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        });
    }
}

/// The [`InboundSink`] over the state database; wakes the dispatcher after each commit.
struct StoreSink {
    store: Arc<SqliteStore>,
    wake: Arc<Notify>,
    approvals: approvals::ApprovalsCell,
    approvers: approvals::Approvers,
}

#[async_trait]
impl InboundSink for StoreSink {
    async fn press(&self, press: openclaw_core::channel::ButtonPress) -> String {
        approvals::press(&self.approvals, &self.approvers, &press)
    }

    async fn cursor(&self, channel: &str, account_id: &str) -> Result<Option<String>, String> {
        self.store
            .channel_cursor(channel, account_id)
            .map_err(|e| e.to_string())
    }

    async fn commit(
        &self,
        channel: &str,
        account_id: &str,
        messages: Vec<InboundMessage>,
        cursor: Option<String>,
    ) -> Result<(), String> {
        let new = self
            .store
            .commit_inbound(channel, account_id, &messages, cursor.as_deref())
            .map_err(|e| e.to_string())?;
        if new > 0 {
            self.wake.notify_one();
        }
        Ok(())
    }
}
