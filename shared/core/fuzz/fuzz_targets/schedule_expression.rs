//! Schedule expressions (`cron(…)`, `rate(…)`, five-field cron) and time zones, then the next five runs:
//! neither parsing nor the search for the next run may panic or hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| collector_core::fuzzing::schedule_expression(data));
