//! Replays the committed `cargo fuzz` corpora of the `gateway_frame` target (`fuzz/corpus/<target>`)
//! through the same harnesses the fuzzer runs, so every stable CI run re-checks them.

#[path = "../../fuzz/replay.rs"]
mod replay;

use replay::replay;

#[test]
fn gateway_frame_corpus() {
    replay("gateway_frame", openclaw_gateway::fuzzing::gateway_frame);
}
