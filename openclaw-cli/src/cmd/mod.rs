//! The subcommands, one module each, and the dispatcher that picks one.

mod agents;
mod config;
mod health;
mod models;
mod sessions;
mod sessions_export;
mod store;

use clap::CommandFactory;

use crate::cli::{Cli, Command};
use crate::error::{CliError, CliResult};

/// Runs the parsed command line.
pub fn dispatch(cli: Cli) -> CliResult {
    match cli.command {
        None => Err(CliError::failure("the interactive chat needs the in-process engine, which this build does not have yet")
            .hint("attach to a gateway with `openclaw tui --url ws://127.0.0.1:18789 --token …`")),
        Some(Command::Tui(_)) | Some(Command::Chat(_)) => {
            Err(CliError::failure("the in-process engine is not available in this build yet"))
        }
        Some(Command::Agents(c)) => agents::run(c),
        Some(Command::Sessions(c)) => sessions::run(c),
        Some(Command::Models(c)) => models::run(c),
        Some(Command::Config(c)) => config::run(c),
        Some(Command::Health(a)) => health::health(a),
        Some(Command::Status(a)) => health::status(a),
        Some(Command::Completions { shell }) => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "openclaw", &mut std::io::stdout());
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
