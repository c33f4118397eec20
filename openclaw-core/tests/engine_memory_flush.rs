//! The pre-compaction memory flush over a loopback model server: near the compaction
//! threshold a silent turn on a private copy of the conversation lets the model write today's
//! note with the real `write` tool; the flush's messages reach neither the session nor the
//! engine's listeners, and it runs once per compaction cycle.

#![cfg(feature = "tokio")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openclaw_core::engine::{Engine, EngineConfig, MemoryFlush, PromptInput};
use openclaw_core::event::AgentEvent;
use openclaw_core::testing::sse_server::{Reply, SseServer};
use serde_json::{Value, json};

/// A reply reporting `prompt` input tokens and 1,000 output tokens.
fn sse(delta: Value, finish: &str, prompt: u64) -> Reply {
    let chunk = |delta: Value, finish: Value| {
        format!(
            "data: {}\n\n",
            json!({"id": "c1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        )
    };
    Reply::sse([
        chunk(delta, Value::Null),
        chunk(json!({}), json!(finish)),
        format!(
            "data: {}\n\ndata: [DONE]\n\n",
            json!({"id": "c1", "choices": [], "usage": {"prompt_tokens": prompt, "completion_tokens": 1000, "total_tokens": prompt + 1000}})
        ),
    ])
}

fn last_text(body: &Value) -> (String, String) {
    let last = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned()
        .unwrap_or_default();
    let role = last["role"].as_str().unwrap_or_default().to_owned();
    let text = match &last["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        _ => String::new(),
    };
    (role, text)
}

#[tokio::test]
async fn the_flush_writes_todays_note_silently_once_per_cycle() {
    let flushes = Arc::new(AtomicUsize::new(0));
    let seen = flushes.clone();
    let server = SseServer::start_fn(move |req| {
        let body = req.json();
        let (role, text) = last_text(&body);
        let prompt = body["messages"].to_string().len() as u64 / 4;
        if role == "tool" {
            return sse(json!({"role": "assistant", "content": "NO_REPLY"}), "stop", prompt);
        }
        if text.starts_with("FLUSH NOW") {
            let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
            let args = json!({"path": "memory/today.md", "content": format!("flush {n}: the user likes kayaks\n")});
            return sse(
                json!({"role": "assistant", "tool_calls": [{"index": 0, "id": format!("call_{n}"), "type": "function",
                    "function": {"name": "write", "arguments": args.to_string()}}]}),
                "tool_calls",
                prompt,
            );
        }
        // Every other answer is long, so the context grows by ~1,000 tokens a turn.
        sse(json!({"role": "assistant", "content": "word ".repeat(800)}), "stop", prompt)
    })
    .await
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(
        state.path().join("openclaw.json"),
        format!(
            r#"{{models: {{providers: {{test: {{baseUrl: "{}/v1", api: "openai-completions", apiKey: "k",
                models: [{{id: "m1", contextWindow: 4000, maxTokens: 512}}]}}}}}}}}"#,
            server.url()
        ),
    )
    .unwrap();
    std::fs::write(
        state.path().join("settings.json"),
        r#"{"compaction": {"enabled": true, "reserveTokens": 1000, "keepRecentTokens": 200}}"#,
    )
    .unwrap();
    let mut config = EngineConfig::new(cwd.path());
    config.state_dir = state.path().to_path_buf();
    config.provider = Some("test".into());
    config.model = Some("m1".into());
    config.memory_flush = Some(MemoryFlush {
        prompt: Arc::new(|| {
            (
                "FLUSH NOW: store durable memories in memory/today.md".into(),
                "Flush turn.".into(),
            )
        }),
        soft_threshold_tokens: 1500,
    });
    let (engine, _) = Engine::start(config).await.unwrap();
    let events = Arc::new(Mutex::new(Vec::<AgentEvent>::new()));
    let sink = events.clone();
    let _sub = engine.subscribe(move |e| sink.lock().unwrap().push(e.clone()));
    let run = |text: &'static str| {
        let engine = engine.clone();
        async move {
            drop(engine.prompt(PromptInput::text(text)).await.unwrap());
            tokio::time::timeout(Duration::from_secs(20), engine.wait_until_idle())
                .await
                .expect("run finished");
        }
    };
    let note = cwd.path().join("memory/today.md");

    run("first").await;
    assert_eq!(
        flushes.load(Ordering::SeqCst),
        0,
        "not near the threshold yet"
    );
    run("second").await;
    assert_eq!(
        flushes.load(Ordering::SeqCst),
        1,
        "near the threshold: one flush"
    );
    assert_eq!(
        std::fs::read_to_string(&note).unwrap(),
        "flush 1: the user likes kayaks\n"
    );
    run("third").await;
    assert_eq!(
        flushes.load(Ordering::SeqCst),
        1,
        "once per compaction cycle"
    );
    let compactions = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| {
            matches!(
                e,
                AgentEvent::CompactionEnd {
                    result: Some(_),
                    ..
                }
            )
        })
        .count();
    assert_eq!(
        compactions, 1,
        "the third turn crossed the threshold and compacted"
    );
    run("fourth").await;
    run("fifth").await;
    let compactions = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| {
            matches!(
                e,
                AgentEvent::CompactionEnd {
                    result: Some(_),
                    ..
                }
            )
        })
        .count();
    let n = flushes.load(Ordering::SeqCst);
    assert!(n >= 2, "a new cycle flushes again");
    assert!(
        n <= compactions + 1,
        "{n} flushes for {compactions} compactions"
    );

    // Nothing of the flush turns reached the listeners or the session.
    let leaked = serde_json::to_string(&*events.lock().unwrap()).unwrap();
    assert!(!leaked.contains("FLUSH NOW") && !leaked.contains("the user likes kayaks"));
    let session = serde_json::to_string(&engine.messages()).unwrap();
    assert!(!session.contains("FLUSH NOW"), "{session}");
    let file = engine.state().session_file.unwrap();
    let on_disk = std::fs::read_to_string(file).unwrap();
    assert!(!on_disk.contains("FLUSH NOW") && !on_disk.contains("call_1"));
}
