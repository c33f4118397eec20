//! Routing over real loopback servers: 429 then success (retry with backoff), a failing
//! primary moving to the fallback, per-agent overrides and aliases.

#![cfg(feature = "tokio")]

mod providers_common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use openclaw_core::config::OpenClawConfig;
use openclaw_core::event::AgentEvent;
use openclaw_core::message::StopReason;
use openclaw_core::provider::routing::{ModelChain, RetryPolicy, RoutedEvent, Router};
use openclaw_core::provider::{MessageBuilder, ModelRegistry, StreamEvent};
use openclaw_core::testing::sse_server::{Reply, SseServer};
use providers_common::*;

fn ok_body(text: &str) -> String {
    sse_lines(&[
        &format!(
            r#"{{"id":"c1","choices":[{{"index":0,"delta":{{"content":"{text}"}},"finish_reason":null}}]}}"#
        ),
        r#"{"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        "[DONE]",
    ])
}

fn config(a: &str, b: &str) -> OpenClawConfig {
    let text = format!(
        r#"{{
  models: {{ providers: {{
    a: {{ baseUrl: "{a}", api: "openai-completions", apiKey: "key-a", models: [{{ id: "m1" }}] }},
    b: {{ baseUrl: "{b}", api: "anthropic-messages", apiKey: "key-b", models: [{{ id: "m2" }}] }},
  }} }},
  agents: {{
    defaults: {{ model: {{ primary: "a/m1", fallbacks: ["backup"] }}, models: {{ "b/m2": {{ alias: "backup" }} }} }},
    list: [{{ id: "solo", model: "b/m2" }}],
  }},
}}"#
    );
    OpenClawConfig::parse(Path::new("openclaw.json"), &text).unwrap()
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 1,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(50),
    }
}

#[tokio::test]
async fn retries_429_then_succeeds_on_the_same_model() {
    let a = SseServer::start(vec![
        Reply::json(429, r#"{"error":{"message":"Rate limit reached"}}"#),
        Reply::sse([ok_body("second try")]),
    ])
    .await
    .unwrap();
    let cfg = config(&a.url(), "http://127.0.0.1:9");
    let registry = Arc::new(ModelRegistry::from_config(&cfg, None));
    let chain = ModelChain::for_agent(&cfg, &registry, None)
        .unwrap()
        .unwrap();
    assert_eq!(chain.primary.key(), "a/m1");
    assert_eq!(chain.fallbacks[0].key(), "b/m2");
    let router = Router::new(registry, policy());
    let events: Vec<RoutedEvent> = router
        .stream(&chain, &context("hi"), &Default::default())
        .collect()
        .await;
    assert!(matches!(
        &events[0],
        RoutedEvent::Retrying { attempt: 1, delay, error, .. }
            if *delay == Duration::from_millis(20) && error == "429 Rate limit reached"
    ));
    let mut b = MessageBuilder::new(&chain.primary);
    for e in &events[1..] {
        let RoutedEvent::Stream(s) = e else {
            panic!("unexpected {e:?}")
        };
        b.apply(s.clone());
    }
    let msg = b.finish();
    assert_eq!(msg.text(), "second try");
    assert_eq!(a.request_count(), 2);
    assert_eq!(a.requests()[1].headers["authorization"], "Bearer key-a");
}

#[tokio::test]
async fn failing_primary_falls_back_and_reports_the_switch() {
    let a = SseServer::start(vec![Reply::json(
        500,
        r#"{"error":{"message":"internal server error"}}"#,
    )])
    .await
    .unwrap();
    let anthropic_body = [
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_b\",\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"from b\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":2}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    ]
    .concat();
    let b = SseServer::start(vec![Reply::sse([anthropic_body])])
        .await
        .unwrap();
    let cfg = config(&a.url(), &b.url());
    let registry = Arc::new(ModelRegistry::from_config(&cfg, None));
    let chain = ModelChain::for_agent(&cfg, &registry, None)
        .unwrap()
        .unwrap();
    let router = Router::new(registry.clone(), policy());
    let events: Vec<RoutedEvent> = router
        .stream(&chain, &context("hi"), &Default::default())
        .collect()
        .await;
    assert!(matches!(&events[0], RoutedEvent::Retrying { .. }));
    let fallback = events
        .iter()
        .find_map(RoutedEvent::to_agent_event)
        .expect("a fallback event");
    assert_eq!(
        fallback,
        AgentEvent::ModelFallback {
            from_provider: "a".into(),
            from_model: "m1".into(),
            to_provider: "b".into(),
            to_model: "m2".into(),
            error_message: "500 internal server error".into(),
        }
    );
    assert_eq!(a.request_count(), 2);
    assert_eq!(b.requests()[0].headers["x-api-key"], "key-b");
    assert_eq!(
        events.last(),
        Some(&RoutedEvent::Stream(StreamEvent::Done {
            reason: StopReason::Stop
        }))
    );

    // The per-agent override picks b directly.
    let solo = ModelChain::for_agent(&cfg, &registry, Some("solo"))
        .unwrap()
        .unwrap();
    assert_eq!(solo.primary.key(), "b/m2");
}

#[tokio::test]
async fn non_retryable_errors_and_exhausted_chains_end_in_an_error() {
    let a = SseServer::start(vec![Reply::json(
        400,
        r#"{"error":{"message":"bad request"}}"#,
    )])
    .await
    .unwrap();
    let cfg = config(&a.url(), "http://127.0.0.1:9");
    let registry = Arc::new(ModelRegistry::from_config(&cfg, None));
    let chain = ModelChain::resolve(&registry, "a/m1", &[]).unwrap();
    let router = Router::new(registry, policy());
    let events: Vec<RoutedEvent> = router
        .stream(&chain, &context("hi"), &Default::default())
        .collect()
        .await;
    assert_eq!(
        events,
        vec![RoutedEvent::Stream(StreamEvent::Error {
            reason: StopReason::Error,
            message: "400 bad request".into()
        })]
    );
    assert_eq!(a.request_count(), 1);
}
