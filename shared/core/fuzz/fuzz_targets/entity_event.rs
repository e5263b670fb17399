//! `POST /api/v1/events`: entity events, their base64 payloads decoded and parsed.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| collector_core::fuzzing::entity_event(data));
