//! Test support: the shared fake LLM (`shared/fake_llm.py`) on a free loopback port and a state
//! directory whose `openclaw.json` points at it.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The shared folder (`$OPENCLAW_SHARED_DIR`, else `shared/` beside the workspace).
pub fn shared_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("OPENCLAW_SHARED_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    dir.join("fake_llm.py").is_file().then_some(dir)
}

/// A running fake LLM, killed on drop.
pub struct FakeLlm {
    child: Child,
    pub port: u16,
}

impl FakeLlm {
    pub fn start(shared: &Path) -> FakeLlm {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let child = Command::new("python3")
            .arg(shared.join("fake_llm.py"))
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start fake_llm.py");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "fake LLM did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        FakeLlm { child, port }
    }

    /// A HOME with `.openclaw/openclaw.json` naming the fake providers.
    pub fn home(&self) -> tempfile::TempDir {
        let home = tempfile::tempdir().expect("temp home");
        let state = home.path().join(".openclaw");
        std::fs::create_dir_all(&state).expect("state dir");
        let config = format!(
            r#"{{"models": {{"providers": {{
              "fake": {{"baseUrl": "http://127.0.0.1:{p}/v1", "api": "openai-completions", "apiKey": "fake-key",
                       "models": [{{"id": "fake-model", "contextWindow": 128000, "maxTokens": 4096}}]}}}}}}}}"#,
            p = self.port
        );
        std::fs::write(state.join("openclaw.json"), config).expect("write config");
        home
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
