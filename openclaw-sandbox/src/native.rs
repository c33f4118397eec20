//! The native Linux backend: no daemon. Each command runs as
//! `bwrap <namespaces, mounts> -- <helper> <spec> -- <shell> -c <script>`: bubblewrap gives it
//! its own mount, pid, ipc, uts (and, unless `network` asks, network) namespaces, a root made
//! of the system directories read-only, a fresh `/proc`, `/dev`, `/tmp`, and the workspace as
//! configured; the home directory, the state dir and everything else are simply absent. The
//! helper then adds Landlock and seccomp before `exec`. A pids cgroup (when one is writable)
//! bounds the processes even for root, whom `RLIMIT_NPROC` does not bind.
//!
//! Where pids cgroups can be made, commands run in a [warm sandbox](crate::warm) instead: the
//! same bubblewrap and helper restrictions, started once per scope, each command forked inside
//! it by the in-sandbox server into a cgroup of its own. The one-shot path stays for machines
//! without a writable pids cgroup (nothing else could kill a command's leftovers there) and
//! when the pool of warm sandboxes is full.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use openclaw_core::sandbox::{
    Availability, ExecRequest, SandboxBackend, SandboxSettings, SandboxedCommand, WorkspaceAccess,
};

use openclaw_core::tool::ShellLimits;

use crate::cgroup::PidsCgroup;
use crate::helper::{HELPER_ARG, HelperSpec};
use crate::warm::client::CLIENT_ARG;
use crate::warm::wire::{RunRequest, WireLimits};

/// Where the helper is mounted inside the sandbox.
const HELPER_INSIDE: &str = "/run/openclaw/sandbox-exec";
/// The PATH a sandboxed command starts with.
const SANDBOX_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// System directories mounted read-only (or recreated as the symlinks they are).
const SYSTEM_DIRS: [&str; 8] = [
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc", "/opt",
];
/// Files and directories under `/etc` that hold secrets: hidden.
const ETC_SECRETS: [&str; 4] = ["/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/ssh"];

/// One mount of the workspace part of the tree.
enum Mount {
    Ro(PathBuf),
    Rw(PathBuf),
    Hide(PathBuf),
}

impl Mount {
    fn path(&self) -> &Path {
        match self {
            Mount::Ro(p) | Mount::Rw(p) | Mount::Hide(p) => p,
        }
    }
}

/// The native backend for one scope.
pub struct NativeBackend {
    settings: SandboxSettings,
    /// The agent's workspace on the host.
    workspace: PathBuf,
    /// The private workspace (`workspaceAccess: none`), under the workspace root.
    private_dir: PathBuf,
    bwrap: PathBuf,
    helper: PathBuf,
    availability: Availability,
    scope_key: String,
    /// Run commands in a warm sandbox where a pids cgroup can be made.
    warm: bool,
}

impl NativeBackend {
    pub fn new(
        settings: SandboxSettings,
        workspace: PathBuf,
        scope_key: &str,
        availability: Availability,
    ) -> Self {
        let private_dir = settings.workspace_root.join(crate::slug(scope_key));
        NativeBackend {
            settings,
            workspace,
            private_dir,
            bwrap: crate::probe::bwrap_path().unwrap_or_else(|| PathBuf::from("bwrap")),
            helper: crate::probe::helper_path().unwrap_or_default(),
            availability,
            scope_key: scope_key.to_owned(),
            warm: true,
        }
    }

    /// Every command the one-shot way (its own bubblewrap), never in a warm sandbox: for
    /// comparisons and for tests of that path.
    pub fn one_shot(mut self) -> Self {
        self.warm = false;
        self
    }

    /// The directory commands start in and the paths they may write.
    fn layout(&self, cwd: &Path) -> Result<(PathBuf, Vec<PathBuf>), String> {
        match self.settings.workspace_access {
            WorkspaceAccess::Rw => Ok((cwd.to_path_buf(), vec![self.workspace.clone()])),
            WorkspaceAccess::Ro => Ok((cwd.to_path_buf(), Vec::new())),
            WorkspaceAccess::None => {
                std::fs::create_dir_all(&self.private_dir).map_err(|e| {
                    format!(
                        "cannot create the sandbox workspace {}: {e}",
                        self.private_dir.display()
                    )
                })?;
                Ok((self.private_dir.clone(), vec![self.private_dir.clone()]))
            }
        }
    }

    /// bubblewrap's namespaces and mounts: everything up to the directory and environment.
    fn bwrap_mounts(&self, writable: &[PathBuf]) -> Vec<OsString> {
        let mut a: Vec<OsString> = Vec::new();
        let mut push = |items: &[&dyn AsRef<std::ffi::OsStr>]| {
            a.extend(items.iter().map(|s| s.as_ref().to_os_string()));
        };
        push(&[
            &"--die-with-parent",
            &"--unshare-all",
            &"--cap-drop",
            &"ALL",
        ]);
        if self.settings.network {
            push(&[&"--share-net"]);
        }
        for dir in SYSTEM_DIRS {
            match std::fs::read_link(dir) {
                Ok(target) => push(&[&"--symlink", &target, &dir]),
                Err(_) => push(&[&"--ro-bind-try", &dir, &dir]),
            }
        }
        for secret in ETC_SECRETS {
            if Path::new(secret).is_dir() {
                push(&[&"--tmpfs", &secret]);
            } else if Path::new(secret).exists() {
                push(&[&"--ro-bind", &"/dev/null", &secret]);
            }
        }
        push(&[&"--proc", &"/proc", &"--dev", &"/dev"]);
        push(&[
            &"--tmpfs",
            &"/tmp",
            &"--tmpfs",
            &"/var/tmp",
            &"--tmpfs",
            &"/run",
        ]);
        push(&[&"--ro-bind", &self.helper, &HELPER_INSIDE]);
        for m in self.mounts(writable) {
            match &m {
                Mount::Ro(p) => push(&[&"--ro-bind", p, p]),
                Mount::Rw(p) => push(&[&"--bind", p, p]),
                Mount::Hide(p) if p.is_dir() => push(&[&"--tmpfs", p]),
                Mount::Hide(p) => push(&[&"--ro-bind", &"/dev/null", p]),
            }
        }
        a
    }

    /// The whole environment of a command starting in `cwd`.
    fn command_env(cwd: &Path, extra: &[(String, String)]) -> Vec<(String, String)> {
        let home = cwd.to_string_lossy().into_owned();
        let base = [
            ("PATH", SANDBOX_PATH),
            ("HOME", home.as_str()),
            ("LANG", "C.UTF-8"),
            ("TMPDIR", "/tmp"),
            ("OPENCLAW_SHELL", "exec"),
            ("OPENCLAW_SANDBOX", "1"),
        ];
        base.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .chain(extra.iter().cloned())
            .collect()
    }

    /// bubblewrap's arguments up to (not including) the helper.
    fn bwrap_args(
        &self,
        cwd: &Path,
        writable: &[PathBuf],
        env: &[(String, String)],
    ) -> Vec<OsString> {
        let mut a = self.bwrap_mounts(writable);
        a.extend([
            "--chdir".into(),
            cwd.as_os_str().to_owned(),
            "--clearenv".into(),
        ]);
        for (k, v) in Self::command_env(cwd, env) {
            a.extend(["--setenv".into(), k.into(), v.into()]);
        }
        a
    }
}

impl NativeBackend {
    /// The workspace binds plus the secrets they would expose (the state dir, credentials
    /// under the home directory), hidden; ancestors first, so a hidden directory covers what
    /// a bind above it shows and a bind below it (a private workspace) still shows.
    fn mounts(&self, writable: &[PathBuf]) -> Vec<Mount> {
        let mut binds: Vec<Mount> = writable.iter().cloned().map(Mount::Rw).collect();
        if self.settings.workspace_access == WorkspaceAccess::Ro {
            binds.push(Mount::Ro(self.workspace.clone()));
        }
        // Credentials are looked for under HOME and at the top of each bound directory (a
        // workspace that is someone's home).
        let homes: Vec<PathBuf> = std::env::var_os("HOME")
            .map(PathBuf::from)
            .into_iter()
            .chain(binds.iter().map(|b| b.path().to_path_buf()))
            .collect();
        let secrets = std::iter::once(self.settings.state_dir.clone()).chain(
            homes
                .iter()
                .flat_map(|h| crate::HOME_SECRETS.map(|s| h.join(s))),
        );
        let exposed: Vec<Mount> = secrets
            .filter(|s| s.exists())
            .filter(|s| {
                binds
                    .iter()
                    .any(|b| s.starts_with(b.path()) && s != b.path())
            })
            .map(Mount::Hide)
            .collect();
        binds.extend(exposed);
        binds.sort_by_key(|m| m.path().components().count());
        binds
    }
}

impl SandboxBackend for NativeBackend {
    fn name(&self) -> &str {
        "native"
    }

    fn availability(&self) -> &Availability {
        &self.availability
    }

    fn command(&self, req: &ExecRequest) -> Result<SandboxedCommand, String> {
        if let Some(why) = self.availability.refusal() {
            return Err(why);
        }
        let (cwd, writable) = self.layout(&req.cwd)?;
        let mut spec_writable = writable.clone();
        spec_writable.extend(["/tmp", "/var/tmp", "/dev"].map(PathBuf::from));
        let spec = HelperSpec {
            writable: spec_writable,
            network: self.settings.network,
        };
        let spec = serde_json::to_string(&spec).map_err(|e| e.to_string())?;
        if self.warm && crate::cgroup::base().is_some() {
            if let Some(cmd) = self.warm_command(req, &cwd, &writable, &spec)? {
                return Ok(cmd);
            }
        }
        self.one_shot_command(req, cwd, &writable, &spec)
    }
}

impl NativeBackend {
    /// The command forked by this scope's warm sandbox (started if needed); `None` when the
    /// pool of warm sandboxes is full of busy ones.
    fn warm_command(
        &self,
        req: &ExecRequest,
        cwd: &Path,
        writable: &[PathBuf],
        spec: &str,
    ) -> Result<Option<SandboxedCommand>, String> {
        let mut mounts = self.bwrap_mounts(writable);
        mounts.extend(
            [
                "--chdir",
                "/",
                "--clearenv",
                "--setenv",
                "PATH",
                SANDBOX_PATH,
            ]
            .map(OsString::from),
        );
        let shape = shape_digest(&self.bwrap, &mounts, spec);
        let launch = || crate::warm::Launch {
            bwrap: self.bwrap.clone(),
            args: mounts.clone(),
            helper_inside: HELPER_INSIDE,
            spec: spec.to_owned(),
        };
        let Some((server, active)) = crate::warm::server_for(&self.scope_key, &shape, launch)?
        else {
            return Ok(None);
        };
        let Some(cgroup) = PidsCgroup::create(self.settings.limits.max_processes)? else {
            return Ok(None);
        };
        let limits = ShellLimits::from(&self.settings.limits);
        let request = RunRequest {
            program: req.shell.clone(),
            args: vec!["-c".into(), req.script.clone()],
            cwd: cwd.to_path_buf(),
            env: Self::command_env(cwd, &req.env),
            limits: WireLimits {
                max_file_size: limits.max_file_size,
                max_memory: limits.max_memory,
                max_cpu_seconds: limits.max_cpu_seconds,
            },
        };
        let request = serde_json::to_string(&request).map_err(|e| e.to_string())?;
        let procs = cgroup.procs_file();
        let mut client_limits = self.settings.limits;
        client_limits.max_processes = None;
        Ok(Some(SandboxedCommand {
            program: self.helper.clone(),
            args: vec![
                CLIENT_ARG.into(),
                server.socket().into(),
                procs.as_os_str().to_owned(),
                request.into(),
            ],
            cwd: cwd.to_path_buf(),
            env: Vec::new(),
            clear_env: true,
            join_cgroup: Some(procs),
            limits: Some(client_limits),
            cleanup: Some(Box::new(move |_killed| {
                cgroup.remove();
                drop(active);
            })),
        }))
    }

    /// `bwrap … <helper> <spec> -- <shell> -c <script>`: a sandbox of the command's own.
    fn one_shot_command(
        &self,
        req: &ExecRequest,
        cwd: PathBuf,
        writable: &[PathBuf],
        spec: &str,
    ) -> Result<SandboxedCommand, String> {
        let mut args = self.bwrap_args(&cwd, writable, &req.env);
        args.extend(
            [HELPER_INSIDE, HELPER_ARG, spec, "--"]
                .into_iter()
                .map(OsString::from),
        );
        args.push(req.shell.clone().into_os_string());
        args.push("-c".into());
        args.push(req.script.clone().into());
        let cgroup = match self.settings.limits.max_processes {
            Some(n) => PidsCgroup::create(Some(n))?,
            None => None,
        };
        let join_cgroup = cgroup.as_ref().map(PidsCgroup::procs_file);
        // The cgroup bounds the processes absolutely; RLIMIT_NPROC (per user, which needs a
        // scan of /proc to set) only where there is none.
        let mut limits = self.settings.limits;
        if cgroup.is_some() {
            limits.max_processes = None;
        }
        Ok(SandboxedCommand {
            program: self.bwrap.clone(),
            args,
            cwd,
            env: Vec::new(),
            clear_env: true,
            join_cgroup,
            limits: Some(limits),
            cleanup: cgroup.map(|c| -> openclaw_core::sandbox::Cleanup {
                Box::new(move |_killed| c.remove())
            }),
        })
    }
}

/// A digest of everything a warm sandbox is made of: bubblewrap, its arguments (mounts,
/// namespaces, hidden paths), the helper's spec.
fn shape_digest(bwrap: &Path, args: &[OsString], spec: &str) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(bwrap.as_os_str().as_encoded_bytes());
    for a in args {
        h.update([0u8]);
        h.update(a.as_encoded_bytes());
    }
    h.update([0u8]);
    h.update(spec.as_bytes());
    hex::encode(h.finalize())
}
