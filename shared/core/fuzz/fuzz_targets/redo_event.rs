//! `POST /stores/{storeId}/events`: any bytes, as the function reads them, through parse and validation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| collector_core::fuzzing::redo_event(data));
