//! The docker/podman backend, command-compatible with OpenClaw's: one long-lived container per
//! scope, created once as `<prefix><slug>` with OpenClaw's labels (`openclaw.sandbox=1`,
//! `openclaw.sessionKey`, `openclaw.createdAtMs`, `openclaw.mountFormatVersion`,
//! `openclaw.configHash`), `--init`, read-only root, no network unless asked, all capabilities
//! dropped, running `sleep infinity`; each command is `docker exec -i -w <workdir> … /bin/sh -lc`.
//! Abort kills the exec client and, inside the container, every process with the command's
//! marker.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use openclaw_core::sandbox::{
    Availability, Cleanup, ExecRequest, SandboxBackend, SandboxSettings, SandboxedCommand,
    WorkspaceAccess,
};

/// OpenClaw's `openclaw.mountFormatVersion` label value.
pub const MOUNT_FORMAT_VERSION: &str = "4";

/// The docker (or podman) backend for one scope.
pub struct ContainerBackend {
    program: String,
    settings: SandboxSettings,
    workspace: PathBuf,
    scope_key: String,
    container: String,
    availability: Availability,
}

impl ContainerBackend {
    pub fn new(
        program: &str,
        settings: SandboxSettings,
        workspace: PathBuf,
        scope_key: &str,
        availability: Availability,
    ) -> Self {
        let container = container_name(&settings.container_prefix, scope_key);
        ContainerBackend {
            program: program.into(),
            settings,
            workspace,
            scope_key: scope_key.into(),
            container,
            availability,
        }
    }

    /// The container's name.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// The hash of what the container was created from (`openclaw.configHash`).
    pub fn config_hash(&self) -> String {
        let s = &self.settings;
        let text = format!(
            "{}|{}|{:?}|{}|{:?}|{}",
            s.image,
            s.network,
            s.workspace_access,
            self.workspace.display(),
            s.limits,
            s.container_workdir
        );
        crate::short_hash(&text)
    }

    /// `docker create …` for this scope (without the program name).
    pub fn create_args(&self, created_at_ms: u128) -> Vec<String> {
        let s = &self.settings;
        let mut a: Vec<String> = ["create", "--init", "--name", &self.container]
            .map(String::from)
            .to_vec();
        let labels = [
            "openclaw.sandbox=1".to_string(),
            format!("openclaw.sessionKey={}", self.scope_key),
            format!("openclaw.createdAtMs={created_at_ms}"),
            format!("openclaw.mountFormatVersion={MOUNT_FORMAT_VERSION}"),
            format!("openclaw.configHash={}", self.config_hash()),
        ];
        for l in labels {
            a.extend(["--label".into(), l]);
        }
        let net = if s.network { "bridge" } else { "none" };
        a.extend(["--read-only", "--network", net, "--cap-drop", "ALL"].map(String::from));
        a.extend(["--security-opt", "no-new-privileges"].map(String::from));
        if let Some(n) = s.limits.max_processes {
            a.extend(["--pids-limit".into(), n.to_string()]);
        }
        if let Some(m) = s.limits.max_memory_mb {
            a.extend(["--memory".into(), format!("{m}m")]);
        }
        for t in ["/tmp", "/var/tmp", "/run"] {
            a.extend(["--tmpfs".into(), t.into()]);
        }
        let wd = &s.container_workdir;
        let private = s.workspace_root.join(crate::slug(&self.scope_key));
        let ws = self.workspace.display();
        let mounts = match s.workspace_access {
            WorkspaceAccess::Rw => vec![format!("{ws}:{wd}")],
            WorkspaceAccess::Ro => vec![
                format!("{}:{wd}", private.display()),
                format!("{ws}:/agent:ro"),
            ],
            WorkspaceAccess::None => vec![format!("{}:{wd}", private.display())],
        };
        for m in mounts {
            a.extend(["-v".into(), m]);
        }
        a.extend([
            "-w".into(),
            wd.clone(),
            s.image.clone(),
            "sleep".into(),
            "infinity".into(),
        ]);
        a
    }

    fn run(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.program))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(format!(
                "{} {}: {}",
                self.program,
                args.first().copied().unwrap_or(""),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// Creates the container if it does not exist and starts it if it is not running.
    fn ensure_running(&self) -> Result<(), String> {
        match self.run(&["inspect", "-f", "{{.State.Running}}", &self.container]) {
            Ok(running) if running == "true" => return Ok(()),
            Ok(_) => {}
            Err(_) => {
                let private = self
                    .settings
                    .workspace_root
                    .join(crate::slug(&self.scope_key));
                std::fs::create_dir_all(&private)
                    .map_err(|e| format!("cannot create {}: {e}", private.display()))?;
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis())
                    .unwrap_or_default();
                let args = self.create_args(now);
                let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                self.run(&refs)?;
            }
        }
        self.run(&["start", &self.container]).map(|_| ())
    }
}

impl SandboxBackend for ContainerBackend {
    fn name(&self) -> &str {
        &self.program
    }

    fn availability(&self) -> &Availability {
        &self.availability
    }

    fn command(&self, req: &ExecRequest) -> Result<SandboxedCommand, String> {
        if let Some(why) = self.availability.refusal() {
            return Err(why);
        }
        self.ensure_running()?;
        let mut args: Vec<OsString> = ["exec", "-i", "-w", &self.settings.container_workdir]
            .map(OsString::from)
            .to_vec();
        for (k, v) in &req.env {
            args.extend(["-e".into(), format!("{k}={v}").into()]);
        }
        args.extend([
            OsString::from(&self.container),
            "/bin/sh".into(),
            "-lc".into(),
            req.script.clone().into(),
        ]);
        // The caller's environment is the command's marker.
        let marker = req.env.first();
        let cleanup =
            marker.map(|(k, v)| kill_inside(&self.program, &self.container, &format!("{k}={v}")));
        Ok(SandboxedCommand {
            program: PathBuf::from(&self.program),
            args,
            cwd: std::env::temp_dir(),
            env: Vec::new(),
            clear_env: false,
            join_cgroup: None,
            limits: None,
            cleanup,
        })
    }
}

/// On abort, kills every process in the container whose environment holds `marker` (in the
/// background: the caller must not wait for the daemon).
fn kill_inside(program: &str, name: &str, marker: &str) -> Cleanup {
    let (program, name, marker) = (program.to_owned(), name.to_owned(), marker.to_owned());
    Box::new(move |killed| {
        if !killed {
            return;
        }
        let script = format!(
            "for p in /proc/[0-9]*; do tr '\\0' '\\n' <\"$p/environ\" 2>/dev/null | grep -qx '{marker}' && kill -9 \"${{p#/proc/}}\"; done; true"
        );
        std::thread::spawn(move || {
            let _ = Command::new(&program)
                .args(["exec", &name, "/bin/sh", "-c", &script])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        });
    })
}

/// OpenClaw's container name: `<prefix><slug of the scope key>`, e.g.
/// `openclaw-sbx-agent-main-f331f052`.
pub fn container_name(prefix: &str, scope_key: &str) -> String {
    format!("{prefix}{}", crate::slug(scope_key))
}

/// One sandbox container (`docker ps -a` with the `openclaw.sandbox=1` label).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContainerRow {
    #[serde(rename = "Names")]
    pub name: String,
    #[serde(rename = "Image")]
    pub image: String,
    #[serde(rename = "State", default)]
    pub state: String,
    #[serde(rename = "Labels", default)]
    pub labels: String,
}

/// The sandbox containers `program` knows.
pub fn list_containers(program: &str) -> Result<Vec<ContainerRow>, String> {
    let out = Command::new(program)
        .args([
            "ps",
            "-a",
            "--filter",
            "label=openclaw.sandbox=1",
            "--format",
            "{{json .}}",
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).map_err(|e| format!("{program} ps: {e}")))
        .collect()
}

/// Removes a sandbox container (`rm -f`); the next command creates it afresh.
pub fn remove_container(program: &str, name: &str) -> Result<(), String> {
    let out = Command::new(program)
        .args(["rm", "-f", name])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openclaw_core::sandbox::{SandboxMode, SandboxSettings};
    use std::path::Path;

    #[test]
    fn create_command_has_openclaws_labels_name_and_sleep_infinity() {
        let mut s = SandboxSettings::off(Path::new("/state"));
        s.mode = SandboxMode::All;
        s.workspace_access = WorkspaceAccess::Rw;
        let avail = crate::probe::container("docker");
        let b = ContainerBackend::new("docker", s, "/ws".into(), "agent:main", avail);
        let name = b.container().to_owned();
        assert!(name.starts_with("openclaw-sbx-agent-main-"), "{name}");
        assert_eq!(name.len(), "openclaw-sbx-agent-main-".len() + 8);
        let a = b.create_args(1700000000000).join(" ");
        for part in [
            "create --init --name openclaw-sbx-agent-main-",
            "--label openclaw.sandbox=1",
            "--label openclaw.sessionKey=agent:main",
            "--label openclaw.createdAtMs=1700000000000",
            "--label openclaw.mountFormatVersion=4",
            "--label openclaw.configHash=",
            "--read-only --network none --cap-drop ALL --security-opt no-new-privileges",
            "--pids-limit 256 --memory 1024m",
            "-v /ws:/workspace -w /workspace openclaw-sandbox:bookworm-slim sleep infinity",
        ] {
            assert!(a.contains(part), "missing `{part}` in: {a}");
        }
    }
}
