//! Replays a committed `cargo fuzz` corpus (`fuzz/corpus/<target>`) through the harness the
//! fuzzer runs, so every stable test run re-checks it. Each crate's `tests/fuzz_corpus.rs`
//! includes this file (`#[path]`), so the three crates share one implementation without a
//! dependency between them.

use std::path::{Path, PathBuf};

/// Every input of `fuzz/corpus/<target>`, sorted; a missing or empty corpus is a failure, not a
/// skip.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
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

/// Runs `harness` on every input of `target`'s corpus; fails naming the first input that panics.
pub fn replay(target: &str, harness: fn(&[u8])) {
    for (path, bytes) in corpus(target) {
        let run = std::panic::catch_unwind(|| harness(&bytes));
        assert!(run.is_ok(), "{target}: {} panics", path.display());
    }
}
