//! Set-up shared by the Telegram channel tests: the gateway's config for a fake model and the
//! fake Bot API, and waiting for a condition the fake records.

use std::time::{Duration, Instant};

use openclaw_core::testing::sse_server::SseServer;
use serde_json::{Value, json};

use super::TOKEN;

/// Agent `main` on the fake model `fake/m1` at `model`, per-channel-peer DM sessions, and one
/// Telegram account with `bot_token` polling `api_root` every second; `telegram`'s keys are
/// added to (or replace) the account's.
pub fn config(model: &SseServer, api_root: &str, bot_token: &str, telegram: Value) -> Value {
    let mut tg = json!({"botToken": bot_token, "apiRoot": api_root, "pollTimeoutSeconds": 1});
    if let (Some(tg), Some(extra)) = (tg.as_object_mut(), telegram.as_object()) {
        for (k, v) in extra {
            tg.insert(k.clone(), v.clone());
        }
    }
    json!({
        "gateway": {"auth": {"mode": "token", "token": TOKEN}},
        "agents": {"defaults": {"model": {"primary": "fake/m1"}, "skipBootstrap": true},
                   "list": [{"id": "main", "default": true}]},
        "models": {"providers": {"fake": {"baseUrl": format!("{}/v1", model.url()),
            "apiKey": "sk-fake", "api": "openai-completions",
            "models": [{"id": "m1", "name": "Model One", "contextWindow": 128000, "maxTokens": 4096}]}}},
        "session": {"dmScope": "per-channel-peer"},
        "channels": {"telegram": tg},
    })
}

/// Polls `f` every 25 ms until it holds; fails the test naming `what` after `timeout`.
pub async fn until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
