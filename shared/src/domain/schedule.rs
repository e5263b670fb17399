//! Job schedules: AWS `cron(min hour dom month dow year)` and `rate(n unit)`, and standard five-field cron,
//! evaluated in the job's IANA time zone.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

/// A valid schedule.
#[derive(Debug, Clone)]
pub enum Schedule {
    Cron(Box<Cron>),
    /// Every `period`, counted from the job's anchor (its creation).
    Rate(Duration),
}

/// Parses a schedule; the error says what is wrong in words a user can act on.
pub fn parse_schedule(raw: &str) -> Result<Schedule, String> {
    let raw = raw.trim();
    if let Some(inner) = raw.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        return aws_cron(inner.trim());
    }
    if let Some(inner) = raw.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        return rate(inner.trim());
    }
    let fields = raw.split_whitespace().count();
    if fields != 5 {
        return Err(format!(
            "must be cron(min hour day-of-month month day-of-week year), rate(n minutes|hours|days), or five-field cron; '{raw}' has {fields} fields"
        ));
    }
    let parser = CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build();
    parser
        .parse(raw)
        .map(|cron| Schedule::Cron(Box::new(cron)))
        .map_err(|e| format!("is not a valid cron expression: {e}"))
}

fn aws_cron(inner: &str) -> Result<Schedule, String> {
    let fields: Vec<&str> = inner.split_whitespace().collect();
    if fields.len() != 6 {
        return Err(format!(
            "cron() takes six fields (minute hour day-of-month month day-of-week year); '{inner}' has {}",
            fields.len()
        ));
    }
    // As EventBridge requires: one of day-of-month and day-of-week is '?'.
    if (fields[2] == "?") == (fields[4] == "?") {
        return Err("in cron(), exactly one of day-of-month and day-of-week must be '?'".to_owned());
    }
    let parser = CronParser::builder()
        .seconds(Seconds::Required)
        .year(Year::Required)
        .alternative_weekdays(true)
        .build();
    parser
        .parse(&format!("0 {inner}"))
        .map(|cron| Schedule::Cron(Box::new(cron)))
        .map_err(|e| format!("is not a valid cron() expression: {e}"))
}

fn rate(inner: &str) -> Result<Schedule, String> {
    const FORM: &str = "rate() takes a whole number and a unit: rate(5 minutes), rate(1 hour), rate(2 days)";
    let (value, unit) = inner.split_once(' ').ok_or(FORM)?;
    let value: i64 = value.parse().ok().filter(|v| *v > 0).ok_or(FORM)?;
    let (singular, minutes) = match unit.trim() {
        "minute" | "minutes" => ("minute", 1),
        "hour" | "hours" => ("hour", 60),
        "day" | "days" => ("day", 24 * 60),
        _ => return Err(FORM.to_owned()),
    };
    // EventBridge's own rule: the singular unit for 1, the plural otherwise.
    if (value == 1) != (unit.trim() == singular) {
        return Err(format!(
            "say rate(1 {singular}) for one and rate(n {singular}s) for more"
        ));
    }
    Ok(Schedule::Rate(Duration::minutes(value * minutes)))
}

/// Parses an IANA time zone name (`Europe/Kyiv`, `UTC`).
pub fn parse_time_zone(raw: &str) -> Result<Tz, String> {
    raw.parse::<Tz>()
        .map_err(|_| format!("'{raw}' is not an IANA time zone such as Europe/Berlin or America/New_York"))
}

impl Schedule {
    /// The first run strictly after `after`. `anchor` is where rates count from.
    pub fn next_after(&self, after: DateTime<Utc>, zone: Tz, anchor: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron(cron) => cron
                .find_next_occurrence(&after.with_timezone(&zone), false)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            Schedule::Rate(period) => {
                let period_ms = period.num_milliseconds().max(60_000);
                let elapsed = (after - anchor).num_milliseconds().max(0);
                let periods = elapsed / period_ms + 1;
                Some(anchor + Duration::milliseconds(periods * period_ms))
            }
        }
    }

    /// The next `count` runs after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, zone: Tz, anchor: DateTime<Utc>, count: usize) -> Vec<DateTime<Utc>> {
        let mut runs = Vec::with_capacity(count);
        let mut at = after;
        while runs.len() < count {
            match self.next_after(at, zone, anchor) {
                Some(next) => {
                    runs.push(next);
                    at = next;
                }
                None => break,
            }
        }
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn when_aws_cron_is_given_should_run_at_its_times_in_the_zone() {
        // 09:30 on weekdays (Quartz weekdays: 2-6 is MON-FRI), in Kyiv (UTC+2 in November).
        let schedule = parse_schedule("cron(30 9 ? * 2-6 *)").unwrap();
        let zone = parse_time_zone("Europe/Kyiv").unwrap();
        let friday_noon = at(2026, 11, 20, 12, 0);
        let runs = schedule.upcoming(friday_noon, zone, friday_noon, 2);
        assert_eq!(
            runs,
            [at(2026, 11, 23, 7, 30), at(2026, 11, 24, 7, 30)],
            "Monday and Tuesday, 07:30 UTC"
        );
    }

    #[test]
    fn when_rate_or_five_field_cron_is_given_should_count_right() {
        let anchor = at(2026, 11, 22, 10, 0);
        let rate = parse_schedule("rate(15 minutes)").unwrap();
        assert_eq!(
            rate.next_after(at(2026, 11, 22, 10, 20), Tz::UTC, anchor),
            Some(at(2026, 11, 22, 10, 30))
        );
        let daily = parse_schedule("0 8 * * *").unwrap();
        assert_eq!(daily.next_after(anchor, Tz::UTC, anchor), Some(at(2026, 11, 23, 8, 0)));
    }

    #[test]
    fn when_the_expression_is_wrong_should_say_why() {
        for (raw, says) in [
            ("cron(0 9 * * * *)", "exactly one of day-of-month and day-of-week"),
            ("cron(0 9 ? *)", "six fields"),
            ("rate(1 minutes)", "rate(1 minute)"),
            ("rate(0 hours)", "whole number"),
            ("every day", "five-field cron"),
            ("61 * * * *", "not a valid cron"),
        ] {
            let error = parse_schedule(raw).unwrap_err();
            assert!(error.contains(says), "{raw}: {error}");
        }
        assert!(parse_time_zone("Mars/Olympus").is_err());
    }
}
