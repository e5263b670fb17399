//! Job schedules: AWS `cron(min hour dom month dow year)` and `rate(n unit)`, and standard five-field cron,
//! evaluated in the job's IANA time zone.
//!
//! The search for a run is bounded, whatever the expression: it looks [`HORIZON_DAYS`] ahead and no further,
//! testing each day with a few bit lookups before croner finds the time within the first day that matches.
//! A schedule with no run inside the horizon counts as one that never runs.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;
use croner::CronPattern;

use super::cron_fields::{check_fields, AWS_FIELDS, STANDARD_FIELDS};

/// How far ahead a run is looked for: five years.
pub const HORIZON_DAYS: u32 = 5 * 366;

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
    check_fields(&raw.split_whitespace().collect::<Vec<_>>(), &STANDARD_FIELDS)?;
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
    check_fields(&fields, &AWS_FIELDS)?;
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

/// The first run of `cron` after `after`. The days ahead are tested one by one, each with a few bit lookups,
/// for one on which a run is left; croner then finds the time within that day (it knows the zone's clock
/// changes). Started only where a run is known to lie ahead, croner never walks the clock for long.
fn next_cron_run(cron: &Cron, after: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
    let pattern = &cron.pattern;
    let hours: Vec<u32> = (0..24).filter(|h| pattern.hour_match(*h).unwrap_or(false)).collect();
    let minutes: Vec<u32> = (0..60).filter(|m| pattern.minute_match(*m).unwrap_or(false)).collect();
    let (Some(last_hour), Some(last_minute)) = (hours.last(), minutes.last()) else {
        return None;
    };
    let local = after.with_timezone(&zone);
    // Seconds are always 0, so a run is left today when a (hour, minute) later than now matches.
    let run_left_today = (*last_hour, *last_minute) > (local.hour(), local.minute());
    let today = local.date_naive();
    let day = (0..=HORIZON_DAYS)
        .filter_map(|offset| today.checked_add_days(chrono::Days::new(offset.into())))
        .find(|day| day_matches(pattern, *day) && (*day != today || run_left_today))?;
    // From a full day before the day's local midnight (UTC offsets stay within a day), but never before
    // `after`: every day in between is known to hold no run.
    let day_before = Utc.from_utc_datetime(&(day.and_hms_opt(0, 0, 0)? - Duration::days(1)));
    let start = after.max(day_before).with_timezone(&zone);
    let run = cron.find_next_occurrence(&start, false).ok()?.with_timezone(&Utc);
    (run <= after + Duration::days(i64::from(HORIZON_DAYS) + 1)).then_some(run)
}

fn day_matches(pattern: &CronPattern, day: NaiveDate) -> bool {
    let weekday = croner::Weekday::from_days_from_sunday(day.weekday().num_days_from_sunday());
    pattern.year_match(day.year()).unwrap_or(false)
        && pattern.month_match(day.month()).unwrap_or(false)
        && pattern
            .day_match(day.year(), day.month(), day.day(), weekday)
            .unwrap_or(false)
}

/// Parses an IANA time zone name (`Europe/Kyiv`, `UTC`).
pub fn parse_time_zone(raw: &str) -> Result<Tz, String> {
    raw.parse::<Tz>()
        .map_err(|_| format!("'{raw}' is not an IANA time zone such as Europe/Berlin or America/New_York"))
}

impl Schedule {
    /// The first run strictly after `after`, if there is one within [`HORIZON_DAYS`]. `anchor` is where rates
    /// count from.
    pub fn next_after(&self, after: DateTime<Utc>, zone: Tz, anchor: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Schedule::Cron(cron) => next_cron_run(cron, after, zone),
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
            ("61 * * * *", "the minute field '61' has 61, outside 0-59"),
            ("cron(, 0 * * ? *)", "the minute field ',' has an empty value"),
            (
                "cron(0 0 1,,2 * ? *)",
                "the day-of-month field '1,,2' has an empty value",
            ),
            ("*/0 * * * *", "a step is 1 or more"),
        ] {
            let error = parse_schedule(raw).unwrap_err();
            assert!(error.contains(says), "{raw}: {error}");
        }
        assert!(parse_time_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn when_no_day_ahead_matches_should_say_it_never_runs_without_walking_the_clock() {
        let now = at(2026, 11, 22, 10, 0);
        let kyiv = parse_time_zone("Europe/Kyiv").unwrap();
        for never in [
            "cron(0 0 30 2 ? *)",
            "cron(0 9 1 1 ? 2020)",
            "0 0 31 4 *",
            "cron(0 0 31 2,4,6,9,11 ? *)",
        ] {
            let schedule = parse_schedule(never).unwrap();
            assert_eq!(schedule.next_after(now, kyiv, now), None, "{never}");
        }
    }

    #[test]
    fn when_the_next_run_is_years_away_should_still_find_it_within_the_horizon() {
        let now = at(2026, 11, 22, 10, 0);
        let leap_day = parse_schedule("cron(0 12 29 2 ? *)").unwrap();
        assert_eq!(leap_day.next_after(now, Tz::UTC, now), Some(at(2028, 2, 29, 12, 0)));
        let fifth_friday = parse_schedule("cron(0 10 ? * 6#5 *)").unwrap();
        assert_eq!(
            fifth_friday.next_after(now, Tz::UTC, now),
            Some(at(2027, 1, 29, 10, 0)),
            "the first month after November 2026 with five Fridays"
        );
        let once = parse_schedule("cron(15 10 L 6 ? 2031)").unwrap();
        assert_eq!(once.next_after(now, Tz::UTC, now), Some(at(2031, 6, 30, 10, 15)));
        let too_far = parse_schedule("cron(0 0 1 1 ? 2032)").unwrap();
        assert_eq!(
            too_far.next_after(now, Tz::UTC, now),
            None,
            "past the five-year horizon"
        );
    }

    #[test]
    fn when_today_has_no_run_left_should_go_on_to_the_next_day_in_the_zone() {
        let daily = parse_schedule("cron(0 9 * * ? *)").unwrap();
        let new_york: Tz = "America/New_York".parse().unwrap();
        // 15:00 UTC is 10:00 in New York (EST): today's 09:00 has passed.
        let after = at(2026, 11, 22, 15, 0);
        assert_eq!(daily.next_after(after, new_york, after), Some(at(2026, 11, 23, 14, 0)));
        // Just before midnight in New York, early the next day in UTC: still the next local 09:00.
        let late = at(2026, 11, 23, 4, 59);
        assert_eq!(daily.next_after(late, new_york, late), Some(at(2026, 11, 23, 14, 0)));
    }

    #[test]
    fn when_the_run_falls_in_a_clock_change_should_run_once_that_day() {
        let half_past_two = parse_schedule("cron(30 2 * * ? *)").unwrap();
        let new_york: Tz = "America/New_York".parse().unwrap();
        // 8 March 2026: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist that day.
        let before = at(2026, 3, 8, 5, 0);
        let run = half_past_two.next_after(before, new_york, before).unwrap();
        assert_eq!(run.with_timezone(&new_york).date_naive(), run_day(2026, 3, 8));
        let next = half_past_two.next_after(run, new_york, before).unwrap();
        assert_eq!(next, at(2026, 3, 9, 6, 30), "02:30 EDT the next day");
    }

    fn run_day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }
}
