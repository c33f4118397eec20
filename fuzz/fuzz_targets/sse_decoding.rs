#![no_main]
//! Provider SSE bodies through every wire API's decoder (see openclaw_core::fuzzing).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| openclaw_core::fuzzing::sse_decoding(data));
