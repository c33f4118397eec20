#![no_main]
//! The JSON5 config (see openclaw_core::fuzzing).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| openclaw_core::fuzzing::config(data));
