//! Reliability of the state a gateway keeps, against the real `openclaw` binary, real files and
//! the real SQLite database, with openclaw-core's `testing` SSE server as the model:
//! - `corruption`: every file the gateway reads (database, `sessions.json` to import,
//!   transcripts, config) damaged: an error naming it or the damage skipped, never a rewrite;
//! - `sharing`: two gateways on one state dir, the CLI and the gateway writing at once,
//!   `openclaw sessions delete` while the gateway runs, the import of OpenClaw's index;
//! - `crash`: `kill -9` mid-stream and mid-burst on many keys, restart, every acknowledged turn
//!   in its transcript and every transcript loadable.

mod corruption;
mod crash;
mod harness;
mod sharing;
