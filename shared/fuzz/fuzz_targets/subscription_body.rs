//! `POST`/`PUT /api/v1/event-subscription`: destinations, URLs, ARNs and credentials, under both policies.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::domain::subscription_input::{parse_subscription, DestinationPolicy};

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) {
        for allow_private_targets in [false, true] {
            let _ = parse_subscription(&body, DestinationPolicy { allow_private_targets });
        }
    }
});
