//! What an event writes, decided from what ingest read for it: a pure function, so every rule of the commit
//! (the order it creates or changes, the entity projection, the activity, the stored event and its dedupe
//! record) is unit-tested without a store. `ingest::store_event` does the reads and the commit around it.

use chrono::{DateTime, Utc};

use super::ingest::{EventInput, IngestConfig, IngestError, IngestStatus, Ingested};
use crate::domain::activity::ActivityWrite;
use crate::domain::entity_state::{apply_change, EntityState};
use crate::domain::event::{DedupeRecord, EntityRecord, IdentityOutcome, StoredEvent};
use crate::domain::identity::Identifier;
use crate::domain::ids::{CustomerId, EventId, StoreId};
use crate::domain::order::{decide, Order, OrderDecision};
use crate::domain::subscription::{EntityType, Operation};
use crate::domain::validation::FieldError;
use crate::ports::{Commit, CustomerWrite, ErrorKind, OrderWrite, StoreError};

/// The customer an event is about, resolved, with what the event does to it.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub customer_id: CustomerId,
    pub identity: IdentityOutcome,
    pub changed_fields: Vec<String>,
    pub claims: Vec<(Identifier, String)>,
    pub write: Option<CustomerWrite>,
}

/// What one attempt found for the event: its customer resolved, the order and entity state it changes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Found<'a> {
    pub customer: Option<&'a Resolved>,
    pub order: Option<&'a Order>,
    pub entity: Option<&'a EntityState>,
}

/// The id a new event is stored under, and the hash of its content (what its dedupe record compares).
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_id: EventId,
    pub payload_hash: String,
}

/// The commit, and what the caller is told once it lands.
#[derive(Debug, Clone)]
pub struct Planned {
    pub commit: Commit,
    pub ingested: Ingested,
}

/// The commit of event `input` for `store` as `new`, from what was `found`. An order event
/// without a customer is invalid, a status change of an order that does not exist is ignored (both errors),
/// and an order sent again unchanged is stored as an event without touching the order.
pub fn plan_commit(
    store: &StoreId,
    input: &EventInput<'_>,
    found: Found<'_>,
    new: NewEvent,
    now: DateTime<Utc>,
    config: &IngestConfig,
) -> Result<Planned, IngestError> {
    let event = input.event;
    let resolved = found.customer;
    let customer_id = resolved.map(|r| r.customer_id.clone());
    let (order, mut entity) = order_write(store, input, found.order, customer_id.as_ref(), now)?;
    let mut entity_state = None;
    if let Some(change) = input.entity {
        let (record, write) = apply_change(change, found.entity, store, customer_id.as_ref(), now);
        entity = Some(record);
        entity_state = write;
    }
    let mut activity = if customer_id.is_some() {
        input.activity.to_vec()
    } else {
        Vec::new()
    };
    let new_order = entity
        .as_ref()
        .is_some_and(|e| e.entity_type == EntityType::Order && e.operation == Operation::Create);
    if new_order && customer_id.is_some() {
        // A new order follows the customer's cart, if one is open.
        activity.push(ActivityWrite::CloseCart);
    }
    let NewEvent { event_id, payload_hash } = new;
    let expires_at = (now + config.retention).timestamp();
    let dedupe = event.unique_id.as_ref().map(|unique_id| DedupeRecord {
        store_id: store.clone(),
        unique_id: unique_id.clone(),
        event_id: event_id.clone(),
        customer_id: customer_id.clone(),
        payload_hash: payload_hash.clone(),
        created_at: now,
        dedupe_until: (now + config.dedupe_window).timestamp(),
        expires_at,
    });
    let stored = StoredEvent {
        store_id: store.clone(),
        event_id: event_id.clone(),
        event_name: event.event_name.clone(),
        customer_id: customer_id.clone(),
        occurred_at: event.event_timestamp.unwrap_or(now),
        received_at: now,
        data: event.data.clone(),
        extra: event.extra.clone(),
        value: event.value.clone(),
        value_currency: event.value_currency.clone(),
        unique_id: event.unique_id.clone(),
        identity: resolved.map(|r| r.identity.clone()),
        changed_fields: resolved.map(|r| r.changed_fields.clone()).unwrap_or_default(),
        payload_hash,
        entity,
        expires_at: Some(expires_at),
    };
    let ingested = Ingested {
        status: IngestStatus::Accepted,
        event_id,
        customer_id,
        matched_by: resolved.map(|r| r.identity.matched_by),
        customer_created: resolved.is_some_and(|r| r.identity.customer_created),
    };
    let commit = Commit {
        event: stored,
        dedupe,
        customer: resolved.and_then(|r| r.write.clone()),
        claims: resolved.map(|r| r.claims.clone()).unwrap_or_default(),
        now,
        order,
        activity,
        entity_state,
    };
    Ok(Planned { commit, ingested })
}

/// The order an order event writes, with the entity record its subscribers get.
fn order_write(
    store: &StoreId,
    input: &EventInput<'_>,
    existing: Option<&Order>,
    customer_id: Option<&CustomerId>,
    now: DateTime<Utc>,
) -> Result<(Option<OrderWrite>, Option<EntityRecord>), IngestError> {
    let Some(command) = input.order else {
        return Ok((None, None));
    };
    let Some(customer_id) = customer_id else {
        return Err(IngestError::Invalid(vec![FieldError {
            pointer: String::new(),
            detail: "an order event needs a customer".to_owned(),
        }]));
    };
    match decide(command, existing, store, customer_id, now).map_err(IngestError::Invalid)? {
        OrderDecision::Ignored(reason) => Err(IngestError::Ignored(reason)),
        // Sent again unchanged: the event is stored, the order and its subscribers are left alone.
        OrderDecision::Write {
            operation: Operation::Change,
            ref changed_fields,
            ..
        } if changed_fields.is_empty() => Ok((None, None)),
        OrderDecision::Write {
            order,
            operation,
            changed_fields,
            expected_version,
        } => {
            let entity = EntityRecord {
                entity_type: EntityType::Order,
                operation,
                entity_id: order.external_order_id.clone(),
                changed_fields,
                state: serde_json::to_value(&order).map_err(|e| IngestError::Store(permanent_error(e)))?,
            };
            let write = OrderWrite {
                order: *order,
                expected_version,
            };
            Ok((Some(write), Some(entity)))
        }
    }
}

fn permanent_error(error: impl std::fmt::Display) -> StoreError {
    StoreError {
        operation: "order state",
        kind: ErrorKind::Permanent,
        message: error.to_string(),
    }
}

#[cfg(test)]
#[path = "ingest_plan_tests.rs"]
mod tests;
