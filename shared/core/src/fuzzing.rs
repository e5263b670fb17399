//! What each fuzz target of `shared/core/fuzz` does with its input: a request parser fed raw bytes, as an endpoint
//! meets them. The targets call these, and so does the test below, which runs every committed seed and
//! regression case (`shared/core/fuzz/seeds/<target>/`, `shared/core/fuzz/regressions/<target>/`) through the same
//! code on every `cargo test`. Time is fixed, so an input means the same on every run.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::bulk_envelope::{check_event_size, parse_bulk_envelope};
use crate::domain::custom_event::parse_custom_event;
use crate::domain::entity_event::parse_entity_event;
use crate::domain::esputnik::parse_esputnik;
use crate::domain::job::parse_job;
use crate::domain::schedule::{parse_schedule, parse_time_zone};
use crate::domain::subscription_input::{parse_subscription, DestinationPolicy};
use crate::domain::validation::Pointer;

/// What a target does with one input.
pub type Target = fn(&[u8]);

/// Every target by name (the name of its file in `shared/core/fuzz/fuzz_targets/`).
pub const TARGETS: [(&str, Target); 7] = [
    ("bulk_envelope", bulk_envelope),
    ("entity_event", entity_event),
    ("esputnik_event", esputnik_event),
    ("job_body", job_body),
    ("redo_event", redo_event),
    ("schedule_expression", schedule_expression),
    ("subscription_body", subscription_body),
];

/// The instant every target takes as now.
pub fn fixed_now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000, 0).expect("a valid instant")
}

fn json(data: &[u8]) -> Option<Value> {
    serde_json::from_slice(data).ok()
}

/// `POST /stores/{storeId}/events/bulk`: the envelope, each event's size, then each event.
pub fn bulk_envelope(data: &[u8]) {
    let Some(body) = json(data) else { return };
    if let Ok(events) = parse_bulk_envelope(&body) {
        for (index, event) in events.iter().enumerate() {
            let at = Pointer::root().key("events").index(index);
            if check_event_size(event, &at).is_ok() {
                let _ = parse_custom_event(event, &at, fixed_now());
            }
        }
    }
}

/// `POST /api/v1/events`, base64 payloads and all.
pub fn entity_event(data: &[u8]) {
    if let Some(body) = json(data) {
        let _ = parse_entity_event(&body);
    }
}

/// `POST /api/v1/event`, with its JSON-in-a-string parameters.
pub fn esputnik_event(data: &[u8]) {
    if let Some(body) = json(data) {
        let _ = parse_esputnik(&body);
    }
}

/// `POST`/`PUT /api/v1/jobs`: the job, with its schedule's next run looked for.
pub fn job_body(data: &[u8]) {
    if let Some(body) = json(data) {
        let _ = parse_job(&body, fixed_now());
    }
}

/// `POST /stores/{storeId}/events`.
pub fn redo_event(data: &[u8]) {
    if let Some(body) = json(data) {
        let _ = parse_custom_event(&body, &Pointer::root(), fixed_now());
    }
}

/// A schedule expression, a newline, a time zone (UTC when none): parsed, then its next five runs. Neither
/// may panic or take long.
pub fn schedule_expression(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (expression, zone) = text.split_once('\n').unwrap_or((&text, "UTC"));
    if let (Ok(schedule), Ok(zone)) = (parse_schedule(expression), parse_time_zone(zone)) {
        let _ = schedule.upcoming(fixed_now(), zone, fixed_now(), 5);
    }
}

/// `POST`/`PUT /api/v1/event-subscription`, under both destination policies.
pub fn subscription_body(data: &[u8]) {
    if let Some(body) = json(data) {
        for allow_private_targets in [false, true] {
            let _ = parse_subscription(&body, DestinationPolicy { allow_private_targets });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::TARGETS;

    fn fuzz_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
    }

    fn files(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
            Ok(entries) => entries.map(|e| e.expect("a directory entry").path()).collect(),
            Err(_) => Vec::new(),
        };
        files.sort();
        files
    }

    #[test]
    fn when_the_fuzz_targets_are_listed_should_name_every_target_file() {
        let on_disk: Vec<String> = files(&fuzz_dir().join("fuzz_targets"))
            .iter()
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        let listed: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
        assert_eq!(on_disk, listed);
    }

    #[test]
    fn when_the_committed_corpus_is_replayed_should_run_every_case_without_a_panic() {
        let mut cases = 0;
        for (name, target) in TARGETS {
            let seeds = files(&fuzz_dir().join("seeds").join(name));
            assert!(!seeds.is_empty(), "{name} has seeds");
            for case in seeds.iter().chain(&files(&fuzz_dir().join("regressions").join(name))) {
                target(&std::fs::read(case).expect("a corpus file"));
                cases += 1;
            }
        }
        let regressions = files(&fuzz_dir().join("regressions").join("schedule_expression"));
        assert!(
            regressions
                .iter()
                .any(|p| p.ends_with("timeout-empty-minute-field-kyiv")),
            "the schedule that once ran for seconds is a committed case"
        );
        assert!(cases > TARGETS.len());
    }
}
