//! The independent fake model `shared/fake_llm.py` as a child process, and a gateway whose
//! agents use it.

use std::sync::Arc;

use openclaw_gateway::agent_host::AgentHost;
use serde_json::{Value, json};

use super::{Setup, TOKEN, TestGateway};

/// The fake model's process and port (`openclaw_core::testing::prereq`, the one finder: under
/// `CI=true` a missing python3 or shared/ fails the test).
pub use openclaw_core::testing::prereq::FakeLlm as Fake;

/// Starts `shared/fake_llm.py`, or `None` (with a visible SKIP) outside CI when it cannot.
pub fn fake_llm() -> Option<Fake> {
    Fake::start()
}

pub async fn gateway(fake: &Fake) -> TestGateway {
    gateway_with(fake, json!({})).await
}

/// A gateway whose `agents.defaults` also has `defaults`' keys.
pub async fn gateway_with(fake: &Fake, defaults: Value) -> TestGateway {
    let config = config_with(fake, defaults);
    // The backend needs the state dir, which `start` creates: build it lazily through a slot.
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_owned();
    std::fs::write(state.join("openclaw.json"), config.to_string()).unwrap();
    let backend = Arc::new(AgentHost::new(config.clone(), state.clone()).unwrap());
    let mut tg = super::start(Setup {
        config,
        backend: Some(backend),
        ..Setup::default()
    })
    .await;
    // `start` made its own temp dir; keep ours alive alongside (the backend writes there).
    tg.dir = dir;
    tg
}

/// The config of [`gateway_with`]: agents on the fake model, `defaults` in `agents.defaults`.
pub fn config_with(fake: &Fake, defaults: Value) -> Value {
    let mut config = json!({
        "gateway": {"auth": {"mode": "token", "token": TOKEN}},
        "agents": {"defaults": {"model": {"primary": "fake/fake-model"}},
                   "list": [{"id": "main", "default": true}, {"id": "helper"}]},
        "models": {"providers": {"fake": {"baseUrl": format!("http://127.0.0.1:{}/v1", fake.port),
            "apiKey": "fake", "api": "openai-completions",
            "models": [{"id": "fake-model", "name": "Fake Model", "contextWindow": 128000}]}}},
    });
    if let (Some(d), Value::Object(extra)) = (
        config
            .pointer_mut("/agents/defaults")
            .and_then(Value::as_object_mut),
        defaults,
    ) {
        d.extend(extra);
    }
    config
}
