//! Rules every event dialect's body shares: its size limits, bounded strings, segmentable properties, the
//! shapes of an email and a phone number, and how input is echoed in an error.

use serde_json::{Map, Value};

use super::limits::*;
use super::validation::{json_type, Errors, Pointer};
use super::values::{number_in_range, PropertyValue};

/// `body` as an event object, checked against the size limits; otherwise the errors say why it is not one.
pub(crate) fn event_object<'a>(body: &'a Value, at: &Pointer, errors: &mut Errors) -> Option<&'a Map<String, Value>> {
    check_sizes(body, at, 0, errors);
    let object = body.as_object();
    if object.is_none() {
        errors.add(at, format!("the event must be a JSON object, not {}", json_type(body)));
    }
    object
}

/// Rejects strings over [`MAX_STRING_BYTES`] and nesting beyond [`MAX_NESTING_DEPTH`], anywhere in the body.
fn check_sizes(value: &Value, at: &Pointer, depth: usize, errors: &mut Errors) {
    match value {
        Value::String(s) if s.len() > MAX_STRING_BYTES => errors.add(
            at,
            format!(
                "string is {} bytes; the limit is {MAX_STRING_BYTES} bytes (100 KiB)",
                s.len()
            ),
        ),
        Value::Array(_) | Value::Object(_) if depth >= MAX_NESTING_DEPTH => {
            errors.add(at, format!("nesting is deeper than {MAX_NESTING_DEPTH} levels"))
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                check_sizes(item, &at.index(i), depth + 1, errors);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let here = at.key(key);
                if key.len() > MAX_STRING_BYTES {
                    errors.add(&here, format!("property name is longer than {MAX_STRING_BYTES} bytes"));
                }
                check_sizes(item, &here, depth + 1, errors);
            }
        }
        _ => {}
    }
}

pub(crate) fn bounded_string(
    value: &Value,
    at: &Pointer,
    chars: std::ops::RangeInclusive<usize>,
    errors: &mut Errors,
) -> Option<String> {
    let Value::String(s) = value else {
        errors.add(at, format!("must be a string, not {}", json_type(value)));
        return None;
    };
    let count = s.chars().count();
    if !chars.contains(&count) {
        errors.add(
            at,
            format!(
                "must be {} to {} characters long; it is {count}",
                chars.start(),
                chars.end()
            ),
        );
        return None;
    }
    Some(s.clone())
}

/// A segmentable property: a valid name and a string, number (in DynamoDB's range) or boolean value.
pub(crate) fn scalar_property(key: &str, value: &Value, at: &Pointer, errors: &mut Errors) -> Option<PropertyValue> {
    if key.is_empty() || key.chars().count() > MAX_PROPERTY_NAME_CHARS {
        errors.add(
            at,
            format!("property names must be 1 to {MAX_PROPERTY_NAME_CHARS} characters long"),
        );
        return None;
    }
    if let Value::Number(n) = value {
        if !number_in_range(n) {
            errors.add(
                at,
                "number is out of range (magnitude must be below 1e126 and above 1e-130)",
            );
            return None;
        }
    }
    let typed = PropertyValue::from_scalar(value);
    if typed.is_none() {
        errors.add(
            at,
            format!("must be a string, number or boolean, not {}", json_type(value)),
        );
    }
    typed
}

/// An address with a local part, an `@`, and a domain with a dot; no spaces.
pub(crate) fn is_email(s: &str) -> bool {
    email_address::EmailAddress::is_valid(s)
        && s.rsplit_once('@').is_some_and(|(_, domain)| domain.contains('.'))
        && !s.contains(char::is_whitespace)
}

/// E.164: `+`, a non-zero digit, then up to 14 more digits.
pub(crate) fn is_e164(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or("");
    (2..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// Keeps echoed input short in error messages.
pub(crate) fn truncate(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}
