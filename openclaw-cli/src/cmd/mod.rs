//! The subcommands, one module each, and the dispatcher that picks one.

mod agents;
mod approvals;
mod channels;
mod channels_config;
mod chat;
mod config;
mod cron;
mod dashboard;
pub(crate) mod gateway;
mod health;
mod mcp;
mod memory;
pub(crate) mod models;
pub(crate) mod sandbox;
mod sessions;
mod sessions_export;
mod skills;
mod store;
mod system;
mod tui;

use std::io::IsTerminal;

use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::error::{CliError, CliResult};

/// Runs the parsed command line.
pub fn dispatch(cli: Cli) -> CliResult {
    match cli.command {
        // Without a terminal (pipes, CI) there is no screen to draw: read prompts line by line.
        None if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() => {
            chat::run(cli.agent)
        }
        None => tui::run(cli.agent, Default::default(), "main".into()),
        Some(Command::Tui(a)) => tui::run(a.agent, a.gateway, a.session_key),
        Some(Command::Chat(a)) => chat::run(a.agent),
        Some(Command::Gateway(c)) => gateway::run(c),
        Some(Command::Dashboard { no_open }) => dashboard::run(no_open),
        Some(Command::Sandbox(c)) => sandbox::run(c),
        Some(Command::Skills(c)) => skills::run(c),
        Some(Command::Approvals(c)) => approvals::run(c),
        Some(Command::Mcp(c)) => mcp::run(c),
        Some(Command::Memory(c)) => memory::run(c),
        Some(Command::Cron(c)) => cron::run(*c),
        Some(Command::Channels(c)) => channels::status(c),
        Some(Command::Pairing(c)) => channels::pairing(c),
        Some(Command::System(c)) => system::run(c),
        Some(Command::Version) => {
            crate::out!("openclaw {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some(Command::Agents(c)) => agents::run(c),
        Some(Command::Sessions(c)) => sessions::run(c),
        Some(Command::Models(c)) => models::run(c),
        Some(Command::Config(c)) => config::run(c),
        Some(Command::Health(a)) => health::health(a),
        Some(Command::Status(a)) => health::status(a),
        Some(Command::Completions { shell }) => {
            let mut cmd = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "openclaw", &mut script);
            // `openclaw completions bash | head` must not fail on a closed pipe.
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &script);
            Ok(())
        }
    }
}

/// A tokio runtime for the commands that need one.
pub(crate) fn runtime() -> CliResult<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("cannot start the async runtime: {e}")))
}
