//! Settings from the environment, parsed into typed values once, at init. Each function's `Config` reads its
//! variables through these helpers, so every error names the variable and, for a duration, the unit it is
//! counted in: a wrong deploy parameter says what to write instead.

use std::collections::HashMap;

use chrono::Duration;

/// Where settings come from.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment: what a Lambda function reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed set of variables (a function's environment in `template.yaml`, in tests).
impl Env for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// A setting that is missing or wrong; the message names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// A variable that must be set.
pub fn required(env: &impl Env, name: &str) -> Result<String, ConfigError> {
    env.var(name)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ConfigError(format!("{name} must be set")))
}

/// A variable, or `default` when unset.
pub fn or_default(env: &impl Env, name: &str, default: &str) -> String {
    env.var(name).unwrap_or_else(|| default.to_owned())
}

/// Whether a flag is on: set to `true`.
pub fn flag(env: &impl Env, name: &str) -> bool {
    env.var(name).is_some_and(|v| v == "true")
}

/// A count setting `name`, a whole number within `range`, or `None` when unset.
pub fn count(env: &impl Env, name: &str, range: std::ops::RangeInclusive<u32>) -> Result<Option<u32>, ConfigError> {
    let Some(raw) = env.var(name) else { return Ok(None) };
    match raw.trim().parse::<u32>() {
        Ok(n) if range.contains(&n) => Ok(Some(n)),
        _ => Err(ConfigError(format!(
            "{name} must be a whole number from {} to {}, not '{raw}'",
            range.start(),
            range.end()
        ))),
    }
}

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

/// A duration setting `name`, a positive whole number of `unit`, or `None` when unset.
pub fn duration(env: &impl Env, name: &str, unit: Unit) -> Result<Option<Duration>, ConfigError> {
    duration_setting(name, env.var(name).as_deref(), unit)
}

fn duration_setting(name: &str, raw: Option<&str>, unit: Unit) -> Result<Option<Duration>, ConfigError> {
    let Some(raw) = raw else { return Ok(None) };
    let limit = MAX_DAYS * Duration::days(1).num_seconds() / unit.duration(1).num_seconds();
    match raw.trim().parse::<i64>() {
        Ok(count) if (1..=limit).contains(&count) => Ok(Some(unit.duration(count))),
        _ => Err(ConfigError(format!(
            "{name} must be a whole number of {} from 1 to {limit}, not '{raw}'",
            unit.name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn when_a_count_is_out_of_its_range_should_say_the_range() {
        let env = HashMap::from([("PENDING_SHARDS".to_owned(), "0".to_owned())]);
        let error = count(&env, "PENDING_SHARDS", 1..=65_535).unwrap_err();
        assert_eq!(
            error.0,
            "PENDING_SHARDS must be a whole number from 1 to 65535, not '0'"
        );
        assert_eq!(count(&HashMap::new(), "PENDING_SHARDS", 1..=65_535), Ok(None));
    }

    #[test]
    fn when_a_setting_is_wrong_should_name_its_own_unit() {
        let hours = duration_setting("FREQUENCY_CAP_HOURS", Some("1.5"), Unit::Hours).unwrap_err();
        assert_eq!(
            hours.0,
            "FREQUENCY_CAP_HOURS must be a whole number of hours from 1 to 87600, not '1.5'"
        );
        let minutes = duration_setting("ABANDONED_CART_MINUTES", Some("soon"), Unit::Minutes).unwrap_err();
        assert!(
            minutes
                .0
                .starts_with("ABANDONED_CART_MINUTES must be a whole number of minutes"),
            "{minutes}"
        );
        let seconds = duration_setting("DEDUPE_WINDOW_SECONDS", Some("-5"), Unit::Seconds).unwrap_err();
        assert!(seconds.0.contains("whole number of seconds from 1"), "{seconds}");
    }

    #[test]
    fn when_a_setting_is_right_or_unset_should_give_its_value() {
        let env = HashMap::from([("ABANDONED_CART_MINUTES".to_owned(), "90".to_owned())]);
        assert_eq!(
            duration(&env, "ABANDONED_CART_MINUTES", Unit::Minutes),
            Ok(Some(Duration::minutes(90)))
        );
        assert_eq!(duration(&env, "FREQUENCY_CAP_HOURS", Unit::Hours), Ok(None));
        assert_eq!(
            required(&env, "TABLE_NAME"),
            Err(ConfigError("TABLE_NAME must be set".to_owned()))
        );
        assert!(!flag(&env, "LOCAL_MODE"));
    }
}
