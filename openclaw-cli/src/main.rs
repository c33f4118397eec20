//! `openclaw`: the command-line entry point. Parses the command line and hands it to the
//! command modules; no work happens here.

mod agent_args;
mod cli;
mod cmd;
mod error;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.code)
        }
    }
}
