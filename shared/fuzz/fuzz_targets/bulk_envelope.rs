//! `POST /stores/{storeId}/events/bulk`: the envelope, then each event's size and fields, as bulk ingest does.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::domain::bulk_envelope::{check_event_size, parse_bulk_envelope};
use shared::domain::custom_event::parse_custom_event;
use shared::domain::validation::Pointer;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(events) = parse_bulk_envelope(&body) {
        for (index, event) in events.iter().enumerate() {
            let at = Pointer::root().key("events").index(index);
            if check_event_size(event, &at).is_ok() {
                let _ = parse_custom_event(event, &at, chrono::Utc::now());
            }
        }
    }
});
