//! `openclaw --mode rpc`: pi's JSONL protocol over stdin/stdout.
//!
//! [`framing`] owns the line format, [`wire`] the envelopes and pi's error behaviour for lines
//! that are not commands.

pub mod framing;
pub mod wire;
