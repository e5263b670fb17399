//! The `customer` object every event dialect carries in some form: identifiers and a profile patch, and
//! the Redo dialect's rules for it (every field with its JSON Pointer).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::event_fields::{bounded_string, is_e164, is_email, scalar_property, truncate};
use super::ids::CustomerId;
use super::limits::*;
use super::validation::{json_type, Errors, Pointer};
use super::values::PropertyValue;

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

pub(crate) fn parse_customer(value: &Value, at: &Pointer, errors: &mut Errors) -> Option<CustomerInput> {
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
