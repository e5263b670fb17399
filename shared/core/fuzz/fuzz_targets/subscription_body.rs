//! `POST`/`PUT /api/v1/event-subscription`: destinations, URLs, ARNs and credentials, under both policies.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| collector_core::fuzzing::subscription_body(data));
