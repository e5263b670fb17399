//! `POST /stores/{storeId}/events`: any bytes, as the function reads them, through parse and validation.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::domain::custom_event::parse_custom_event;
use shared::domain::validation::Pointer;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = parse_custom_event(&body, &Pointer::root(), chrono::Utc::now());
    }
});
