//! Talking to the container engine's CLI (`docker` or `podman`, which take the same commands
//! for everything used here): every call has a deadline and the client is killed when it
//! passes, so a hung daemon costs a turn an error, never the turn. Reads container state
//! through `inspect` (the one JSON shape docker and podman share; their `ps --format json`
//! differ), and owns the in-container kill of an aborted command.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde::Deserialize;
use wait_timeout::ChildExt;

/// Deadline of a quick engine call (`inspect`, `ps`, `rm`, `version`, the abort's kill).
pub const QUICK: Duration = Duration::from_secs(15);
/// Deadline of `create` and `start` (the image is local: `--pull never`).
pub const CREATE: Duration = Duration::from_secs(60);
/// Deadline of the `setupCommand` (package installs take a while).
pub const SETUP: Duration = Duration::from_secs(600);
/// Output kept from one engine call.
const MAX_OUTPUT: u64 = 4 << 20;

/// One engine CLI.
#[derive(Debug, Clone)]
pub struct Engine {
    pub program: String,
}

impl Engine {
    pub fn new(program: &str) -> Self {
        Engine {
            program: program.into(),
        }
    }

    /// Runs `<program> <args>`; its stdout, or an error with its stderr. Killed at `deadline`.
    pub fn run(&self, args: &[String], deadline: Duration) -> Result<String, String> {
        let mut child = Command::new(&self.program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.program))?;
        let out = child.stdout.take().map(drain);
        let err = child.stderr.take().map(drain);
        let status = match child.wait_timeout(deadline) {
            Ok(Some(status)) => status,
            Ok(None) | Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{} {} did not answer within {} s (is the daemon hung?)",
                    self.program,
                    args.first().map(String::as_str).unwrap_or(""),
                    deadline.as_secs()
                ));
            }
        };
        // A grandchild that kept the pipe open (a daemonizing helper) must not hold us.
        let collect = |r: Option<mpsc::Receiver<String>>| {
            r.and_then(|r| r.recv_timeout(Duration::from_secs(2)).ok())
                .unwrap_or_default()
        };
        let (out, err) = (collect(out), collect(err));
        if status.success() {
            Ok(out.trim().to_string())
        } else {
            Err(format!(
                "{} {} failed ({status}): {}",
                self.program,
                args.first().map(String::as_str).unwrap_or(""),
                err.trim()
            ))
        }
    }

    /// [`Engine::run`] with `&str` arguments.
    pub fn call(&self, args: &[&str], deadline: Duration) -> Result<String, String> {
        let owned: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        self.run(&owned, deadline)
    }

    /// The engine's version, or why it does not answer.
    pub fn version(&self) -> Result<String, String> {
        let v = self.call(&["version", "--format", "{{.Server.Version}}"], QUICK)?;
        if v.is_empty() {
            return Err(format!("no {} daemon answers", self.program));
        }
        Ok(v)
    }

    /// Whether `image` is present locally.
    pub fn has_image(&self, image: &str) -> Result<bool, String> {
        match self.call(&["image", "inspect", "--format", "{{.Id}}", image], QUICK) {
            Ok(_) => Ok(true),
            Err(e) if e.contains("did not answer") || e.starts_with("cannot run") => Err(e),
            Err(_) => Ok(false),
        }
    }

    /// The container `name`, or `None` when there is none.
    pub fn inspect(&self, name: &str) -> Result<Option<ContainerInfo>, String> {
        match self.call(&["container", "inspect", name], QUICK) {
            Ok(text) => Ok(parse_inspect(&text)?.into_iter().next()),
            Err(e) if e.contains("did not answer") || e.starts_with("cannot run") => Err(e),
            Err(_) => Ok(None),
        }
    }

    /// Every sandbox container (label `openclaw.sandbox=1`), running or not.
    pub fn list(&self) -> Result<Vec<ContainerInfo>, String> {
        let ids = self.call(
            &[
                "ps",
                "-a",
                "-q",
                "--no-trunc",
                "--filter",
                "label=openclaw.sandbox=1",
            ],
            QUICK,
        )?;
        let mut args: Vec<String> = vec!["container".into(), "inspect".into()];
        args.extend(ids.split_whitespace().map(str::to_owned));
        if args.len() == 2 {
            return Ok(Vec::new());
        }
        match self.run(&args, QUICK) {
            Ok(text) => parse_inspect(&text),
            // One was removed between `ps` and `inspect` (another recreate, a session ending):
            // the others, one by one, skipping what is gone.
            Err(e) if e.contains("no such container") || e.contains("No such container") => {
                let mut out = Vec::new();
                for id in ids.split_whitespace() {
                    out.extend(self.inspect(id)?);
                }
                Ok(out)
            }
            Err(e) => Err(e),
        }
    }

    /// Removes a container (`rm -f`); one that is already gone is not an error.
    pub fn remove(&self, name: &str) -> Result<(), String> {
        match self.call(&["rm", "-f", name], QUICK) {
            Ok(_) => Ok(()),
            Err(e) if e.contains("no such container") || e.contains("No such container") => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Reads a pipe to its end (at most [`MAX_OUTPUT`] kept) on a thread of its own.
fn drain(mut r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.by_ref().take(MAX_OUTPUT).read_to_end(&mut buf);
        // Whatever is beyond the cap is read and dropped, so the writer never blocks.
        let _ = std::io::copy(&mut r, &mut std::io::sink());
        let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
    });
    rx
}

/// What `inspect` says about one container (the fields docker and podman share).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ContainerInfo {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "State")]
    pub state: InspectState,
    #[serde(rename = "Config")]
    pub config: InspectConfig,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InspectState {
    #[serde(rename = "Status", default)]
    pub status: String,
    #[serde(rename = "Running", default)]
    pub running: bool,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InspectConfig {
    #[serde(rename = "Image", default)]
    pub image: String,
    #[serde(rename = "Labels", default)]
    pub labels: Option<BTreeMap<String, String>>,
}

impl ContainerInfo {
    /// A label's value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.config.labels.as_ref()?.get(key).map(String::as_str)
    }
}

/// Parses `inspect`'s array; docker names start with `/`, podman's do not.
fn parse_inspect(text: &str) -> Result<Vec<ContainerInfo>, String> {
    let mut rows: Vec<ContainerInfo> =
        serde_json::from_str(text).map_err(|e| format!("cannot read inspect output: {e}"))?;
    for r in &mut rows {
        if let Some(n) = r.name.strip_prefix('/') {
            r.name = n.to_owned();
        }
    }
    Ok(rows)
}

/// The script that kills an aborted command inside the container (`sh -c <script> sh <marker
/// variable> <marker>`, run as the container's user). It kills, in rounds until none is left, every process but
/// PID 1 (the init) and the keeper (`sleep infinity`: the child of PID 1 that started first)
/// whose marker variable is the aborted command's or missing — so a child that called
/// `setsid` or cleared its environment dies too, while another command's processes (their
/// own marker) and this script (its own marker) are spared. An environment that cannot be
/// read counts as missing.
pub const KILL_SCRIPT: &str = r#"var="$1"; m="$2"; keeper=""; first=""
for d in /proc/[0-9]*; do
  s=$(cat "$d/stat" 2>/dev/null) || continue
  set -- ${s##*) }
  [ "$2" = 1 ] || continue
  if [ -z "$first" ] || [ "${20}" -lt "$first" ]; then first=${20}; keeper=${d#/proc/}; fi
done
round=0
while [ $round -lt 20 ]; do
  round=$((round + 1)); n=0
  for d in /proc/[0-9]*; do
    p=${d#/proc/}
    case "$p" in 1|"$keeper"|"$$") continue ;; esac
    v=$(tr '\0' '\n' <"$d/environ" 2>/dev/null | grep "^$var=")
    if [ -z "$v" ] || [ "$v" = "$var=$m" ]; then kill -9 "$p" 2>/dev/null && n=$((n + 1)); fi
  done
  [ $n -eq 0 ] && break
done
true"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_output_of_docker_and_podman_reads_the_same() {
        let docker = r#"[{"Name":"/openclaw-sbx-a","State":{"Status":"running","Running":true},
            "Config":{"Image":"img","Labels":{"openclaw.sandbox":"1","openclaw.sessionKey":"agent:a"}}}]"#;
        let podman = r#"[{"Name":"openclaw-sbx-a","State":{"Status":"exited","Running":false},
            "Config":{"Image":"img","Labels":null}}]"#;
        let d = &parse_inspect(docker).unwrap()[0];
        assert_eq!(d.name, "openclaw-sbx-a");
        assert!(d.state.running);
        assert_eq!(d.label("openclaw.sessionKey"), Some("agent:a"));
        let p = &parse_inspect(podman).unwrap()[0];
        assert_eq!(p.name, "openclaw-sbx-a");
        assert_eq!(p.state.status, "exited");
        assert_eq!(p.label("openclaw.sandbox"), None);
    }

    /// An engine CLI that runs `script`.
    fn fake_engine(dir: &std::path::Path, script: &str) -> Engine {
        let fake = dir.join("engine");
        std::fs::write(&fake, format!("#!/bin/sh\n{script}\n")).unwrap();
        let mut perms = std::fs::metadata(&fake).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&fake, perms).unwrap();
        Engine::new(fake.to_str().unwrap())
    }

    #[test]
    fn a_grandchild_holding_the_output_pipe_does_not_hold_the_call() {
        let dir = tempfile::tempdir().unwrap();
        let engine = fake_engine(dir.path(), "sleep 30 & echo started");
        let started = std::time::Instant::now();
        let r = engine.call(&["start", "x"], Duration::from_secs(20));
        assert!(r.is_ok(), "{r:?}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_hung_engine_call_is_killed_at_its_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let engine = fake_engine(dir.path(), "exec sleep 30");
        let started = std::time::Instant::now();
        let err = engine
            .call(&["inspect", "x"], Duration::from_millis(300))
            .unwrap_err();
        assert!(err.contains("did not answer within"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
