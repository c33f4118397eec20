//! The supervised gateway connection of one bot.
//!
//! A connection: `GET /users/@me` once (the bot's id, for mentions; a 401 here stops the
//! account), the WebSocket (`?v=10&encoding=json`, frames bounded), Hello, then Identify with
//! the intents — or Resume with the saved `session_id` / `seq` at `resume_gateway_url`, so a
//! restarted gateway gets the events it missed. Heartbeats go every `heartbeat_interval`, the
//! first after a random fraction of it (Discord's jitter); a heartbeat due while the previous
//! one is still un-ACKed means the connection is a zombie: it is dropped, counted in `stalls`
//! and resumed. Op 7 reconnects and resumes; op 9 waits 1–5 s and resumes or identifies
//! afresh as its `d` says; close codes that a reconnect cannot fix (4004, 4010–4014) stop the
//! account with the reason in `lastError`; others reconnect with backoff and jitter.
//!
//! Durability: each `MESSAGE_CREATE` for the agent is committed to the sink together with the
//! cursor (`{sessionId, seq, resumeGatewayUrl}`) before the next frame is read, so a crash
//! resumes from a sequence at or before the last stored message (duplicates are dropped by
//! message id). A session Discord will not resume loses what happened while no connection
//! was up: Discord does not redeliver to a new session.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use openclaw_core::CancellationToken;
use openclaw_core::channel::{ChannelError, InboundSink};
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};

use super::DiscordAccount;
use super::frames::{self, CloseAction, Incoming, Outgoing};
use super::rest::{GatewayBot, User};
use crate::backoff::Backoff;

/// The largest gateway message accepted (a big guild's `GUILD_CREATE` is a few MiB).
const MAX_FRAME: usize = 16 << 20;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

fn now() -> u64 {
    openclaw_core::message::now_ms().max(0) as u64
}

/// The resumable session, stored as the account's cursor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    session_id: String,
    seq: u64,
    resume_gateway_url: String,
}

enum Ended {
    Cancelled,
    /// Reconnect and resume (when there is a session).
    Resume(String),
    /// Reconnect with a new session.
    Identify(String),
    /// Do not reconnect.
    Fatal(String),
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub(super) async fn run(
    acct: &DiscordAccount,
    sink: Arc<dyn InboundSink>,
    cancel: CancellationToken,
) {
    let status = &acct.status;
    status.starting(now());
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
    match acct.token.clone() {
        None => status.update(|s| s.last_error = Some(super::not_configured().to_string())),
        Some(token) => {
            let mut session = match sink.cursor("discord", &acct.account_id).await {
                Ok(c) => c.and_then(|c| serde_json::from_str::<Session>(&c).ok()),
                Err(e) => {
                    status.update(|s| s.last_error = Some(format!("cannot read the cursor: {e}")));
                    None
                }
            };
            loop {
                let ended =
                    connection(acct, &token, &sink, &cancel, &mut session, &mut backoff).await;
                status.update(|s| s.connected = false);
                let why = match ended {
                    Ended::Cancelled => break,
                    Ended::Fatal(e) => {
                        tracing::warn!("discord {}: {e}; not reconnecting", acct.account_id);
                        status.update(|s| s.last_error = Some(e));
                        break;
                    }
                    Ended::Identify(why) => {
                        session = None;
                        why
                    }
                    Ended::Resume(why) => why,
                };
                tracing::warn!("discord {}: {why}; reconnecting", acct.account_id);
                status.update(|s| {
                    s.last_error = Some(why);
                    s.reconnect_attempts += 1;
                    s.lifecycle = "reconnecting".into();
                });
                if cancel.is_cancelled() {
                    break;
                }
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tokio::time::sleep(backoff.next_delay()) => {}
                }
            }
        }
    }
    status.update(|s| {
        s.running = false;
        s.connected = false;
        s.lifecycle = "stopped".into();
        s.last_stop_at = Some(now());
    });
}

/// A REST failure before connecting: a refused token stops the account.
fn rest_failure(what: &str, e: ChannelError) -> Ended {
    match e {
        ChannelError::Api { code: 401, .. } => Ended::Fatal(format!(
            "{what}: 401 authentication failed (check the bot token)"
        )),
        e => Ended::Resume(format!("{what}: {e}")),
    }
}

fn with_query(base: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}v=10&encoding=json")
}

/// Where to connect: the session's resume URL, the configured URL, or Discord's answer.
async fn gateway_url(acct: &DiscordAccount, session: &Option<Session>) -> Result<String, Ended> {
    if let Some(s) = session {
        return Ok(s.resume_gateway_url.clone());
    }
    if let Some(u) = &acct.gateway_url {
        return Ok(u.clone());
    }
    let rest = acct.rest().map_err(|e| Ended::Fatal(e.to_string()))?;
    rest.get::<GatewayBot>("/gateway/bot", Duration::from_secs(15))
        .await
        .map(|g| g.url)
        .map_err(|e| rest_failure("GET /gateway/bot", e))
}

async fn send<D: Serialize>(ws: &mut Socket, op: u8, d: D) -> Result<(), String> {
    let text = serde_json::to_string(&Outgoing { op, d }).map_err(|e| e.to_string())?;
    ws.send(Ws::Text(text.into()))
        .await
        .map_err(|e| format!("gateway send: {e}"))
}

/// Closes without 1000/1001 (which would end the session), so it can be resumed; bounded.
async fn close_resumable(ws: &mut Socket) {
    let frame = CloseFrame {
        code: CloseCode::Library(4000),
        reason: "reconnecting".into(),
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(Some(frame))).await;
}

/// The next text frame, decoded; `Err` ends the connection.
async fn next_frame(ws: &mut Socket) -> Result<Incoming, Ended> {
    loop {
        match ws.next().await {
            None => return Err(Ended::Resume("the gateway connection ended".into())),
            Some(Err(e)) => return Err(Ended::Resume(format!("gateway: {e}"))),
            Some(Ok(Ws::Close(frame))) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((1005, String::new()));
                let (action, meaning) = frames::close_action(code);
                let text = format!("Discord closed the gateway: {code} {meaning} {reason}")
                    .trim_end()
                    .to_owned();
                return Err(match action {
                    CloseAction::Fatal => Ended::Fatal(text),
                    CloseAction::Identify => Ended::Identify(text),
                    CloseAction::Resume => Ended::Resume(text),
                });
            }
            Some(Ok(Ws::Text(t))) => {
                return serde_json::from_str::<Incoming>(&t)
                    .map_err(|e| Ended::Resume(format!("undecodable gateway frame: {e}")));
            }
            // Pings are answered by the library; no binary frames without compression.
            Some(Ok(_)) => {}
        }
    }
}

/// The bot itself, asked once per process (also checks the token before connecting).
async fn whoami(acct: &DiscordAccount) -> Result<User, Ended> {
    if let Some(me) = openclaw_core::sync::lock(&acct.me).clone() {
        return Ok(me);
    }
    let rest = acct.rest().map_err(|e| Ended::Fatal(e.to_string()))?;
    let me: User = rest
        .get("/users/@me", Duration::from_secs(15))
        .await
        .map_err(|e| rest_failure("GET /users/@me", e))?;
    acct.status
        .update(|s| s.bot = serde_json::to_value(&me).ok());
    *openclaw_core::sync::lock(&acct.me) = Some(me.clone());
    Ok(me)
}

/// Reads Hello and sends Identify (no session) or Resume; the heartbeat interval.
async fn greet(ws: &mut Socket, token: &str, session: Option<&Session>) -> Result<Duration, Ended> {
    let hello = match tokio::time::timeout(CONNECT_TIMEOUT, next_frame(ws)).await {
        Err(_) => return Err(Ended::Resume("no Hello from the gateway".into())),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(f)) if f.op == frames::OP_HELLO => f,
        Ok(Ok(f)) => return Err(Ended::Resume(format!("expected Hello, got op {}", f.op))),
    };
    let Ok(hello) = serde_json::from_value::<frames::Hello>(hello.d) else {
        return Err(Ended::Resume("a Hello without heartbeat_interval".into()));
    };
    let greeting = match session {
        Some(s) => {
            let d = frames::Resume {
                token,
                session_id: &s.session_id,
                seq: s.seq,
            };
            send(ws, frames::OP_RESUME, d).await
        }
        None => {
            let d = frames::Identify {
                token,
                intents: frames::INTENTS,
                properties: frames::Properties {
                    os: std::env::consts::OS,
                    browser: "openclaw",
                    device: "openclaw",
                },
            };
            send(ws, frames::OP_IDENTIFY, d).await
        }
    };
    greeting.map_err(Ended::Resume)?;
    Ok(Duration::from_millis(hello.heartbeat_interval.max(50)))
}

/// One connection, until it ends or `cancel`.
async fn connection(
    acct: &DiscordAccount,
    token: &str,
    sink: &Arc<dyn InboundSink>,
    cancel: &CancellationToken,
    session: &mut Option<Session>,
    backoff: &mut Backoff,
) -> Ended {
    let setup = async {
        let me = whoami(acct).await?;
        let url = with_query(&gateway_url(acct, session).await?);
        // Small buffers (an idle account holds one socket; they grow for a large frame).
        let config = WebSocketConfig::default()
            .read_buffer_size(16 << 10)
            .write_buffer_size(16 << 10)
            .max_message_size(Some(MAX_FRAME))
            .max_frame_size(Some(MAX_FRAME));
        let connect = tokio_tungstenite::connect_async_with_config(url, Some(config), true);
        let (ws, _) = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(Ended::Resume(format!("gateway connect: {e}"))),
            Err(_) => return Err(Ended::Resume("gateway connect timed out".into())),
        };
        Ok((me, ws))
    };
    let (mut me, mut ws) = tokio::select! {
        _ = cancel.cancelled() => return Ended::Cancelled,
        r = setup => match r {
            Ok(x) => x,
            Err(e) => return e,
        },
    };
    let interval = tokio::select! {
        _ = cancel.cancelled() => return Ended::Cancelled,
        r = greet(&mut ws, token, session.as_ref()) => match r {
            Ok(i) => i,
            Err(e) => return e,
        },
    };
    let mut conn = Conn {
        acct,
        sink,
        cancel,
        ws,
        session,
        seq: None,
        acked: true,
    };
    conn.seq = conn.session.as_ref().map(|s| s.seq);
    let first = interval.mul_f64(rand::thread_rng().gen_range(0.0..1.0));
    let mut next_beat = Instant::now() + first;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => {
                close_resumable(&mut conn.ws).await;
                return Ended::Cancelled;
            }
            _ = tokio::time::sleep_until(next_beat) => {
                if !conn.acked {
                    return conn.zombie(interval).await;
                }
                if let Err(e) = send(&mut conn.ws, frames::OP_HEARTBEAT, conn.seq).await {
                    return Ended::Resume(e);
                }
                conn.acked = false;
                next_beat = Instant::now() + interval;
            }
            frame = next_frame(&mut conn.ws) => {
                let frame = match frame {
                    Ok(f) => f,
                    Err(e) => return e,
                };
                if let Some(ended) = conn.handle(frame, &mut me, backoff).await {
                    return ended;
                }
            }
        }
    }
}

/// The state of one live connection.
struct Conn<'a> {
    acct: &'a DiscordAccount,
    sink: &'a Arc<dyn InboundSink>,
    cancel: &'a CancellationToken,
    ws: Socket,
    session: &'a mut Option<Session>,
    seq: Option<u64>,
    acked: bool,
}

impl Conn<'_> {
    async fn zombie(&mut self, interval: Duration) -> Ended {
        let secs = interval.as_secs_f64();
        self.acct.status.update(|s| s.stalls += 1);
        close_resumable(&mut self.ws).await;
        Ended::Resume(format!(
            "no heartbeat ACK within {secs:.1}s (zombied connection); resuming"
        ))
    }

    /// Handles one frame; `Some` ends the connection.
    async fn handle(&mut self, f: Incoming, me: &mut User, backoff: &mut Backoff) -> Option<Ended> {
        if let Some(s) = f.s {
            self.seq = Some(s);
            if let Some(sess) = self.session.as_mut() {
                sess.seq = s;
            }
        }
        let status = &self.acct.status;
        match f.op {
            frames::OP_HEARTBEAT => {
                if let Err(e) = send(&mut self.ws, frames::OP_HEARTBEAT, self.seq).await {
                    return Some(Ended::Resume(e));
                }
            }
            frames::OP_HEARTBEAT_ACK => {
                self.acked = true;
                status.update(|s| s.last_transport_activity_at = Some(now()));
            }
            frames::OP_RECONNECT => {
                close_resumable(&mut self.ws).await;
                return Some(Ended::Resume("Discord asked to reconnect (op 7)".into()));
            }
            frames::OP_INVALID_SESSION => {
                let resumable = f.d.as_bool() == Some(true) && self.session.is_some();
                // Discord: wait 1–5 s before identifying again.
                let wait = Duration::from_millis(rand::thread_rng().gen_range(1000..=5000));
                tokio::select! {
                    _ = self.cancel.cancelled() => return Some(Ended::Cancelled),
                    _ = tokio::time::sleep(wait) => {}
                }
                close_resumable(&mut self.ws).await;
                let why = "invalid session (op 9)".to_owned();
                return Some(if resumable {
                    Ended::Resume(why)
                } else {
                    Ended::Identify(why)
                });
            }
            frames::OP_DISPATCH => {
                status.update(|s| s.last_transport_activity_at = Some(now()));
                return self.dispatch(f, me, backoff).await;
            }
            _ => {}
        }
        None
    }

    async fn dispatch(
        &mut self,
        f: Incoming,
        me: &mut User,
        backoff: &mut Backoff,
    ) -> Option<Ended> {
        let acct = self.acct;
        match f.t.as_deref().unwrap_or("") {
            "READY" => {
                let ready: frames::Ready = match serde_json::from_value(f.d) {
                    Ok(r) => r,
                    Err(e) => return Some(Ended::Identify(format!("undecodable READY: {e}"))),
                };
                *self.session = Some(Session {
                    session_id: ready.session_id,
                    seq: self.seq.unwrap_or(0),
                    resume_gateway_url: ready.resume_gateway_url,
                });
                *me = ready.user.clone();
                *openclaw_core::sync::lock(&acct.me) = Some(ready.user);
                self.connected(me, backoff);
                // The new session is the cursor from now on.
                if let Some(ended) = self.commit(Vec::new()).await {
                    return Some(ended);
                }
            }
            "RESUMED" => self.connected(me, backoff),
            "GUILD_CREATE" => {
                if let Ok(g) = serde_json::from_value::<frames::GuildCreate>(f.d) {
                    let gid = g.id;
                    acct.remember(g.channels.into_iter().chain(g.threads).map(|mut c| {
                        c.guild_id.get_or_insert_with(|| gid.clone());
                        c
                    }));
                }
            }
            "THREAD_CREATE" | "THREAD_UPDATE" | "CHANNEL_CREATE" | "CHANNEL_UPDATE" => {
                if let Ok(c) = serde_json::from_value(f.d) {
                    acct.remember([c]);
                }
            }
            "THREAD_LIST_SYNC" => {
                if let Ok(t) = serde_json::from_value::<frames::ThreadListSync>(f.d) {
                    acct.remember(t.threads);
                }
            }
            "MESSAGE_CREATE" => {
                let m: frames::MessageCreate = match serde_json::from_value(f.d) {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!(
                            "discord {}: undecodable MESSAGE_CREATE: {e}",
                            acct.account_id
                        );
                        return None;
                    }
                };
                if let Some(msg) = acct.inbound(m, me).await {
                    if let Some(ended) = self.commit(vec![msg]).await {
                        return Some(ended);
                    }
                    acct.status.update(|s| s.last_inbound_at = Some(now()));
                }
            }
            _ => {}
        }
        None
    }

    fn connected(&self, me: &User, backoff: &mut Backoff) {
        backoff.reset();
        self.acct.status.update(|s| {
            let t = now();
            s.connected = true;
            s.lifecycle = "ready".into();
            s.last_connected_at = Some(t);
            s.last_error = None;
            s.bot = serde_json::to_value(me).ok();
        });
    }

    /// Commits `messages` with the session as the cursor, retrying until stored or cancelled
    /// (no later frame is read before: the gateway's sequence is acknowledged by reading on).
    async fn commit(
        &mut self,
        messages: Vec<openclaw_core::channel::InboundMessage>,
    ) -> Option<Ended> {
        let cursor = self
            .session
            .as_ref()
            .and_then(|s| serde_json::to_string(s).ok());
        let mut retry = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));
        loop {
            match self
                .sink
                .commit(
                    "discord",
                    &self.acct.account_id,
                    messages.clone(),
                    cursor.clone(),
                )
                .await
            {
                Ok(()) => return None,
                Err(e) => {
                    self.acct
                        .status
                        .update(|s| s.last_error = Some(format!("cannot store inbound: {e}")));
                    tokio::select! {
                        _ = self.cancel.cancelled() => return Some(Ended::Cancelled),
                        _ = tokio::time::sleep(retry.next_delay()) => {}
                    }
                }
            }
        }
    }
}
