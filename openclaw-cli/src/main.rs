//! `openclaw`: the command-line entry point.
//!
//! For now only `openclaw gateway run [--port N] [--bind loopback|lan]` is wired (a minimal
//! stand-in until the CLI design lands); everything else prints the version.

use std::process::ExitCode;

fn gateway_run(args: &[String]) -> ExitCode {
    let mut opts = match openclaw_rpc::gateway::GatewayOptions::from_env() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("openclaw gateway run: {e}");
            return ExitCode::from(2);
        }
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match (arg.as_str(), it.next()) {
            ("--port", Some(v)) => match v.parse() {
                Ok(p) => opts.config.port = p,
                Err(_) => {
                    eprintln!("openclaw gateway run: --port needs a number, got {v:?}");
                    return ExitCode::from(2);
                }
            },
            ("--bind", Some(v)) if v == "loopback" => {
                opts.config.bind = openclaw_rpc::gateway::BindMode::Loopback
            }
            ("--bind", Some(v)) if v == "lan" => {
                opts.config.bind = openclaw_rpc::gateway::BindMode::Lan
            }
            (other, _) => {
                eprintln!(
                    "openclaw gateway run: unknown option {other:?} (supported: --port N, --bind loopback|lan)"
                );
                return ExitCode::from(2);
            }
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("openclaw gateway run: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(openclaw_rpc::gateway::run(opts));
    // Do not wait for stragglers: the gateway has already closed every socket.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("openclaw gateway run: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("gateway")
        && args.get(1).map(String::as_str) == Some("run")
    {
        return gateway_run(&args[2..]);
    }
    println!("openclaw {}", env!("CARGO_PKG_VERSION"));
    ExitCode::SUCCESS
}
