//! Segmentable property values: string, number, boolean, or a date detected from an RFC 3339 string.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use super::limits::{MAX_NUMBER_MAGNITUDE, MIN_NUMBER_MAGNITUDE};

/// A typed property of `data` or `customFields`.
///
/// Dates are stored as `{"$date": "2025-01-01T00:00:00.000Z"}` (the MongoDB Extended JSON form), always in
/// UTC with millisecond precision, so that string order is time order and consumers can tell a date from a
/// string that merely looks like one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PropertyValue {
    Date(DateValue),
    Bool(bool),
    Number(Number),
    String(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateValue {
    #[serde(rename = "$date", with = "millis_rfc3339")]
    pub date: DateTime<Utc>,
}

impl PropertyValue {
    /// The value as a client sends it: a date as its RFC 3339 string (UTC, milliseconds).
    pub fn as_sent(&self) -> Value {
        match self {
            Self::Date(DateValue { date }) => Value::String(format_date_time(date)),
            Self::Bool(b) => Value::Bool(*b),
            Self::Number(n) => Value::Number(n.clone()),
            Self::String(s) => Value::String(s.clone()),
        }
    }

    /// Types a JSON scalar: RFC 3339 date-time strings become dates. `None` for arrays, objects and null.
    pub fn from_scalar(value: &Value) -> Option<Self> {
        Some(match value {
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => Self::Number(n.clone()),
            Value::String(s) => match parse_date_time(s) {
                Some(date) => Self::Date(DateValue { date }),
                None => Self::String(s.clone()),
            },
            Value::Null | Value::Array(_) | Value::Object(_) => return None,
        })
    }
}

/// Parses an RFC 3339 date-time (`2026-04-02T12:00:00Z`, `2026-04-02T14:00:00.5+02:00`).
///
/// Strict on purpose: a date alone (`2024-01-01`) or a space instead of `T` is not a date-time and stays a
/// string, so that detection never surprises.
pub fn parse_date_time(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let shape_ok = b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't')
        && b[13] == b':'
        && b[16] == b':'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    if !shape_ok {
        return None;
    }
    DateTime::parse_from_rfc3339(s).ok().map(|d| d.with_timezone(&Utc))
}

/// The stored form of a date: UTC, milliseconds, `Z`.
pub fn format_date_time(date: &DateTime<Utc>) -> String {
    date.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Whether DynamoDB can store the number (it rejects magnitudes beyond 1e126 and below 1e-130).
pub fn number_in_range(n: &Number) -> bool {
    match n.as_f64() {
        Some(f) => f == 0.0 || (MIN_NUMBER_MAGNITUDE..MAX_NUMBER_MAGNITUDE).contains(&f.abs()),
        None => false,
    }
}

/// Whether a top-level `data` value counts as unset (`0`, `null`, `""`) and is therefore not stored.
pub fn is_unset(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

mod millis_rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(date: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_date_time(date))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let raw = String::deserialize(d)?;
        super::parse_date_time(&raw).ok_or_else(|| serde::de::Error::custom("not an RFC 3339 date-time"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn when_string_is_rfc3339_date_time_should_become_a_utc_date() {
        let v = PropertyValue::from_scalar(&json!("2026-04-02T14:00:00.5+02:00")).unwrap();
        assert_eq!(
            serde_json::to_value(&v).unwrap(),
            json!({"$date": "2026-04-02T12:00:00.500Z"})
        );
    }

    #[test]
    fn when_string_only_resembles_a_date_should_stay_a_string() {
        for s in ["2024-01-01", "2024-01-01 12:00:00Z", "2024-13-01T00:00:00Z", "Tomorrow"] {
            assert_eq!(
                PropertyValue::from_scalar(&json!(s)),
                Some(PropertyValue::String(s.into())),
                "{s}"
            );
        }
    }

    #[test]
    fn when_stored_value_is_read_back_should_keep_its_type() {
        for v in [
            json!({"$date": "2025-01-01T00:00:00.000Z"}),
            json!(true),
            json!(5000),
            json!(2.5),
            json!("gold"),
        ] {
            let typed: PropertyValue = serde_json::from_value(v.clone()).unwrap();
            assert_eq!(serde_json::to_value(&typed).unwrap(), v);
        }
    }

    #[test]
    fn when_number_exceeds_dynamodb_range_should_be_out_of_range() {
        assert!(number_in_range(&Number::from_f64(1e125).unwrap()));
        assert!(!number_in_range(&Number::from_f64(1e200).unwrap()));
        assert!(!number_in_range(&Number::from_f64(1e-200).unwrap()));
        assert!(number_in_range(&Number::from(0)));
    }

    #[test]
    fn when_value_is_zero_null_or_empty_should_count_as_unset() {
        for v in [json!(0), json!(0.0), json!(null), json!("")] {
            assert!(is_unset(&v), "{v}");
        }
        for v in [json!(false), json!(" "), json!(1)] {
            assert!(!is_unset(&v), "{v}");
        }
    }
}
