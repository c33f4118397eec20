//! Helpers shared by the provider tests.
#![allow(dead_code)]

use futures::StreamExt;
use openclaw_core::message::{AssistantMessage, Message, UserMessage};
use openclaw_core::model::{Model, ModelCost};
use openclaw_core::provider::{LlmContext, MessageBuilder, Provider, StreamEvent, StreamOptions};

pub fn model(api: &str, base_url: &str) -> Model {
    Model {
        id: "fake-model".into(),
        name: "fake-model".into(),
        api: api.into(),
        provider: "fake".into(),
        base_url: base_url.into(),
        reasoning: false,
        input: vec!["text".into()],
        cost: ModelCost::default(),
        context_window: 128_000,
        max_tokens: 4096,
        headers: None,
        compat: None,
    }
}

pub fn context(text: &str) -> LlmContext {
    LlmContext {
        system_prompt: "You are a test.".into(),
        messages: vec![std::sync::Arc::new(Message::User(UserMessage::new(
            text,
            vec![],
        )))],
        tools: vec![],
    }
}

pub fn options() -> StreamOptions {
    StreamOptions {
        api_key: Some("test-key".into()),
        ..Default::default()
    }
}

pub async fn run(
    provider: &dyn Provider,
    model: &Model,
    ctx: &LlmContext,
    opts: &StreamOptions,
) -> (Vec<StreamEvent>, AssistantMessage) {
    let events: Vec<StreamEvent> = provider.stream(model, ctx, opts).collect().await;
    let mut b = MessageBuilder::new(model);
    for e in events.clone() {
        b.apply(e);
    }
    (events, b.finish())
}

pub fn sse_lines(events: &[&str]) -> String {
    events.iter().map(|e| format!("data: {e}\n\n")).collect()
}
