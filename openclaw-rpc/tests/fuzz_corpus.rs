//! Replays the committed `cargo fuzz` corpora of the `rpc_lines` target (`fuzz/corpus/<target>`)
//! through the same harnesses the fuzzer runs, so every stable CI run re-checks them.

#[path = "../../fuzz/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn rpc_lines_corpus() {
    replay("rpc_lines", openclaw_rpc::stdio::fuzzing::rpc_lines);
}
