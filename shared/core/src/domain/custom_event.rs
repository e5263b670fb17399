//! The Redo custom-event request (`POST /stores/{storeId}/events`): parsing and validation into a
//! [`CustomEvent`], every rule of the spec with a JSON Pointer per failure.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

use super::currency::is_iso4217;
use super::customer_input::{parse_customer, CustomerInput};
use super::event_fields::{bounded_string, event_object, scalar_property, truncate};
use super::limits::*;
use super::validation::{json_type, Errors, FieldError, Pointer};
use super::values::{is_unset, number_in_range, parse_date_time, PropertyValue};

/// The name a direct profile write (`PUT /stores/{storeId}/customers`) is stored under. Its subscribers'
/// messages are the customer's own (`customer.created`, `customer.updated`); clients cannot send it.
pub const PROFILE_WRITE_EVENT: &str = "$profile";

/// A direct profile write: the body is a customer object, with exactly the rules and patch semantics of an
/// event's `customer` (pointers from the body's root), stored as a [`PROFILE_WRITE_EVENT`] event.
pub fn parse_profile_write(body: &Value) -> Result<CustomEvent, Vec<FieldError>> {
    let mut errors = Errors::default();
    let root = Pointer::root();
    let customer = match body.is_object() {
        true => event_object(body, &root, &mut errors).and_then(|_| parse_customer(body, &root, &mut errors)),
        false => {
            errors.add(
                &root,
                format!("the profile must be a JSON object, not {}", json_type(body)),
            );
            None
        }
    };
    errors.finish(())?;
    Ok(CustomEvent {
        event_name: PROFILE_WRITE_EVENT.to_owned(),
        customer,
        data: BTreeMap::new(),
        extra: None,
        event_timestamp: None,
        value: None,
        value_currency: None,
        unique_id: None,
    })
}

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

/// Validates one custom-event body. `at` is where the event sits in the request (`""`, or `/events/3`).
/// `now` bounds `eventTimestamp`. Every problem is reported, not just the first.
pub fn parse_custom_event(body: &Value, at: &Pointer, now: DateTime<Utc>) -> Result<CustomEvent, Vec<FieldError>> {
    let mut errors = Errors::default();
    let Some(obj) = event_object(body, at, &mut errors) else {
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
            } else if name == PROFILE_WRITE_EVENT {
                errors.add(
                    &at.key("eventName"),
                    format!("{PROFILE_WRITE_EVENT} is reserved: PUT /stores/{{storeId}}/customers writes a profile"),
                );
            }
            !blank && name != PROFILE_WRITE_EVENT
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
