//! Tests of config loading against real files.

use super::*;

#[test]
fn parses_json5_providers_agents_and_keeps_raw() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(
        &path,
        r#"{
  // comments and trailing commas are fine
  gateway: { port: 18789 },
  models: { providers: {
    fake: { baseUrl: "http://127.0.0.1:9/v1", api: "openai-completions", apiKey: "fake-key",
            models: [{ id: "fake-model", contextWindow: 32000, maxTokens: 4096 }, { id: "r1", reasoning: true }] },
    anthropic: { baseUrl: "http://proxy.local" },
  }},
  agents: {
    defaults: { model: { primary: "fake/fake-model", fallbacks: ["anthropic/claude-sonnet-4-5"] },
                models: { "fake/fake-model": { alias: "f" } } },
    list: [{ id: "ops", model: "fake/r1" }],
  },
}"#,
    )
    .unwrap();
    let cfg = OpenClawConfig::load_from(&path).unwrap();
    assert_eq!(cfg.section("gateway.port"), Some(&serde_json::json!(18789)));
    let ids: Vec<&String> = cfg.models.providers.keys().collect();
    assert_eq!(ids, ["fake", "anthropic"]);
    let fake = &cfg.models.providers["fake"];
    let models = fake.models.as_ref().unwrap();
    let m = models[0].to_model("fake", fake).unwrap();
    assert_eq!(
        (m.context_window, m.max_tokens, m.name.as_str()),
        (32000, 4096, "fake-model")
    );
    let r1 = models[1].to_model("fake", fake).unwrap();
    assert_eq!(
        (r1.context_window, r1.max_tokens, r1.reasoning),
        (128_000, 16_384, true)
    );
    assert_eq!(r1.input, ["text"]);
    assert!(cfg.models.providers["anthropic"].models.is_none());
    assert_eq!(cfg.agents.defaults.model.primary(), Some("fake/fake-model"));
    assert_eq!(
        cfg.agents.defaults.model.fallbacks(),
        ["anthropic/claude-sonnet-4-5"]
    );
    assert_eq!(
        cfg.agents.defaults.models["fake/fake-model"]
            .alias
            .as_deref(),
        Some("f")
    );
    assert_eq!(cfg.agents.list[0].model.primary(), Some("fake/r1"));
}

#[test]
fn errors_name_file_line_column_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(&path, "{\n  models: {\n    providers: [ oops\n}").unwrap();
    let err = OpenClawConfig::load_from(&path).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{}:3:", path.display())), "{err}");

    std::fs::write(
        &path,
        r#"{ models: { providers: { fake: { api: "openai-completions", models: [{ id: "x", maxTokens: "lots" }] } } } }"#,
    )
    .unwrap();
    let err = OpenClawConfig::load_from(&path).unwrap_err().to_string();
    assert!(err.contains("`models.providers.fake.models[0]`"), "{err}");
    assert!(err.contains("openclaw.json"), "{err}");
}

#[test]
fn missing_files_are_empty_and_pi_models_json_loads() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = OpenClawConfig::load_from(&dir.path().join("none.json")).unwrap();
    assert!(cfg.models.providers.is_empty());
    assert!(cfg.raw.is_object());
    let pi = dir.path().join("models.json");
    std::fs::write(
        &pi,
        r#"{"providers":{"fake":{"baseUrl":"http://127.0.0.1:1/v1","api":"openai-completions","apiKey":"fake-key","models":[{"id":"fake-model"}]}}}"#,
    )
    .unwrap();
    let models = load_pi_models(&pi).unwrap();
    assert_eq!(
        models.providers["fake"].api_key.as_deref(),
        Some("fake-key")
    );
    assert!(
        load_pi_models(&dir.path().join("absent.json"))
            .unwrap()
            .providers
            .is_empty()
    );
}
