//! End-to-end: the real `openclaw` binary in tmux against shared/fake_llm.py. Types a prompt,
//! sees the streamed answer, runs a tool, aborts a long answer with Esc, resizes the window and
//! quits with Ctrl+C twice — reading the screen with `tmux capture-pane` after each step.
//!
//! Without tmux, python3 or ../shared the tests are skipped with the reason on stderr (a failure
//! under `CI=true`).

mod support_cli;

use std::process::Command;
use std::time::{Duration, Instant};

use support_cli::{Home, have};

struct Fixture {
    session: String,
    _home: Home,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
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
    setup_cmd(width, height, "")
}

fn setup_cmd(width: u16, height: u16, sub: &str) -> Option<Fixture> {
    if !have("tmux") {
        return None;
    }
    let home = Home::start()?;
    let session = format!("openclaw-e2e-{}-{}", std::process::id(), home.port);
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
            "cd {h} && {bin} {sub} --provider fake --model fake-model; echo EXITED; sleep 30"
        ))
        .status()
        .unwrap();
    assert!(status.success());
    Some(Fixture {
        session,
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
    // The default policy asks before a command that is not allowlisted: allow it once.
    wait_for(s, "Exec approval needed");
    keys(s, &["y"]);
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

#[test]
fn repl_streams_aborts_with_ctrl_c_and_leaves_with_ctrl_d() {
    let Some(fx) = setup_cmd(100, 20, "chat") else {
        return;
    };
    let s = fx.session.as_str();
    wait_for(s, "ctrl+d leaves");
    keys(s, &["stream 400 slow 30", "Enter"]);
    wait_for(s, "t5 ");
    keys(s, &["C-c"]);
    wait_for(s, "(aborted)");
    keys(s, &["hi again", "Enter"]);
    wait_for(s, "echo: hi again");
    keys(s, &["Up"]);
    std::thread::sleep(Duration::from_millis(300));
    let screen = capture(s);
    assert_eq!(
        screen.lines().filter(|l| l.contains("› hi again")).count(),
        2,
        "{screen}"
    );
    keys(s, &["C-u", "C-d"]);
    let screen = wait_for(s, "EXITED");
    assert!(!screen.contains("t399"), "{screen}");
}

/// The in-process TUI asks before a command: an approval card with the command, cwd, agent
/// and expiry; `n` denies (the command does not run and the model sees the denial), `y` allows
/// it once (it runs), `a` allows it always (the next identical call runs without a card).
#[test]
fn approval_card_denies_allows_once_and_always() {
    let Some(fx) = setup(110, 40) else { return };
    let s = fx.session.as_str();
    let home = fx._home.path().to_owned();
    let marker = home.join("tmux-marker");
    wait_for(s, "fake/fake-model");
    let prompt = format!(r#"call bash {{"command": "touch {}"}}"#, marker.display());

    keys(s, &[&prompt, "Enter"]);
    let screen = wait_for(s, "Exec approval needed");
    assert!(
        screen.contains(&format!("$ touch {}", marker.display())),
        "{screen}"
    );
    assert!(
        screen.contains("agent main") && screen.contains("expires"),
        "{screen}"
    );
    assert!(
        screen.contains("[y] allow once") && screen.contains("[n] deny"),
        "{screen}"
    );
    keys(s, &["n"]);
    let screen = wait_for(s, "✗ denied");
    wait_for(s, "done: Exec denied (gateway id=");
    assert!(!marker.exists(), "denied, yet it ran:\n{screen}");

    keys(s, &[&prompt, "Enter"]);
    wait_for(s, "[y] allow once");
    keys(s, &["y"]);
    wait_for(s, "✓ allowed once");
    let start = Instant::now();
    while !marker.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "allow-once did not run it"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    keys(s, &["C-l"]);
    let uname = r#"call bash {"command": "uname -s"}"#;
    keys(s, &[uname, "Enter"]);
    wait_for(s, "[a] allow always");
    keys(s, &["a"]);
    wait_for(s, "✓ allowed always");
    wait_for(s, "done: Linux");
    let doc = std::fs::read_to_string(home.join(".openclaw/exec-approvals.json")).unwrap();
    assert!(doc.contains("\"source\": \"allow-always\""), "{doc}");
    // The same command, written differently so its prompt line is told apart on the screen.
    let again = r#"call bash {"command":"uname -s"}"#;
    keys(s, &[again, "Enter"]);
    // The answer to the repeated call, with no card in between.
    let start = Instant::now();
    let tail = loop {
        let screen = capture(s);
        let tail = screen.split(again).nth(1).unwrap_or("").to_owned();
        if screen.contains(&format!("› {again}")) && tail.contains("done: Linux") {
            break tail;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "{screen}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        !tail.contains("Exec approval needed"),
        "asked again after allow-always:\n{tail}"
    );
}
