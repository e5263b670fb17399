//! The eSputnik dialect, `POST /api/v1/event`: `{eventTypeKey, keyValue, params: [{name, value}]}` into the
//! canonical event of [`super::custom_event`], plus the order command of the order lifecycle events.
//!
//! Contact identification (parameter names matched case-insensitively, values case-sensitive except email):
//!
//! | parameters | become |
//! |---|---|
//! | `Email`, `EmailAddress`, `UserEmail`, `ContactEmail` | `customer.email` (matched case-insensitively) |
//! | `Phone`, `SMS`, `PhoneNumber` | `customer.phoneNumber`, normalised to E.164 (separators dropped, `+` added) |
//! | `ContactId`, `Contact_id`, `ContactKey`, `Contact_key`, `PushToken` | `customer.id`: the value when it is a 24-hex id, else an id derived from it, so one contact key always names one customer |
//! | `keyValue` | by its form, when no parameter of that kind was sent: with `@` an email, phone-like a phone, else a contact key |

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::activity::ActivityWrite;
use super::consent::{consent_field, consent_of_json, is_consent_field};
use super::custom_event::CustomEvent;
use super::customer_input::CustomerInput;
use super::esputnik_effects::{activity_of, order_command};
use super::event_fields::{bounded_string, event_object, is_e164, is_email, truncate};
use super::ids::CustomerId;
use super::order::OrderCommand;
use super::validation::{json_type, Errors, FieldError, Pointer};
use super::values::PropertyValue;

/// Parameters whose value is a JSON string, parsed one level deep.
pub const JSON_PARAMETERS: [&str; 5] = ["items", "product", "category", "products", "page"];
const EMAIL_PARAMETERS: [&str; 4] = ["email", "emailaddress", "useremail", "contactemail"];
const PHONE_PARAMETERS: [&str; 3] = ["phone", "sms", "phonenumber"];
/// In priority order; each kind derives ids in its own namespace.
const CONTACT_PARAMETERS: [(&str, &str); 5] = [
    ("contactid", "contact-id"),
    ("contact_id", "contact-id"),
    ("contactkey", "contact-key"),
    ("contact_key", "contact-key"),
    ("pushtoken", "push-token"),
];
/// The parameter that carries a dedupe key, as `uniqueId` does in the Redo dialect.
const UNIQUE_ID_PARAMETERS: [&str; 2] = ["uniqueid", "eventid"];
const MAX_PARAMS: usize = 400;

/// A parsed eSputnik event.
#[derive(Debug, Clone, PartialEq)]
pub struct EsputnikEvent {
    pub event: CustomEvent,
    /// For `orderCreated`, `orderUpdated`, `orderDelivered`, `orderCancelled`.
    pub order: Option<OrderCommand>,
    /// For `productViewed` and `cartUpdated`: what the notification jobs will query.
    pub activity: Vec<ActivityWrite>,
}

/// Validates an eSputnik body; every problem is reported with its pointer (`/params/3/value`).
pub fn parse_esputnik(body: &Value) -> Result<EsputnikEvent, Vec<FieldError>> {
    let root = Pointer::root();
    let mut errors = Errors::default();
    let Some(obj) = event_object(body, &root, &mut errors) else {
        return Err(errors.into_vec());
    };
    let required = |name: &str, errors: &mut Errors| match obj.get(name) {
        None | Some(Value::Null) => {
            errors.add(&root.key(name), format!("{name} is required"));
            None
        }
        Some(v) => bounded_string(v, &root.key(name), 1..=255, errors),
    };
    let event_type_key = required("eventTypeKey", &mut errors);
    let key_value = required("keyValue", &mut errors);
    let params = parse_params(obj.get("params"), &root.key("params"), &mut errors);

    let mut customer = CustomerInput::default();
    for (name, at, value) in params
        .iter()
        .filter_map(|p| Some((p.lower.as_str(), &p.at, p.value.as_str()?)))
    {
        if EMAIL_PARAMETERS.contains(&name) && customer.email.is_none() {
            customer.email = email(value, at, &mut errors);
        } else if PHONE_PARAMETERS.contains(&name) && customer.phone_number.is_none() {
            customer.phone_number = phone(value, at, &mut errors);
        }
    }
    customer.id = CONTACT_PARAMETERS.iter().find_map(|(name, kind)| {
        let p = params.iter().find(|p| p.lower == *name)?;
        Some(contact_id(
            kind,
            &p.value
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| p.value.to_string()),
        ))
    });
    if let Some(key) = &key_value {
        identify_by_key_value(key, &mut customer);
    }
    // Consent sent with any event is the contact's: it goes on the profile (and stays in the event's data).
    let consent = params.iter().find(|p| is_consent_field(&p.name));
    if let Some(yes) = consent.and_then(|p| consent_of_json(&p.value)) {
        let (name, value) = consent_field(yes);
        customer.patch.custom_fields.insert(name, value);
    }

    let mut data = BTreeMap::new();
    let mut extra = Map::new();
    let mut unique_id = None;
    let identifying = |n: &str| {
        EMAIL_PARAMETERS.contains(&n)
            || PHONE_PARAMETERS.contains(&n)
            || CONTACT_PARAMETERS.iter().any(|(c, _)| *c == n)
    };
    for p in &params {
        if UNIQUE_ID_PARAMETERS.contains(&p.lower.as_str()) {
            unique_id = p.value.as_str().map(str::to_owned);
        } else if JSON_PARAMETERS.contains(&p.lower.as_str()) {
            if let Some(parsed) = json_parameter(&p.name, &p.value, &p.at, &mut errors) {
                extra.insert(p.name.clone(), parsed);
            }
        } else if !identifying(&p.lower) {
            if let Some(value) = PropertyValue::from_scalar(&p.value) {
                data.insert(p.name.clone(), value);
            }
        }
    }

    let order = event_type_key
        .as_deref()
        .and_then(|key| order_command(key, &params, &extra, &mut errors));
    let activity = event_type_key
        .as_deref()
        .map(|key| activity_of(key, &params, &extra, &mut errors))
        .unwrap_or_default();
    match event_type_key {
        Some(event_name) if errors.is_empty() => Ok(EsputnikEvent {
            event: CustomEvent {
                event_name,
                customer: Some(customer),
                data,
                extra: (!extra.is_empty()).then_some(extra),
                event_timestamp: None,
                value: None,
                value_currency: None,
                unique_id,
            },
            order,
            activity,
        }),
        _ => Err(errors.into_vec()),
    }
}

/// One parameter: its name as sent and lower-cased, its value, where its value is.
pub(super) struct Param {
    pub(super) name: String,
    pub(super) lower: String,
    pub(super) value: Value,
    pub(super) at: Pointer,
}

fn parse_params(value: Option<&Value>, at: &Pointer, errors: &mut Errors) -> Vec<Param> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            errors.add(
                at,
                format!("params must be an array of {{name, value}}, not {}", json_type(other)),
            );
            return Vec::new();
        }
    };
    if items.len() > MAX_PARAMS {
        errors.add(at, format!("at most {MAX_PARAMS} params"));
    }
    let mut params: Vec<Param> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let here = at.index(i);
        let Some(name) = item
            .get("name")
            .and_then(|n| bounded_string(n, &here.key("name"), 1..=255, errors))
        else {
            if item.get("name").is_none() {
                errors.add(&here.key("name"), "name is required");
            }
            continue;
        };
        let value = match item.get("value") {
            Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => v.clone(),
            None | Some(Value::Null) => continue,
            Some(other) => {
                errors.add(
                    &here.key("value"),
                    format!(
                        "must be a string, number or boolean (JSON goes in a string), not {}",
                        json_type(other)
                    ),
                );
                continue;
            }
        };
        let lower = name.to_ascii_lowercase();
        // A name sent twice: the later value wins, as in a form.
        params.retain(|p| p.lower != lower);
        params.push(Param {
            name,
            lower,
            value,
            at: here.key("value"),
        });
    }
    params
}

fn email(value: &str, at: &Pointer, errors: &mut Errors) -> Option<String> {
    if is_email(value) && value.len() <= 254 {
        Some(value.to_owned())
    } else {
        errors.add(at, format!("'{}' is not an email address", truncate(value)));
        None
    }
}

/// `380501234567`, `+38 (050) 123-45-67` → `+380501234567`.
fn normalise_phone(value: &str) -> String {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    format!("+{digits}")
}

fn phone(value: &str, at: &Pointer, errors: &mut Errors) -> Option<String> {
    let allowed = value.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let normalised = normalise_phone(value);
    if allowed && is_e164(&normalised) {
        Some(normalised)
    } else {
        errors.add(
            at,
            format!(
                "'{}' is not a phone number in international format (country code and number)",
                truncate(value)
            ),
        );
        None
    }
}

/// The customer id a contact id, key or push token names: itself when it is a 24-hex id, else derived.
fn contact_id(kind: &str, value: &str) -> CustomerId {
    CustomerId::parse(value).unwrap_or_else(|_| {
        let digest = Sha256::digest(format!("esputnik:{kind}:{value}").as_bytes());
        let mut bytes = [0u8; 12];
        bytes.copy_from_slice(&digest[..12]);
        CustomerId::from_bytes(bytes)
    })
}

fn identify_by_key_value(key: &str, customer: &mut CustomerInput) {
    let looks_like_phone =
        key.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) && is_e164(&normalise_phone(key));
    if key.contains('@') {
        if customer.email.is_none() && is_email(key) {
            customer.email = Some(key.to_owned());
        }
    } else if looks_like_phone {
        if customer.phone_number.is_none() {
            customer.phone_number = Some(normalise_phone(key));
        }
    } else if customer.id.is_none() {
        customer.id = Some(contact_id("contact-key", key));
    }
}

/// A JSON parameter, parsed one level deep: containers inside the top-level value stay JSON strings. The
/// error names the parameter: its pointer is only a position in `params`.
fn json_parameter(name: &str, value: &Value, at: &Pointer, errors: &mut Errors) -> Option<Value> {
    let Value::String(text) = value else {
        errors.add(
            at,
            format!(
                "parameter '{name}' must be a string holding JSON, not {}",
                json_type(value)
            ),
        );
        return None;
    };
    match serde_json::from_str::<Value>(text) {
        Ok(parsed) => Some(one_level(parsed)),
        Err(e) => {
            errors.add(at, format!("parameter '{name}' is not valid JSON: {e}"));
            None
        }
    }
}

fn one_level(value: Value) -> Value {
    let flatten = |v: Value| match v {
        Value::Array(_) | Value::Object(_) => Value::String(v.to_string()),
        scalar => scalar,
    };
    match value {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| match item {
                    Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, flatten(v))).collect()),
                    other => flatten(other),
                })
                .collect(),
        ),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, flatten(v))).collect()),
        scalar => scalar,
    }
}

#[cfg(test)]
#[path = "esputnik_tests.rs"]
mod tests;
