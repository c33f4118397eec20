//! Registry tests: selection, credentials, availability order, pi's texts.

use super::*;
use crate::config::OpenClawConfig;

fn config(text: &str) -> OpenClawConfig {
    OpenClawConfig::parse(std::path::Path::new("openclaw.json"), text).unwrap()
}

const CONF: &str = r#"{
  models: { providers: {
    fake: { baseUrl: "http://127.0.0.1:9/v1", api: "openai-completions", apiKey: "fake-key",
            compat: { supportsDeveloperRole: false },
            models: [{ id: "fake-model", contextWindow: 128000, maxTokens: 4096 }] },
    fakeant: { baseUrl: "http://127.0.0.1:9", api: "anthropic-messages", apiKey: "!printf ' cmd-key\n'",
               models: [{ id: "fake-claude", name: "Fake Claude", reasoning: true }] },
    anthropic: { baseUrl: "http://proxy.local" },
  }},
  agents: { defaults: { models: { "fake/fake-model": { alias: "quick" } } } },
}"#;

#[test]
fn configured_models_come_first_and_overrides_apply() {
    let reg = ModelRegistry::from_config(&config(CONF), None);
    let keys: Vec<String> = reg.all_models().iter().take(3).map(Model::key).collect();
    assert_eq!(
        keys,
        [
            "fake/fake-model",
            "fakeant/fake-claude",
            "anthropic/claude-opus-4-5"
        ]
    );
    let sonnet = reg.find("anthropic", "claude-sonnet-4-5").unwrap();
    assert_eq!(sonnet.base_url, "http://proxy.local");
    let available: Vec<String> = reg.available_models().iter().map(Model::key).collect();
    assert!(available.starts_with(&[
        "fake/fake-model".to_owned(),
        "fakeant/fake-claude".to_owned()
    ]));
}

#[test]
fn keys_literal_command_env_and_override_without_leaking() {
    let mut reg = ModelRegistry::from_config(&config(CONF), None);
    assert_eq!(reg.api_key("fake").as_deref(), Some("fake-key"));
    assert_eq!(reg.api_key("fakeant").as_deref(), Some("cmd-key"));
    assert_eq!(reg.api_key("nope"), None);
    reg.set_runtime_api_key("fake", "secret-override".into());
    assert_eq!(reg.api_key("fake").as_deref(), Some("secret-override"));
    let debug = format!("{reg:?}");
    assert!(
        !debug.contains("secret-override") && !debug.contains("fake-key"),
        "{debug}"
    );

    // An apiKey naming a set environment variable uses the variable's value.
    let name = format!("OPENCLAW_TEST_KEY_{}", std::process::id());
    // SAFETY: test-local variable name, unique per process.
    unsafe { std::env::set_var(&name, "from-env") };
    let text = format!(
        r#"{{ models: {{ providers: {{ e: {{ baseUrl: "http://x", api: "openai-completions", apiKey: "{name}", models: [{{ id: "m" }}] }} }} }} }}"#
    );
    let reg = ModelRegistry::from_config(&config(&text), None);
    assert_eq!(reg.api_key("e").as_deref(), Some("from-env"));
}

#[test]
fn resolution_forms_and_pi_texts() {
    let reg = ModelRegistry::from_config(&config(CONF), None);
    let r = reg.resolve(Some("fake"), "fake-model").unwrap();
    assert_eq!(
        (r.model.key(), r.thinking, r.warning),
        ("fake/fake-model".into(), None, None)
    );
    let r = reg.resolve(None, "fakeant/fake-claude:high").unwrap();
    assert_eq!(r.model.key(), "fakeant/fake-claude");
    assert_eq!(r.thinking, Some(ThinkingLevel::High));
    assert_eq!(
        reg.resolve(None, "quick").unwrap().model.key(),
        "fake/fake-model"
    );
    assert_eq!(
        reg.resolve(None, "Fake Claude").unwrap().model.key(),
        "fakeant/fake-claude"
    );
    assert_eq!(
        reg.resolve(None, "sonnet-4-5").unwrap().model.key(),
        "anthropic/claude-sonnet-4-5"
    );
    assert_eq!(
        reg.resolve(None, "fake-claude").unwrap().model.key(),
        "fakeant/fake-claude"
    );

    let err = reg.resolve(Some("nope"), "x").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"Unknown provider "nope". Use --list-models to see available providers/models."#
    );
    let r = reg.resolve(Some("fake"), "no-such-model").unwrap();
    assert_eq!(
        r.warning.as_deref(),
        Some(r#"Model "no-such-model" not found for provider "fake". Using custom model id."#)
    );
    let json = serde_json::to_string(&r.model).unwrap();
    assert_eq!(
        json,
        r#"{"id":"no-such-model","name":"no-such-model","api":"openai-completions","provider":"fake","baseUrl":"http://127.0.0.1:9/v1","reasoning":false,"input":["text"],"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0},"contextWindow":128000,"maxTokens":4096,"compat":{"supportsDeveloperRole":false}}"#
    );
    assert!(matches!(
        reg.resolve(None, "zzz-nothing"),
        Err(ResolveError::UnknownModel(_))
    ));
}
