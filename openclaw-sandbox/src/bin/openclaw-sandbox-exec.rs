//! The in-sandbox helper as a small binary of its own (the `openclaw` binary has the same mode):
//! `openclaw-sandbox-exec __openclaw-sandbox-exec <spec> -- <program> <args>`.

fn main() {
    openclaw_sandbox::run_if_requested();
    eprintln!(
        "openclaw-sandbox-exec: only runs as the sandbox helper (started by the native sandbox)"
    );
    std::process::exit(2);
}
