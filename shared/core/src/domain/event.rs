//! The stored event and its dedupe record.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::identity::{IdentityConflict, MatchedBy};
use super::ids::{CustomerId, EventId, StoreId};
use super::subscription::{EntityType, Operation};
use super::values::PropertyValue;

/// An accepted event as stored and as enqueued for dispatch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredEvent {
    pub store_id: StoreId,
    pub event_id: EventId,
    pub event_name: String,
    /// The customer the event is about; `None` for events about no customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    /// `eventTimestamp`, or the time the event was received when none was sent.
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    #[serde(default)]
    pub data: BTreeMap<String, PropertyValue>,
    /// `data.$extra` exactly as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    /// How the customer was found; `None` without a customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityOutcome>,
    /// Profile fields this event changed on the customer (`firstName`, `location.city`, `email` …).
    #[serde(default)]
    pub changed_fields: Vec<String>,
    pub payload_hash: String,
    /// When the event created or changed an entity (an order, say): what it did, for subscribers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<EntityRecord>,
    /// Epoch seconds after which DynamoDB's TTL removes the event (the store's retention).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// What an event did to an entity of the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityRecord {
    pub entity_type: EntityType,
    pub operation: Operation,
    /// The entity's id in the merchant's system (`externalOrderId` …).
    pub entity_id: String,
    #[serde(default)]
    pub changed_fields: Vec<String>,
    /// The entity as this event left it: the `data` of the outbound message.
    pub state: Value,
}

impl StoredEvent {
    pub fn event_ref(&self) -> EventRef {
        EventRef {
            store_id: self.store_id.clone(),
            event_id: self.event_id.clone(),
        }
    }
}

/// A stored event by key: what the dispatch queue carries. Dispatch reads the event itself, so a message is
/// small and a re-enqueued event is always dispatched as currently stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRef {
    pub store_id: StoreId,
    pub event_id: EventId,
}

/// How the customer was found, recorded on the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityOutcome {
    pub matched_by: MatchedBy,
    pub customer_created: bool,
    /// `customer.id` was sent, not found, and resolution fell back to email/phone (or adopted the id).
    #[serde(default)]
    pub requested_id_not_found: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<IdentityConflict>,
}

/// The dedupe record of `(store, uniqueId)`. It blocks the key until `dedupe_until`, whatever TTL does, and
/// lives as long as its event (`expires_at`, the TTL attribute), so the event can be found by the id its client
/// gave it (`GET /api/v1/events/{id}`) for as long as it is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DedupeRecord {
    pub store_id: StoreId,
    pub unique_id: String,
    pub event_id: EventId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    pub payload_hash: String,
    pub created_at: DateTime<Utc>,
    /// Epoch seconds after which the key is free again.
    pub dedupe_until: i64,
    /// Epoch seconds when the record goes with its event (the table's TTL attribute).
    pub expires_at: i64,
}

impl DedupeRecord {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.dedupe_until > now.timestamp()
    }
}
