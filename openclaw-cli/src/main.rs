//! `openclaw`: the command-line entry point. Parses the command line and hands it over: the
//! agent modes (`--mode`, `-p`) to [`agent_mode`], everything else to [`cmd::dispatch`]
//! (no subcommand opens the TUI). No work happens here.

mod agent_args;
mod agent_mode;
mod cli;
mod cmd;
mod cron_args;
mod error;
mod in_process;
mod malloc_tune;
mod mcp_args;
mod memory_args;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // The native sandbox starts this binary inside bubblewrap as its helper: that mode runs
    // before anything else and never returns.
    openclaw_sandbox::run_if_requested();
    if let Ok(exe) = std::env::current_exe() {
        openclaw_sandbox::set_helper_path(exe);
    }
    let cli = cli::Cli::parse();
    if cli.command.is_none() && (cli.agent.mode.is_some() || cli.agent.print) {
        let code = agent_mode::run(cli.agent);
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    match cmd::dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.code)
        }
    }
}
