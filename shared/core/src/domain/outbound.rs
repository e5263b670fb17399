//! What subscribers receive: the outbound messages a stored event gives rise to, and their envelope.
//!
//! One stored custom event yields the event itself (`custom_event.created`) and, when ingest created or
//! changed the customer, a `customer.created` or `customer.updated` message. An event yields at most one
//! message of each type: a `CUSTOMER` entity event is itself the customer's message. Each message has an id
//! that is stable across retries, redeliveries and sweeps, so subscribers can drop the duplicates that
//! at-least-once delivery can still produce.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Number, Value};

use super::custom_event::PROFILE_WRITE_EVENT;
use super::customer::Customer;
use super::event::StoredEvent;
use super::ids::{CustomerId, EventId, StoreId};
use super::subscription::{EntityType, Operation, Subject};
use super::values::PropertyValue;

/// `entityType` of custom (Redo-style) events in envelopes and message attributes.
pub const CUSTOM_EVENT_ENTITY: &str = "CUSTOM_EVENT";

/// One message a stored event sends to the subscriptions it matches.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    /// Stable: the event id, with `-customer` for the customer message.
    pub id: String,
    pub subject: Subject,
    pub operation: Operation,
    pub changed_fields: Vec<String>,
}

impl Outbound {
    /// `customer.created`, `order.updated`, `custom_event.created`.
    pub fn type_name(&self) -> String {
        if let Subject::Operational(kind) = &self.subject {
            return kind.clone();
        }
        format!(
            "{}.{}",
            self.entity_name().to_ascii_lowercase(),
            self.operation.action()
        )
    }

    pub fn entity_name(&self) -> &str {
        match &self.subject {
            Subject::Entity(entity) => entity.name(),
            Subject::CustomEvent(_) => CUSTOM_EVENT_ENTITY,
            Subject::Operational(_) => EntityType::Operations.name(),
        }
    }

    pub fn event_name(&self) -> Option<&str> {
        match &self.subject {
            Subject::CustomEvent(name) | Subject::Operational(name) => Some(name),
            Subject::Entity(_) => None,
        }
    }

    pub fn is_about_customer(&self) -> bool {
        self.subject == Subject::Entity(EntityType::Customer)
    }
}

/// The outbound messages of a stored event.
pub fn outbound_of(event: &StoredEvent) -> Vec<Outbound> {
    let own = match &event.entity {
        // The collector's own news: its kind is its type.
        Some(entity) if entity.entity_type == EntityType::Operations => Outbound {
            id: event.event_id.to_string(),
            subject: Subject::Operational(event.event_name.clone()),
            operation: Operation::Create,
            changed_fields: Vec::new(),
        },
        // An event that changed an entity (an order) is that entity's message, `order.created` say.
        Some(entity) => Outbound {
            id: event.event_id.to_string(),
            subject: Subject::Entity(entity.entity_type),
            operation: entity.operation,
            changed_fields: entity.changed_fields.clone(),
        },
        None => Outbound {
            id: event.event_id.to_string(),
            subject: Subject::CustomEvent(event.event_name.clone()),
            operation: Operation::Create,
            changed_fields: Vec::new(),
        },
    };
    // A direct profile write is about the customer alone.
    let mut messages = match event.entity.is_none() && event.event_name == PROFILE_WRITE_EVENT {
        true => Vec::new(),
        false => vec![own],
    };
    let created = event.identity.as_ref().is_some_and(|i| i.customer_created);
    let customer_operation = if event.customer_id.is_none() {
        None
    } else if created {
        Some(Operation::Create)
    } else if !event.changed_fields.is_empty() {
        Some(Operation::Change)
    } else {
        None
    };
    if let Some(operation) = customer_operation {
        let about_customer = Outbound {
            id: format!("{}-customer", event.event_id),
            subject: Subject::Entity(EntityType::Customer),
            operation,
            changed_fields: if operation == Operation::Change {
                event.changed_fields.clone()
            } else {
                Vec::new()
            },
        };
        // A CUSTOMER entity event that created the profile already is the `customer.created` message.
        if messages.iter().all(|m| m.type_name() != about_customer.type_name()) {
            messages.push(about_customer);
        }
    }
    messages
}

/// The JSON every destination receives (the SQS message body, the SNS message, the webhook request body).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<'a> {
    pub id: &'a str,
    #[serde(rename = "type")]
    pub type_: String,
    pub entity_type: &'a str,
    pub operation: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_name: Option<&'a str>,
    pub occurred_at: String,
    pub store_id: &'a StoreId,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub changed_fields: &'a [String],
    pub data: Value,
}

/// `data` of a custom event message: the event as stored, without internals.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomEventData<'a> {
    event_id: &'a EventId,
    event_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer_id: Option<&'a CustomerId>,
    occurred_at: String,
    received_at: String,
    data: &'a BTreeMap<String, PropertyValue>,
    #[serde(skip_serializing_if = "Option::is_none", rename = "$extra")]
    extra: Option<&'a Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value_currency: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unique_id: Option<&'a str>,
}

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The envelope of `message` for `event`. `customer` is the customer's profile as it is now; it is needed
/// only for customer messages (`data` is then the profile).
pub fn envelope<'a>(event: &'a StoredEvent, message: &'a Outbound, customer: Option<&Customer>) -> Envelope<'a> {
    let entity_state = event.entity.as_ref().filter(|_| message.id == event.event_id.as_str());
    let data = if let Some(entity) = entity_state {
        entity.state.clone()
    } else if message.is_about_customer() {
        customer
            .map(|c| serde_json::to_value(c).expect("customers serialise"))
            .unwrap_or_else(|| serde_json::json!({"customerId": event.customer_id}))
    } else {
        serde_json::to_value(CustomEventData {
            event_id: &event.event_id,
            event_name: &event.event_name,
            customer_id: event.customer_id.as_ref(),
            occurred_at: timestamp(event.occurred_at),
            received_at: timestamp(event.received_at),
            data: &event.data,
            extra: event.extra.as_ref(),
            value: event.value.as_ref(),
            value_currency: event.value_currency.as_deref(),
            unique_id: event.unique_id.as_deref(),
        })
        .expect("events serialise")
    };
    Envelope {
        id: &message.id,
        type_: message.type_name(),
        entity_type: message.entity_name(),
        operation: message.operation.name(),
        event_name: message.event_name(),
        occurred_at: timestamp(event.occurred_at),
        store_id: &event.store_id,
        changed_fields: &message.changed_fields,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::IdentityOutcome;
    use crate::domain::identity::MatchedBy;

    fn event(created: bool, changed: &[&str]) -> StoredEvent {
        let now = Utc::now();
        StoredEvent {
            store_id: StoreId::from_bytes([1; 12]),
            event_id: EventId::from_bytes([2; 12]),
            event_name: "Order Placed".into(),
            customer_id: Some(CustomerId::from_bytes([3; 12])),
            occurred_at: now,
            received_at: now,
            data: BTreeMap::new(),
            extra: None,
            value: None,
            value_currency: None,
            unique_id: None,
            identity: Some(IdentityOutcome {
                matched_by: MatchedBy::Email,
                customer_created: created,
                requested_id_not_found: false,
                conflicts: vec![],
            }),
            changed_fields: changed.iter().map(|c| c.to_string()).collect(),
            payload_hash: "h".into(),
            entity: None,
            expires_at: None,
        }
    }

    #[test]
    fn when_event_created_the_customer_should_send_customer_created_too() {
        let messages = outbound_of(&event(true, &["email"]));
        let types: Vec<_> = messages.iter().map(Outbound::type_name).collect();
        assert_eq!(types, ["custom_event.created", "customer.created"]);
        assert_eq!(messages[1].id, "020202020202020202020202-customer");
        assert!(messages[1].changed_fields.is_empty());
    }

    #[test]
    fn when_event_changed_the_profile_should_send_customer_updated_with_the_fields() {
        let messages = outbound_of(&event(false, &["firstName"]));
        assert_eq!(messages[1].type_name(), "customer.updated");
        assert_eq!(messages[1].changed_fields, ["firstName"]);
        assert_eq!(
            outbound_of(&event(false, &[])).len(),
            1,
            "an unchanged customer sends nothing"
        );
    }

    #[test]
    fn when_a_profile_was_written_should_send_the_customer_message_alone() {
        let mut write = event(false, &["lastName"]);
        write.event_name = PROFILE_WRITE_EVENT.to_owned();
        let types: Vec<_> = outbound_of(&write).iter().map(Outbound::type_name).collect();
        assert_eq!(types, ["customer.updated"]);
        write.changed_fields.clear();
        assert!(outbound_of(&write).is_empty(), "an unchanged profile tells nobody");
    }

    #[test]
    fn when_event_changed_an_order_should_send_order_updated_with_its_state() {
        let mut e = event(false, &[]);
        e.entity = Some(crate::domain::event::EntityRecord {
            entity_type: EntityType::Order,
            operation: Operation::Change,
            entity_id: "12345679".into(),
            changed_fields: vec!["status".into()],
            state: serde_json::json!({"externalOrderId": "12345679", "status": "DELIVERED"}),
        });
        let messages = outbound_of(&e);
        assert_eq!(messages.len(), 1);
        let json = serde_json::to_value(envelope(&e, &messages[0], None)).unwrap();
        assert_eq!(json["type"], "order.updated");
        assert_eq!(json["changedFields"], serde_json::json!(["status"]));
        assert_eq!(json["data"]["status"], "DELIVERED");
    }

    #[test]
    fn when_a_customer_entity_event_creates_the_customer_should_send_one_customer_created() {
        let mut e = event(true, &[]);
        e.entity = Some(crate::domain::event::EntityRecord {
            entity_type: EntityType::Customer,
            operation: Operation::Create,
            entity_id: "C-1".into(),
            changed_fields: vec![],
            state: serde_json::json!({"id": "C-1", "email": "c@example.com"}),
        });
        let messages = outbound_of(&e);
        let types: Vec<_> = messages.iter().map(Outbound::type_name).collect();
        assert_eq!(types, ["customer.created"], "one message per type");
        assert_eq!(messages[0].id, e.event_id.to_string());
        // A CUSTOMER change whose identifiers created the profile: one of each type.
        e.entity.as_mut().unwrap().operation = Operation::Change;
        let types: Vec<_> = outbound_of(&e).iter().map(Outbound::type_name).collect();
        assert_eq!(types, ["customer.updated", "customer.created"]);
    }

    #[test]
    fn when_enveloped_should_carry_type_ids_and_data_without_internals() {
        let e = event(false, &[]);
        let message = &outbound_of(&e)[0];
        let json = serde_json::to_value(envelope(&e, message, None)).unwrap();
        assert_eq!(json["type"], "custom_event.created");
        assert_eq!(json["entityType"], "CUSTOM_EVENT");
        assert_eq!(json["operation"], "CREATE");
        assert_eq!(json["eventName"], "Order Placed");
        assert_eq!(json["data"]["eventId"], e.event_id.to_string());
        assert!(json["data"].get("payloadHash").is_none());
        assert!(json.get("changedFields").is_none());
    }
}
