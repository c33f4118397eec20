//! A typed client for the JSONL RPC mode: spawns `openclaw --mode rpc` (or pi, or any binary
//! speaking pi's protocol) as a child process, sends commands with generated ids, matches
//! responses by id, and fans events out to subscribers.
//!
//! ```no_run
//! # async fn demo() -> Result<(), openclaw_rpc::client::ClientError> {
//! use openclaw_rpc::client::{RpcClient, SpawnOptions};
//! let client = RpcClient::spawn(SpawnOptions::new("openclaw").args(["--mode", "rpc", "--no-session"])).await?;
//! let mut events = client.subscribe();
//! client.prompt("hello").await?;
//! let run = client.wait_for_agent_end(&mut events).await?;
//! println!("{}", run.len());
//! client.shutdown().await?;
//! # Ok(()) }
//! ```

pub mod gateway;
mod process;

pub use process::SpawnOptions;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openclaw_core::event::AgentEvent;
use serde_json::{Map, Value, json};
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, ChildStdin};
use tokio::sync::{mpsc, oneshot};

/// Errors of the client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("cannot write to the agent process: {0}")]
    Write(std::io::Error),
    #[error("no response to `{command}` within {timeout:?}")]
    Timeout { command: String, timeout: Duration },
    #[error("the agent process exited before answering `{command}`")]
    Closed { command: String },
    #[error("`{command}` failed: {message}")]
    Command { command: String, message: String },
    #[error("a command must be a JSON object with a string `type`")]
    BadCommand,
}

/// A response record.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcResponse {
    pub command: Option<String>,
    pub success: bool,
    pub data: Option<Value>,
    pub error: Option<String>,
}

impl RpcResponse {
    fn from_value(v: &Value) -> RpcResponse {
        RpcResponse {
            command: v.get("command").and_then(Value::as_str).map(String::from),
            success: v.get("success").and_then(Value::as_bool).unwrap_or(false),
            data: v.get("data").cloned(),
            error: v.get("error").and_then(Value::as_str).map(String::from),
        }
    }
}

/// One event line from the agent.
#[derive(Debug, Clone, PartialEq)]
pub enum RpcEvent {
    /// An agent or session event this crate knows.
    Agent(Box<AgentEvent>),
    /// Anything else (extension UI requests, newer event types), as raw JSON.
    Other(Value),
    /// A response that carried no id (parse errors, unknown commands).
    UnmatchedResponse(Value),
}

impl RpcEvent {
    /// The event's `type`, when it is an agent event.
    pub fn agent(&self) -> Option<&AgentEvent> {
        match self {
            RpcEvent::Agent(e) => Some(e),
            _ => None,
        }
    }
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<RpcResponse>>>>;
type Subscribers = Arc<Mutex<Vec<mpsc::UnboundedSender<RpcEvent>>>>;

/// A running agent process.
pub struct RpcClient {
    child: tokio::sync::Mutex<Child>,
    stdin: tokio::sync::Mutex<Option<ChildStdin>>,
    pending: Pending,
    subscribers: Subscribers,
    next_id: AtomicU64,
    timeout: Duration,
}

impl RpcClient {
    /// Start the process and begin reading its output.
    pub async fn spawn(options: SpawnOptions) -> Result<RpcClient, ClientError> {
        let timeout = options.timeout;
        let (child, stdin, stdout) = process::start(&options)?;
        let pending: Pending = Arc::default();
        let subscribers: Subscribers = Arc::default();
        tokio::spawn(process::read_loop(
            stdout,
            pending.clone(),
            subscribers.clone(),
        ));
        Ok(RpcClient {
            child: tokio::sync::Mutex::new(child),
            stdin: tokio::sync::Mutex::new(Some(stdin)),
            pending,
            subscribers,
            next_id: AtomicU64::new(1),
            timeout,
        })
    }

    /// A new event receiver; it sees every event from now on.
    pub fn subscribe(&self) -> mpsc::UnboundedReceiver<RpcEvent> {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut subs) = self.subscribers.lock() {
            subs.push(tx);
        }
        rx
    }

    /// Send a command object (`{"type": ..., ...}`), adding a fresh id, and wait for its
    /// response. A `success:false` response is returned, not turned into an error.
    pub async fn request(&self, command: Value) -> Result<RpcResponse, ClientError> {
        let Value::Object(mut body) = command else {
            return Err(ClientError::BadCommand);
        };
        let kind = match body.get("type") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err(ClientError::BadCommand),
        };
        let id = format!("req-{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let mut ordered = Map::new();
        ordered.insert("id".into(), Value::String(id.clone()));
        ordered.append(&mut body);
        let (tx, rx) = oneshot::channel();
        if let Ok(mut p) = self.pending.lock() {
            p.insert(id.clone(), tx);
        }
        let mut line = Value::Object(ordered).to_string();
        line.push('\n');
        self.write(line.as_bytes()).await?;
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(_)) => Err(ClientError::Closed { command: kind }),
            Err(_) => {
                if let Ok(mut p) = self.pending.lock() {
                    p.remove(&id);
                }
                Err(ClientError::Timeout {
                    command: kind,
                    timeout: self.timeout,
                })
            }
        }
    }

    /// Send a command and return its `data` (`None` when the response has none); a failed
    /// response becomes [`ClientError::Command`].
    pub async fn call(&self, kind: &str, fields: Value) -> Result<Option<Value>, ClientError> {
        let mut body = Map::new();
        body.insert("type".into(), Value::String(kind.into()));
        if let Value::Object(mut f) = fields {
            body.append(&mut f);
        }
        let r = self.request(Value::Object(body)).await?;
        if r.success {
            Ok(r.data)
        } else {
            Err(ClientError::Command {
                command: kind.into(),
                message: r.error.unwrap_or_default(),
            })
        }
    }

    /// Start a prompt (returns once it is accepted; follow the events for the run).
    pub async fn prompt(&self, message: &str) -> Result<(), ClientError> {
        self.call("prompt", json!({ "message": message }))
            .await
            .map(drop)
    }

    /// Queue a steering message.
    pub async fn steer(&self, message: &str) -> Result<(), ClientError> {
        self.call("steer", json!({ "message": message }))
            .await
            .map(drop)
    }

    /// Queue a follow-up message.
    pub async fn follow_up(&self, message: &str) -> Result<(), ClientError> {
        self.call("follow_up", json!({ "message": message }))
            .await
            .map(drop)
    }

    /// Abort the current run and wait until it has stopped.
    pub async fn abort(&self) -> Result<(), ClientError> {
        self.call("abort", json!({})).await.map(drop)
    }

    /// The session state (`get_state` data).
    pub async fn get_state(&self) -> Result<Value, ClientError> {
        Ok(self
            .call("get_state", json!({}))
            .await?
            .unwrap_or(Value::Null))
    }

    /// The context messages.
    pub async fn get_messages(&self) -> Result<Vec<Value>, ClientError> {
        let data = self.call("get_messages", json!({})).await?;
        Ok(data
            .and_then(|d| d.get("messages").and_then(Value::as_array).cloned())
            .unwrap_or_default())
    }

    /// The text of the last assistant message, if any.
    pub async fn get_last_assistant_text(&self) -> Result<Option<String>, ClientError> {
        let data = self.call("get_last_assistant_text", json!({})).await?;
        Ok(data.and_then(|d| d.get("text").and_then(Value::as_str).map(String::from)))
    }

    /// Switch model.
    pub async fn set_model(&self, provider: &str, model_id: &str) -> Result<Value, ClientError> {
        let data = self
            .call(
                "set_model",
                json!({ "provider": provider, "modelId": model_id }),
            )
            .await?;
        Ok(data.unwrap_or(Value::Null))
    }

    /// Run a shell command in the agent's cwd (`bash` command data).
    pub async fn bash(&self, command: &str) -> Result<Value, ClientError> {
        let data = self.call("bash", json!({ "command": command })).await?;
        Ok(data.unwrap_or(Value::Null))
    }

    /// Collect events from `events` until the next `agent_end`; returns every event seen,
    /// the `agent_end` last. Times out like a request does.
    pub async fn wait_for_agent_end(
        &self,
        events: &mut mpsc::UnboundedReceiver<RpcEvent>,
    ) -> Result<Vec<RpcEvent>, ClientError> {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Some(e)) => {
                    let end = matches!(e.agent(), Some(AgentEvent::AgentEnd { .. }));
                    seen.push(e);
                    if end {
                        return Ok(seen);
                    }
                }
                Ok(None) => {
                    return Err(ClientError::Closed {
                        command: "prompt".into(),
                    });
                }
                Err(_) => {
                    return Err(ClientError::Timeout {
                        command: "prompt".into(),
                        timeout: self.timeout,
                    });
                }
            }
        }
    }

    /// Prompt and wait for the run to end; returns the run's events.
    pub async fn prompt_and_wait(&self, message: &str) -> Result<Vec<RpcEvent>, ClientError> {
        let mut events = self.subscribe();
        self.prompt(message).await?;
        self.wait_for_agent_end(&mut events).await
    }

    /// Close stdin (the agent exits at EOF) and wait for the process; kill it if it has not
    /// exited within the timeout.
    pub async fn shutdown(self) -> Result<std::process::ExitStatus, ClientError> {
        drop(self.stdin.lock().await.take());
        let mut child = self.child.lock().await;
        match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(r) => r.map_err(ClientError::Write),
            Err(_) => {
                let _ = child.kill().await;
                child.wait().await.map_err(ClientError::Write)
            }
        }
    }

    async fn write(&self, bytes: &[u8]) -> Result<(), ClientError> {
        let mut guard = self.stdin.lock().await;
        let Some(stdin) = guard.as_mut() else {
            return Err(ClientError::Write(std::io::Error::from(
                std::io::ErrorKind::BrokenPipe,
            )));
        };
        stdin.write_all(bytes).await.map_err(ClientError::Write)?;
        stdin.flush().await.map_err(ClientError::Write)
    }
}
