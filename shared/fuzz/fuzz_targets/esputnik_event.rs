//! `POST /api/v1/event`: the eSputnik dialect, JSON-in-string parameters included.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::domain::esputnik::parse_esputnik;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = parse_esputnik(&body);
    }
});
