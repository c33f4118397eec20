//! Replays the committed `cargo fuzz` corpora of this crate's targets (`fuzz/corpus/<target>`)
//! through the same harnesses the fuzzer runs, so every stable CI run re-checks them.

use std::path::PathBuf;

/// Every input of `fuzz/corpus/<target>`; a missing or empty corpus is a failure, not a skip.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{} is empty", dir.display());
    inputs
}

fn replay(target: &str, harness: fn(&[u8])) {
    for (path, bytes) in corpus(target) {
        let run = std::panic::catch_unwind(|| harness(&bytes));
        assert!(run.is_ok(), "{target}: {} panics", path.display());
    }
}

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
