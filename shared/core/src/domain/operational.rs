//! The collector's own news about a store's subscriptions, sent to the store's `OPERATIONS` subscribers:
//! a subscription deactivated by a permanent refusal, a message that exhausted its attempts. Stored as
//! events (so they are dispatched, retried and listed like any) whose entity is the subscription they are
//! about; that subscription never receives them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::event::{EntityRecord, StoredEvent};
use super::ids::{EventId, StoreId, SubscriptionId};
use super::subscription::{EntityType, Operation};

pub const SUBSCRIPTION_DEACTIVATED: &str = "subscription.deactivated";
pub const DELIVERY_EXHAUSTED: &str = "delivery.exhausted";

/// What happened, to which subscription, and because of which event.
#[derive(Debug, Clone, PartialEq)]
pub struct Incident<'a> {
    pub kind: &'static str,
    pub store_id: &'a StoreId,
    pub subscription_id: &'a SubscriptionId,
    /// The event whose delivery it was, and when that event arrived: with the kind and subscription they
    /// make the news's id, so a dispatch retried stores the same news once.
    pub source: (&'a EventId, DateTime<Utc>),
    /// `reason`, `messageId`, `error` …, as the message's `data` carries them.
    pub details: Value,
}

/// The stored event that tells of `incident`, expiring with `expires_at` (its source's).
pub fn news_of(incident: &Incident<'_>, now: DateTime<Utc>, expires_at: Option<i64>) -> StoredEvent {
    let (source, source_received) = incident.source;
    let digest = Sha256::digest(format!("{}|{}|{source}", incident.kind, incident.subscription_id).as_bytes());
    let mut id = [0u8; 12];
    id[..4].copy_from_slice(&(source_received.timestamp() as u32).to_be_bytes());
    id[4..].copy_from_slice(&digest[..8]);
    let mut state = serde_json::json!({
        "subscriptionId": incident.subscription_id, "eventId": source, "at": super::outbound::timestamp(now),
    });
    if let (Some(state), Value::Object(details)) = (state.as_object_mut(), &incident.details) {
        state.extend(details.clone());
    }
    StoredEvent {
        store_id: incident.store_id.clone(),
        event_id: EventId::from_bytes(id),
        event_name: incident.kind.to_owned(),
        customer_id: None,
        occurred_at: now,
        received_at: now,
        data: BTreeMap::new(),
        extra: None,
        value: None,
        value_currency: None,
        unique_id: None,
        identity: None,
        changed_fields: Vec::new(),
        payload_hash: String::new(),
        entity: Some(EntityRecord {
            entity_type: EntityType::Operations,
            operation: Operation::Create,
            entity_id: incident.subscription_id.to_string(),
            changed_fields: Vec::new(),
            state,
        }),
        expires_at,
    }
}

/// Whether `event` is the collector's news (about any subscription).
pub fn is_news(event: &StoredEvent) -> bool {
    event
        .entity
        .as_ref()
        .is_some_and(|e| e.entity_type == EntityType::Operations)
}

/// Whether `event` is news about `subscription`, which therefore does not receive it.
pub fn is_about(event: &StoredEvent, subscription: &SubscriptionId) -> bool {
    is_news(event)
        && event
            .entity
            .as_ref()
            .is_some_and(|e| e.entity_id == subscription.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::outbound::outbound_of;
    use crate::domain::subscription::Subject;

    #[test]
    fn when_news_is_made_twice_of_the_same_incident_should_have_one_id_and_its_kind_as_type() {
        let (store, subscription) = (StoreId::from_bytes([1; 12]), SubscriptionId::from_bytes([2; 12]));
        let source = EventId::from_bytes([3; 12]);
        let incident = Incident {
            kind: DELIVERY_EXHAUSTED,
            store_id: &store,
            subscription_id: &subscription,
            source: (&source, Utc::now()),
            details: serde_json::json!({"messageId": source.to_string()}),
        };
        let (a, b) = (
            news_of(&incident, Utc::now(), None),
            news_of(&incident, Utc::now(), None),
        );
        assert_eq!(a.event_id, b.event_id, "a retried dispatch stores it once");
        assert!(is_about(&a, &subscription) && !is_about(&a, &SubscriptionId::from_bytes([4; 12])));
        let messages = outbound_of(&a);
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].type_name(), DELIVERY_EXHAUSTED);
        assert_eq!(messages[0].subject, Subject::Operational(DELIVERY_EXHAUSTED.into()));
    }
}
