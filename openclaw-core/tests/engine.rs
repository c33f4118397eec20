//! The engine end to end over a loopback SSE server speaking OpenAI chat completions: event
//! order of a run, lazy session persistence, steering delivered after the prompt, auto-retry,
//! thinking-level clamping, the user's shell commands and HTML export.

#![cfg(feature = "tokio")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use openclaw_core::engine::{Engine, EngineConfig, PromptInput, SessionTarget};
use openclaw_core::event::AgentEvent;
use openclaw_core::model::ThinkingLevel;
use openclaw_core::testing::sse_server::{Reply, SseServer};

fn text_reply(text: &str) -> Reply {
    let chunk = |delta: serde_json::Value, finish: serde_json::Value| {
        format!(
            "data: {}\n\n",
            serde_json::json!({"id": "chatcmpl-1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
        )
    };
    Reply::sse([
        chunk(
            serde_json::json!({"role": "assistant", "content": text}),
            serde_json::Value::Null,
        ),
        chunk(serde_json::json!({}), serde_json::json!("stop")),
        format!(
            "data: {}\n\ndata: [DONE]\n\n",
            serde_json::json!({"id": "chatcmpl-1", "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
        ),
    ])
}

struct Setup {
    _state: tempfile::TempDir,
    cwd: tempfile::TempDir,
    engine: Engine,
    events: Arc<Mutex<Vec<AgentEvent>>>,
    _sub: openclaw_core::engine::Subscription,
}

async fn setup(server: &SseServer, session: Option<SessionTarget>, settings: &str) -> Setup {
    let state = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(
        state.path().join("openclaw.json"),
        format!(
            r#"{{models: {{providers: {{test: {{baseUrl: "{}/v1", api: "openai-completions", apiKey: "k",
                models: [{{id: "m1", contextWindow: 128000, maxTokens: 4096}}, {{id: "r1", reasoning: true}}]}}}}}}}}"#,
            server.url()
        ),
    )
    .unwrap();
    std::fs::write(state.path().join("settings.json"), settings).unwrap();
    let mut config = EngineConfig::new(cwd.path());
    config.state_dir = state.path().to_path_buf();
    config.provider = Some("test".into());
    config.model = Some("m1".into());
    config.session = session;
    let (engine, warnings) = Engine::start(config).await.unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let sub = engine.subscribe(move |e| sink.lock().unwrap().push(e.clone()));
    Setup {
        _state: state,
        cwd,
        engine,
        events,
        _sub: sub,
    }
}

fn kinds(events: &[AgentEvent]) -> Vec<String> {
    events
        .iter()
        .filter(|e| !matches!(e, AgentEvent::MessageUpdate { .. }))
        .map(|e| {
            let v = serde_json::to_value(e).unwrap();
            let t = v["type"].as_str().unwrap().to_string();
            match v["message"]["role"].as_str() {
                Some(role) if t.starts_with("message_") => format!("{t}:{role}"),
                _ => t,
            }
        })
        .collect()
}

async fn run(engine: &Engine, text: &str) {
    drop(engine.prompt(PromptInput::text(text)).await.unwrap());
    tokio::time::timeout(Duration::from_secs(10), engine.wait_until_idle())
        .await
        .expect("run finished");
}

#[tokio::test]
async fn a_run_follows_pi_event_order_and_persists_lazily() {
    let server = SseServer::start(vec![text_reply("hi!")]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = setup(&server, Some(SessionTarget::NewIn(dir.path().into())), "{}").await;
    let file = s.engine.state().session_file.unwrap();
    assert!(!file.exists(), "written before the first reply");
    run(&s.engine, "hello").await;
    assert_eq!(
        kinds(&s.events.lock().unwrap()),
        [
            "agent_start",
            "turn_start",
            "message_start:user",
            "message_end:user",
            "message_start:assistant",
            "message_end:assistant",
            "turn_end",
            "agent_end"
        ]
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let types: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        types,
        [
            "session",
            "model_change",
            "thinking_level_change",
            "message",
            "message"
        ]
    );
    assert_eq!(s.engine.last_assistant_text().as_deref(), Some("hi!"));
    let stats = s.engine.session_stats();
    assert_eq!((stats.user_messages, stats.assistant_messages), (1, 1));
}

#[tokio::test]
async fn idle_steering_is_delivered_right_after_the_prompt() {
    let server = SseServer::start(vec![text_reply("ok")]).await.unwrap();
    let s = setup(&server, Some(SessionTarget::InMemory), "{}").await;
    s.engine.steer(PromptInput::text("steer me")).unwrap();
    assert_eq!(s.engine.state().pending_message_count, 1);
    run(&s.engine, "prompt").await;
    let k = kinds(&s.events.lock().unwrap());
    assert_eq!(
        &k[..8],
        [
            "queue_update",
            "agent_start",
            "turn_start",
            "message_start:user",
            "message_end:user",
            "queue_update",
            "message_start:user",
            "message_end:user"
        ]
    );
    assert_eq!(s.engine.state().pending_message_count, 0);
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn retryable_errors_are_retried_with_backoff() {
    let server = SseServer::start(vec![
        Reply::json(529, r#"{"error":{"message":"overloaded"}}"#),
        text_reply("recovered"),
    ])
    .await
    .unwrap();
    let s = setup(
        &server,
        Some(SessionTarget::InMemory),
        r#"{"retry":{"maxRetries":2,"baseDelayMs":5}}"#,
    )
    .await;
    run(&s.engine, "go").await;
    let events = s.events.lock().unwrap();
    let retry: Vec<&AgentEvent> = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                AgentEvent::AutoRetryStart { .. } | AgentEvent::AutoRetryEnd { .. }
            )
        })
        .collect();
    assert!(matches!(
        retry[0],
        AgentEvent::AutoRetryStart {
            attempt: 1,
            delay_ms: 5,
            ..
        }
    ));
    assert!(matches!(
        retry[1],
        AgentEvent::AutoRetryEnd {
            success: true,
            attempt: 1,
            ..
        }
    ));
    // The failed reply left the context.
    assert_eq!(s.engine.messages().len(), 2);
    assert_eq!(s.engine.last_assistant_text().as_deref(), Some("recovered"));
}

#[tokio::test]
async fn thinking_levels_clamp_to_the_model() {
    let server = SseServer::start(vec![text_reply("x")]).await.unwrap();
    let s = setup(&server, Some(SessionTarget::InMemory), "{}").await;
    s.engine.set_thinking_level(ThinkingLevel::High);
    assert_eq!(s.engine.state().thinking_level, ThinkingLevel::Off);
    assert_eq!(s.engine.cycle_thinking_level(), None);
    s.engine.set_model("test", "r1").unwrap();
    assert_eq!(s.engine.state().thinking_level, ThinkingLevel::Medium);
    assert_eq!(s.engine.cycle_thinking_level(), Some(ThinkingLevel::High));
    assert!(s.engine.set_model("test", "nope").is_err());
    let changes: Vec<_> = s
        .events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            AgentEvent::ThinkingLevelChanged { level } => Some(*level),
            _ => None,
        })
        .collect();
    assert_eq!(changes, [ThinkingLevel::Medium, ThinkingLevel::High]);
}

#[tokio::test]
async fn shell_commands_are_recorded_and_exported() {
    let server = SseServer::start(vec![text_reply("x")]).await.unwrap();
    let s = setup(&server, Some(SessionTarget::InMemory), "{}").await;
    let r = s.engine.bash("echo '<hi>'; exit 7").await.unwrap();
    assert_eq!((r.output.as_str(), r.exit_code), ("<hi>\n", Some(7)));
    assert_eq!(s.engine.messages().len(), 1);
    let path = s.engine.export_html(Some("out/t.html".as_ref())).unwrap();
    assert_eq!(path, s.cwd.path().join("out/t.html"));
    let html = std::fs::read_to_string(path).unwrap();
    assert!(html.contains("&lt;hi&gt;"));
}

#[tokio::test]
async fn fork_clone_and_switch_sessions() {
    let server = SseServer::start(vec![text_reply("ok")]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = setup(&server, Some(SessionTarget::NewIn(dir.path().into())), "{}").await;
    run(&s.engine, "first").await;
    run(&s.engine, "second").await;
    let original = s.engine.state().session_file.unwrap();
    let points = s.engine.fork_points();
    assert_eq!(
        points.iter().map(|p| p.text.as_str()).collect::<Vec<_>>(),
        ["first", "second"]
    );

    let forked = s.engine.fork(&points[1].entry_id).await.unwrap();
    assert_eq!(forked.text, "second");
    assert_eq!(
        s.engine.messages().len(),
        2,
        "history before the forked message"
    );
    let fork_file = s.engine.state().session_file.unwrap();
    assert_ne!(fork_file, original);
    assert!(s.engine.fork("nope").await.is_err());

    s.engine.clone_session().await.unwrap();
    assert_ne!(s.engine.state().session_file.unwrap(), fork_file);
    assert_eq!(s.engine.messages().len(), 2);

    s.engine.switch_session(original.clone()).await.unwrap();
    assert_eq!(
        s.engine.state().session_file.as_deref(),
        Some(original.as_path())
    );
    assert_eq!(s.engine.messages().len(), 4);
    assert!(!s.engine.new_session(None).await.unwrap());
    assert_eq!(s.engine.messages().len(), 0);
    assert_ne!(s.engine.state().session_file.unwrap(), original);
}

/// In-place branching (`/tree`): the leaf moves before a user message, the next prompt starts a
/// sibling branch in the same file, and the abandoned branch stays in the file.
#[tokio::test]
async fn branching_in_place_keeps_one_file_with_both_branches() {
    let server = SseServer::start(vec![text_reply("ok")]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = setup(&server, Some(SessionTarget::NewIn(dir.path().into())), "{}").await;
    run(&s.engine, "first").await;
    run(&s.engine, "second").await;
    let file = s.engine.state().session_file.unwrap();
    let points = s.engine.fork_points();
    assert_eq!(
        s.engine.branch(&points[1].entry_id).await.unwrap(),
        "second"
    );
    assert_eq!(
        s.engine.messages().len(),
        2,
        "context back before \"second\""
    );
    assert!(s.engine.branch("nope").await.is_err());
    run(&s.engine, "another second").await;
    assert_eq!(s.engine.state().session_file.unwrap(), file, "same file");
    let texts: Vec<String> = s
        .engine
        .messages()
        .iter()
        .filter_map(|m| match &**m {
            openclaw_core::message::Message::User(u) => Some(u.content.text()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["first", "another second"]);
    let lines = std::fs::read_to_string(&file).unwrap();
    assert!(
        lines.contains("\"second\"") && lines.contains("another second"),
        "{lines}"
    );
    // The new user message is a sibling of the abandoned one: same parent entry.
    let parent_of = |needle: &str| -> String {
        lines
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|v| v["message"]["content"][0]["text"] == needle)
            .map(|v| v["parentId"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(parent_of("second"), parent_of("another second"));
}

/// `agents.defaults.model {primary, fallbacks}`: a primary that keeps failing with a retryable
/// error is retried, then the run moves to the fallback — announced and recorded, not silent.
#[tokio::test]
async fn failover_moves_to_the_configured_fallback_visibly() {
    let failing = SseServer::start(vec![Reply::json(
        503,
        r#"{"error":{"message":"upstream overloaded"}}"#,
    )])
    .await
    .unwrap();
    let healthy = SseServer::start(vec![text_reply("from the fallback")])
        .await
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let sessions = tempfile::tempdir().unwrap();
    std::fs::write(
        state.path().join("openclaw.json"),
        format!(
            r#"{{models: {{providers: {{
                 a: {{baseUrl: "{}/v1", api: "openai-completions", apiKey: "k", models: [{{id: "m1"}}]}},
                 b: {{baseUrl: "{}/v1", api: "openai-completions", apiKey: "k", models: [{{id: "m2"}}]}}}}}},
               agents: {{defaults: {{model: {{primary: "a/m1", fallbacks: ["b/m2"]}}}}}}}}"#,
            failing.url(),
            healthy.url()
        ),
    )
    .unwrap();
    std::fs::write(
        state.path().join("settings.json"),
        r#"{"retry":{"enabled":true,"maxRetries":1,"baseDelayMs":10}}"#,
    )
    .unwrap();
    let mut config = EngineConfig::new(cwd.path());
    config.state_dir = state.path().to_path_buf();
    config.session = Some(SessionTarget::NewIn(sessions.path().into()));
    let (engine, warnings) = Engine::start(config).await.unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(
        engine.state().model.map(|m| m.key()).as_deref(),
        Some("a/m1")
    );
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let _sub = engine.subscribe(move |e| sink.lock().unwrap().push(e.clone()));

    run(&engine, "hello").await;

    // The primary was tried twice (the first attempt and one auto-retry), then the fallback.
    assert_eq!(failing.request_count(), 2);
    assert_eq!(healthy.request_count(), 1);
    let events = events.lock().unwrap();
    let fallback = events
        .iter()
        .find_map(|e| match e {
            AgentEvent::ModelFallback {
                from_model,
                to_model,
                error_message,
                ..
            } => Some((from_model.clone(), to_model.clone(), error_message.clone())),
            _ => None,
        })
        .expect("a model_fallback event");
    assert_eq!((fallback.0.as_str(), fallback.1.as_str()), ("m1", "m2"));
    assert!(fallback.2.contains("503"), "{}", fallback.2);
    assert_eq!(
        engine.last_assistant_text().as_deref(),
        Some("from the fallback")
    );
    assert_eq!(
        engine.state().model.map(|m| m.key()).as_deref(),
        Some("b/m2")
    );
    // The context holds the user prompt and the fallback's reply, not the failed attempts.
    let roles: Vec<&str> = engine.messages().iter().map(|m| m.role()).collect();
    assert_eq!(roles, ["user", "assistant"]);
    // The session file records the switch.
    let file = engine.state().session_file.unwrap();
    let text = std::fs::read_to_string(file).unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains(r#""type":"model_change""#) && l.contains(r#""modelId":"m2""#)),
        "{text}"
    );
}

#[tokio::test]
async fn engines_reusing_the_config_share_it_until_the_file_changes() {
    let state = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let write = |models: &str| {
        std::fs::write(
            state.path().join("openclaw.json"),
            format!(
                r#"{{models: {{providers: {{test: {{baseUrl: "http://127.0.0.1:9/v1", api: "openai-completions", apiKey: "k",
                    models: [{models}]}}}}}}}}"#
            ),
        )
        .unwrap();
    };
    let start = || {
        let mut config = EngineConfig::new(cwd.path());
        config.state_dir = state.path().to_path_buf();
        config.provider = Some("test".into());
        config.session = Some(SessionTarget::InMemory);
        config.reuse_config = true;
        Engine::start(config)
    };
    write(r#"{id: "m1"}"#);
    let (a, _) = start().await.unwrap();
    let (b, _) = start().await.unwrap();
    assert!(std::ptr::eq(a.registry(), b.registry()));
    assert_eq!(b.agent().model().id, "m1");
    write(r#"{id: "model-two"}"#);
    let (c, _) = start().await.unwrap();
    assert!(!std::ptr::eq(a.registry(), c.registry()));
    assert_eq!(c.agent().model().id, "model-two");
}
