//! Events and customers as the read API shows them: the canonical fields, typed values rendered back as a
//! client sends them (a date as its RFC 3339 string), `$extra` as sent, how the customer was resolved, and
//! never an internal (payload hash, pending marker, expiry).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Number, Value};

use collector_core::domain::customer::Customer;
use collector_core::domain::delivery::{DeliveryRecord, DeliveryStatus};
use collector_core::domain::event::{IdentityOutcome, StoredEvent};
use collector_core::domain::values::PropertyValue;

/// One event as stored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    #[schema(example = "665f1a2b3c4d5e6f7a8b9c0d")]
    pub event_id: String,
    pub event_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: DateTime<Utc>,
    /// The event's properties as sent (dates as RFC 3339 strings, in UTC).
    #[schema(value_type = Object)]
    pub data: Map<String, Value>,
    /// `data.$extra` exactly as sent.
    #[serde(rename = "$extra", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub extra: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub value: Option<Number>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    /// How the customer was found (`matchedBy`, `customerCreated`, conflicts between identifiers).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub identity: Option<IdentityOutcome>,
    /// Profile fields this event changed.
    pub changed_fields: Vec<String>,
    /// The entity the event created or changed (an order, an inventory level …).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub entity: Option<Value>,
    /// Per subscription and message: where its delivery stands (the detail read only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deliveries: Option<Vec<DeliverySummary>>,
}

impl From<&StoredEvent> for EventView {
    fn from(event: &StoredEvent) -> Self {
        Self {
            event_id: event.event_id.to_string(),
            event_name: event.event_name.clone(),
            customer_id: event.customer_id.as_ref().map(ToString::to_string),
            occurred_at: event.occurred_at,
            received_at: event.received_at,
            data: as_sent(&event.data),
            extra: event.extra.clone(),
            value: event.value.clone(),
            value_currency: event.value_currency.clone(),
            unique_id: event.unique_id.clone(),
            identity: event.identity.clone(),
            changed_fields: event.changed_fields.clone(),
            entity: event.entity.as_ref().map(|entity| {
                serde_json::json!({
                    "entityType": entity.entity_type,
                    "entityId": entity.entity_id,
                    "operation": entity.operation.name(),
                    "changedFields": entity.changed_fields,
                })
            }),
            deliveries: None,
        }
    }
}

/// Where one outbound message of an event stands with one subscription.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliverySummary {
    pub subscription_id: String,
    /// The envelope id subscribers dedupe by; the delivery's id in the ledger.
    pub message_id: String,
    /// `customEvent.created`, `customer.updated` …
    pub message_type: String,
    pub status: DeliveryStatus,
    pub attempts: usize,
    #[schema(value_type = String, format = DateTime)]
    pub last_attempt_at: DateTime<Utc>,
    /// The last attempt's error, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl From<&DeliveryRecord> for DeliverySummary {
    fn from(record: &DeliveryRecord) -> Self {
        Self {
            subscription_id: record.subscription_id.to_string(),
            message_id: record.message_id.clone(),
            message_type: record.message_type.clone(),
            status: record.status,
            attempts: record.attempts.len(),
            last_attempt_at: record.last_attempt_at,
            last_error: record.attempts.last().and_then(|a| a.error.clone()),
        }
    }
}

/// One page of events, newest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    pub events: Vec<EventView>,
    /// Pass as `cursor` for the next page; absent on the last. Opaque and sealed: bound to this store and
    /// this listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A customer's profile.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerView {
    #[schema(example = "665f1a2b3c4d5e6f7a8b9c0d")]
    pub customer_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[schema(value_type = Object)]
    pub location: BTreeMap<String, Value>,
    /// `{name: value}`, dates as RFC 3339 strings.
    #[schema(value_type = Object)]
    pub custom_fields: Map<String, Value>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
}

impl From<&Customer> for CustomerView {
    fn from(customer: &Customer) -> Self {
        Self {
            customer_id: customer.customer_id.to_string(),
            email: customer.email.clone(),
            phone_number: customer.phone_number.clone(),
            first_name: customer.first_name.clone(),
            last_name: customer.last_name.clone(),
            location: customer.location.clone(),
            custom_fields: as_sent(&customer.custom_fields),
            created_at: customer.created_at,
            updated_at: customer.updated_at,
        }
    }
}

fn as_sent(values: &BTreeMap<String, PropertyValue>) -> Map<String, Value> {
    values.iter().map(|(k, v)| (k.clone(), v.as_sent())).collect()
}
