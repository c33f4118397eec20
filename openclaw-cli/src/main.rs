//! `openclaw`: the command-line entry point. Subcommands (`openclaw gateway …`, `openclaw tui`,
//! `openclaw sessions …`) go into [`Command`]; without one, the agent modes run with the flags
//! of [`agent_args::AgentArgs`].

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
    /// Print the version and exit.
    Version,
    /// The gateway: `run` serves it; `status` and `call` talk to a running one.
    Gateway {
        #[command(subcommand)]
        command: gateway_cmd::GatewayCommand,
    },
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Some(Command::Version) => {
            println!("openclaw {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Some(Command::Gateway { command }) => gateway_cmd::run(command),
        None => agent_mode::run(cli.agent),
    };
    std::process::exit(code);
}
