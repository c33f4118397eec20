//! `models.list` lists every model the user can use: with only `ANTHROPIC_API_KEY` in the
//! environment and no provider configured, the built-in Anthropic catalogue. (Its own test
//! binary: it sets an environment variable before the gateway starts.)

mod common;

use common::{Client, Setup};
use serde_json::{Value, json};

#[tokio::test]
async fn models_list_includes_the_built_in_catalogue_when_a_key_is_in_the_environment() {
    // SAFETY: the only test of this binary, before any other thread reads the environment.
    unsafe { std::env::set_var("ANTHROPIC_API_KEY", "sk-ant-test-not-a-real-key") };
    let tg = common::start(Setup {
        config: json!({"gateway": {"auth": {"mode": "token", "token": common::TOKEN}}}),
        ..Setup::default()
    })
    .await;
    let (mut c, _) = Client::connected(&tg, &["operator.read"]).await;
    let models = c.ok("models.list", json!({})).await["models"].clone();
    let rows = models.as_array().expect("models");
    assert!(
        !rows.is_empty(),
        "no models for a user with ANTHROPIC_API_KEY"
    );
    assert!(rows.iter().all(|m| m["available"] == true));
    assert!(rows.iter().any(|m| m["provider"] == "anthropic"
        && m["id"].as_str().is_some_and(|id| id.starts_with("claude-"))));
    // The whole catalogue is wider, and says what is not usable.
    let all = c.ok("models.list", json!({"view": "all"})).await["models"].clone();
    let all = all.as_array().unwrap();
    assert!(all.len() > rows.len());
    assert!(all.iter().any(|m: &Value| m["available"] == false));
    // Nothing is configured in models.providers.
    let configured = c.ok("models.list", json!({"view": "configured"})).await;
    assert_eq!(configured["models"], json!([]));
}
