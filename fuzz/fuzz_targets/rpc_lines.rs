#![no_main]
//! RPC mode's stdin lines (see openclaw_rpc::stdio::fuzzing).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| openclaw_rpc::stdio::fuzzing::rpc_lines(data));
