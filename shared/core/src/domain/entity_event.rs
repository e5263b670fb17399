//! The entity-event dialect of the Event Collector API, `POST /api/v1/events`: an entity's create, change or
//! delete, with its JSON in base64, into the canonical event plus the entity change.
//!
//! `operation`: `CREATE`, `BULK_CREATE`, `INSERT` are creates; `UPDATE`, `BULK_UPDATE`, `UPSERT`, `PATCH`,
//! `CHANGE` are changes; `DELETE`, `BULK_DELETE`, `REMOVE` are deletes (any letter case). `entity_name` is an
//! entity type (`INVENTORY_LEVEL`, `inventoryLevel`, `Inventory Level` …). `id` is the client's dedupe key.

use std::collections::BTreeMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine;
use serde_json::{Map, Value};

use super::consent::{consent_field, consent_of_text, is_consent_field};
use super::custom_event::CustomEvent;
use super::customer_input::CustomerInput;
use super::event_fields::{bounded_string, event_object, is_e164, is_email};
use super::ids::CustomerId;
use super::subscription::{EntityType, Operation};
use super::validation::{json_type, Errors, FieldError, Pointer};
use super::values::PropertyValue;

/// An entity change as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityChange {
    pub entity_type: EntityType,
    pub operation: Operation,
    pub entity_id: String,
    /// `base64_encoded_payload_json`, decoded.
    pub payload: Value,
    /// `base64_encoded_fault_json`, decoded, when sent.
    pub fault: Option<Value>,
}

/// A parsed entity event: the canonical event (its `$extra` is the request as sent, which
/// `GET /api/v1/events/{id}` returns) and the change.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityEvent {
    pub event: CustomEvent,
    pub change: EntityChange,
}

const CREATES: [&str; 3] = ["CREATE", "BULK_CREATE", "INSERT"];
const CHANGES: [&str; 5] = ["UPDATE", "BULK_UPDATE", "UPSERT", "PATCH", "CHANGE"];
const DELETES: [&str; 3] = ["DELETE", "BULK_DELETE", "REMOVE"];

/// Validates an entity event; every problem is reported with its pointer.
pub fn parse_entity_event(body: &Value) -> Result<EntityEvent, Vec<FieldError>> {
    let root = Pointer::root();
    let mut errors = Errors::default();
    let Some(obj) = event_object(body, &root, &mut errors) else {
        return Err(errors.into_vec());
    };
    let text = |name: &str, at: &Pointer, errors: &mut Errors| {
        obj.get(name)
            .filter(|v| !v.is_null())
            .and_then(|v| bounded_string(v, &at.key(name), 1..=MAX_TEXT_CHARS, errors))
    };
    let unique_id = text("id", &root, &mut errors);
    let entity_type = match text("entity_name", &root, &mut errors) {
        Some(name) => {
            let parsed = EntityType::parse(&normalise_name(&name)).filter(|t| *t != EntityType::Operations);
            if parsed.is_none() {
                let names: Vec<_> = EntityType::ALL
                    .iter()
                    .filter(|t| **t != EntityType::Operations)
                    .map(|t| t.name())
                    .collect();
                errors.add(
                    &root.key("entity_name"),
                    format!("must name an entity type: {}", names.join(", ")),
                );
            }
            parsed
        }
        None => {
            if !obj.contains_key("entity_name") {
                errors.add(&root.key("entity_name"), "is required");
            }
            None
        }
    };
    if let Some(kind) = text("event_type", &root, &mut errors) {
        if kind != "ENTITY_EVENT" {
            errors.add(&root.key("event_type"), "must be ENTITY_EVENT");
        }
    }
    let event_source = text("event_source", &root, &mut errors);
    let payload_at = root.key("event_payload");
    let payload_obj = match obj.get("event_payload") {
        Some(Value::Object(p)) => Some(p),
        None | Some(Value::Null) => {
            errors.add(&payload_at, "is required");
            None
        }
        Some(other) => {
            errors.add(&payload_at, format!("must be an object, not {}", json_type(other)));
            None
        }
    };
    let mut change_parts = None;
    if let Some(p) = payload_obj {
        let p_text = |name: &str, errors: &mut Errors| {
            p.get(name)
                .filter(|v| !v.is_null())
                .and_then(|v| bounded_string(v, &payload_at.key(name), 1..=usize::MAX, errors))
        };
        let operation = match p_text("operation", &mut errors) {
            Some(op) => {
                let op = op.to_ascii_uppercase();
                let parsed = if CREATES.contains(&op.as_str()) {
                    Some(Operation::Create)
                } else if CHANGES.contains(&op.as_str()) {
                    Some(Operation::Change)
                } else if DELETES.contains(&op.as_str()) {
                    Some(Operation::Delete)
                } else {
                    None
                };
                if parsed.is_none() {
                    errors.add(
                        &payload_at.key("operation"),
                        format!(
                            "must be one of {}, {}, {}",
                            CREATES.join(", "),
                            CHANGES.join(", "),
                            DELETES.join(", ")
                        ),
                    );
                }
                parsed
            }
            None => {
                errors.add(&payload_at.key("operation"), "is required");
                None
            }
        };
        let payload = match p_text("base64_encoded_payload_json", &mut errors) {
            Some(encoded) => decode_json(&encoded, &payload_at.key("base64_encoded_payload_json"), &mut errors),
            None => {
                errors.add(&payload_at.key("base64_encoded_payload_json"), "is required");
                None
            }
        };
        let fault = p_text("base64_encoded_fault_json", &mut errors)
            .and_then(|encoded| decode_json(&encoded, &payload_at.key("base64_encoded_fault_json"), &mut errors));
        let outer_id = text("entity_id", &root, &mut errors);
        let inner_id = p_text("entity_id", &mut errors);
        let entity_id = match (outer_id, inner_id) {
            (Some(a), Some(b)) if a != b => {
                errors.add(
                    &payload_at.key("entity_id"),
                    format!("is '{b}' but entity_id is '{a}'; they name the same entity"),
                );
                None
            }
            (Some(id), _) | (None, Some(id)) => Some(id),
            (None, None) => {
                errors.add(&root.key("entity_id"), "is required (here or in event_payload)");
                None
            }
        };
        let key_attributes = key_attributes(p.get("key_attributes"), &payload_at.key("key_attributes"), &mut errors);
        change_parts = Some((operation, payload, fault, entity_id, key_attributes));
    }

    match (entity_type, change_parts) {
        (Some(entity_type), Some((Some(operation), Some(payload), fault, Some(entity_id), key_attributes)))
            if errors.is_empty() =>
        {
            let customer = customer_of(&key_attributes);
            let mut data: BTreeMap<String, PropertyValue> = key_attributes
                .into_iter()
                .map(|(k, v)| (k, PropertyValue::String(v)))
                .collect();
            if let Some(source) = event_source {
                data.insert("event_source".to_owned(), PropertyValue::String(source));
            }
            Ok(EntityEvent {
                event: CustomEvent {
                    event_name: format!("{}.{}", entity_type.name().to_ascii_lowercase(), operation.action()),
                    customer,
                    data,
                    extra: Some(obj.clone()),
                    event_timestamp: None,
                    value: None,
                    value_currency: None,
                    unique_id,
                },
                change: EntityChange {
                    entity_type,
                    operation,
                    entity_id,
                    payload,
                    fault,
                },
            })
        }
        _ => Err(errors.into_vec()),
    }
}

/// `inventoryLevel`, `Inventory Level`, `inventory-level` → `INVENTORY_LEVEL`.
fn normalise_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.trim().chars() {
        if c == ' ' || c == '-' || c == '_' {
            if !out.ends_with('_') {
                out.push('_');
            }
            previous_lower = false;
        } else {
            if c.is_ascii_uppercase() && previous_lower {
                out.push('_');
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_uppercase());
        }
    }
    out
}

/// Base64 (standard or URL-safe, padded) holding UTF-8 JSON.
fn decode_json(encoded: &str, at: &Pointer, errors: &mut Errors) -> Option<Value> {
    let bytes = match STANDARD
        .decode(encoded.trim())
        .or_else(|_| URL_SAFE.decode(encoded.trim()))
    {
        Ok(bytes) => bytes,
        Err(e) => {
            errors.add(at, format!("is not valid base64 ({e})"));
            return None;
        }
    };
    match serde_json::from_slice(&bytes) {
        Ok(value) => Some(value),
        Err(e) => {
            errors.add(at, format!("does not decode to JSON ({e})"));
            None
        }
    }
}

fn key_attributes(value: Option<&Value>, at: &Pointer, errors: &mut Errors) -> BTreeMap<String, String> {
    match value {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k.clone(), s.clone())),
                Value::Number(n) => Some((k.clone(), n.to_string())),
                other => {
                    errors.add(&at.key(k), format!("must be a string, not {}", json_type(other)));
                    None
                }
            })
            .collect(),
        Some(other) => {
            errors.add(at, format!("must be an object of strings, not {}", json_type(other)));
            BTreeMap::new()
        }
    }
}

/// The customer named by `customerId` (24 hex), `email` or `phoneNumber` in the key attributes, if any:
/// wishlists and customers belong to one. A consent attribute (`acceptsMarketing`) goes on its profile.
fn customer_of(attributes: &BTreeMap<String, String>) -> Option<CustomerInput> {
    let find = |name: &str| {
        attributes
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let mut customer = CustomerInput {
        id: find("customerId").and_then(|id| CustomerId::parse(&id).ok()),
        email: find("email").filter(|e| is_email(e)),
        phone_number: find("phoneNumber").filter(|p| is_e164(p)),
        ..CustomerInput::default()
    };
    let consent = attributes.iter().find(|(k, _)| is_consent_field(k));
    if let Some(yes) = consent.and_then(|(_, v)| consent_of_text(v)) {
        let (name, value) = consent_field(yes);
        customer.patch.custom_fields.insert(name, value);
    }
    (customer.id.is_some() || customer.email.is_some() || customer.phone_number.is_some()).then_some(customer)
}

/// The most characters of an entity event's text fields, its `id` among them.
pub const MAX_TEXT_CHARS: usize = 255;

/// The client's `id` named by a path segment of `GET /api/v1/events/{id}` (percent-decoded), if it could be
/// one: 1 to [`MAX_TEXT_CHARS`] characters of UTF-8. Anything else names no event.
pub fn client_id_of_segment(segment: &str) -> Option<String> {
    let id = percent_encoding::percent_decode_str(segment).decode_utf8().ok()?;
    (1..=MAX_TEXT_CHARS)
        .contains(&id.chars().count())
        .then(|| id.into_owned())
}

/// The representation `GET /api/v1/events/{id}` answers: the request as sent, with our `eventId`.
pub fn representation(extra: Option<&Map<String, Value>>, event_id: &str) -> Value {
    let mut body = extra.cloned().unwrap_or_default();
    body.insert("eventId".to_owned(), Value::String(event_id.to_owned()));
    Value::Object(body)
}

#[cfg(test)]
#[path = "entity_event_tests.rs"]
mod tests;
