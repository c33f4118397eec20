//! Shared fixtures for the binary's end-to-end tests: the fake LLM from `shared/` on a free
//! port and a state directory pointing at it.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `shared/` beside the repository (`$OPENCLAW_SHARED_DIR` overrides).
pub fn shared() -> PathBuf {
    if let Some(p) = std::env::var_os("OPENCLAW_SHARED_DIR") {
        return PathBuf::from(p);
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    [repo.join("../shared"), repo.join("../../shared")]
        .into_iter()
        .find(|p| p.join("fake_llm.py").exists())
        .unwrap_or_else(|| repo.join("../shared"))
}

pub fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A running fake LLM plus a HOME whose config points at it.
pub struct Home {
    pub dir: tempfile::TempDir,
    pub port: u16,
    llm: Child,
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = self.llm.kill();
        let _ = self.llm.wait();
    }
}

impl Home {
    /// `None` (test skipped) when python3 or shared/fake_llm.py is missing.
    pub fn start() -> Option<Home> {
        let fake = shared().join("fake_llm.py");
        if !have("python3") || !fake.exists() {
            eprintln!("skipped: needs python3 and {}", fake.display());
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let llm = Command::new("python3")
            .arg(&fake)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("python3")
            .arg(shared().join("conformance/rpc/make_home.py"))
            .args(["--port", &port.to_string()])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(ok.success());
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "fake LLM did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(Home { dir, port, llm })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn state_dir(&self) -> PathBuf {
        self.path().join(".openclaw")
    }

    /// `openclaw <args>` with this HOME, stdin from `input`.
    pub fn run(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_openclaw"))
            .args(args)
            .current_dir(self.path())
            .env("HOME", self.path())
            .env("OPENCLAW_STATE_DIR", self.state_dir())
            .env("PI_CODING_AGENT_DIR", self.path().join(".pi/agent"))
            .env_remove("OPENCLAW_GATEWAY_URL")
            .env_remove("OPENCLAW_CONFIG_PATH")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input.as_bytes()).unwrap();
        drop(stdin);
        child.wait_with_output().unwrap()
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
