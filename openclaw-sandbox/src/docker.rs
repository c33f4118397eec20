//! The docker/podman backend, command-compatible with OpenClaw's: one long-lived container per
//! scope, named `<prefix><slug>` and labelled as OpenClaw labels it (`spec`), created once
//! with `--init … sleep infinity` (recreated when its `openclaw.configHash` no longer matches
//! the config), its `setupCommand` run once after creation, and each command run as
//! `exec -i -w <dir> --env-file <tmp> <name> /bin/sh -lc <command>`. Every engine call has a
//! deadline (`engine`). Abort or timeout kills the exec client and, inside the container, the
//! command's processes — also those that left its session or cleared its environment.
//! Availability (engine answers, image present, settings valid) is checked when the config is
//! loaded.

mod engine;
mod spec;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use openclaw_core::sandbox::{
    Availability, Cleanup, ExecRequest, Layer, SandboxBackend, SandboxLimits, SandboxSettings,
    SandboxedCommand, WorkspaceAccess,
};
use openclaw_core::tool::proctree::MARKER_VAR;

pub use engine::{ContainerInfo, Engine};
pub use spec::{MOUNT_FORMAT_VERSION, PREPEND_PATH_VAR, Spec};

/// The docker (or podman) backend for one scope.
pub struct ContainerBackend {
    engine: Engine,
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
            engine: Engine::new(program),
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

    /// What the container is made of.
    pub fn spec(&self) -> Spec<'_> {
        Spec {
            settings: &self.settings,
            workspace: &self.workspace,
            scope_key: &self.scope_key,
            container: &self.container,
        }
    }

    /// Creates the container if there is none or its config hash is stale, and starts it if
    /// it is not running. One caller at a time per process (two sessions of one scope would
    /// otherwise both create it).
    pub fn ensure_running(&self) -> Result<(), String> {
        static CREATING: Mutex<()> = Mutex::new(());
        let _one = openclaw_core::sync::lock(&CREATING);
        let want = self.spec().config_hash()?;
        match self.engine.inspect(&self.container)? {
            Some(c)
                if c.label("openclaw.configHash") == Some(want.as_str())
                    && c.label("openclaw.mountFormatVersion") == Some(MOUNT_FORMAT_VERSION) =>
            {
                if c.state.running {
                    return Ok(());
                }
                self.engine
                    .call(&["start", &self.container], engine::CREATE)
                    .map(|_| ())
            }
            Some(_) => {
                tracing::info!(container = %self.container, "sandbox config changed: recreating");
                self.engine.remove(&self.container)?;
                self.create()
            }
            None => self.create(),
        }
    }

    /// `create`, `start` and the `setupCommand`; a failure removes the half-made container.
    fn create(&self) -> Result<(), String> {
        let spec = self.spec();
        if self.settings.workspace_access != WorkspaceAccess::Rw {
            prepare_private(
                &spec.private_workspace(),
                self.settings.docker.user.as_deref(),
            )?;
        }
        prepare_empty(&spec.empty_dir())?;
        let vars: Vec<(String, String)> = self
            .settings
            .docker
            .env
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let env_file = if vars.is_empty() {
            None
        } else {
            Some(spec::env_file(&vars)?)
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let args = spec.create_args(now, env_file.as_ref().map(|f| f.path()))?;
        self.engine.run(&args, engine::CREATE)?;
        let started = self
            .engine
            .call(&["start", &self.container], engine::CREATE)
            .and_then(|_| self.setup());
        if let Err(e) = started {
            let _ = self.engine.remove(&self.container);
            return Err(e);
        }
        Ok(())
    }

    /// Runs `setupCommand` once (`sh -lc`, as the container's user).
    fn setup(&self) -> Result<(), String> {
        let Some(cmd) = self.settings.docker.setup_command.as_deref() else {
            return Ok(());
        };
        self.engine
            .call(
                &["exec", "-i", &self.container, "/bin/sh", "-lc", cmd],
                engine::SETUP,
            )
            .map(|_| ())
            .map_err(|e| format!("sandbox setupCommand failed: {e}"))
    }
}

/// Creates the private workspace, owned by the container's user when that is numeric
/// (`uid[:gid]`), so `workspaceAccess: none` is writable inside.
fn prepare_private(dir: &Path, user: Option<&str>) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let Some(user) = user else { return Ok(()) };
    let mut ids = user.splitn(2, ':').map(|p| p.parse::<u32>().ok());
    let (uid, gid) = (ids.next().flatten(), ids.next().flatten());
    if uid.is_none() {
        return Ok(());
    }
    std::os::unix::fs::chown(dir, uid, gid.or(uid))
        .map_err(|e| format!("cannot hand {} to user {user}: {e}", dir.display()))
}

/// Creates the empty directory bound over hidden directories; one that is not empty (the
/// secrets would show through it) is an error.
fn prepare_empty(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    if entries.next().is_some() {
        return Err(format!(
            "{} must be empty (it is mounted over hidden directories)",
            dir.display()
        ));
    }
    Ok(())
}

impl SandboxBackend for ContainerBackend {
    fn name(&self) -> &str {
        &self.engine.program
    }

    fn availability(&self) -> &Availability {
        &self.availability
    }

    fn command(&self, req: &ExecRequest) -> Result<SandboxedCommand, String> {
        if let Some(why) = self.availability.refusal() {
            return Err(why);
        }
        self.ensure_running()?;
        let spec = self.spec();
        let (vars, script) = spec::exec_env_and_script(&req.env, &req.script);
        let env_file = spec::env_file(&vars)?;
        let args = [
            "exec".into(),
            "-i".into(),
            "-w".into(),
            spec.container_cwd(&req.cwd),
            "--env-file".into(),
            env_file.path().display().to_string(),
            self.container.clone(),
            "/bin/sh".into(),
            "-lc".into(),
            script,
        ]
        .map(Into::into)
        .to_vec();
        let marker = req
            .env
            .iter()
            .find(|(k, _)| k == MARKER_VAR)
            .map(|(_, v)| v.clone());
        let (engine, name) = (self.engine.clone(), self.container.clone());
        let cleanup: Cleanup = Box::new(move |killed| {
            drop(env_file);
            if let (true, Some(marker)) = (killed, marker) {
                std::thread::spawn(move || kill_inside(&engine, &name, &marker));
            }
        });
        Ok(SandboxedCommand {
            program: PathBuf::from(&self.engine.program),
            args,
            cwd: std::env::temp_dir(),
            env: Vec::new(),
            clear_env: false,
            join_cgroup: None,
            // The container has its own limits; the host's `tools.exec` rlimits on the engine
            // client would be inherited by podman's runtime and fail the exec.
            limits: Some(SandboxLimits {
                max_processes: None,
                max_memory_mb: None,
                max_file_size_mb: None,
                max_cpu_seconds: None,
            }),
            cleanup: Some(cleanup),
        })
    }
}

/// Kills the aborted command `marker`'s processes in the container (see
/// [`engine::KILL_SCRIPT`]); a failure is logged (the container's pids limit still bounds
/// what is left).
pub fn kill_inside(engine: &Engine, container: &str, marker: &str) {
    let own = format!("{MARKER_VAR}=kill-{marker}");
    let args = [
        "exec",
        "-e",
        &own,
        container,
        "/bin/sh",
        "-c",
        engine::KILL_SCRIPT,
        "sh",
        MARKER_VAR,
        marker,
    ];
    if let Err(e) = engine.call(&args, engine::QUICK) {
        tracing::warn!(container, "could not kill an aborted command inside: {e}");
    }
}

/// OpenClaw's container name: `<prefix><slug of the scope key>`, e.g.
/// `openclaw-sbx-agent-main-f331f052`.
pub fn container_name(prefix: &str, scope_key: &str) -> String {
    format!("{prefix}{}", crate::slug(scope_key))
}

/// The backend's layers for `settings` on `program`: the engine answers (checked once per
/// process), the settings make a valid container, and the image is present locally (checked
/// until it is: a missing image is refused at config load, never pulled mid-turn).
pub fn availability(program: &str, settings: &SandboxSettings) -> Availability {
    type Seen = Vec<(String, Result<String, String>)>;
    static ENGINES: OnceLock<Mutex<Seen>> = OnceLock::new();
    static IMAGES: OnceLock<Mutex<Vec<(String, String)>>> = OnceLock::new();
    let engine = Engine::new(program);
    let version = {
        let mut seen = openclaw_core::sync::lock(ENGINES.get_or_init(Default::default));
        match seen.iter().find(|(p, _)| p == program) {
            Some((_, r)) => r.clone(),
            None => {
                let r = engine
                    .version()
                    .map(|v| format!("{program} {v} answers"))
                    .map_err(|e| format!("{e} (is {program} installed and its daemon running?)"));
                seen.push((program.to_owned(), r.clone()));
                r
            }
        }
    };
    let probe = Spec {
        settings,
        workspace: Path::new("/"),
        scope_key: "probe",
        container: "probe",
    };
    let config = probe.options().map(|_| "valid".to_string());
    let image = &settings.image;
    let known = (program.to_owned(), image.clone());
    let present = {
        let seen = openclaw_core::sync::lock(IMAGES.get_or_init(Default::default));
        seen.contains(&known)
    };
    let image_layer = if present {
        Ok(format!("{image} present"))
    } else if version.is_err() {
        Err(format!("{image}: not checked (no engine)"))
    } else {
        match engine.has_image(image) {
            Ok(true) => {
                openclaw_core::sync::lock(IMAGES.get_or_init(Default::default)).push(known);
                Ok(format!("{image} present"))
            }
            Ok(false) => Err(format!(
                "image {image} is not present locally (build or pull it: `{program} pull`/`{program} build`; OpenClaw's scripts/sandbox-setup.sh builds the default)"
            )),
            Err(e) => Err(e),
        }
    };
    Availability {
        backend: program.into(),
        layers: vec![
            layer(program, version),
            layer("config", config),
            layer("image", image_layer),
        ],
    }
}

fn layer(name: &str, r: Result<String, String>) -> Layer {
    let (ok, detail) = match r {
        Ok(d) => (true, d),
        Err(d) => (false, d),
    };
    Layer {
        name: name.into(),
        ok,
        detail,
    }
}

/// One sandbox container as `openclaw sandbox list` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ContainerRow {
    pub name: String,
    pub image: String,
    /// `running`, `exited`, `created`, …
    pub state: String,
    /// `key=value` pairs, comma-separated (docker's `ps` format).
    pub labels: String,
}

/// The sandbox containers `program` knows.
pub fn list_containers(program: &str) -> Result<Vec<ContainerRow>, String> {
    let rows = Engine::new(program).list()?;
    Ok(rows
        .into_iter()
        .map(|c| {
            let labels = c
                .config
                .labels
                .iter()
                .flatten()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            ContainerRow {
                name: c.name,
                image: c.config.image,
                state: c.state.status,
                labels,
            }
        })
        .collect())
}

/// The state of container `name` (`running`, `exited`, …), or `None` when it does not exist.
pub fn container_state(program: &str, name: &str) -> Result<Option<String>, String> {
    Ok(Engine::new(program).inspect(name)?.map(|c| c.state.status))
}

impl ContainerRow {
    /// A label's value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels
            .split(',')
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    }
}

/// Removes a sandbox container (`rm -f`); the next command creates it afresh.
pub fn remove_container(program: &str, name: &str) -> Result<(), String> {
    Engine::new(program).remove(name)
}

#[cfg(test)]
mod tests;
