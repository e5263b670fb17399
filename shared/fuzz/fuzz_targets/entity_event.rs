//! `POST /api/v1/events`: entity events, their base64 payloads decoded and parsed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::domain::entity_event::parse_entity_event;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = parse_entity_event(&body);
    }
});
