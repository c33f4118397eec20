//! The model chain the engine's failover walks: primary, fallbacks by alias, per-agent overrides.
//! (Failover itself, over real loopback servers, is in `engine.rs`.)

use std::path::Path;

use openclaw_core::config::OpenClawConfig;
use openclaw_core::provider::ModelRegistry;
use openclaw_core::provider::routing::ModelChain;

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

#[test]
fn the_chain_resolves_aliases_and_per_agent_overrides() {
    let cfg = config("http://127.0.0.1:9/v1", "http://127.0.0.1:9");
    let registry = ModelRegistry::from_config(&cfg, None);
    let chain = ModelChain::for_agent(&cfg, &registry, None)
        .unwrap()
        .expect("the defaults name a primary");
    assert_eq!(chain.primary.key(), "a/m1");
    let fallbacks: Vec<String> = chain.fallbacks.iter().map(|m| m.key()).collect();
    assert_eq!(fallbacks, ["b/m2"], "the alias `backup` is b/m2");
    let all: Vec<String> = chain.models().map(|m| m.key()).collect();
    assert_eq!(all, ["a/m1", "b/m2"]);

    // The per-agent override picks b directly; its fallbacks are the defaults'.
    let solo = ModelChain::for_agent(&cfg, &registry, Some("solo"))
        .unwrap()
        .unwrap();
    assert_eq!(solo.primary.key(), "b/m2");

    // A fallback equal to the primary, or repeated, is listed once.
    let chain = ModelChain::resolve(
        &registry,
        "a/m1",
        &["a/m1".into(), "backup".into(), "b/m2".into()],
    )
    .unwrap();
    assert_eq!(chain.fallbacks.len(), 1);

    // Nothing configured: no chain.
    let empty = OpenClawConfig::parse(Path::new("openclaw.json"), "{}").unwrap();
    assert!(
        ModelChain::for_agent(&empty, &registry, None)
            .unwrap()
            .is_none()
    );
}
