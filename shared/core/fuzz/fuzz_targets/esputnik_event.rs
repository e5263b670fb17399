//! `POST /api/v1/event`: the eSputnik dialect, JSON-in-string parameters included.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| collector_core::fuzzing::esputnik_event(data));
