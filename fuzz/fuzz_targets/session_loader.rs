#![no_main]
//! A session JSONL transcript (see openclaw_core::fuzzing).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| openclaw_core::fuzzing::session_loader(data));
