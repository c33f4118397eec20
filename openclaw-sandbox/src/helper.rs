//! The in-sandbox helper: the first program bubblewrap starts. It restricts itself with
//! Landlock (read-only everywhere but the writable paths it is given; no TCP unless the
//! network is allowed) and a seccomp filter, then `exec`s the command. It is a mode of our own
//! binaries (`openclaw __openclaw-sandbox-exec <spec> -- <program> <args>`, or the small
//! `openclaw-sandbox-exec`), entered before anything else runs, so no thread exists yet.
//! Any failure exits 126 with the reason on stderr: the command never runs unrestricted.

use std::ffi::OsString;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The first argument that selects the helper mode.
pub const HELPER_ARG: &str = "__openclaw-sandbox-exec";

/// What the helper enforces before `exec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelperSpec {
    /// Paths the command may write below (everything else is read-only).
    pub writable: Vec<PathBuf>,
    /// Whether TCP connect/bind is allowed.
    pub network: bool,
}

/// If this process was started as the helper (`argv[1] == HELPER_ARG`), runs it and never
/// returns; otherwise returns at once. Call it first thing in `main`.
pub fn run_if_requested() {
    let mut args = std::env::args_os().skip(1);
    let Some(mode) = args.next() else {
        return;
    };
    let rest: Vec<OsString> = args.collect();
    let err = match mode.to_str() {
        Some(HELPER_ARG) => match run(rest) {
            Ok(never) => match never {},
            Err(e) => e,
        },
        #[cfg(target_os = "linux")]
        Some(crate::warm::server::SERVE_ARG) => match serve(rest) {
            Ok(never) => match never {},
            Err(e) => e,
        },
        #[cfg(target_os = "linux")]
        Some(crate::warm::client::CLIENT_ARG) => match client(rest) {
            Ok(code) => std::process::exit(code),
            Err(e) => e,
        },
        _ => return,
    };
    eprintln!("openclaw sandbox: {err}; the command was not run");
    std::process::exit(126);
}

/// `__openclaw-sandbox-serve <spec>` (inside bubblewrap).
#[cfg(target_os = "linux")]
fn serve(args: Vec<OsString>) -> Result<std::convert::Infallible, String> {
    let spec = args.first().ok_or("missing the server spec")?;
    let spec: HelperSpec = serde_json::from_str(&spec.to_string_lossy())
        .map_err(|e| format!("bad server spec: {e}"))?;
    crate::warm::server::serve(&spec)
}

/// `__openclaw-sandbox-client <socket> <cgroup.procs> <request>` (on the host).
#[cfg(target_os = "linux")]
fn client(args: Vec<OsString>) -> Result<i32, String> {
    let [socket, procs, request] = <[OsString; 3]>::try_from(args)
        .map_err(|_| "usage: <socket> <cgroup.procs> <request>".to_string())?;
    crate::warm::client::run(
        &socket.to_string_lossy(),
        &procs.to_string_lossy(),
        &request.to_string_lossy(),
    )
}

enum Never {}

fn run(args: Vec<OsString>) -> Result<Never, String> {
    let mut it = args.into_iter();
    let spec = it.next().ok_or("missing the helper spec")?;
    let spec: HelperSpec = serde_json::from_str(&spec.to_string_lossy())
        .map_err(|e| format!("bad helper spec: {e}"))?;
    if it.next().as_deref() != Some(std::ffi::OsStr::new("--")) {
        return Err("missing `--` before the command".into());
    }
    let program = it.next().ok_or("missing the command")?;
    let rest: Vec<OsString> = it.collect();
    restrict(&spec)?;
    let err =
        std::os::unix::process::CommandExt::exec(std::process::Command::new(&program).args(&rest));
    Err(format!("cannot run {}: {err}", program.to_string_lossy()))
}

#[cfg(target_os = "linux")]
pub(crate) fn restrict(spec: &HelperSpec) -> Result<(), String> {
    crate::landlock_rules::apply(spec)?;
    crate::seccomp::apply()
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn restrict(_: &HelperSpec) -> Result<(), String> {
    Err("the native sandbox needs Linux".into())
}
