//! Shared fixtures for the binary's end-to-end tests: the fake LLM from `shared/` on a free
//! port and a HOME (made by the conformance suite's `make_home.py`) pointing at it. What is
//! missing is reported by `openclaw_core::testing::prereq` (a failure under `CI=true`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use openclaw_core::testing::prereq::{self, FakeLlm};

/// Whether `program` runs (reported as missing when it does not).
pub fn have(program: &str) -> bool {
    prereq::command(program)
}

/// A running fake LLM plus a HOME whose config points at it.
pub struct Home {
    pub dir: tempfile::TempDir,
    pub port: u16,
    _llm: FakeLlm,
}

impl Home {
    /// `None` (a reported skip, or a failure under CI) when python3 or shared/ is missing.
    pub fn start() -> Option<Home> {
        let make_home = prereq::shared_path("conformance/rpc/make_home.py")?;
        let llm = FakeLlm::start()?;
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("python3")
            .arg(make_home)
            .args(["--port", &llm.port.to_string()])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(ok.success());
        Some(Home {
            dir,
            port: llm.port,
            _llm: llm,
        })
    }

    /// `openclaw gateway run <args>` with this HOME (and `env`), killed on drop, once it accepts
    /// connections on `port`.
    pub fn gateway(&self, args: &[&str], env: &[(&str, &str)], port: u16) -> Gateway {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_openclaw"));
        cmd.args(["gateway", "run"])
            .args(args)
            .env("HOME", self.path())
            .env("OPENCLAW_STATE_DIR", self.state_dir())
            .env_remove("OPENCLAW_GATEWAY_TOKEN")
            .env_remove("OPENCLAW_GATEWAY_PORT")
            .env_remove("OPENCLAW_CONFIG_PATH")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let gateway = Gateway(cmd.spawn().unwrap());
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "gateway did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        gateway
    }

    /// Sets `tools.exec.mode` in this HOME's openclaw.json (the default asks before `bash`).
    pub fn set_exec_mode(&self, mode: &str) {
        let path = self.state_dir().join("openclaw.json");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut cfg: serde_json::Value = serde_json::from_str(&text).unwrap();
        cfg["tools"] = serde_json::json!({"exec": {"mode": mode}});
        std::fs::write(&path, cfg.to_string()).unwrap();
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

/// A running `openclaw gateway run`, killed on drop.
pub struct Gateway(std::process::Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
