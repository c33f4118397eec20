//! The independent fake model `shared/fake_llm.py` as a child process (skipped with a message
//! when python3 or the script is missing), and a gateway whose agents use it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use openclaw_gateway::agent_host::AgentHost;
use serde_json::{Value, json};

use super::{Setup, TOKEN, TestGateway};

/// The fake model's process and port.
pub struct Fake(Child, pub u16);

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn fake_llm() -> Option<Fake> {
    let script = std::env::var("OPENCLAW_FAKE_LLM")
        .map(PathBuf::from)
        .ok()
        .or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .map(|a| a.join("shared/fake_llm.py"))
                .find(|p| p.is_file())
        });
    let Some(script) = script else {
        eprintln!("SKIP: shared/fake_llm.py not found (set OPENCLAW_FAKE_LLM)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new("python3")
        .arg(script)
        .arg(port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(Fake(child, port));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("SKIP: fake_llm.py did not start");
    None
}

pub async fn gateway(fake: &Fake) -> TestGateway {
    gateway_with(fake, json!({})).await
}

/// A gateway whose `agents.defaults` also has `defaults`' keys.
pub async fn gateway_with(fake: &Fake, defaults: Value) -> TestGateway {
    let mut config = json!({
        "gateway": {"auth": {"mode": "token", "token": TOKEN}},
        "agents": {"defaults": {"model": {"primary": "fake/fake-model"}},
                   "list": [{"id": "main", "default": true}, {"id": "helper"}]},
        "models": {"providers": {"fake": {"baseUrl": format!("http://127.0.0.1:{}/v1", fake.1),
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
