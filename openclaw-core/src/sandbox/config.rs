//! The sandbox section of `openclaw.json` with OpenClaw's keys: `agents.defaults.sandbox` and
//! the per-agent `sandbox` (in `agents.list[]` or `agents.entries.<id>`), plus
//! `tools.exec.host` (top level, then the agent's `tools.exec.host`). [`SandboxConfig`] is a
//! section as written; [`SandboxSettings`] is what one agent runs with after layering.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// OpenClaw's default `docker.image`.
pub const DEFAULT_DOCKER_IMAGE: &str = "openclaw-sandbox:bookworm-slim";
/// OpenClaw's default `docker.containerPrefix`.
pub const DEFAULT_CONTAINER_PREFIX: &str = "openclaw-sbx-";
/// Default cap on the processes a sandboxed command may run at once (OpenClaw's `pidsLimit`).
pub const DEFAULT_PIDS_LIMIT: u64 = 256;
/// Default memory cap of a sandboxed process, in MiB (OpenClaw's `memory: "1g"`).
pub const DEFAULT_MEMORY_MB: u64 = 1024;
/// Default cap on a file a sandboxed command writes, in MiB.
pub const DEFAULT_FILE_SIZE_MB: u64 = 1024;
/// Default CPU seconds per sandboxed process.
pub const DEFAULT_CPU_SECONDS: u64 = 600;

/// `sandbox.mode`: which sessions are sandboxed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    #[default]
    Off,
    /// Every session except the agent's main session key (`agent:<id>:main`).
    NonMain,
    All,
}

/// `sandbox.scope`: what one sandbox (container, private workspace) is shared by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxScope {
    Session,
    #[default]
    Agent,
    Shared,
}

/// `sandbox.workspaceAccess`: how the agent's workspace is visible inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkspaceAccess {
    /// A private per-scope workspace under `<stateDir>/sandboxes/`; the agent's is not visible.
    #[default]
    None,
    Ro,
    Rw,
}

/// `sandbox.backend`. `native` (bubblewrap + Landlock + seccomp) is ours and the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    #[default]
    Native,
    Docker,
    Podman,
}

/// `tools.exec.host`: where `bash` runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExecHost {
    /// In the sandbox when the session is sandboxed, else on the gateway's host.
    #[default]
    Auto,
    /// Always in the sandbox; refused when the session is not sandboxed (fails closed).
    Sandbox,
    /// Always on the gateway's host, even for a sandboxed session.
    Gateway,
    /// On a paired node host (OpenClaw's); accepted in the config, refused when a command
    /// runs: openclaw-rs has no node hosts yet.
    Node,
}

/// `sandbox.docker`: OpenClaw's keys for the docker/podman backend. `image`, `containerPrefix`,
/// `workdir`, `network` and `pidsLimit` also land in [`SandboxSettings`]' own fields; the rest is
/// kept here, layered key by key (an agent's key replaces the default's, `env` maps merge).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workdir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<ByteSize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_swap: Option<ByteSize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only_root: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap_drop: Option<Vec<String>>,
    /// Variables of the container (`--env-file` at creation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<std::collections::BTreeMap<String, String>>,
    /// Runs once after the container is created (`sh -lc`, as the container's user).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub setup_command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ulimits: Option<std::collections::BTreeMap<String, Ulimit>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seccomp_profile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apparmor_profile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra_hosts: Option<Vec<String>>,
    /// `host:container[:ro|rw]` binds besides the workspace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binds: Option<Vec<String>>,
}

impl DockerConfig {
    /// `self` over `base`: each key set here wins; `env` maps merge.
    pub fn over(&self, base: &DockerConfig) -> DockerConfig {
        let c = self.clone();
        let b = base.clone();
        let env = match (b.env, c.env) {
            (Some(mut m), Some(own)) => {
                m.extend(own);
                Some(m)
            }
            (m, own) => own.or(m),
        };
        DockerConfig {
            image: c.image.or(b.image),
            container_prefix: c.container_prefix.or(b.container_prefix),
            workdir: c.workdir.or(b.workdir),
            network: c.network.or(b.network),
            user: c.user.or(b.user),
            pids_limit: c.pids_limit.or(b.pids_limit),
            memory: c.memory.or(b.memory),
            memory_swap: c.memory_swap.or(b.memory_swap),
            cpus: c.cpus.or(b.cpus),
            gpus: c.gpus.or(b.gpus),
            read_only_root: c.read_only_root.or(b.read_only_root),
            tmpfs: c.tmpfs.or(b.tmpfs),
            cap_drop: c.cap_drop.or(b.cap_drop),
            env,
            setup_command: c.setup_command.or(b.setup_command),
            ulimits: c.ulimits.or(b.ulimits),
            seccomp_profile: c.seccomp_profile.or(b.seccomp_profile),
            apparmor_profile: c.apparmor_profile.or(b.apparmor_profile),
            dns: c.dns.or(b.dns),
            extra_hosts: c.extra_hosts.or(b.extra_hosts),
            binds: c.binds.or(b.binds),
        }
    }
}

/// A size as docker takes it: `"1g"`, `"512m"`, or a number of bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ByteSize {
    Bytes(u64),
    Text(String),
}

impl std::fmt::Display for ByteSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ByteSize::Bytes(n) => write!(f, "{n}"),
            ByteSize::Text(t) => f.write_str(t),
        }
    }
}

/// One `docker.ulimits` entry: a number (soft = hard) or `{soft, hard}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Ulimit {
    Both(i64),
    Pair { soft: i64, hard: i64 },
}

/// `sandbox.limits` (ours; 0 means unlimited).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxLimitsConfig {
    pub max_processes: Option<u64>,
    pub max_memory_mb: Option<u64>,
    pub max_file_size_mb: Option<u64>,
    pub max_cpu_seconds: Option<u64>,
}

/// One `sandbox` section as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxConfig {
    pub mode: Option<SandboxMode>,
    pub backend: Option<BackendKind>,
    pub scope: Option<SandboxScope>,
    pub workspace_access: Option<WorkspaceAccess>,
    pub workspace_root: Option<String>,
    /// `"none"` (default) or `"host"`/`"bridge"`: whether the command may use the network.
    pub network: Option<String>,
    #[serde(default)]
    pub limits: SandboxLimitsConfig,
    pub docker: Option<DockerConfig>,
}

/// The resource limits a sandboxed command runs under (`None`: unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxLimits {
    pub max_processes: Option<u64>,
    pub max_memory_mb: Option<u64>,
    pub max_file_size_mb: Option<u64>,
    pub max_cpu_seconds: Option<u64>,
}

impl Default for SandboxLimits {
    fn default() -> Self {
        SandboxLimits {
            max_processes: Some(DEFAULT_PIDS_LIMIT),
            max_memory_mb: Some(DEFAULT_MEMORY_MB),
            max_file_size_mb: Some(DEFAULT_FILE_SIZE_MB),
            max_cpu_seconds: Some(DEFAULT_CPU_SECONDS),
        }
    }
}

/// One agent's sandbox after layering its section over `agents.defaults.sandbox`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxSettings {
    pub mode: SandboxMode,
    pub backend: BackendKind,
    pub scope: SandboxScope,
    pub workspace_access: WorkspaceAccess,
    /// Where private workspaces live (`<stateDir>/sandboxes` unless configured).
    pub workspace_root: PathBuf,
    /// The state dir: hidden inside the sandbox even when a bound workspace contains it.
    pub state_dir: PathBuf,
    /// Whether the command may use the network.
    pub network: bool,
    pub limits: SandboxLimits,
    pub exec_host: ExecHost,
    pub image: String,
    pub container_prefix: String,
    /// The workdir inside a container.
    pub container_workdir: String,
    /// The rest of `sandbox.docker`, layered.
    pub docker: DockerConfig,
}

impl SandboxSettings {
    /// Sandboxing off, exec on the host: the defaults.
    pub fn off(state_dir: &std::path::Path) -> Self {
        SandboxSettings {
            mode: SandboxMode::Off,
            backend: BackendKind::Native,
            scope: SandboxScope::Agent,
            workspace_access: WorkspaceAccess::None,
            workspace_root: state_dir.join("sandboxes"),
            state_dir: state_dir.to_path_buf(),
            network: false,
            limits: SandboxLimits::default(),
            exec_host: ExecHost::Auto,
            image: DEFAULT_DOCKER_IMAGE.into(),
            container_prefix: DEFAULT_CONTAINER_PREFIX.into(),
            container_workdir: "/workspace".into(),
            docker: DockerConfig::default(),
        }
    }

    /// Whether the session `session_key` of agent `agent_id` is sandboxed: `non-main` spares
    /// only the agent's main session key `agent:<id>:main` (and `global`), as OpenClaw.
    pub fn applies_to(&self, agent_id: &str, session_key: Option<&str>) -> bool {
        match self.mode {
            SandboxMode::Off => false,
            SandboxMode::All => true,
            SandboxMode::NonMain => match session_key {
                None => false,
                Some(k) => k != format!("agent:{agent_id}:main") && k != "global",
            },
        }
    }

    /// The key one sandbox is shared under: `shared`, `agent:<id>` or the session key.
    pub fn scope_key(&self, agent_id: &str, session_key: Option<&str>) -> String {
        match (self.scope, session_key) {
            (SandboxScope::Shared, _) => "shared".into(),
            (SandboxScope::Session, Some(k)) => k.to_owned(),
            _ => format!("agent:{agent_id}"),
        }
    }

    /// Layers `sections` (defaults first, then the agent's) and `hosts` (`tools.exec.host`:
    /// top level, then the agent's) over the defaults.
    pub fn layered<'a>(
        state_dir: &std::path::Path,
        sections: impl IntoIterator<Item = &'a SandboxConfig>,
        hosts: impl IntoIterator<Item = ExecHost>,
    ) -> Self {
        let mut s = SandboxSettings::off(state_dir);
        for c in sections {
            s.apply(c);
        }
        if let Some(h) = hosts.into_iter().last() {
            s.exec_host = h;
        }
        s
    }

    fn apply(&mut self, c: &SandboxConfig) {
        fn set<T>(dst: &mut T, v: Option<T>) {
            if let Some(v) = v {
                *dst = v;
            }
        }
        set(&mut self.mode, c.mode);
        set(&mut self.backend, c.backend);
        set(&mut self.scope, c.scope);
        set(&mut self.workspace_access, c.workspace_access);
        if let Some(root) = &c.workspace_root {
            self.workspace_root = crate::config::expand_home(std::path::Path::new(root));
        }
        let docker = c.docker.clone().unwrap_or_default();
        if let Some(net) = c.network.as_deref().or(docker.network.as_deref()) {
            self.network = net != "none";
        }
        let l = &c.limits;
        let lim = |v: u64| (v > 0).then_some(v);
        let pids = l.max_processes.or(docker.pids_limit);
        if let Some(n) = pids {
            self.limits.max_processes = lim(n);
        }
        if let Some(n) = l.max_memory_mb {
            self.limits.max_memory_mb = lim(n);
        }
        if let Some(n) = l.max_file_size_mb {
            self.limits.max_file_size_mb = lim(n);
        }
        if let Some(n) = l.max_cpu_seconds {
            self.limits.max_cpu_seconds = lim(n);
        }
        set(&mut self.image, docker.image.clone());
        set(&mut self.container_prefix, docker.container_prefix.clone());
        set(&mut self.container_workdir, docker.workdir.clone());
        self.docker = docker.over(&self.docker);
    }

    /// Agent `agent_id`'s sandbox from a parsed `openclaw.json` (a section that does not parse
    /// is an error naming it).
    pub fn from_openclaw_json(
        raw: &Value,
        agent_id: &str,
        state_dir: &std::path::Path,
    ) -> Result<Self, String> {
        let entry = agent_entry(raw, agent_id);
        let section = |v: Option<&Value>, name: &str| -> Result<Option<SandboxConfig>, String> {
            v.map(|v| serde_json::from_value(v.clone()).map_err(|e| format!("{name}: {e}")))
                .transpose()
        };
        let host = |v: Option<&Value>, name: &str| -> Result<Option<ExecHost>, String> {
            v.map(|v| {
                serde_json::from_value(v.clone())
                    .map_err(|e| format!("{name}: {e} (auto | sandbox | gateway | node)"))
            })
            .transpose()
        };
        let defaults = section(
            raw.pointer("/agents/defaults/sandbox"),
            "agents.defaults.sandbox",
        )?;
        let own = section(
            entry.and_then(|e| e.get("sandbox")),
            &format!("agent {agent_id}: sandbox"),
        )?;
        let top_host = host(raw.pointer("/tools/exec/host"), "tools.exec.host")?;
        let own_host = host(
            entry.and_then(|e| e.pointer("/tools/exec/host")),
            &format!("agent {agent_id}: tools.exec.host"),
        )?;
        Ok(SandboxSettings::layered(
            state_dir,
            defaults.iter().chain(own.iter()),
            top_host.into_iter().chain(own_host),
        ))
    }
}

/// Agent `id`'s entry in `agents.list[]` or `agents.entries`.
fn agent_entry<'a>(raw: &'a Value, id: &str) -> Option<&'a Value> {
    let in_list = raw
        .pointer("/agents/list")
        .and_then(Value::as_array)
        .and_then(|l| {
            l.iter()
                .find(|e| e.get("id").and_then(Value::as_str) == Some(id))
        });
    in_list.or_else(|| raw.pointer("/agents/entries").and_then(|e| e.get(id)))
}

/// The agent ids a config names (`agents.list[].id`, `agents.entries` keys; `main` if none).
pub fn configured_agents(raw: &Value) -> Vec<String> {
    let mut ids: Vec<String> = raw
        .pointer("/agents/list")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect();
    if let Some(m) = raw.pointer("/agents/entries").and_then(Value::as_object) {
        ids.extend(
            m.keys()
                .filter(|k| !ids.contains(k))
                .cloned()
                .collect::<Vec<_>>(),
        );
    }
    if ids.is_empty() {
        ids.push("main".into());
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    #[test]
    fn agent_section_layers_over_defaults_and_host_comes_last() {
        let raw = json!({
            "tools": {"exec": {"host": "sandbox"}},
            "agents": {
                "defaults": {"sandbox": {"mode": "non-main", "workspaceAccess": "ro",
                    "docker": {"pidsLimit": 64, "network": "bridge"}}},
                "entries": {"ops": {"sandbox": {"mode": "all", "network": "none",
                    "limits": {"maxMemoryMb": 0}}, "tools": {"exec": {"host": "gateway"}}}}
            }
        });
        let main = SandboxSettings::from_openclaw_json(&raw, "main", Path::new("/s")).unwrap();
        assert_eq!(main.mode, SandboxMode::NonMain);
        assert_eq!(main.workspace_access, WorkspaceAccess::Ro);
        assert!(main.network);
        assert_eq!(main.limits.max_processes, Some(64));
        assert_eq!(main.exec_host, ExecHost::Sandbox);
        assert_eq!(main.workspace_root, Path::new("/s/sandboxes"));
        let ops = SandboxSettings::from_openclaw_json(&raw, "ops", Path::new("/s")).unwrap();
        assert_eq!(ops.mode, SandboxMode::All);
        assert!(!ops.network);
        assert_eq!(ops.limits.max_memory_mb, None);
        assert_eq!(ops.exec_host, ExecHost::Gateway);
        let bad = json!({"agents": {"defaults": {"sandbox": {"mode": "sometimes"}}}});
        let err = SandboxSettings::from_openclaw_json(&bad, "main", Path::new("/s")).unwrap_err();
        assert!(err.contains("agents.defaults.sandbox"), "{err}");
    }

    #[test]
    fn docker_keys_layer_key_by_key_and_env_maps_merge() {
        let raw = json!({"agents": {
            "defaults": {"sandbox": {"docker": {
                "image": "base:1", "user": "1000:1000", "cpus": 1, "memory": "1g",
                "env": {"LANG": "C.UTF-8", "A": "1"}, "binds": ["/a:/a:ro"],
                "setupCommand": "apt-get install -y git", "ulimits": {"nofile": {"soft": 1, "hard": 2}}
            }}},
            "entries": {"ops": {"sandbox": {"docker": {
                "image": "ops:2", "memory": 536870912, "env": {"A": "2"}, "binds": []
            }}}}
        }});
        let main = SandboxSettings::from_openclaw_json(&raw, "main", Path::new("/s")).unwrap();
        assert_eq!(main.image, "base:1");
        assert_eq!(main.docker.user.as_deref(), Some("1000:1000"));
        assert_eq!(main.docker.memory, Some(ByteSize::Text("1g".into())));
        assert_eq!(
            main.docker.ulimits.unwrap()["nofile"],
            Ulimit::Pair { soft: 1, hard: 2 }
        );
        let ops = SandboxSettings::from_openclaw_json(&raw, "ops", Path::new("/s")).unwrap();
        assert_eq!(ops.image, "ops:2");
        assert_eq!(ops.docker.cpus, Some(1.0));
        assert_eq!(ops.docker.memory, Some(ByteSize::Bytes(536870912)));
        let env = ops.docker.env.unwrap();
        assert_eq!((env["LANG"].as_str(), env["A"].as_str()), ("C.UTF-8", "2"));
        assert_eq!(ops.docker.binds, Some(Vec::new()));
        assert_eq!(
            ops.docker.setup_command.as_deref(),
            Some("apt-get install -y git")
        );
        let bad = json!({"agents": {"defaults": {"sandbox": {"docker": {"binds": "/a:/a"}}}}});
        assert!(SandboxSettings::from_openclaw_json(&bad, "main", Path::new("/s")).is_err());
    }

    #[test]
    fn non_main_spares_only_the_agents_main_key() {
        let mut s = SandboxSettings::off(Path::new("/s"));
        assert!(!s.applies_to("main", Some("agent:main:telegram:group:1")));
        s.mode = SandboxMode::NonMain;
        assert!(!s.applies_to("main", Some("agent:main:main")));
        assert!(s.applies_to("main", Some("agent:main:telegram:group:1")));
        assert!(s.applies_to("ops", Some("agent:main:main")));
        assert!(!s.applies_to("main", None));
        s.mode = SandboxMode::All;
        assert!(s.applies_to("main", Some("agent:main:main")));
        assert!(s.applies_to("main", None));
        assert_eq!(s.scope_key("main", Some("k")), "agent:main");
        s.scope = SandboxScope::Session;
        assert_eq!(s.scope_key("main", Some("k")), "k");
    }
}
