//! A fake Discord on loopback, written from Discord's public API documentation, for this
//! crate's and the gateway's tests.
//!
//! The gateway (`ws://…/gateway`, v10 JSON): Hello (op 10) with a heartbeat interval,
//! Identify (op 2, token checked: a wrong one is closed with 4004) answered by `READY` and a
//! `GUILD_CREATE` of one guild (a text channel `general`, a thread under it), Resume (op 6)
//! replaying the dispatches after the client's `seq` then `RESUMED` — or Invalid Session
//! (op 9, `false`) for an unknown session —, Heartbeat (op 1) answered by an ACK (op 11). Tests
//! push `MESSAGE_CREATE` dispatches, make the live connection a zombie (no more ACKs and no
//! dispatches: a half-open socket), ask for a reconnect (op 7) or an invalid session (op 9),
//! or close the next Identify with a code (4014 disallowed intents).
//!
//! REST (`http://…/api/v10`, `Authorization: Bot <token>`): `GET /users/@me`,
//! `GET /gateway/bot`, `GET /channels/{id}`, `POST /channels/{id}/messages` (snowflake ids,
//! 2000-character limit, `nonce` + `enforce_nonce` returning the earlier message),
//! `POST /channels/{id}/typing`, `POST /users/@me/channels`. Rate limits: an optional bucket
//! per channel with Discord's `X-RateLimit-*` headers (requests past it get 429 and are
//! counted as violations), and scripted 429s with `retry_after`. Every request is recorded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use serde_json::{Value, json};

/// The bot the fake says it is.
pub const BOT_ID: &str = "1100000000000000001";
pub const BOT_NAME: &str = "openclaw-test";
/// The one guild, its text channel `general` and a thread in it.
pub const GUILD_ID: &str = "1200000000000000001";
pub const GENERAL_ID: &str = "1200000000000000002";
pub const THREAD_ID: &str = "1200000000000000003";

/// One recorded REST request.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: Value,
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    seq: u64,
    /// Dispatches pushed by the test: (seq, event name, data).
    events: Vec<(u64, String, Value)>,
    session: Option<String>,
    sessions: u64,
    identifies: Vec<Value>,
    resumes: Vec<Value>,
    heartbeats: usize,
    connections: usize,
    live: usize,
    zombie: bool,
    reconnect: bool,
    invalid_session: Option<bool>,
    close_identify: Option<u16>,
    requests: Vec<Recorded>,
    messages: Vec<Value>,
    nonces: HashMap<(String, String), Value>,
    next_id: u64,
    dm_channels: HashMap<String, String>,
    scripted_429: Vec<f64>,
    fail_after_create: usize,
    bucket: Option<(usize, Duration)>,
    bucket_hits: HashMap<String, Vec<Instant>>,
    violations: usize,
}

struct Shared {
    token: String,
    heartbeat_ms: u64,
    addr: std::net::SocketAddr,
    inner: Mutex<Inner>,
}

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    openclaw_core::sync::lock(&s.inner)
}

/// The running fake.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeDiscord {
    /// Starts on a free loopback port, accepting `token`, asking for heartbeats every
    /// `heartbeat_ms`.
    pub async fn start(token: &str, heartbeat_ms: u64) -> std::io::Result<FakeDiscord> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            token: token.to_owned(),
            heartbeat_ms,
            addr,
            inner: Mutex::new(Inner {
                next_id: 1_300_000_000_000_000_000,
                ..Inner::default()
            }),
        });
        let app = Router::new()
            .route("/gateway", get(gateway))
            .route("/api/v10/users/@me", get(me))
            .route("/api/v10/gateway/bot", get(gateway_bot))
            .route("/api/v10/channels/{id}", get(channel))
            .route("/api/v10/channels/{id}/messages", post(create_message))
            .route(
                "/api/v10/channels/{id}/messages/{mid}",
                patch(edit_message).delete(delete_message),
            )
            .route("/api/v10/channels/{id}/typing", post(typing))
            .route("/api/v10/users/@me/channels", post(create_dm))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeDiscord { shared, task })
    }

    /// The REST root (`apiRoot`).
    pub fn api_root(&self) -> String {
        format!("http://{}/api/v10", self.shared.addr)
    }

    /// The gateway URL (`gatewayUrl`).
    pub fn gateway_url(&self) -> String {
        format!("ws://{}/gateway", self.shared.addr)
    }

    fn next_id(&self) -> String {
        let mut i = lock(&self.shared);
        i.next_id += 1;
        i.next_id.to_string()
    }

    /// Queues a dispatch for the live connection (and replays on resume).
    pub fn push_event(&self, t: &str, d: Value) -> u64 {
        let mut i = lock(&self.shared);
        i.seq += 1;
        let s = i.seq;
        i.events.push((s, t.to_owned(), d));
        s
    }

    /// The DM channel of `user` (created on first use).
    pub fn dm_channel(&self, user: &str) -> String {
        let existing = lock(&self.shared).dm_channels.get(user).cloned();
        existing.unwrap_or_else(|| {
            let id = self.next_id();
            lock(&self.shared)
                .dm_channels
                .insert(user.to_owned(), id.clone());
            id
        })
    }

    fn message(
        &self,
        channel: &str,
        guild: Option<&str>,
        user: &str,
        name: &str,
        content: &str,
        mentions: Vec<Value>,
    ) -> String {
        let id = self.next_id();
        let mut d = json!({
            "id": id, "channel_id": channel, "type": 0, "content": content,
            "author": {"id": user, "username": name, "global_name": name},
            "mentions": mentions, "mention_everyone": false,
            "timestamp": "2026-12-07T12:00:00.000000+00:00",
        });
        if let Some(g) = guild {
            d["guild_id"] = json!(g);
            d["member"] = json!({"roles": [], "nick": null});
        }
        self.push_event("MESSAGE_CREATE", d);
        id
    }

    /// A DM from `user`; the message id.
    pub fn push_dm(&self, user: &str, name: &str, content: &str) -> String {
        let ch = self.dm_channel(user);
        self.message(&ch, None, user, name, content, Vec::new())
    }

    /// A message in guild channel `channel` (or the thread); with `mention` it starts with
    /// `<@bot>` and lists the bot in `mentions`.
    pub fn push_guild(
        &self,
        channel: &str,
        user: &str,
        name: &str,
        content: &str,
        mention: bool,
    ) -> String {
        let (content, mentions) = if mention {
            (
                format!("<@{BOT_ID}> {content}"),
                vec![json!({"id": BOT_ID, "username": BOT_NAME, "bot": true})],
            )
        } else {
            (content.to_owned(), Vec::new())
        };
        self.message(channel, Some(GUILD_ID), user, name, &content, mentions)
    }

    /// Every REST request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared).requests.clone()
    }

    /// The messages created (each as Discord returned it, plus the request's
    /// `message_reference`, `allowed_mentions` and `nonce`).
    pub fn messages(&self) -> Vec<Value> {
        lock(&self.shared).messages.clone()
    }

    /// The contents of the messages in channel `id` as a user now sees them (edits applied,
    /// deleted ones gone), oldest first.
    pub fn visible(&self, id: &str) -> Vec<String> {
        lock(&self.shared)
            .messages
            .iter()
            .filter(|m| m["channel_id"] == id)
            .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Waits until at least `n` messages exist.
    pub async fn wait_messages(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {n} messages: {m:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Identify payloads received.
    pub fn identifies(&self) -> Vec<Value> {
        lock(&self.shared).identifies.clone()
    }

    /// Resume payloads received.
    pub fn resumes(&self) -> Vec<Value> {
        lock(&self.shared).resumes.clone()
    }

    pub fn heartbeats(&self) -> usize {
        lock(&self.shared).heartbeats
    }

    /// WebSocket connections accepted, and how many are open now.
    pub fn connections(&self) -> (usize, usize) {
        let i = lock(&self.shared);
        (i.connections, i.live)
    }

    /// The live connection stops answering (no ACK, no dispatch) until the next connection.
    pub fn zombify(&self) {
        lock(&self.shared).zombie = true;
    }

    /// Sends Reconnect (op 7) on the live connection.
    pub fn request_reconnect(&self) {
        lock(&self.shared).reconnect = true;
    }

    /// Sends Invalid Session (op 9) with `resumable`; a non-resumable one forgets the session.
    pub fn invalidate_session(&self, resumable: bool) {
        let mut i = lock(&self.shared);
        i.invalid_session = Some(resumable);
        if !resumable {
            i.session = None;
        }
    }

    /// The next Identify is answered by closing with `code` (4004, 4014, …).
    pub fn close_next_identify(&self, code: u16) {
        lock(&self.shared).close_identify = Some(code);
    }

    /// The next message creations are answered 429 with these `retry_after` seconds.
    pub fn rate_limit_next(&self, retry_after: &[f64]) {
        lock(&self.shared).scripted_429 = retry_after.to_vec();
    }

    /// The next `n` message creations create the message and then answer 500.
    pub fn fail_after_create(&self, n: usize) {
        lock(&self.shared).fail_after_create = n;
    }

    /// A bucket of `limit` messages per `window` per channel, announced in headers.
    pub fn set_bucket(&self, limit: usize, window: Duration) {
        lock(&self.shared).bucket = Some((limit, window));
    }

    /// Message creations that ignored an exhausted bucket.
    pub fn violations(&self) -> usize {
        lock(&self.shared).violations
    }
}

/// `PATCH /channels/{id}/messages/{mid}`: the content replaced (10008 Unknown Message when it
/// is not there).
async fn edit_message(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((id, mid)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    record(&s, "PATCH", format!("/channels/{id}/messages/{mid}"), &body);
    if !authorized(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "401: Unauthorized");
    }
    let req: Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(content) = req["content"].as_str() else {
        return error(StatusCode::BAD_REQUEST, "Invalid Form Body");
    };
    if content.is_empty() || content.chars().count() > 2000 {
        return error(StatusCode::BAD_REQUEST, "Invalid Form Body");
    }
    let mut i = lock(&s);
    match i
        .messages
        .iter_mut()
        .find(|m| m["channel_id"] == id.as_str() && m["id"] == mid.as_str())
    {
        Some(m) => {
            m["content"] = json!(content);
            axum::Json(m.clone()).into_response()
        }
        None => unknown_message(),
    }
}

/// `DELETE /channels/{id}/messages/{mid}`: 204, or 10008 Unknown Message.
async fn delete_message(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((id, mid)): Path<(String, String)>,
) -> Response {
    record(
        &s,
        "DELETE",
        format!("/channels/{id}/messages/{mid}"),
        &Bytes::new(),
    );
    if !authorized(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "401: Unauthorized");
    }
    let mut i = lock(&s);
    let before = i.messages.len();
    i.messages
        .retain(|m| !(m["channel_id"] == id.as_str() && m["id"] == mid.as_str()));
    if i.messages.len() < before {
        StatusCode::NO_CONTENT.into_response()
    } else {
        unknown_message()
    }
}

fn unknown_message() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"message": "Unknown Message", "code": 10008})),
    )
        .into_response()
}

fn error(code: StatusCode, message: &str) -> Response {
    (code, axum::Json(json!({"message": message, "code": 0}))).into_response()
}

fn authorized(s: &Shared, headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok())
        == Some(format!("Bot {}", s.token).as_str())
}

fn record(s: &Shared, method: &str, path: String, body: &Bytes) {
    let body = serde_json::from_slice(body).unwrap_or(Value::Null);
    lock(s).requests.push(Recorded {
        method: method.to_owned(),
        path,
        body,
        at: Instant::now(),
    });
}

async fn me(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    record(&s, "GET", "/users/@me".into(), &Bytes::new());
    if !authorized(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "401: Unauthorized");
    }
    axum::Json(json!({"id": BOT_ID, "username": BOT_NAME, "bot": true})).into_response()
}

async fn gateway_bot(State(s): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    record(&s, "GET", "/gateway/bot".into(), &Bytes::new());
    if !authorized(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "401: Unauthorized");
    }
    axum::Json(json!({"url": format!("ws://{}/gateway", s.addr), "shards": 1,
        "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}}))
    .into_response()
}

fn guild_channels() -> Vec<Value> {
    vec![
        json!({"id": GENERAL_ID, "type": 0, "name": "general", "guild_id": GUILD_ID}),
        json!({"id": THREAD_ID, "type": 11, "name": "a thread", "parent_id": GENERAL_ID, "guild_id": GUILD_ID}),
    ]
}

async fn channel(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    record(&s, "GET", format!("/channels/{id}"), &Bytes::new());
    if !authorized(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "401: Unauthorized");
    }
    match guild_channels()
        .into_iter()
        .find(|c| c["id"] == id.as_str())
    {
        Some(c) => axum::Json(c).into_response(),
        None => error(StatusCode::NOT_FOUND, "Unknown Channel"),
    }
}

async fn typing(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    record(&s, "POST", format!("/channels/{id}/typing"), &Bytes::new());
    if !authorized(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "401: Unauthorized");
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn create_dm(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    record(&s, "POST", "/users/@me/channels".into(), &body);
    if !authorized(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "401: Unauthorized");
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
    let Some(user) = v["recipient_id"].as_str().map(str::to_owned) else {
        return error(StatusCode::BAD_REQUEST, "Invalid Form Body");
    };
    let mut i = lock(&s);
    let id = match i.dm_channels.get(&user) {
        Some(c) => c.clone(),
        None => {
            i.next_id += 1;
            let c = i.next_id.to_string();
            i.dm_channels.insert(user.clone(), c.clone());
            c
        }
    };
    axum::Json(json!({"id": id, "type": 1, "recipients": [{"id": user}]})).into_response()
}

async fn create_message(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    record(&s, "POST", format!("/channels/{id}/messages"), &body);
    if !authorized(&s, &headers) {
        return error(StatusCode::UNAUTHORIZED, "401: Unauthorized");
    }
    let req: Value = serde_json::from_slice(&body).unwrap_or_default();
    let content = req["content"].as_str().unwrap_or_default().to_owned();
    if content.is_empty() || content.chars().count() > 2000 {
        return error(StatusCode::BAD_REQUEST, "Invalid Form Body");
    }
    let mut i = lock(&s);
    if !i.scripted_429.is_empty() {
        let after = i.scripted_429.remove(0);
        return too_many(after);
    }
    let mut limit_headers = None;
    if let Some((limit, window)) = i.bucket {
        let now = Instant::now();
        let hits = i.bucket_hits.entry(id.clone()).or_default();
        hits.retain(|t| now.duration_since(*t) < window);
        if hits.len() >= limit {
            let after = window.saturating_sub(now.duration_since(hits[0]));
            i.violations += 1;
            return too_many(after.as_secs_f64());
        }
        hits.push(now);
        let reset = window.saturating_sub(now.duration_since(hits[0]));
        limit_headers = Some((limit, limit - hits.len(), reset.as_secs_f64()));
    }
    let nonce = req["nonce"].as_str().map(str::to_owned);
    if let (Some(n), true) = (&nonce, req["enforce_nonce"] == true) {
        if let Some(earlier) = i.nonces.get(&(id.clone(), n.clone())) {
            return axum::Json(earlier.clone()).into_response();
        }
    }
    i.next_id += 1;
    let msg = json!({
        "id": i.next_id.to_string(), "channel_id": id, "content": content,
        "author": {"id": BOT_ID, "username": BOT_NAME, "bot": true},
        "message_reference": req.get("message_reference").cloned().unwrap_or(Value::Null),
        "allowed_mentions": req.get("allowed_mentions").cloned().unwrap_or(Value::Null),
        "nonce": nonce.clone().map(Value::from).unwrap_or(Value::Null),
        "flags": req.get("flags").cloned().unwrap_or(json!(0)),
    });
    if let Some(n) = nonce {
        i.nonces.insert((id.clone(), n), msg.clone());
    }
    i.messages.push(msg.clone());
    if i.fail_after_create > 0 {
        i.fail_after_create -= 1;
        return error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
    }
    let mut resp = axum::Json(msg).into_response();
    if let Some((limit, remaining, reset)) = limit_headers {
        let h = resp.headers_mut();
        for (k, v) in [
            ("x-ratelimit-limit", limit.to_string()),
            ("x-ratelimit-remaining", remaining.to_string()),
            ("x-ratelimit-reset-after", format!("{reset:.3}")),
            ("x-ratelimit-bucket", "fake-messages".to_owned()),
        ] {
            if let Ok(v) = v.parse() {
                h.insert(k, v);
            }
        }
    }
    resp
}

fn too_many(after: f64) -> Response {
    let mut resp = (
        StatusCode::TOO_MANY_REQUESTS,
        axum::Json(json!({"message": "You are being rate limited.", "retry_after": after, "global": false})),
    )
        .into_response();
    if let Ok(v) = format!("{}", after.ceil() as u64).parse() {
        resp.headers_mut().insert("retry-after", v);
    }
    resp
}

async fn gateway(State(s): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| connection(s, socket))
}

fn frame(op: u8, d: Value, s: Option<u64>, t: Option<&str>) -> Message {
    Message::Text(json!({"op": op, "d": d, "s": s, "t": t}).to_string().into())
}

async fn recv_json(socket: &mut WebSocket) -> Option<Value> {
    loop {
        match socket.recv().await? {
            Ok(Message::Text(t)) => return serde_json::from_str(&t).ok(),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

async fn close(mut socket: WebSocket, code: u16, reason: &str) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.to_owned().into(),
        })))
        .await;
}

/// Identify or resume; the seq the connection has delivered up to, or `None` when closed.
async fn handshake(s: &Shared, socket: &mut WebSocket) -> Result<u64, Option<(u16, &'static str)>> {
    loop {
        let Some(first) = tokio::time::timeout(Duration::from_secs(10), recv_json(socket))
            .await
            .ok()
            .flatten()
        else {
            return Err(None);
        };
        match first["op"].as_u64() {
            Some(2) => {
                let (session, ready_seq, guild_seq, upto) = {
                    let mut i = lock(s);
                    i.identifies.push(first["d"].clone());
                    if first["d"]["token"].as_str() != Some(s.token.as_str()) {
                        return Err(Some((4004, "Authentication failed.")));
                    }
                    if let Some(code) = i.close_identify.take() {
                        return Err(Some((code, "Disallowed intent(s).")));
                    }
                    i.sessions += 1;
                    let session = format!("fake-session-{}", i.sessions);
                    i.session = Some(session.clone());
                    i.seq += 1;
                    let ready_seq = i.seq;
                    i.seq += 1;
                    (session, ready_seq, i.seq, i.seq)
                };
                let ready = json!({"v": 10, "session_id": session,
                    "resume_gateway_url": format!("ws://{}/gateway", s.addr),
                    "user": {"id": BOT_ID, "username": BOT_NAME, "bot": true},
                    "guilds": [{"id": GUILD_ID, "unavailable": true}]});
                let guild = json!({"id": GUILD_ID, "channels": guild_channels()[..1],
                    "threads": guild_channels()[1..]});
                if socket
                    .send(frame(0, ready, Some(ready_seq), Some("READY")))
                    .await
                    .is_err()
                    || socket
                        .send(frame(0, guild, Some(guild_seq), Some("GUILD_CREATE")))
                        .await
                        .is_err()
                {
                    return Err(None);
                }
                return Ok(upto);
            }
            Some(6) => {
                let d = first["d"].clone();
                let (ok, replay, upto) = {
                    let mut i = lock(s);
                    i.resumes.push(d.clone());
                    let ok = i.session.is_some()
                        && d["session_id"].as_str() == i.session.as_deref()
                        && d["token"].as_str() == Some(s.token.as_str());
                    let from = d["seq"].as_u64().unwrap_or(0);
                    let replay: Vec<_> = i.events.iter().filter(|e| e.0 > from).cloned().collect();
                    (ok, replay, i.seq)
                };
                if !ok {
                    if socket
                        .send(frame(9, json!(false), None, None))
                        .await
                        .is_err()
                    {
                        return Err(None);
                    }
                    continue;
                }
                for (seq, t, d) in replay {
                    if socket.send(frame(0, d, Some(seq), Some(&t))).await.is_err() {
                        return Err(None);
                    }
                }
                if socket
                    .send(frame(0, json!({}), None, Some("RESUMED")))
                    .await
                    .is_err()
                {
                    return Err(None);
                }
                return Ok(upto);
            }
            _ => return Err(Some((4003, "Not authenticated."))),
        }
    }
}

async fn connection(s: Arc<Shared>, mut socket: WebSocket) {
    {
        let mut i = lock(&s);
        i.connections += 1;
        i.live += 1;
        i.zombie = false;
    }
    let hello = json!({"heartbeat_interval": s.heartbeat_ms});
    if socket.send(frame(10, hello, None, None)).await.is_ok() {
        match handshake(&s, &mut socket).await {
            Ok(upto) => serve(&s, socket, upto).await,
            Err(Some((code, reason))) => close(socket, code, reason).await,
            Err(None) => {}
        }
    }
    lock(&s).live -= 1;
}

/// After the handshake: heartbeats answered, pushed dispatches delivered, scripted ops sent.
async fn serve(s: &Shared, mut socket: WebSocket, mut upto: u64) {
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    loop {
        tokio::select! {
            msg = recv_json(&mut socket) => {
                let Some(v) = msg else { return };
                if v["op"].as_u64() == Some(1) {
                    let zombie = {
                        let mut i = lock(s);
                        i.heartbeats += 1;
                        i.zombie
                    };
                    if !zombie && socket.send(frame(11, Value::Null, None, None)).await.is_err() {
                        return;
                    }
                }
            }
            _ = tick.tick() => {
                let (out, reconnect, invalid) = {
                    let mut i = lock(s);
                    if i.zombie {
                        continue;
                    }
                    let out: Vec<_> = i.events.iter().filter(|e| e.0 > upto).cloned().collect();
                    (out, std::mem::take(&mut i.reconnect), i.invalid_session.take())
                };
                for (seq, t, d) in out {
                    upto = seq;
                    if socket.send(frame(0, d, Some(seq), Some(&t))).await.is_err() {
                        return;
                    }
                }
                if reconnect && socket.send(frame(7, Value::Null, None, None)).await.is_err() {
                    return;
                }
                if let Some(r) = invalid {
                    if socket.send(frame(9, json!(r), None, None)).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}
