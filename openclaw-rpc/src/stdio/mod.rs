//! `openclaw --mode rpc`: pi's JSONL protocol over stdin/stdout, driving an [`Engine`].
//!
//! [`framing`] owns the line format, [`wire`] the envelopes and pi's error behaviour for lines
//! that are not commands, [`commands`] the catalogue, [`output`] the stdout writer,
//! [`partial`] the incremental serialisation of `message_update` events.
//!
//! Lines are dispatched as they arrive: quick commands are answered in order, long ones
//! (`bash`, `compact`, `abort`, session switches) run on their own task so `get_state` and
//! friends are answered meanwhile. Stdin EOF ends the mode at once with exit code 0, even while
//! a run streams (as pi does; session entries are appended as they happen, so nothing already
//! written is lost). SIGTERM and SIGHUP abort the run and end with 143 and 129.

pub mod commands;
pub mod framing;
#[doc(hidden)]
pub mod fuzzing;
pub mod output;
pub mod partial;
pub mod wire;

use std::time::Duration;

use openclaw_core::engine::Engine;
use tokio::io::BufReader;

use framing::{DEFAULT_MAX_LINE_BYTES, LineReader};
use output::Output;
use wire::{Incoming, parse_line};

/// How long a signal waits for the aborted run to wind down before exiting anyway.
const SIGNAL_ABORT_GRACE: Duration = Duration::from_secs(2);

/// Serve the protocol on stdin/stdout until EOF or a signal; returns the process exit code.
pub async fn run(engine: Engine) -> i32 {
    // Whatever the tools start stays in this process's tree, to be killed and reaped.
    if let Err(e) = openclaw_core::tool::proctree::become_subreaper() {
        tracing::warn!("cannot become a child subreaper: {e}");
    }
    let out = Output::spawn(output::stdout_sink());
    serve(engine, out, tokio::io::stdin()).await
}

/// Serve the protocol on `input`, writing to `out`; returns the exit code.
pub async fn serve<R>(engine: Engine, out: Output, input: R) -> i32
where
    R: tokio::io::AsyncRead + Unpin,
{
    let events_out = out.clone();
    let subscription = engine.subscribe(move |event| events_out.send_event(event));
    let mut reader = LineReader::new(BufReader::new(input), DEFAULT_MAX_LINE_BYTES);
    let mut signals = Signals::new();
    let code = loop {
        tokio::select! {
            line = reader.next_line() => {
                let line = match line {
                    Ok(Some(line)) => line,
                    // EOF (or a broken stdin): exit now, like pi.
                    Ok(None) | Err(_) => break 0,
                };
                match parse_line(line) {
                    Incoming::Reject(response) => out.send(&response),
                    Incoming::Command(cmd) => {
                        if commands::is_long_running(&cmd.kind) {
                            let engine = engine.clone();
                            let out = out.clone();
                            tokio::spawn(async move { commands::dispatch(&engine, &out, cmd).await });
                        } else {
                            commands::dispatch(&engine, &out, cmd).await;
                        }
                    }
                }
            }
            code = signals.next() => {
                let _ = tokio::time::timeout(SIGNAL_ABORT_GRACE, engine.abort()).await;
                break code;
            }
        }
    };
    // Nothing after this point reaches stdout: at EOF pi stops mid-stream without the
    // events an abort would produce.
    drop(subscription);
    out.flush();
    engine.shutdown();
    code
}

/// SIGTERM (143) and SIGHUP (129).
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                term: signal(SignalKind::terminate()).ok(),
                hup: signal(SignalKind::hangup()).ok(),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    async fn next(&mut self) -> i32 {
        #[cfg(unix)]
        {
            async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                _ = recv(&mut self.term) => 143,
                _ = recv(&mut self.hup) => 129,
            }
        }
        #[cfg(not(unix))]
        std::future::pending::<i32>().await
    }
}
