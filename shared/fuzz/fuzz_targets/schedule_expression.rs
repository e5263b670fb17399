//! Schedule expressions (`cron(…)`, `rate(…)`, five-field cron) and time zones, then the next five runs:
//! neither parsing nor the search for the next run may panic or hang.
#![no_main]
use libfuzzer_sys::fuzz_target;
use shared::domain::schedule::{parse_schedule, parse_time_zone};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (expression, zone) = text.split_once('\n').unwrap_or((&text, "UTC"));
    if let (Ok(schedule), Ok(zone)) = (parse_schedule(expression), parse_time_zone(zone)) {
        let anchor = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let _ = schedule.upcoming(anchor, zone, anchor, 5);
    }
});
