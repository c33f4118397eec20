//! OpenClaw's `exec` secret provider: an absolute binary (not a symlink, not group- or
//! world-writable, owned by this user, inside `trustedDirs` when set) run directly — no shell —
//! with only `passEnv` and `env` in its environment, asked `{"protocolVersion":1,"provider",
//! "ids"}` on stdin and answering `{"protocolVersion":1,"values":{...},"errors":{...}}` on
//! stdout (or, with `jsonOnly: false`, the bare value). Bounded as OpenClaw bounds it:
//! `timeoutMs` (5 s), `noOutputTimeoutMs` (the timeout), `maxOutputBytes` (1 MiB); on any
//! bound the process group is killed and reaped. Its stderr is discarded (it may echo a
//! secret), and so are its error messages other than OpenClaw's known codes.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

use super::secret_ref::{ProviderEnv, SecretRefError};

const DEFAULT_TIMEOUT_MS: u64 = 5_000;
const DEFAULT_MAX_OUTPUT: u64 = 1024 * 1024;
/// OpenClaw's per-id error codes it shows (others may carry secrets).
const SAFE_CODES: [&str; 2] = ["NOT_FOUND", "AMBIGUOUS_DUPLICATE_KEY"];

/// `secrets.providers.<alias>` with `source: "exec"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecProvider {
    pub command: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub pass_env: Vec<String>,
    #[serde(default)]
    pub env: ProviderEnv,
    pub timeout_ms: Option<u64>,
    pub no_output_timeout_ms: Option<u64>,
    pub max_output_bytes: Option<u64>,
    pub json_only: Option<bool>,
    #[serde(default)]
    pub trusted_dirs: Vec<String>,
    /// A plugin's integration (not supported here: no plugins).
    pub plugin_integration: Option<Value>,
}

fn fail<T>(message: impl Into<String>) -> Result<T, SecretRefError> {
    Err(SecretRefError(message.into()))
}

/// Reaps the child on every path out of [`ExecProvider::resolve`].
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            kill_group(&mut self.0);
        }
        let _ = self.0.wait();
    }
}

fn kill_group(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: signalling the process group this child leads (it was started with
        // `process_group(0)`); no memory is touched.
        unsafe { libc::kill(-pid, libc::SIGKILL) };
    }
    let _ = child.kill();
}

impl ExecProvider {
    /// The checked absolute path of the command.
    fn command_path(&self, name: &str) -> Result<std::path::PathBuf, SecretRefError> {
        use std::os::unix::fs::MetadataExt;
        let label = format!("secrets.providers.{name}.command");
        let Some(command) = self.command.as_deref().filter(|c| !c.trim().is_empty()) else {
            return fail(if self.plugin_integration.is_some() {
                format!(
                    "Secret provider \"{name}\" plugin integration is unavailable: plugins are not supported."
                )
            } else {
                format!("{label} is required.")
            });
        };
        let path = super::expand_home(Path::new(command));
        let shown = path.display();
        if !path.is_absolute() {
            return fail(format!("{label} must be an absolute path."));
        }
        let meta = std::fs::symlink_metadata(&path)
            .map_err(|_| SecretRefError(format!("{label} is not readable: {shown}")))?;
        if meta.is_dir() {
            return fail(format!("{label} must be a file: {shown}"));
        }
        if meta.file_type().is_symlink() {
            return fail(format!("{label} must not be a symlink: {shown}"));
        }
        let trusted = super::secret_ref::expand_all(&self.trusted_dirs);
        if !trusted.is_empty() && !trusted.iter().any(|d| path.starts_with(d)) {
            return fail(format!("{label} is outside trustedDirs: {shown}"));
        }
        if meta.mode() & 0o022 != 0 {
            return fail(format!("{label} permissions are too open: {shown}"));
        }
        // SAFETY: getuid has no preconditions and cannot fail.
        let uid = unsafe { libc::getuid() };
        if meta.uid() != uid {
            return fail(format!(
                "{label} must be owned by the current user (uid={uid}): {shown}"
            ));
        }
        Ok(path)
    }

    /// The value of `id`, asked of this provider (`name` is its alias).
    pub fn resolve(
        &self,
        name: &str,
        id: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Value, SecretRefError> {
        let path = self.command_path(name)?;
        let timeout = Duration::from_millis(self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS).max(1));
        let quiet = self
            .no_output_timeout_ms
            .map(|ms| Duration::from_millis(ms.max(1)))
            .unwrap_or(timeout);
        let max = self.max_output_bytes.unwrap_or(DEFAULT_MAX_OUTPUT).max(1);
        let mut cmd = Command::new(&path);
        cmd.args(&self.args)
            .env_clear()
            .current_dir(path.parent().unwrap_or(Path::new("/")))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0);
        for key in &self.pass_env {
            if let Some(v) = env(key) {
                cmd.env(key, v);
            }
        }
        cmd.envs(&self.env.0);
        let child = cmd.spawn().map_err(|e| {
            SecretRefError(format!(
                "Exec provider \"{name}\" could not start {}: {e}",
                path.display()
            ))
        })?;
        let mut child = Reaped(child);
        let request = json!({"protocolVersion": 1, "provider": name, "ids": [id]}).to_string();
        if let Some(mut stdin) = child.0.stdin.take() {
            // A small request into a fresh pipe; a command that exits without reading it is
            // judged by its output below.
            let _ = stdin.write_all(request.as_bytes());
        }
        let Some(mut stdout) = child.0.stdout.take() else {
            return fail(format!("Exec provider \"{name}\" has no stdout."));
        };
        let (tx, rx) = channel::<Option<Vec<u8>>>();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match stdout.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(None);
                        break;
                    }
                    Ok(n) => {
                        if tx.send(Some(buf[..n].to_vec())).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        let start = Instant::now();
        let deadline = start + timeout;
        let mut last = start;
        let mut out = Vec::new();
        loop {
            let now = Instant::now();
            let until = deadline.min(last + quiet);
            let Some(wait) = until.checked_duration_since(now).filter(|d| !d.is_zero()) else {
                kill_group(&mut child.0);
                return fail(if now >= deadline {
                    format!(
                        "Exec provider \"{name}\" timed out after {}ms.",
                        timeout.as_millis()
                    )
                } else {
                    format!(
                        "Exec provider \"{name}\" produced no output for {}ms.",
                        quiet.as_millis()
                    )
                });
            };
            match rx.recv_timeout(wait) {
                Ok(Some(chunk)) => {
                    out.extend_from_slice(&chunk);
                    last = Instant::now();
                    if out.len() as u64 > max {
                        kill_group(&mut child.0);
                        return fail(format!(
                            "Exec provider output exceeded maxOutputBytes ({max})."
                        ));
                    }
                }
                Ok(None) | Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => continue,
            }
        }
        let status = loop {
            match child.0.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                _ => {
                    kill_group(&mut child.0);
                    return fail(format!(
                        "Exec provider \"{name}\" timed out after {}ms.",
                        timeout.as_millis()
                    ));
                }
            }
        };
        if !status.success() {
            let code = status
                .code()
                .map_or_else(|| "a signal".to_owned(), |c| c.to_string());
            return fail(format!("Exec provider \"{name}\" exited with code {code}."));
        }
        let text = String::from_utf8_lossy(&out);
        parse_values(name, id, text.trim(), self.json_only.unwrap_or(true))
    }
}

/// The value of `id` in the command's answer.
fn parse_values(
    name: &str,
    id: &str,
    stdout: &str,
    json_only: bool,
) -> Result<Value, SecretRefError> {
    if stdout.is_empty() {
        return fail(format!("Exec provider \"{name}\" returned empty stdout."));
    }
    let parsed: Value = match serde_json::from_str(stdout) {
        Ok(v) => v,
        Err(_) if !json_only => return Ok(Value::String(stdout.to_owned())),
        Err(_) => return fail(format!("Exec provider \"{name}\" returned invalid JSON.")),
    };
    let Value::Object(map) = parsed else {
        if let (false, Value::String(s)) = (json_only, &parsed) {
            return Ok(Value::String(s.clone()));
        }
        return fail(format!(
            "Exec provider \"{name}\" response must be an object."
        ));
    };
    if map.get("protocolVersion").and_then(Value::as_u64) != Some(1) {
        return fail(format!(
            "Exec provider \"{name}\" protocolVersion must be 1."
        ));
    }
    let Some(Value::Object(values)) = map.get("values") else {
        return fail(format!(
            "Exec provider \"{name}\" response missing \"values\"."
        ));
    };
    if let Some(entry) = map.get("errors").and_then(|e| e.get(id)) {
        let code = entry
            .get("code")
            .and_then(Value::as_str)
            .filter(|c| SAFE_CODES.contains(c));
        return fail(match code {
            Some(c) => format!("Exec provider \"{name}\" failed for id \"{id}\" ({c})."),
            None => format!("Exec provider \"{name}\" failed for id \"{id}\"."),
        });
    }
    values.get(id).cloned().ok_or_else(|| {
        SecretRefError(format!(
            "Exec provider \"{name}\" response missing id \"{id}\"."
        ))
    })
}
