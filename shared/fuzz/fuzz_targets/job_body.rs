//! `POST`/`PUT /api/v1/jobs`: the job, then its next runs as the answer shows them.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::domain::job::parse_job;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = parse_job(&body);
    }
});
