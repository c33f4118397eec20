//! A fake Telegram Bot API on loopback, written from the Bot API documentation: `POST
//! /bot<token>/<method>` with JSON bodies, `{ok, result}` answers. It serves `getMe`,
//! `deleteWebhook`, `setMyCommands` (checking Telegram's rules: at most 100 commands, names of
//! 1–32 `a-z0-9_`, descriptions of 1–256 characters), `deleteMyCommands`, `getUpdates` (long
//! polling with `offset` confirming earlier updates and `timeout` honoured), `sendMessage`
//! (numbered message ids; `chat_id` as number or string), `editMessageText` (Telegram's "message
//! is not modified" and "message to edit not found" errors), `deleteMessage` and
//! `sendChatAction`, and records every request. It keeps each chat's messages as they now read
//! ([`FakeBotApi::visible`]). Tests push updates into it and can make the next polls stall (no
//! answer) or fail with an error code, as Telegram does with 401 and 409, and make the next
//! `setMyCommands` or edits fail.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// The bot the fake says it is.
pub const BOT_ID: i64 = 999_000;
pub const BOT_USERNAME: &str = "openclaw_test_bot";

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub body: Value,
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    updates: Vec<Value>,
    next_update_id: i64,
    next_message_id: i64,
    requests: Vec<Recorded>,
    stall_polls: usize,
    fail_polls: Vec<(u16, String)>,
    fail_sends: Vec<(u16, String, Option<u64>)>,
    fail_set_commands: Vec<(u16, String)>,
    fail_edits: Vec<(u16, String)>,
    /// Each chat's messages as they now read: (chat id, message id) → text.
    messages: std::collections::BTreeMap<(i64, i64), String>,
    active_polls: usize,
    max_active_polls: usize,
    highest_offset: i64,
    /// Files by `file_id`, served by `getFile` and `/file/bot<token>/<file_path>`.
    files: std::collections::HashMap<String, Vec<u8>>,
}

struct Shared {
    token: String,
    inner: Mutex<Inner>,
    changed: Notify,
}

/// The running fake.
pub struct FakeBotApi {
    addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeBotApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(s: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    openclaw_core::sync::lock(&s.inner)
}

impl FakeBotApi {
    /// Starts on a free loopback port, accepting `token`.
    pub async fn start(token: &str) -> std::io::Result<FakeBotApi> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        Self::serve(listener, token)
    }

    /// Starts on `port` (a restarted test reuses its fake's address).
    pub async fn start_on(port: u16, token: &str) -> std::io::Result<FakeBotApi> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        Self::serve(listener, token)
    }

    fn serve(listener: tokio::net::TcpListener, token: &str) -> std::io::Result<FakeBotApi> {
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            token: token.to_owned(),
            inner: Mutex::new(Inner {
                next_update_id: 100,
                next_message_id: 500,
                ..Inner::default()
            }),
            changed: Notify::new(),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeBotApi { addr, shared, task })
    }

    /// The `apiRoot` to configure (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Queues an update (its `update_id` is assigned); returns the id.
    pub fn push_update(&self, mut update: Value) -> i64 {
        let id = {
            let mut g = lock(&self.shared);
            let id = g.next_update_id;
            g.next_update_id += 1;
            update["update_id"] = json!(id);
            g.updates.push(update);
            id
        };
        self.shared.changed.notify_waiters();
        id
    }

    /// A press of an inline button under message `message_id` of chat `chat_id` by user
    /// `from`, with the button's `data`.
    pub fn push_callback(&self, from: i64, chat_id: i64, message_id: i64, data: &str) -> i64 {
        self.push_update(json!({"callback_query": {
            "id": format!("cb-{from}-{message_id}"),
            "from": {"id": from, "is_bot": false, "first_name": "Presser"},
            "chat_instance": "ci",
            "message": {"message_id": message_id, "date": 1_765_000_000,
                        "chat": {"id": chat_id, "type": "private"}, "text": "prompt"},
            "data": data}}))
    }

    /// Registers a file the bot may download (`getFile`, then `/file/bot<token>/…`).
    pub fn add_file(&self, file_id: &str, bytes: Vec<u8>) {
        lock(&self.shared).files.insert(file_id.to_owned(), bytes);
    }

    /// A private photo message from user `from`: two sizes (the larger one is `file_id`,
    /// registered with `bytes`), with `caption`.
    pub fn push_photo_dm(
        &self,
        from: i64,
        first_name: &str,
        caption: &str,
        file_id: &str,
        bytes: Vec<u8>,
    ) -> i64 {
        let size = bytes.len();
        self.add_file(file_id, bytes);
        let message_id = self.next_message_id();
        self.push_update(json!({"message": {
            "message_id": message_id, "date": 1_765_000_000,
            "from": {"id": from, "is_bot": false, "first_name": first_name},
            "chat": {"id": from, "type": "private", "first_name": first_name},
            "caption": caption,
            "photo": [{"file_id": format!("{file_id}-small"), "file_unique_id": "s", "width": 90, "height": 90, "file_size": 10},
                      {"file_id": file_id, "file_unique_id": "l", "width": 800, "height": 800, "file_size": size}]}}))
    }

    /// A private text message from user `from` (the chat id is the user id).
    pub fn push_dm(&self, from: i64, first_name: &str, text: &str) -> i64 {
        let message_id = self.next_message_id();
        self.push_update(json!({"message": {
            "message_id": message_id, "date": 1_765_000_000,
            "from": {"id": from, "is_bot": false, "first_name": first_name,
                     "username": first_name.to_lowercase()},
            "chat": {"id": from, "type": "private", "first_name": first_name},
            "text": text}}))
    }

    /// A group text message, mentioning the bot by name when `mention`.
    pub fn push_group(&self, chat: i64, from: i64, text: &str, mention: bool) -> i64 {
        let message_id = self.next_message_id();
        let text = if mention {
            format!("@{BOT_USERNAME} {text}")
        } else {
            text.to_owned()
        };
        self.push_update(json!({"message": {
            "message_id": message_id, "date": 1_765_000_000,
            "from": {"id": from, "is_bot": false, "first_name": "G"},
            "chat": {"id": chat, "type": "supergroup", "title": "Group"},
            "text": text}}))
    }

    fn next_message_id(&self) -> i64 {
        let mut g = lock(&self.shared);
        g.next_message_id += 1;
        g.next_message_id
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared).requests.clone()
    }

    /// The bodies of the requests for `method`.
    pub fn bodies(&self, method: &str) -> Vec<Value> {
        lock(&self.shared)
            .requests
            .iter()
            .filter(|r| r.method == method)
            .map(|r| r.body.clone())
            .collect()
    }

    /// Waits until `method` was called at least `n` times (or `timeout`); returns the bodies.
    pub async fn wait_for(&self, method: &str, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let b = self.bodies(method);
            if b.len() >= n || Instant::now() >= deadline {
                return b;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The next `n` `getUpdates` get no answer (the request hangs until the client gives up).
    pub fn stall_next_polls(&self, n: usize) {
        lock(&self.shared).stall_polls = n;
        self.shared.changed.notify_waiters();
    }

    /// The next polls fail with `code` / `description` (one per entry).
    pub fn fail_next_polls(&self, errors: &[(u16, &str)]) {
        lock(&self.shared).fail_polls = errors.iter().map(|(c, d)| (*c, (*d).to_owned())).collect();
        self.shared.changed.notify_waiters();
    }

    /// The next `sendMessage`s fail with `code` (and `retry_after` seconds), one per entry.
    pub fn fail_next_sends(&self, errors: &[(u16, &str, Option<u64>)]) {
        lock(&self.shared).fail_sends = errors
            .iter()
            .map(|(c, d, r)| (*c, (*d).to_owned(), *r))
            .collect();
    }

    /// The next `setMyCommands` calls fail with `code` / `description`, one per entry.
    pub fn fail_next_set_commands(&self, errors: &[(u16, &str)]) {
        lock(&self.shared).fail_set_commands =
            errors.iter().map(|(c, d)| (*c, (*d).to_owned())).collect();
    }

    /// The next `editMessageText` calls fail with `code` / `description`, one per entry.
    pub fn fail_next_edits(&self, errors: &[(u16, &str)]) {
        lock(&self.shared).fail_edits = errors.iter().map(|(c, d)| (*c, (*d).to_owned())).collect();
    }

    /// The texts of the bot's messages in `chat_id` as a user now sees them (edits applied,
    /// deleted ones gone), oldest first.
    pub fn visible(&self, chat_id: i64) -> Vec<String> {
        self.visible_with_ids(chat_id)
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    /// [`FakeBotApi::visible`] with each message's id.
    pub fn visible_with_ids(&self, chat_id: i64) -> Vec<(i64, String)> {
        lock(&self.shared)
            .messages
            .iter()
            .filter(|((c, _), _)| *c == chat_id)
            .map(|((_, id), t)| (*id, t.clone()))
            .collect()
    }

    /// Message `message_id` of `chat_id` disappears, as when the user deletes it; whether it
    /// was there.
    pub fn remove_message(&self, chat_id: i64, message_id: i64) -> bool {
        lock(&self.shared)
            .messages
            .remove(&(chat_id, message_id))
            .is_some()
    }

    /// The most `getUpdates` answered concurrently (stalled ones excluded): more than one
    /// means two pollers for one bot.
    pub fn max_concurrent_polls(&self) -> usize {
        lock(&self.shared).max_active_polls
    }

    /// The highest `offset` a poll sent (everything below it is acknowledged).
    pub fn acknowledged_offset(&self) -> i64 {
        lock(&self.shared).highest_offset
    }
}

fn ok(result: Value) -> Response {
    axum::Json(json!({"ok": true, "result": result})).into_response()
}

fn err(code: u16, description: &str, retry_after: Option<u64>) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(r) = retry_after {
        body["parameters"] = json!({"retry_after": r});
    }
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(body)).into_response()
}

struct PollGuard(Arc<Shared>);

impl Drop for PollGuard {
    fn drop(&mut self) {
        let mut g = lock(&self.0);
        g.active_polls = g.active_polls.saturating_sub(1);
    }
}

async fn handle(
    State(s): State<Arc<Shared>>,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().trim_start_matches('/');
    if let Some(rest) = path.strip_prefix("file/") {
        return file(&s, rest);
    }
    let multipart = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let Some((bot, method)) = path.split_once('/') else {
        return err(404, "Not Found", None);
    };
    if bot.strip_prefix("bot") != Some(s.token.as_str()) {
        return err(401, "Unauthorized", None);
    }
    let body: Value = if multipart {
        // An upload: recorded by its size and the form's text fields it names.
        let text = String::from_utf8_lossy(&body);
        let field = |name: &str| {
            text.split(&format!("name=\"{name}\"\r\n\r\n"))
                .nth(1)
                .and_then(|r| r.split("\r\n").next())
                .map(str::to_owned)
        };
        json!({"multipart": true, "bytes": body.len(), "chat_id": field("chat_id"),
               "caption": field("caption")})
    } else {
        serde_json::from_slice(&body).unwrap_or(json!({}))
    };
    lock(&s).requests.push(Recorded {
        method: method.to_owned(),
        body: body.clone(),
        at: Instant::now(),
    });
    match method {
        "getMe" => ok(
            json!({"id": BOT_ID, "is_bot": true, "first_name": "OpenClaw Test",
                             "username": BOT_USERNAME, "can_join_groups": true}),
        ),
        "setMyCommands" => set_my_commands(&s, &body),
        "editMessageText" => edit_message(&s, &body),
        "deleteMessage" => delete_message(&s, &body),
        "deleteWebhook"
        | "setWebhook"
        | "deleteMyCommands"
        | "sendChatAction"
        | "answerCallbackQuery"
        | "editMessageReplyMarkup" => ok(json!(true)),
        "getUpdates" => get_updates(s, body).await,
        "sendMessage" => send_message(&s, &body),
        "sendPhoto" => send_photo(&s, &body),
        "getFile" => {
            let id = body["file_id"].as_str().unwrap_or("");
            match lock(&s).files.get(id) {
                Some(b) => ok(
                    json!({"file_id": id, "file_unique_id": id, "file_size": b.len(),
                                    "file_path": format!("photos/{id}.jpg")}),
                ),
                None => err(400, "Bad Request: invalid file_id", None),
            }
        }
        _ => err(404, "Not Found: method not found", None),
    }
}

async fn get_updates(s: Arc<Shared>, body: Value) -> Response {
    let offset = body["offset"].as_i64();
    let timeout = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0).min(60));
    enum Start {
        Stall,
        Fail(u16, String),
        Poll,
    }
    let start = {
        let mut g = lock(&s);
        if let Some(o) = offset {
            g.updates
                .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= o);
            g.highest_offset = g.highest_offset.max(o);
        }
        if g.stall_polls > 0 {
            g.stall_polls -= 1;
            Start::Stall
        } else if !g.fail_polls.is_empty() {
            let (code, d) = g.fail_polls.remove(0);
            Start::Fail(code, d)
        } else {
            g.active_polls += 1;
            g.max_active_polls = g.max_active_polls.max(g.active_polls);
            Start::Poll
        }
    };
    match start {
        Start::Stall => {
            // No answer for far longer than any client waits.
            tokio::time::sleep(Duration::from_secs(120)).await;
            return ok(json!([]));
        }
        Start::Fail(code, d) => return err(code, &d, None),
        Start::Poll => {}
    }
    let _guard = PollGuard(s.clone());
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let changed = s.changed.notified();
        {
            let g = lock(&s);
            if !g.updates.is_empty() || g.stall_polls > 0 || !g.fail_polls.is_empty() {
                let batch: Vec<Value> = g.updates.iter().take(100).cloned().collect();
                return ok(Value::Array(batch));
            }
        }
        if tokio::time::timeout_at(deadline, changed).await.is_err() {
            return ok(json!([]));
        }
    }
}

fn file(s: &Shared, rest: &str) -> Response {
    let Some((bot, path)) = rest.split_once('/') else {
        return err(404, "Not Found", None);
    };
    if bot.strip_prefix("bot") != Some(s.token.as_str()) {
        return err(401, "Unauthorized", None);
    }
    let id = path
        .strip_prefix("photos/")
        .and_then(|p| p.strip_suffix(".jpg"))
        .unwrap_or("");
    match lock(s).files.get(id) {
        Some(b) => (StatusCode::OK, b.clone()).into_response(),
        None => err(404, "Not Found", None),
    }
}

fn send_photo(s: &Shared, body: &Value) -> Response {
    let mut g = lock(s);
    let chat_id = match &body["chat_id"] {
        Value::Number(n) => n.as_i64(),
        Value::String(t) => t.parse().ok(),
        _ => None,
    };
    let Some(chat_id) = chat_id else {
        return err(400, "Bad Request: chat_id is required", None);
    };
    if body["photo"].is_null() && body["multipart"] != true {
        return err(400, "Bad Request: there is no photo in the request", None);
    }
    g.next_message_id += 1;
    ok(
        json!({"message_id": g.next_message_id, "date": 1_765_000_000,
              "chat": {"id": chat_id, "type": if chat_id > 0 {"private"} else {"supergroup"}},
              "photo": [{"file_id": "sent", "file_unique_id": "sent", "width": 1, "height": 1}],
              "caption": body["caption"]}),
    )
}

fn send_message(s: &Shared, body: &Value) -> Response {
    let mut g = lock(s);
    if !g.fail_sends.is_empty() {
        let (code, d, retry) = g.fail_sends.remove(0);
        return err(code, &d, retry);
    }
    let chat_id = match &body["chat_id"] {
        Value::Number(n) => n.as_i64(),
        Value::String(t) => t.parse().ok(),
        _ => None,
    };
    let (Some(chat_id), Some(text)) = (chat_id, body["text"].as_str()) else {
        return err(400, "Bad Request: chat_id and text are required", None);
    };
    g.next_message_id += 1;
    let id = g.next_message_id;
    g.messages.insert((chat_id, id), text.to_owned());
    ok(json!({"message_id": id, "date": 1_765_000_000,
              "chat": {"id": chat_id, "type": if chat_id > 0 {"private"} else {"supergroup"}},
              "text": text}))
}

fn chat_of(body: &Value) -> Option<i64> {
    match &body["chat_id"] {
        Value::Number(n) => n.as_i64(),
        Value::String(t) => t.parse().ok(),
        _ => None,
    }
}

fn edit_message(s: &Shared, body: &Value) -> Response {
    let mut g = lock(s);
    if !g.fail_edits.is_empty() {
        let (code, d) = g.fail_edits.remove(0);
        return err(code, &d, None);
    }
    let (Some(chat_id), Some(id), Some(text)) = (
        chat_of(body),
        body["message_id"].as_i64(),
        body["text"].as_str(),
    ) else {
        return err(
            400,
            "Bad Request: chat_id, message_id and text are required",
            None,
        );
    };
    match g.messages.get_mut(&(chat_id, id)) {
        None => err(400, "Bad Request: message to edit not found", None),
        Some(t) if t == text => err(
            400,
            "Bad Request: message is not modified: specified new message content and reply \
             markup are exactly the same as a current content and reply markup of the message",
            None,
        ),
        Some(t) => {
            *t = text.to_owned();
            ok(
                json!({"message_id": id, "date": 1_765_000_000, "edit_date": 1_765_000_001,
                      "chat": {"id": chat_id, "type": if chat_id > 0 {"private"} else {"supergroup"}},
                      "text": text}),
            )
        }
    }
}

fn delete_message(s: &Shared, body: &Value) -> Response {
    let (Some(chat_id), Some(id)) = (chat_of(body), body["message_id"].as_i64()) else {
        return err(
            400,
            "Bad Request: chat_id and message_id are required",
            None,
        );
    };
    match lock(s).messages.remove(&(chat_id, id)) {
        Some(_) => ok(json!(true)),
        None => err(400, "Bad Request: message to delete not found", None),
    }
}

/// Telegram's rules for `setMyCommands`.
fn set_my_commands(s: &Shared, body: &Value) -> Response {
    {
        let mut g = lock(s);
        if !g.fail_set_commands.is_empty() {
            let (code, d) = g.fail_set_commands.remove(0);
            return err(code, &d, None);
        }
    }
    let Some(list) = body["commands"].as_array() else {
        return err(400, "Bad Request: commands are required", None);
    };
    if list.len() > 100 {
        return err(400, "Bad Request: BOT_COMMANDS_TOO_MUCH", None);
    }
    for c in list {
        let name = c["command"].as_str().unwrap_or("");
        let valid = (1..=32).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return err(400, "Bad Request: BOT_COMMAND_INVALID", None);
        }
        let d = c["description"].as_str().unwrap_or("").chars().count();
        if !(1..=256).contains(&d) {
            return err(400, "Bad Request: command description is invalid", None);
        }
    }
    ok(json!(true))
}
