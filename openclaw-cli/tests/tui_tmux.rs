//! End-to-end: the real `openclaw` binary in tmux against shared/fake_llm.py. Types a prompt,
//! sees the streamed answer, runs a tool, aborts a long answer with Esc, resizes the window and
//! quits with Ctrl+C twice — reading the screen with `tmux capture-pane` after each step.
//!
//! Skips (passing, with a note) when tmux, python3 or ../shared/fake_llm.py is missing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Fixture {
    session: String,
    llm: Child,
    _home: tempfile::TempDir,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
        let _ = self.llm.kill();
        let _ = self.llm.wait();
    }
}

/// `shared/` beside the repository (`$OPENCLAW_SHARED_DIR` overrides).
fn shared() -> PathBuf {
    if let Some(p) = std::env::var_os("OPENCLAW_SHARED_DIR") {
        return PathBuf::from(p);
    }
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    [repo.join("../shared"), repo.join("../../shared")]
        .into_iter()
        .find(|p| p.join("fake_llm.py").exists())
        .unwrap_or_else(|| repo.join("../shared"))
}

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn capture(session: &str) -> String {
    let out = Command::new("tmux")
        .args(["capture-pane", "-p", "-t", session])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn keys(session: &str, keys: &[&str]) {
    let mut args = vec!["send-keys", "-t", session];
    args.extend_from_slice(keys);
    assert!(Command::new("tmux").args(&args).status().unwrap().success());
}

fn wait_for(session: &str, what: &str) -> String {
    let start = Instant::now();
    loop {
        let screen = capture(session);
        if screen.contains(what) {
            return screen;
        }
        if start.elapsed() > Duration::from_secs(15) {
            panic!("timed out waiting for {what:?}; screen:\n{screen}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn setup(width: u16, height: u16) -> Option<Fixture> {
    let fake = shared().join("fake_llm.py");
    if !have("tmux") || !have("python3") || !fake.exists() {
        eprintln!("skipped: needs tmux, python3 and {}", fake.display());
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
    let home = tempfile::tempdir().unwrap();
    let ok = Command::new("python3")
        .arg(shared().join("conformance/rpc/make_home.py"))
        .args(["--port", &port.to_string()])
        .arg(home.path())
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
    let session = format!("openclaw-e2e-{}-{port}", std::process::id());
    let h = home.path().display().to_string();
    let bin = env!("CARGO_BIN_EXE_openclaw");
    let status = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
        ])
        .args(["-e", &format!("HOME={h}")])
        .args(["-e", &format!("OPENCLAW_STATE_DIR={h}/.openclaw")])
        .args(["-e", &format!("PI_CODING_AGENT_DIR={h}/.pi/agent")])
        .arg(format!(
            "cd {h} && {bin} --provider fake --model fake-model; sleep 30"
        ))
        .status()
        .unwrap();
    assert!(status.success());
    Some(Fixture {
        session,
        llm,
        _home: home,
    })
}

#[test]
fn chat_tool_abort_resize_quit() {
    let Some(fx) = setup(100, 30) else { return };
    let s = fx.session.as_str();
    wait_for(s, "fake/fake-model");

    keys(s, &["hello from tmux", "Enter"]);
    wait_for(s, "echo: hello from tmux");

    keys(s, &[r#"call bash {"command": "seq 1 20"}"#, "Enter"]);
    let screen = wait_for(s, "done: 1");
    assert!(screen.contains("✓ $ seq 1 20"), "{screen}");
    assert!(screen.contains("… 15 more lines"), "{screen}");

    keys(s, &["stream 400 slow 40", "Enter"]);
    wait_for(s, "esc to interrupt");
    wait_for(s, "t3 ");
    keys(s, &["Escape"]);
    let screen = wait_for(s, "Request was aborted");
    assert!(!screen.contains("t399"), "{screen}");

    assert!(
        Command::new("tmux")
            .args(["resize-window", "-t", s, "-x", "48", "-y", "30"])
            .status()
            .unwrap()
            .success()
    );
    std::thread::sleep(Duration::from_millis(500));
    let screen = wait_for(s, "Request was aborted");
    for line in screen.lines() {
        assert!(
            line.chars().count() <= 48,
            "row wider than the window after resize: {line:?}"
        );
    }
    assert!(screen.contains("› Ask anything"), "{screen}");

    keys(s, &["C-c"]);
    wait_for(s, "press ctrl+c again to quit");
    keys(s, &["C-c"]);
    let start = Instant::now();
    loop {
        let screen = capture(s);
        if !screen.contains("fake/fake-model") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "did not quit:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
