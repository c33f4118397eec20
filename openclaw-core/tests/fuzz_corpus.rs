//! Replays the committed `cargo fuzz` corpora of this crate's targets (`fuzz/corpus/<target>`)
//! through the same harnesses the fuzzer runs, so every stable CI run re-checks them.

#[path = "../../fuzz/replay.rs"]
mod replay;

use replay::replay;

/// The providers' SSE decoders exist with the `tokio` feature only.
#[cfg(feature = "tokio")]
#[test]
fn sse_decoding_corpus() {
    replay("sse_decoding", openclaw_core::fuzzing::sse_decoding);
}

#[test]
fn session_loader_corpus() {
    replay("session_loader", openclaw_core::fuzzing::session_loader);
}

#[test]
fn config_json5_corpus() {
    replay("config_json5", openclaw_core::fuzzing::config);
}
