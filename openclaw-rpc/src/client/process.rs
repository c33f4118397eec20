//! Starting the agent process and reading its stdout: responses go to their waiting request,
//! everything else to the subscribers.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use openclaw_core::event::AgentEvent;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::{ClientError, Pending, RpcEvent, RpcResponse, Subscribers};

/// How to start the agent.
#[derive(Debug, Clone)]
pub struct SpawnOptions {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub cwd: Option<PathBuf>,
    pub env: Vec<(OsString, OsString)>,
    /// How long a request waits for its response (default 30 s).
    pub timeout: Duration,
    /// Pass the child's stderr through (default: discarded).
    pub inherit_stderr: bool,
}

impl SpawnOptions {
    /// Run `program` with no arguments.
    pub fn new(program: impl Into<PathBuf>) -> Self {
        SpawnOptions {
            program: program.into(),
            args: Vec::new(),
            cwd: None,
            env: Vec::new(),
            timeout: Duration::from_secs(30),
            inherit_stderr: false,
        }
    }

    /// Append arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Set the working directory.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// Add an environment variable.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Set the request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

pub(super) fn start(o: &SpawnOptions) -> Result<(Child, ChildStdin, ChildStdout), ClientError> {
    let mut cmd = Command::new(&o.program);
    cmd.args(&o.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(if o.inherit_stderr {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .kill_on_drop(true);
    if let Some(cwd) = &o.cwd {
        cmd.current_dir(cwd);
    }
    for (k, v) in &o.env {
        cmd.env(k, v);
    }
    let spawn_err = |source| ClientError::Spawn {
        program: o.program.display().to_string(),
        source,
    };
    let mut child = cmd.spawn().map_err(spawn_err)?;
    let missing = || spawn_err(std::io::Error::other("stdio pipe missing"));
    let stdin = child.stdin.take().ok_or_else(missing)?;
    let stdout = child.stdout.take().ok_or_else(missing)?;
    Ok((child, stdin, stdout))
}

pub(super) async fn read_loop(stdout: ChildStdout, pending: Pending, subscribers: Subscribers) {
    let mut lines = BufReader::new(stdout).split(b'\n');
    while let Ok(Some(mut line)) = lines.next_segment().await {
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let Ok(value) = serde_json::from_slice::<Value>(&line) else {
            continue;
        };
        let is_response = value.get("type").and_then(Value::as_str) == Some("response");
        if is_response {
            if let Some(id) = value.get("id").and_then(Value::as_str) {
                let waiter = pending.lock().ok().and_then(|mut p| p.remove(id));
                if let Some(tx) = waiter {
                    let _ = tx.send(RpcResponse::from_value(&value));
                    continue;
                }
            }
            publish(&subscribers, RpcEvent::UnmatchedResponse(value));
            continue;
        }
        let event = match serde_json::from_value::<AgentEvent>(value.clone()) {
            Ok(e) => RpcEvent::Agent(Box::new(e)),
            Err(_) => RpcEvent::Other(value),
        };
        publish(&subscribers, event);
    }
    // EOF: dropping the senders wakes every waiter with `Closed`.
    if let Ok(mut p) = pending.lock() {
        p.clear();
    }
    if let Ok(mut s) = subscribers.lock() {
        s.clear();
    }
}

fn publish(subscribers: &Subscribers, event: RpcEvent) {
    if let Ok(mut subs) = subscribers.lock() {
        subs.retain(|tx| tx.send(event.clone()).is_ok());
    }
}
