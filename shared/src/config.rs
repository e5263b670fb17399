//! Settings from the environment, parsed into typed values at init. Each error names the variable and the
//! unit it is counted in, so a wrong deploy parameter says what to write instead.

use chrono::Duration;

/// The unit a duration setting is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Minutes,
    Hours,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Seconds => "seconds",
            Unit::Minutes => "minutes",
            Unit::Hours => "hours",
        }
    }

    fn duration(self, count: i64) -> Duration {
        match self {
            Unit::Seconds => Duration::seconds(count),
            Unit::Minutes => Duration::minutes(count),
            Unit::Hours => Duration::hours(count),
        }
    }
}

/// The most any duration setting may be: ten years, far past every window we keep.
const MAX_DAYS: i64 = 3_650;

/// A duration setting `name` whose value `raw` (when set) is a positive whole number of `unit`.
pub fn duration_setting(name: &str, raw: Option<&str>, unit: Unit) -> Result<Option<Duration>, String> {
    let Some(raw) = raw else { return Ok(None) };
    let limit = MAX_DAYS * Duration::days(1).num_seconds() / unit.duration(1).num_seconds();
    match raw.trim().parse::<i64>() {
        Ok(count) if (1..=limit).contains(&count) => Ok(Some(unit.duration(count))),
        _ => Err(format!(
            "{name} must be a whole number of {} from 1 to {limit}, not '{raw}'",
            unit.name()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_a_setting_is_wrong_should_name_its_own_unit() {
        let hours = duration_setting("FREQUENCY_CAP_HOURS", Some("1.5"), Unit::Hours).unwrap_err();
        assert_eq!(
            hours,
            "FREQUENCY_CAP_HOURS must be a whole number of hours from 1 to 87600, not '1.5'"
        );
        let minutes = duration_setting("ABANDONED_CART_MINUTES", Some("soon"), Unit::Minutes).unwrap_err();
        assert!(
            minutes.starts_with("ABANDONED_CART_MINUTES must be a whole number of minutes"),
            "{minutes}"
        );
        let seconds = duration_setting("DEDUPE_WINDOW_SECONDS", Some("-5"), Unit::Seconds).unwrap_err();
        assert!(seconds.contains("whole number of seconds from 1"), "{seconds}");
    }

    #[test]
    fn when_a_setting_is_right_or_unset_should_give_its_duration() {
        assert_eq!(
            duration_setting("ABANDONED_CART_MINUTES", Some("90"), Unit::Minutes),
            Ok(Some(Duration::minutes(90)))
        );
        assert_eq!(duration_setting("FREQUENCY_CAP_HOURS", None, Unit::Hours), Ok(None));
    }
}
