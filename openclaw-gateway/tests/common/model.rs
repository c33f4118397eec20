//! The in-process fake model (`openclaw_core::testing`'s loopback SSE server speaking OpenAI
//! chat completions, recording every request) and a gateway config using it, for tests of
//! what reaches the model.

use std::time::Duration;

use openclaw_core::testing::sse_server::{Reply, SseServer};
use serde_json::{Value, json};

use super::{Client, TOKEN};

/// A streamed chat completion answering `text`, with usage.
pub fn text_reply(text: &str) -> Reply {
    let chunk = |delta: Value, finish: Value| {
        format!(
            "data: {}\n\n",
            json!({"id": "chatcmpl-1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        )
    };
    Reply::sse([
        chunk(json!({"role": "assistant", "content": text}), Value::Null),
        chunk(json!({}), json!("stop")),
        format!(
            "data: {}\n\ndata: [DONE]\n\n",
            json!({"id": "chatcmpl-1", "choices": [],
                   "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
        ),
    ])
}

/// A fake model answering "pong" to every request.
pub async fn start_model() -> SseServer {
    SseServer::start(vec![text_reply("pong")])
        .await
        .expect("fake model starts")
}

/// A config with token auth, agents `main` (default) and `helper`, and provider `fake` (models
/// `m1`, the default, and `m2` with reasoning and image input) served by `model`.
pub fn config_for(model: &SseServer) -> Value {
    json!({
        "gateway": {"auth": {"mode": "token", "token": TOKEN}},
        "agents": {"defaults": {"model": {"primary": "fake/m1"}, "skipBootstrap": true},
                   "list": [{"id": "main", "default": true}, {"id": "helper"}]},
        "models": {"providers": {"fake": {"baseUrl": format!("{}/v1", model.url()),
            "apiKey": "sk-fake", "api": "openai-completions",
            "models": [{"id": "m1", "name": "Model One", "contextWindow": 128000, "maxTokens": 4096},
                       {"id": "m2", "name": "Model Two", "reasoning": true, "input": ["text", "image"],
                        "contextWindow": 64000, "maxTokens": 4096}]}}},
    })
}

/// The JSON bodies the model received.
pub fn bodies(model: &SseServer) -> Vec<Value> {
    model.requests().iter().map(|r| r.json()).collect()
}

/// Sends `chat.send` and waits for the run's terminal `chat` event; returns it.
pub async fn chat(c: &mut Client, key: &str, message: &str, extra: Value) -> Value {
    let idem = uuid_like();
    let mut params = json!({"sessionKey": key, "message": message, "idempotencyKey": idem});
    if let (Some(p), Value::Object(extra)) = (params.as_object_mut(), extra) {
        p.extend(extra);
    }
    let ack = c.request("chat.send", Some(params)).await;
    assert_eq!(ack["ok"], true, "chat.send refused: {ack}");
    if ack["payload"]["runId"] != idem.as_str() {
        // Answered at once (a slash command or a refusal): no run to wait for.
        return ack["payload"].clone();
    }
    terminal_chat(c, &idem).await
}

/// Waits for the terminal `chat` event of `run_id`.
pub async fn terminal_chat(c: &mut Client, run_id: &str) -> Value {
    let mut backlog = std::mem::take(&mut c.backlog).into_iter();
    loop {
        let f = match backlog.next() {
            Some(f) => f,
            None => c
                .next_within(Duration::from_secs(20))
                .await
                .expect("socket open"),
        };
        let state = f["payload"]["state"].as_str().unwrap_or("");
        if f["event"] == "chat"
            && f["payload"]["runId"] == run_id
            && ["final", "aborted", "error"].contains(&state)
        {
            c.backlog.extend(backlog);
            return f["payload"].clone();
        }
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "run-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
