//! What the end-to-end tests need from the machine — the `shared/` folder beside the repository
//! (the fake model `fake_llm.py`, the conformance suites, the reference frames), python3, tmux,
//! a HOME — found one way, with one rule when something is missing: under `CI=true` the test
//! fails, naming what is missing and how to get it (`.ci/run` installs it all); elsewhere the test
//! is skipped with that reason on stderr, so a skip is never silent.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether this run is CI's (`CI` set to `true` or `1`, as CI services set it).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A prerequisite is missing: panics under CI; otherwise prints `SKIP <test>: <what> (<hint>)` to
/// stderr, and the caller returns.
pub fn missing(what: &str, hint: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    if in_ci() {
        panic!("{test}: {what} is missing under CI=true ({hint})");
    }
    // Straight to the process's stderr: the test harness captures `eprintln!`, and a skip must
    // be seen.
    let line = format!("SKIP {test}: {what} is missing ({hint}); CI=true makes this a failure\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

/// Turns a found-or-not prerequisite into `Some` or a reported [`missing`].
fn require<T>(found: Option<T>, what: &str, hint: &str) -> Option<T> {
    if found.is_none() {
        missing(what, hint);
    }
    found
}

/// The `shared/` folder: `$OPENCLAW_SHARED_DIR`, else the nearest `shared/` (holding
/// `fake_llm.py`) beside the repository or above it.
pub fn shared_dir() -> Option<PathBuf> {
    let found = match std::env::var_os("OPENCLAW_SHARED_DIR") {
        Some(dir) => Some(PathBuf::from(dir)).filter(|d| d.join("fake_llm.py").is_file()),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|a| a.join("shared"))
            .find(|d| d.join("fake_llm.py").is_file()),
    };
    require(
        found,
        "the shared/ folder (with fake_llm.py)",
        "put it beside the repository or set OPENCLAW_SHARED_DIR",
    )
}

/// A file or folder inside `shared/` (e.g. `conformance/rpc/run_all.sh`).
pub fn shared_path(relative: &str) -> Option<PathBuf> {
    let path = shared_dir()?.join(relative);
    let found = path.exists().then_some(path);
    require(
        found,
        &format!("shared/{relative}"),
        "update the shared/ folder",
    )
}

/// Whether `program` runs (`program -V`); reported as [`missing`] when it does not.
pub fn command(program: &str) -> bool {
    let runs = Command::new(program)
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !runs {
        missing(
            program,
            "install it; .ci/run does: apt-get install -y python3 tmux",
        );
    }
    runs
}

/// The user's home directory.
pub fn home_dir() -> Option<PathBuf> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from);
    require(home, "HOME", "run the tests with HOME set")
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `shared/fake_llm.py` running on a free loopback port; killed on drop.
pub struct FakeLlm {
    child: Child,
    pub port: u16,
}

impl FakeLlm {
    /// Starts the fake model and waits (10 s at most) until it accepts connections; `None` (a
    /// reported [`missing`]) without python3 or `shared/`.
    pub fn start() -> Option<FakeLlm> {
        let script = shared_dir()?.join("fake_llm.py");
        if !command("python3") {
            return None;
        }
        let port = free_port();
        let child = Command::new("python3")
            .arg(&script)
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3 fake_llm.py");
        let fake = FakeLlm { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "fake_llm.py did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        Some(fake)
    }

    /// `http://127.0.0.1:<port>` (add `/v1` for the OpenAI-style endpoints).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
