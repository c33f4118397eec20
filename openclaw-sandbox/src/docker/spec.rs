//! What one scope's container is made of, as engine arguments: `create` (OpenClaw's labels,
//! `--init`, read-only root, network, capabilities, limits, tmpfs, the workspace mounted per
//! `workspaceAccess` with the secrets inside it hidden, `binds`, `user`, `--env-file`, the image
//! and `sleep infinity`), its `openclaw.configHash`, and each command's `exec`. Pure: nothing
//! here runs the engine.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use openclaw_core::sandbox::{SandboxSettings, Ulimit, WorkspaceAccess};

/// OpenClaw's `openclaw.mountFormatVersion` label value.
pub const MOUNT_FORMAT_VERSION: &str = "4";
/// Where the agent's workspace is mounted read-only with `workspaceAccess: ro`.
pub const AGENT_MOUNT: &str = "/agent";
/// The variable a requested `PATH` travels in (OpenClaw's), prepended inside the container.
pub const PREPEND_PATH_VAR: &str = "OPENCLAW_PREPEND_PATH";
/// Host paths a `binds` entry may not expose: the engines' control sockets (root on the host).
const FORBIDDEN_BINDS: [&str; 4] = [
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/podman/podman.sock",
    "/var/run/podman/podman.sock",
];

/// One scope's container.
pub struct Spec<'a> {
    pub settings: &'a SandboxSettings,
    /// The agent's workspace on the host.
    pub workspace: &'a Path,
    pub scope_key: &'a str,
    pub container: &'a str,
}

impl Spec<'_> {
    /// The private per-scope workspace (`workspaceAccess` `none` and `ro`).
    pub fn private_workspace(&self) -> PathBuf {
        self.settings
            .workspace_root
            .join(crate::slug(self.scope_key))
    }

    /// The empty directory bound read-only over hidden directories.
    pub fn empty_dir(&self) -> PathBuf {
        self.settings.workspace_root.join(".empty")
    }

    /// `--network`: `none` unless the network is on; then `docker.network` (or `bridge`).
    /// `host` and `container:<id>` are refused (they share the host's or another
    /// container's network namespace).
    pub fn network(&self) -> Result<String, String> {
        if !self.settings.network {
            return Ok("none".into());
        }
        match self.settings.docker.network.as_deref() {
            None | Some("none") | Some("") => Ok("bridge".into()),
            Some("host") => Err(
                "sandbox network \"host\" is refused: it shares the host's network (loopback \
                 services included); use \"bridge\" or a named network"
                    .into(),
            ),
            Some(n) if n.starts_with("container:") => Err(format!(
                "sandbox network \"{n}\" is refused: it joins another container's network"
            )),
            Some(n) => Ok(n.to_owned()),
        }
    }

    /// Everything `create` gets besides the name, the labels and the env file, in order,
    /// ending with `<image> sleep infinity`. An invalid setting is an error naming it.
    pub fn options(&self) -> Result<Vec<String>, String> {
        let s = self.settings;
        let d = &s.docker;
        let mut a: Vec<String> = Vec::new();
        if d.read_only_root.unwrap_or(true) {
            a.push("--read-only".into());
        }
        // A value that looks like an option would be read as one (`--privileged`).
        let mut flag_like: Option<String> = None;
        let mut push = |k: &str, v: String| {
            if v.starts_with('-') {
                flag_like.get_or_insert(format!("{k} {v}"));
            }
            a.push(k.to_owned());
            a.push(v);
        };
        push("--network", self.network()?);
        let caps = d.cap_drop.clone().unwrap_or_else(|| vec!["ALL".into()]);
        for c in caps {
            push("--cap-drop", c);
        }
        push("--security-opt", "no-new-privileges".into());
        if let Some(p) = &d.seccomp_profile {
            push("--security-opt", format!("seccomp={p}"));
        }
        if let Some(p) = &d.apparmor_profile {
            push("--security-opt", format!("apparmor={p}"));
        }
        if let Some(n) = s.limits.max_processes {
            push("--pids-limit", n.to_string());
        }
        match (&d.memory, s.limits.max_memory_mb) {
            (Some(m), _) => push("--memory", m.to_string()),
            (None, Some(m)) => push("--memory", format!("{m}m")),
            (None, None) => {}
        }
        if let Some(m) = &d.memory_swap {
            push("--memory-swap", m.to_string());
        }
        if let Some(c) = d.cpus {
            push("--cpus", c.to_string());
        }
        if let Some(g) = &d.gpus {
            push("--gpus", g.clone());
        }
        for (name, value) in self.ulimits() {
            push("--ulimit", format!("{name}={value}"));
        }
        for t in d
            .tmpfs
            .clone()
            .unwrap_or_else(|| ["/tmp", "/var/tmp", "/run"].map(String::from).to_vec())
        {
            push("--tmpfs", t);
        }
        for m in self.mounts()? {
            push(m.0, m.1);
        }
        for dns in d.dns.iter().flatten() {
            push("--dns", dns.clone());
        }
        for h in d.extra_hosts.iter().flatten() {
            push("--add-host", h.clone());
        }
        if let Some(u) = &d.user {
            push("--user", u.clone());
        }
        push("-w", s.container_workdir.clone());
        if s.image.starts_with('-') || s.image.is_empty() {
            flag_like.get_or_insert(format!("image {:?}", s.image));
        }
        if let Some(bad) = flag_like {
            return Err(format!(
                "sandbox.docker: `{bad}` is not a valid value (it would be read as an option)"
            ));
        }
        a.extend([s.image.clone(), "sleep".into(), "infinity".into()]);
        Ok(a)
    }

    /// `docker.ulimits` as configured, and nothing else: with any `--ulimit` podman drops
    /// its configured `default_ulimits`, and the sandbox's CPU-seconds and file-size limits
    /// are the native backend's (a container is bounded by `pidsLimit`, `memory` and `cpus`).
    fn ulimits(&self) -> BTreeMap<String, String> {
        self.settings
            .docker
            .ulimits
            .iter()
            .flatten()
            .map(|(k, v)| {
                let v = match v {
                    Ulimit::Both(n) => format!("{n}:{n}"),
                    Ulimit::Pair { soft, hard } => format!("{soft}:{hard}"),
                };
                (k.clone(), v)
            })
            .collect()
    }

    /// The workspace mounts per `workspaceAccess`, the secrets inside a mounted workspace
    /// hidden (an empty directory over a directory, `/dev/null` over a file), then `binds`.
    fn mounts(&self) -> Result<Vec<(&'static str, String)>, String> {
        let s = self.settings;
        let wd = s.container_workdir.as_str();
        let ws = self.workspace;
        let private = self.private_workspace();
        let shared: Option<(&Path, String, &str)> = match s.workspace_access {
            WorkspaceAccess::Rw => Some((ws, wd.to_owned(), "")),
            WorkspaceAccess::Ro => Some((ws, AGENT_MOUNT.to_owned(), ":ro")),
            WorkspaceAccess::None => None,
        };
        let mut out: Vec<(&'static str, String)> = Vec::new();
        if s.workspace_access != WorkspaceAccess::Rw {
            out.push(("-v", format!("{}:{wd}", private.display())));
        }
        if let Some((host, inside, mode)) = &shared {
            out.push(("-v", format!("{}:{inside}{mode}", host.display())));
            for secret in secrets_under(host, &s.state_dir) {
                let rel = secret.strip_prefix(host).unwrap_or(&secret);
                let target = Path::new(inside).join(rel);
                if secret.is_dir() {
                    // (A tmpfs here does not cover a bind below it under podman 4.)
                    let empty = self.empty_dir();
                    out.push(("-v", format!("{}:{}:ro", empty.display(), target.display())));
                } else {
                    out.push(("-v", format!("/dev/null:{}:ro", target.display())));
                }
            }
        }
        for b in s.docker.binds.iter().flatten() {
            self.check_bind(b)?;
            out.push(("-v", b.clone()));
        }
        Ok(out)
    }

    /// A `binds` entry is `<absolute host path>:<absolute container path>[:options]`, does
    /// not expose an engine socket or the state dir, and does not cover the workspace mounts.
    fn check_bind(&self, bind: &str) -> Result<(), String> {
        let mut parts = bind.split(':');
        let (host, inside) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let bad = |why: &str| Err(format!("sandbox.docker.binds \"{bind}\": {why}"));
        if !host.starts_with('/') || !inside.starts_with('/') {
            return bad("host and container paths must be absolute");
        }
        let host_path = Path::new(host);
        if FORBIDDEN_BINDS.iter().any(|f| host_path == Path::new(f)) {
            return bad("the container engine's socket would give the sandbox root on the host");
        }
        if self.settings.state_dir.starts_with(host_path) {
            return bad("it would expose the state dir (credentials, sessions)");
        }
        let inside = Path::new(inside);
        let reserved = [self.settings.container_workdir.as_str(), AGENT_MOUNT];
        if reserved.iter().any(|r| Path::new(r) == inside) {
            return bad("its target is a workspace mount");
        }
        Ok(())
    }

    /// `create` with OpenClaw's name, labels and env file, made at `created_at_ms`.
    pub fn create_args(
        &self,
        created_at_ms: u128,
        env_file: Option<&Path>,
    ) -> Result<Vec<String>, String> {
        let mut a: Vec<String> = [
            "create",
            "--init",
            "--pull",
            "never",
            "--name",
            self.container,
        ]
        .map(String::from)
        .to_vec();
        let labels = [
            "openclaw.sandbox=1".to_string(),
            format!("openclaw.sessionKey={}", self.scope_key),
            format!("openclaw.createdAtMs={created_at_ms}"),
            format!("openclaw.mountFormatVersion={MOUNT_FORMAT_VERSION}"),
            format!("openclaw.configHash={}", self.config_hash()?),
        ];
        for l in labels {
            a.extend(["--label".into(), l]);
        }
        let mut options = self.options()?;
        if let Some(f) = env_file {
            // Before `<image> sleep infinity`.
            let at = options.len() - 3;
            options.splice(at..at, ["--env-file".into(), f.display().to_string()]);
        }
        a.extend(options);
        Ok(a)
    }

    /// `openclaw.configHash`: what the container was created from (its options and env, and
    /// the setup command); a change means the container is recreated.
    pub fn config_hash(&self) -> Result<String, String> {
        let d = &self.settings.docker;
        let text = format!(
            "{}\0{:?}\0{:?}",
            self.options()?.join("\0"),
            d.env,
            d.setup_command
        );
        Ok(crate::short_hash(&text))
    }

    /// Where `cwd` (on the host) is inside the container: the same place under a mounted
    /// workspace, else the workdir.
    pub fn container_cwd(&self, cwd: &Path) -> String {
        let s = self.settings;
        let (base, inside) = match s.workspace_access {
            WorkspaceAccess::Rw => (self.workspace.to_path_buf(), s.container_workdir.clone()),
            _ => (self.private_workspace(), s.container_workdir.clone()),
        };
        match cwd.strip_prefix(&base) {
            Ok(rel) if !rel.as_os_str().is_empty() => {
                Path::new(&inside).join(rel).display().to_string()
            }
            _ => inside,
        }
    }
}

/// The state dir and the credentials (`crate::HOME_SECRETS`, under `$HOME` and at the top of
/// `root`) that exist strictly inside `root`.
fn secrets_under(root: &Path, state_dir: &Path) -> Vec<PathBuf> {
    let homes: Vec<PathBuf> = std::env::var_os("HOME")
        .map(PathBuf::from)
        .into_iter()
        .chain([root.to_path_buf()])
        .collect();
    let mut found: Vec<PathBuf> = std::iter::once(state_dir.to_path_buf())
        .chain(
            homes
                .iter()
                .flat_map(|h| crate::HOME_SECRETS.map(|s| h.join(s))),
        )
        .filter(|p| p.starts_with(root) && p != root && p.exists())
        .collect();
    found.sort();
    found.dedup();
    found
}

/// A temporary `--env-file` (mode 0600, deleted when dropped) with `vars`. A name or value
/// the format cannot carry (a newline, `=` in a name) is an error.
pub fn env_file(vars: &[(String, String)]) -> Result<tempfile::NamedTempFile, String> {
    let mut f = tempfile::Builder::new()
        .prefix("openclaw-sandbox-env-")
        .tempfile()
        .map_err(|e| format!("cannot create an env file: {e}"))?;
    let mut text = String::new();
    for (k, v) in vars {
        let bad_name = k.is_empty() || k.contains(['=', '\n', '\0']);
        if bad_name || v.contains(['\n', '\0']) {
            return Err(format!(
                "environment variable {k:?} cannot be passed to a container (newline, NUL or `=` in its name)"
            ));
        }
        text.push_str(&format!("{k}={v}\n"));
    }
    f.write_all(text.as_bytes())
        .and_then(|()| f.flush())
        .map_err(|e| format!("cannot write an env file: {e}"))?;
    Ok(f)
}

/// A command's variables for its env file and its script: a requested `PATH` travels as
/// [`PREPEND_PATH_VAR`] and is put in front of the container's own, as OpenClaw does.
pub fn exec_env_and_script(
    env: &[(String, String)],
    script: &str,
) -> (Vec<(String, String)>, String) {
    let mut vars = Vec::with_capacity(env.len());
    let mut prefix = String::new();
    for (k, v) in env {
        if k == "PATH" {
            vars.push((PREPEND_PATH_VAR.to_owned(), v.clone()));
            prefix = format!(
                "export PATH=\"${{{PREPEND_PATH_VAR}}}:$PATH\"; unset {PREPEND_PATH_VAR}; "
            );
        } else {
            vars.push((k.clone(), v.clone()));
        }
    }
    (vars, format!("{prefix}{script}"))
}
