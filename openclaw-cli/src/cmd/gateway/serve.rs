//! `openclaw gateway run [--port N] [--bind loopback|lan]`: serve the OpenClaw gateway with the
//! agent host behind it (options from `openclaw_gateway::agent_host::options_from_env`).

use clap::{Args, ValueEnum};

/// Where the gateway listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Bind {
    Loopback,
    Lan,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The port (default from the configuration).
    #[arg(long)]
    pub port: Option<u16>,
    /// Listen on loopback only or on the LAN.
    #[arg(long, value_enum)]
    pub bind: Option<Bind>,
}

/// The gateway's options from the environment and config file, with the command line's
/// overrides.
fn options(args: &RunArgs) -> Result<openclaw_gateway::GatewayOptions, String> {
    let mut opts = openclaw_gateway::agent_host::options_from_env().map_err(|e| e.to_string())?;
    if let Some(port) = args.port {
        opts.config.port = port;
    }
    match args.bind {
        Some(Bind::Loopback) => opts.config.bind = openclaw_gateway::BindMode::Loopback,
        Some(Bind::Lan) => opts.config.bind = openclaw_gateway::BindMode::Lan,
        None => {}
    }
    Ok(opts)
}

/// Runs the gateway in the foreground until a signal; returns the exit code. A restart asked
/// for by the config (`gateway.reload.mode: "restart"`) starts it again in this process with
/// the options read afresh.
pub fn serve(args: RunArgs) -> i32 {
    let mut opts = match options(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("openclaw gateway run: {e}");
            return 2;
        }
    };
    crate::malloc_tune::apply();
    // A daemon's warnings (a channel that cannot reach its platform, a damaged record skipped)
    // go to stderr, the service manager's log; `OPENCLAW_LOG=debug` shows more.
    crate::agent_mode::init_logging_or("warn");
    // Whatever the agents' tools start stays in this process's tree, to be killed and reaped.
    if let Err(e) = openclaw_core::tool::proctree::become_subreaper() {
        eprintln!("openclaw gateway run: cannot become a child subreaper: {e}");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("openclaw gateway run: cannot start the runtime: {e}");
            return 1;
        }
    };
    let result: Result<(), String> = runtime.block_on(async move {
        loop {
            match openclaw_gateway::run(opts)
                .await
                .map_err(|e| e.to_string())?
            {
                openclaw_gateway::Stopped::Signal => return Ok(()),
                openclaw_gateway::Stopped::Restart => {
                    eprintln!("openclaw gateway: the config changed; restarting");
                    opts = options(&args)?;
                }
            }
        }
    });
    // Do not wait for stragglers: the gateway has already closed every socket.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("openclaw gateway run: {e}");
            1
        }
    }
}
