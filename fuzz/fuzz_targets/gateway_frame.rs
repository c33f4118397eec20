#![no_main]
//! An incoming gateway WebSocket text frame (see openclaw_gateway::fuzzing).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| openclaw_gateway::fuzzing::gateway_frame(data));
