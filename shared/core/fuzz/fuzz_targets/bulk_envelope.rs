//! `POST /stores/{storeId}/events/bulk`: the envelope, then each event's size and fields, as bulk ingest does.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| collector_core::fuzzing::bulk_envelope(data));
