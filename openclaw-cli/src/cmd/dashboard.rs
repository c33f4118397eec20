//! `openclaw dashboard [--no-open]`: the address of the local gateway's Control UI with the
//! gateway token in the URL fragment (`#token=`, as OpenClaw hands it over: a fragment never
//! reaches a server, a proxy or a log), printed and opened in the default browser.

use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use openclaw_gateway::GatewayOptions;

use crate::error::{CliError, CliResult};

/// Prints (and unless `no_open`, opens) the Control UI's address.
pub fn run(no_open: bool) -> CliResult {
    let local = GatewayOptions::from_env().map_err(|e| {
        CliError::failure(format!("cannot read the gateway configuration: {e}"))
            .hint("fix the file shown above (openclaw config validate)")
    })?;
    if !local.config.control_ui.enabled {
        return Err(CliError::failure(
            "the Control UI is off (gateway.controlUi.enabled is false)",
        )
        .hint("remove gateway.controlUi.enabled from openclaw.json, or set it to true"));
    }
    let creds = openclaw_gateway::local_credentials(&local.source.value, &local.state_dir);
    let token = local.config.auth.token.clone().or(creds.token);
    let url = openclaw_gateway::control_ui::url(&local.config, local.config.port, token.as_deref());
    crate::out!("Dashboard URL: {url}");
    if token.is_none() {
        eprintln!(
            "(no gateway token is configured: sign in on the page with the gateway password)"
        );
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], local.config.port));
    if TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_err() {
        eprintln!(
            "No gateway answers on port {} yet: start it with `openclaw gateway run`.",
            local.config.port
        );
    }
    if !no_open && !open_browser(&url) {
        eprintln!("Could not open a browser here; copy the URL above into one.");
    }
    Ok(())
}

/// Opens `url` with `$BROWSER`, else the desktop's opener; waits at most 5 s for the opener
/// (browsers fork and return) and reports whether it said yes.
fn open_browser(url: &str) -> bool {
    let opener = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open"
            } else {
                "xdg-open"
            }
            .to_owned()
        });
    let Ok(mut child) = Command::new(&opener)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    else {
        return false;
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            // Still running: the browser itself, most likely. Leave it be.
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}
