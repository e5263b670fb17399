//! The Redo custom-event request (`POST /stores/{storeId}/events`): parsing and validation into a
//! [`CustomEvent`], every rule of the spec with a JSON Pointer per failure.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

use super::currency::is_iso4217;
use super::ids::CustomerId;
use super::limits::*;
use super::validation::{json_type, Errors, FieldError, Pointer};
use super::values::{is_unset, number_in_range, parse_date_time, PropertyValue};

/// A valid custom event, normalised: unset `data` values dropped, dates typed, email as sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomEvent {
    pub event_name: String,
    /// Who the event is about; `None` for events about no customer (an inventory level, say).
    pub customer: Option<CustomerInput>,
    pub data: BTreeMap<String, PropertyValue>,
    /// `data.$extra`, exactly as sent.
    pub extra: Option<Map<String, Value>>,
    /// As sent; `None` means "now" and is filled in when the event is stored.
    pub event_timestamp: Option<DateTime<Utc>>,
    pub value: Option<Number>,
    pub value_currency: Option<String>,
    pub unique_id: Option<String>,
}

/// The `customer` object: identifiers and the profile patch.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerInput {
    pub id: Option<CustomerId>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub patch: ProfilePatch,
}

/// Profile fields to change. Absent fields are left alone; an empty string clears a field.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfilePatch {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// `location` sub-fields sent, each a string or (latitude, longitude) a number.
    pub location: BTreeMap<String, Value>,
    pub custom_fields: BTreeMap<String, PropertyValue>,
}

impl ProfilePatch {
    /// Sends no profile field at all.
    pub fn is_empty(&self) -> bool {
        self.first_name.is_none()
            && self.last_name.is_none()
            && self.location.is_empty()
            && self.custom_fields.is_empty()
    }
}

impl CustomerInput {
    /// The email as identity resolution matches it: case-insensitively.
    pub fn email_key(&self) -> Option<String> {
        self.email.as_deref().map(str::to_lowercase)
    }
}

impl CustomEvent {
    /// The customer part, or an empty one (no identifiers, no patch) for an event about no customer.
    pub fn customer_input(&self) -> &CustomerInput {
        static NO_CUSTOMER: std::sync::LazyLock<CustomerInput> = std::sync::LazyLock::new(CustomerInput::default);
        self.customer.as_ref().unwrap_or(&NO_CUSTOMER)
    }

    /// SHA-256 of the canonical form (keys sorted at every level, `$extra` included). Two requests with the
    /// same content hash the same whatever their key order or whitespace; dedupe compares these.
    pub fn payload_hash(&self) -> String {
        let canonical = sort_keys(serde_json::to_value(self).expect("events serialise"));
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }
}

fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<String, Value> = map.into_iter().map(|(k, v)| (k, sort_keys(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

const CUSTOMER_FIELDS: [&str; 7] = [
    "id",
    "email",
    "phoneNumber",
    "firstName",
    "lastName",
    "location",
    "customFields",
];
const LOCATION_STRINGS: [&str; 9] = [
    "street1",
    "street2",
    "city",
    "state",
    "stateCode",
    "postalCode",
    "country",
    "countryCode",
    "ianaTimeZoneName",
];
const LOCATION_NUMBERS: [(&str, f64); 2] = [("latitude", 90.0), ("longitude", 180.0)];

/// Validates one custom-event body. `at` is where the event sits in the request (`""`, or `/events/3`).
/// `now` bounds `eventTimestamp`. Every problem is reported, not just the first.
pub fn parse_custom_event(body: &Value, at: &Pointer, now: DateTime<Utc>) -> Result<CustomEvent, Vec<FieldError>> {
    let mut errors = Errors::default();
    check_sizes(body, at, 0, &mut errors);
    let Some(obj) = body.as_object() else {
        errors.add(at, format!("the event must be a JSON object, not {}", json_type(body)));
        return Err(errors.into_vec());
    };

    let event_name = match obj.get("eventName") {
        None => {
            errors.add(&at.key("eventName"), "eventName is required");
            None
        }
        Some(v) => bounded_string(v, &at.key("eventName"), 1..=MAX_EVENT_NAME_CHARS, &mut errors).filter(|name| {
            let blank = name.trim().is_empty();
            if blank {
                errors.add(&at.key("eventName"), "eventName must not be blank");
            }
            !blank
        }),
    };
    let customer = match obj.get("customer") {
        None => {
            errors.add(&at.key("customer"), "customer is required");
            None
        }
        Some(v) => parse_customer(v, &at.key("customer"), &mut errors),
    };
    let (data, extra) = match obj.get("data") {
        None | Some(Value::Null) => (BTreeMap::new(), None),
        Some(v) => parse_data(v, &at.key("data"), &mut errors),
    };
    let event_timestamp = obj
        .get("eventTimestamp")
        .and_then(|v| parse_event_timestamp(v, &at.key("eventTimestamp"), now, &mut errors));
    let value = obj.get("value").and_then(|v| match v {
        Value::Number(n) if number_in_range(n) => Some(n.clone()),
        Value::Number(_) => {
            errors.add(
                &at.key("value"),
                "value is out of range (magnitude must be below 1e126)",
            );
            None
        }
        other => {
            errors.add(
                &at.key("value"),
                format!("value must be a number, not {}", json_type(other)),
            );
            None
        }
    });
    let value_currency = obj.get("valueCurrency").and_then(|v| {
        let code = bounded_string(v, &at.key("valueCurrency"), 0..=usize::MAX, &mut errors)?;
        if is_iso4217(&code) {
            Some(code)
        } else {
            errors.add(
                &at.key("valueCurrency"),
                format!(
                    "'{}' is not an ISO 4217 currency code (three upper-case letters such as USD)",
                    truncate(&code)
                ),
            );
            None
        }
    });
    let unique_id = obj
        .get("uniqueId")
        .and_then(|v| bounded_string(v, &at.key("uniqueId"), UNIQUE_ID_CHARS, &mut errors));

    match (event_name, customer) {
        (Some(event_name), Some(customer)) if errors.is_empty() => Ok(CustomEvent {
            event_name,
            customer: Some(customer),
            data,
            extra,
            event_timestamp,
            value,
            value_currency,
            unique_id,
        }),
        _ => Err(errors.into_vec()),
    }
}

/// Rejects strings over [`MAX_STRING_BYTES`] and nesting beyond [`MAX_NESTING_DEPTH`], anywhere in the body.
pub(crate) fn check_sizes(value: &Value, at: &Pointer, depth: usize, errors: &mut Errors) {
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

fn parse_customer(value: &Value, at: &Pointer, errors: &mut Errors) -> Option<CustomerInput> {
    let Some(obj) = value.as_object() else {
        errors.add(at, format!("customer must be an object, not {}", json_type(value)));
        return None;
    };
    let before = errors.len();
    for key in obj.keys().filter(|k| !CUSTOMER_FIELDS.contains(&k.as_str())) {
        errors.add(
            &at.key(key),
            format!(
                "unknown customer property '{}'; allowed: {}",
                truncate(key),
                CUSTOMER_FIELDS.join(", ")
            ),
        );
    }
    if !["id", "email", "phoneNumber"].iter().any(|k| obj.contains_key(*k)) {
        errors.add(at, "customer needs at least one of id, email or phoneNumber");
    }
    let id = obj.get("id").and_then(|v| {
        let raw = bounded_string(v, &at.key("id"), 0..=usize::MAX, errors)?;
        CustomerId::parse(&raw)
            .map_err(|e| errors.add(&at.key("id"), format!("{e} (the ObjectId form)")))
            .ok()
    });
    let email = obj.get("email").and_then(|v| {
        let email = bounded_string(v, &at.key("email"), 0..=254, errors)?;
        if is_email(&email) {
            Some(email)
        } else {
            errors.add(
                &at.key("email"),
                format!("'{}' is not an email address", truncate(&email)),
            );
            None
        }
    });
    let phone_number = obj.get("phoneNumber").and_then(|v| {
        let phone = bounded_string(v, &at.key("phoneNumber"), 0..=16, errors)?;
        if is_e164(&phone) {
            Some(phone)
        } else {
            errors.add(
                &at.key("phoneNumber"),
                format!(
                    "'{}' is not in E.164 format (+ then country code and number, up to 15 digits, e.g. +14155550100)",
                    truncate(&phone)
                ),
            );
            None
        }
    });
    let patch = ProfilePatch {
        first_name: obj
            .get("firstName")
            .and_then(|v| bounded_string(v, &at.key("firstName"), 0..=MAX_PROPERTY_NAME_CHARS, errors)),
        last_name: obj
            .get("lastName")
            .and_then(|v| bounded_string(v, &at.key("lastName"), 0..=MAX_PROPERTY_NAME_CHARS, errors)),
        location: obj
            .get("location")
            .map(|v| parse_location(v, &at.key("location"), errors))
            .unwrap_or_default(),
        custom_fields: obj
            .get("customFields")
            .map(|v| parse_custom_fields(v, &at.key("customFields"), errors))
            .unwrap_or_default(),
    };
    (errors.len() == before).then_some(CustomerInput {
        id,
        email,
        phone_number,
        patch,
    })
}

fn parse_location(value: &Value, at: &Pointer, errors: &mut Errors) -> BTreeMap<String, Value> {
    let mut location = BTreeMap::new();
    let Some(obj) = value.as_object() else {
        errors.add(at, format!("location must be an object, not {}", json_type(value)));
        return location;
    };
    for (key, field) in obj {
        let here = at.key(key);
        if let Some((_, max)) = LOCATION_NUMBERS.iter().find(|(name, _)| name == key) {
            match field.as_f64() {
                Some(x) if x.abs() <= *max => {
                    location.insert(key.clone(), field.clone());
                }
                Some(_) => errors.add(&here, format!("{key} must be between -{max} and {max}")),
                None => errors.add(&here, format!("{key} must be a number, not {}", json_type(field))),
            }
        } else if LOCATION_STRINGS.contains(&key.as_str()) {
            let Some(mut s) = bounded_string(field, &here, 0..=MAX_PROPERTY_NAME_CHARS, errors) else {
                continue;
            };
            if key == "countryCode" && !s.is_empty() {
                if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_alphabetic()) {
                    errors.add(&here, "countryCode must be an ISO 3166-1 alpha-2 code such as US or GB");
                    continue;
                }
                s.make_ascii_uppercase();
            }
            location.insert(key.clone(), Value::String(s));
        } else {
            let allowed: Vec<&str> = LOCATION_STRINGS
                .iter()
                .copied()
                .chain(LOCATION_NUMBERS.iter().map(|(n, _)| *n))
                .collect();
            errors.add(
                &here,
                format!(
                    "unknown location property '{}'; allowed: {}",
                    truncate(key),
                    allowed.join(", ")
                ),
            );
        }
    }
    location
}

fn parse_custom_fields(value: &Value, at: &Pointer, errors: &mut Errors) -> BTreeMap<String, PropertyValue> {
    let mut fields = BTreeMap::new();
    let Some(obj) = value.as_object() else {
        errors.add(at, format!("customFields must be an object, not {}", json_type(value)));
        return fields;
    };
    if obj.len() > MAX_CUSTOM_FIELDS {
        errors.add(
            at,
            format!(
                "customFields has {} properties; the limit is {MAX_CUSTOM_FIELDS}",
                obj.len()
            ),
        );
    }
    for (key, field) in obj {
        if let Some(typed) = scalar_property(key, field, &at.key(key), errors) {
            fields.insert(key.clone(), typed);
        }
    }
    fields
}

fn parse_data(
    value: &Value,
    at: &Pointer,
    errors: &mut Errors,
) -> (BTreeMap<String, PropertyValue>, Option<Map<String, Value>>) {
    let mut data = BTreeMap::new();
    let Some(obj) = value.as_object() else {
        errors.add(at, format!("data must be an object, not {}", json_type(value)));
        return (data, None);
    };
    if obj.len() > MAX_DATA_PROPERTIES {
        errors.add(
            at,
            format!("data has {} properties; the limit is {MAX_DATA_PROPERTIES}", obj.len()),
        );
    }
    let mut extra = None;
    for (key, field) in obj {
        let here = at.key(key);
        if key == "$extra" {
            match field {
                Value::Object(map) => extra = Some(map.clone()),
                Value::Null => {}
                other => errors.add(&here, format!("$extra must be an object, not {}", json_type(other))),
            }
            continue;
        }
        if is_unset(field) {
            continue;
        }
        if field.is_array() || field.is_object() {
            errors.add(
                &here,
                format!(
                    "top-level data values must be a string, number or boolean, not {}; put nested values in $extra",
                    json_type(field)
                ),
            );
            continue;
        }
        if let Some(typed) = scalar_property(key, field, &here, errors) {
            data.insert(key.clone(), typed);
        }
    }
    (data, extra)
}

/// A segmentable property: a valid name and a string, number (in DynamoDB's range) or boolean value.
fn scalar_property(key: &str, value: &Value, at: &Pointer, errors: &mut Errors) -> Option<PropertyValue> {
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

fn parse_event_timestamp(
    value: &Value,
    at: &Pointer,
    now: DateTime<Utc>,
    errors: &mut Errors,
) -> Option<DateTime<Utc>> {
    let raw = bounded_string(value, at, 0..=64, errors)?;
    let Some(timestamp) = parse_date_time(&raw) else {
        errors.add(
            at,
            format!(
                "'{}' is not an RFC 3339 date-time such as 2026-04-02T12:00:00Z",
                truncate(&raw)
            ),
        );
        return None;
    };
    let earliest = parse_date_time(EARLIEST_EVENT_TIMESTAMP).expect("constant is a date-time");
    let latest = now + Duration::hours(MAX_EVENT_TIMESTAMP_AHEAD_HOURS);
    if timestamp < earliest || timestamp > latest {
        errors.add(
            at,
            format!(
                "eventTimestamp must be between {EARLIEST_EVENT_TIMESTAMP} and {MAX_EVENT_TIMESTAMP_AHEAD_HOURS} hours from now"
            ),
        );
        return None;
    }
    Some(timestamp)
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
