//! `POST`/`PUT /api/v1/jobs`: the job, with its schedule's next run looked for, as the answer needs it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| collector_core::fuzzing::job_body(data));
