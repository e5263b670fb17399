//! The subscription request body: every field checked, every error reported with its JSON Pointer.

use serde_json::Value;

use super::destination_input::destination;
pub use super::destination_input::{check_webhook_url, AccessInput, DestinationInput, DestinationPolicy};
use super::ids::SubscriptionId;
use super::subscription::{EntityType, ANY_EVENT_NAME};
use super::validation::{json_type, Errors, FieldError, Fields, Pointer};

pub const MAX_EVENT_NAMES: usize = 100;
pub const MAX_EVENT_NAME_CHARS: usize = 256;
pub const MAX_DESCRIPTION_CHARS: usize = 1_024;
pub const MAX_URL_CHARS: usize = 2_048;

/// A valid subscription body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionInput {
    /// The `id` of the body: required by `PUT /api/v1/event-subscription`, ignored on create.
    pub id: Option<SubscriptionId>,
    pub active: bool,
    pub entity_type: Option<EntityType>,
    pub subscribe_create: bool,
    pub subscribe_change: bool,
    pub subscribe_delete: bool,
    pub event_names: Vec<String>,
    pub description: Option<String>,
    pub destination: DestinationInput,
    /// On create: replay every event received since then to the new subscription (a backfill).
    pub replay_from: Option<chrono::DateTime<chrono::Utc>>,
}

/// Parses and validates a subscription body.
pub fn parse_subscription(body: &Value, policy: DestinationPolicy) -> Result<SubscriptionInput, Vec<FieldError>> {
    let root = Pointer::root();
    let mut errors = Errors::default();
    let Some(object) = body.as_object() else {
        errors.add(&root, format!("must be a JSON object, not {}", json_type(body)));
        return Err(errors.into_vec());
    };
    let fields = Fields { object, at: &root };
    let id = fields
        .string("id", &mut errors)
        .and_then(|raw| match SubscriptionId::parse(&raw) {
            Ok(id) => Some(id),
            Err(e) => {
                errors.add(&root.key("id"), e.to_string());
                None
            }
        });
    let active = fields.boolean("active", &mut errors).unwrap_or(true);
    let entity_type = fields.string("entityType", &mut errors).and_then(|raw| {
        let parsed = EntityType::parse(&raw);
        if parsed.is_none() {
            let names: Vec<_> = EntityType::ALL.iter().map(|t| t.name()).collect();
            errors.add(&root.key("entityType"), format!("must be one of {}", names.join(", ")));
        }
        parsed
    });
    let subscribe_create = fields.boolean("subscribeCreate", &mut errors).unwrap_or(false);
    let subscribe_change = fields.boolean("subscribeChange", &mut errors).unwrap_or(false);
    let subscribe_delete = fields.boolean("subscribeDelete", &mut errors).unwrap_or(false);
    let event_names = event_names(object.get("eventNames"), &root.key("eventNames"), &mut errors);
    let description = fields.string("description", &mut errors);
    let replay_from = fields.string("replayFrom", &mut errors).and_then(|raw| {
        let at = super::values::parse_date_time(&raw);
        if at.is_none() {
            errors.add(
                &root.key("replayFrom"),
                "must be an RFC 3339 date-time, like 2026-11-01T00:00:00Z: the backfill starts there",
            );
        }
        at
    });
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION_CHARS)
    {
        errors.add(
            &root.key("description"),
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        );
    }
    if entity_type.is_some() && !(subscribe_create || subscribe_change || subscribe_delete) {
        errors.add(
            &root.key("subscribeCreate"),
            "the subscription would receive nothing: set at least one of subscribeCreate, subscribeChange, subscribeDelete",
        );
    }
    if entity_type.is_none() && event_names.is_empty() && errors.is_empty() {
        errors.add(
            &root,
            "subscribe to something: an entityType with subscribeCreate/Change/Delete, or eventNames (custom event names, \"*\" for all)",
        );
    }
    let destination = match object.get("destination") {
        None | Some(Value::Null) => {
            errors.add(&root.key("destination"), "is required");
            None
        }
        Some(value) => destination(value, &root.key("destination"), policy, &mut errors),
    };
    match destination {
        Some(destination) if errors.is_empty() => Ok(SubscriptionInput {
            id,
            active,
            entity_type,
            subscribe_create,
            subscribe_change,
            subscribe_delete,
            event_names,
            description,
            destination,
            replay_from,
        }),
        _ => Err(errors.into_vec()),
    }
}

fn event_names(value: Option<&Value>, at: &Pointer, errors: &mut Errors) -> Vec<String> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            errors.add(at, format!("must be an array of event names, not {}", json_type(other)));
            return Vec::new();
        }
    };
    if items.len() > MAX_EVENT_NAMES {
        errors.add(at, format!("must list at most {MAX_EVENT_NAMES} names"));
    }
    let mut names = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item.as_str().map(str::trim) {
            Some(name) if !name.is_empty() && name.chars().count() <= MAX_EVENT_NAME_CHARS => {
                if !names.iter().any(|n| n == name) {
                    names.push(name.to_owned());
                }
            }
            _ => errors.add(
                &at.index(i),
                format!("must be an event name of 1 to {MAX_EVENT_NAME_CHARS} characters, or \"{ANY_EVENT_NAME}\""),
            ),
        }
    }
    names
}

#[cfg(test)]
#[path = "subscription_input_tests.rs"]
mod tests;
