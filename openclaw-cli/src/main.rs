//! `openclaw`: the command-line entry point. Subcommands (`openclaw gateway …`, and later
//! `openclaw tui`, `openclaw sessions …`) go into [`Command`], each in its own module; without
//! one, the agent modes run with the flags of [`agent_args::AgentArgs`].

mod agent_args;
mod agent_mode;
mod gateway_cmd;

use clap::{Parser, Subcommand};

/// The OpenClaw agent.
#[derive(Debug, Parser)]
#[command(
    name = "openclaw",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    agent: agent_args::AgentArgs,
}

/// Subcommands. Add new ones here and dispatch them in `main`.
#[derive(Debug, Subcommand)]
enum Command {
    /// The OpenClaw gateway (WebSocket control plane).
    #[command(subcommand)]
    Gateway(gateway_cmd::GatewayCommand),
    /// Print the version and exit.
    Version,
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Some(Command::Gateway(cmd)) => gateway_cmd::run(cmd),
        Some(Command::Version) => {
            println!("openclaw {}", env!("CARGO_PKG_VERSION"));
            0
        }
        None => agent_mode::run(cli.agent),
    };
    std::process::exit(code);
}
