//! The syntax of each field of a cron expression, checked before the expression is evaluated.
//!
//! croner skips an empty list item, so `cron(, 0 * * ? *)` parsed as "no minute ever" and the search for its
//! next run walked the clock for seconds. Every field is checked here first: an empty item (a dangling comma),
//! a range without an end, a value outside the field's range, a backwards range or a step of 0 is an error
//! that names the field, in words a user can act on.

/// What a field accepts.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    min: u32,
    max: u32,
    /// Three-letter names for the values from `min` on (`JAN` = 1, `SUN` = the first weekday).
    names: &'static [&'static str],
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    /// `?`, `L`, `LW`, `nW`.
    DayOfMonth,
    /// `?`, `L`, `nL` (the last such weekday of the month), `n#k` (the k-th, 1 to 5).
    DayOfWeek,
}

const MONTHS: &[&str] = &[
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: &[&str] = &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

const fn field(name: &'static str, min: u32, max: u32, names: &'static [&'static str], kind: Kind) -> Field {
    Field {
        name,
        min,
        max,
        names,
        kind,
    }
}

const MINUTE: Field = field("minute", 0, 59, &[], Kind::Plain);
const HOUR: Field = field("hour", 0, 23, &[], Kind::Plain);
const DAY_OF_MONTH: Field = field("day-of-month", 1, 31, &[], Kind::DayOfMonth);
const MONTH: Field = field("month", 1, 12, MONTHS, Kind::Plain);

/// EventBridge's `cron(minute hour day-of-month month day-of-week year)`: weekdays 1-7 from Sunday, years
/// 1970-2199.
pub const AWS_FIELDS: [Field; 6] = [
    MINUTE,
    HOUR,
    DAY_OF_MONTH,
    MONTH,
    field("day-of-week", 1, 7, WEEKDAYS, Kind::DayOfWeek),
    field("year", 1970, 2199, &[], Kind::Plain),
];

/// Five-field cron (`minute hour day-of-month month day-of-week`): weekdays 0-7, 0 and 7 both Sunday.
pub const STANDARD_FIELDS: [Field; 5] = [
    MINUTE,
    HOUR,
    DAY_OF_MONTH,
    MONTH,
    field("day-of-week", 0, 7, WEEKDAYS, Kind::DayOfWeek),
];

/// Checks each field against its spec; the error names the first wrong field and what is wrong with it.
pub fn check_fields(fields: &[&str], specs: &[Field]) -> Result<(), String> {
    for (raw, spec) in fields.iter().zip(specs) {
        check_field(raw, spec).map_err(|why| format!("the {} field '{raw}' {why}", spec.name))?;
    }
    Ok(())
}

fn check_field(raw: &str, spec: &Field) -> Result<(), String> {
    if raw == "?" {
        return match spec.kind {
            Kind::Plain => Err("cannot be '?': only day-of-month and day-of-week can".to_owned()),
            _ => Ok(()),
        };
    }
    for item in raw.split(',') {
        if item.is_empty() {
            return Err("has an empty value: a comma with nothing before or after it".to_owned());
        }
        check_item(&item.to_ascii_uppercase(), spec)?;
    }
    Ok(())
}

fn check_item(item: &str, spec: &Field) -> Result<(), String> {
    if item == "?" {
        return Err("uses '?' in a list: '?' stands alone".to_owned());
    }
    match spec.kind {
        Kind::DayOfMonth if item == "L" || item == "LW" => return Ok(()),
        Kind::DayOfMonth => {
            if let Some(day) = item.strip_suffix('W') {
                return value(day, spec).map(drop);
            }
        }
        Kind::DayOfWeek if item == "L" => return Ok(()),
        Kind::DayOfWeek => {
            if let Some(day) = item.strip_suffix('L') {
                return value(day, spec).map(drop);
            }
            if let Some((day, nth)) = item.split_once('#') {
                value(day, spec)?;
                return match nth.parse::<u32>() {
                    Ok(1..=5) => Ok(()),
                    _ => Err(format!("has '#{nth}': the occurrence after # is 1 to 5")),
                };
            }
        }
        Kind::Plain => {}
    }
    let (base, step) = match item.split_once('/') {
        Some((base, step)) => (base, Some(step)),
        None => (item, None),
    };
    if let Some(step) = step {
        match step.parse::<u32>() {
            Ok(n) if n >= 1 && n <= spec.max => {}
            Ok(0) => return Err(format!("has a step of 0 in '{item}': a step is 1 or more")),
            _ => {
                return Err(format!(
                    "has '{step}' as the step in '{item}': a step is a whole number from 1 to {}",
                    spec.max
                ))
            }
        }
    }
    if base == "*" {
        return Ok(());
    }
    match base.split_once('-') {
        None => value(base, spec).map(drop),
        Some(("", _)) => Err(format!("has a range '{base}' without a start")),
        Some((_, "")) => Err(format!("has a range '{base}' without an end")),
        Some((from, to)) => {
            let (from, to) = (value(from, spec)?, value(to, spec)?);
            if from > to {
                return Err(format!("has the range '{base}', which runs backwards"));
            }
            Ok(())
        }
    }
}

/// A value of the field, a number or a name, within its range.
fn value(raw: &str, spec: &Field) -> Result<u32, String> {
    if let Some(at) = spec.names.iter().position(|name| *name == raw) {
        // Five-field weekdays start at 0 (SUN), EventBridge's at 1 (SUN); months at 1 (JAN).
        return Ok(spec.min + at as u32);
    }
    let range = format!("{}-{}", spec.min, spec.max);
    let names = match spec.names {
        [] => String::new(),
        names => format!(" or {}-{}", names[0], names[names.len() - 1]),
    };
    match raw.parse::<u32>() {
        Ok(n) if (spec.min..=spec.max).contains(&n) => Ok(n),
        Ok(n) => Err(format!("has {n}, outside {range}")),
        Err(_) if raw.is_empty() => Err("has an empty value".to_owned()),
        Err(_) => Err(format!("has '{raw}', which is not a value of {range}{names}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(expression: &str) -> Result<(), String> {
        check_fields(&expression.split(' ').collect::<Vec<_>>(), &AWS_FIELDS)
    }

    #[test]
    fn when_fields_are_well_formed_should_pass() {
        for ok in [
            "0 9 ? * 2-6 *",
            "*/15 0-23/2 1,15 JAN-MAR ? 2026-2030",
            "0 12 L * ? *",
            "0 12 LW * ? *",
            "0 12 15W * ? *",
            "0 12 ? * 6#3 *",
            "0 12 ? * 6L *",
            "0 12 ? * MON-FRI *",
            "5/10 * ? * L *",
        ] {
            assert_eq!(aws(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn when_a_field_is_malformed_should_name_the_field_and_the_fault() {
        for (bad, says) in [
            (", 0 * * ? *", "the minute field ',' has an empty value"),
            ("0, 0 * * ? *", "the minute field '0,' has an empty value"),
            ("0 1,,2 * * ? *", "the hour field '1,,2' has an empty value"),
            ("0 5- * * ? *", "the hour field '5-' has a range '5-' without an end"),
            ("0 -5 * * ? *", "without a start"),
            ("60 0 * * ? *", "the minute field '60' has 60, outside 0-59"),
            ("0 0 32 * ? *", "the day-of-month field '32' has 32, outside 1-31"),
            ("0 0 * 13 ? *", "the month field '13' has 13, outside 1-12"),
            ("0 0 ? * 0 *", "the day-of-week field '0' has 0, outside 1-7"),
            ("0 0 * * ? 1969", "the year field '1969' has 1969, outside 1970-2199"),
            ("*/0 0 * * ? *", "the minute field '*/0' has a step of 0"),
            ("0/ 0 * * ? *", "has '' as the step"),
            ("0 10-5 * * ? *", "runs backwards"),
            ("0 0 ? * 2#6 *", "the occurrence after # is 1 to 5"),
            ("0 0 * FOO ? *", "not a value of 1-12 or JAN-DEC"),
            ("? 0 * * ? *", "only day-of-month and day-of-week"),
            ("0 0 ?,1 * ? *", "'?' stands alone"),
        ] {
            let error = aws(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn when_five_field_weekdays_are_named_should_count_from_sunday_zero() {
        let five = |e: &str| check_fields(&e.split(' ').collect::<Vec<_>>(), &STANDARD_FIELDS);
        assert_eq!(five("0 8 * * 0-7"), Ok(()));
        assert_eq!(five("0 8 * * SUN-SAT"), Ok(()));
        assert!(five("0 8 * * 8").unwrap_err().contains("outside 0-7"));
    }
}
