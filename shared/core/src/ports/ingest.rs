//! Storing an event: the reads identity resolution needs, the atomic commit, the dispatch queue, and reading
//! stored events back.

use std::collections::HashMap;
use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::activity::ActivityWrite;
use crate::domain::customer::{Customer, ProfileField};
use crate::domain::customer_input::CustomerInput;
use crate::domain::entity_state::{EntityState, StateWrite};
use crate::domain::event::{DedupeRecord, EventRef, StoredEvent};
use crate::domain::identity::{Identifier, IdentityLookup};
use crate::domain::ids::{CustomerId, EventId, StoreId};
use crate::domain::order::Order;
use crate::domain::subscription::EntityType;
use crate::domain::trace::TraceContext;

use super::StoreError;

/// What ingest reads before it decides.
#[derive(Debug, Clone, Default)]
pub struct Prefetched {
    pub identity: IdentityLookup,
    /// The dedupe record of the event's `uniqueId`, expired or not.
    pub dedupe: Option<DedupeRecord>,
}

/// How a customer is written in a commit.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomerWrite {
    /// Put a new customer; fails the commit if the id exists.
    Create(Customer),
    /// Write just the `changed` fields of `customer` (set, or removed when unset), so concurrent patches of
    /// different fields both land. Fails the commit if the customer is gone, or if an identifier in
    /// `changed` was set on it meanwhile (an identifier is attached only where none was).
    Update {
        customer: Customer,
        changed: Vec<ProfileField>,
    },
}

/// Everything one accepted event writes, applied all-or-nothing.
#[derive(Debug, Clone)]
pub struct Commit {
    pub event: StoredEvent,
    /// Put unless a live record holds the key (a record whose `dedupe_until` has passed is overwritten).
    pub dedupe: Option<DedupeRecord>,
    pub customer: Option<CustomerWrite>,
    /// Identifiers newly claimed for `event.customer_id`; each fails the commit if someone owns it.
    pub claims: Vec<(Identifier, String)>,
    /// The time live dedupe records are judged against.
    pub now: DateTime<Utc>,
    /// The order the event creates or changes.
    pub order: Option<OrderWrite>,
    /// Activity records of the event's customer (product views, the cart); written unconditionally.
    pub activity: Vec<ActivityWrite>,
    /// The entity projection an entity event changes; fails the commit unless the version read still holds.
    pub entity_state: Option<StateWrite>,
}

/// An order written with an event: created (fails the commit if it exists) or replaced (fails it unless the
/// stored version is `expected_version`).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderWrite {
    pub order: Order,
    pub expected_version: Option<u64>,
}

/// The result of [`IngestStore::commit`].
#[derive(Debug, Clone, PartialEq)]
pub enum CommitOutcome {
    /// All written: the event is durable and marked pending dispatch.
    Committed,
    /// A live dedupe record holds the key; nothing was written. Carries that record.
    Duplicate(DedupeRecord),
    /// A concurrent writer changed a customer or claimed an identifier first; nothing was written.
    /// Read again and decide again.
    Contended,
}

/// Storage for ingest: identity lookups, customers, and the atomic event commit.
pub trait IngestStore {
    /// In one round trip: the dedupe record of `unique_id`, the customer with `customer.id`, and the owners of
    /// the email (case-insensitive) and phone number. Reads are strongly consistent.
    fn prefetch(
        &self,
        store: &StoreId,
        unique_id: Option<&str>,
        customer: &CustomerInput,
    ) -> impl Future<Output = Result<Prefetched, StoreError>> + Send;

    /// [`IngestStore::prefetch`] for many events, in as few `BatchGetItem` calls as the keys need (100 keys
    /// each); one result per request, in order. Keys shared by several events are read once.
    fn prefetch_many(
        &self,
        store: &StoreId,
        requests: &[(Option<&str>, &CustomerInput)],
    ) -> impl Future<Output = Result<Vec<Prefetched>, StoreError>> + Send;

    /// Customers by id, batched; ids not found are absent from the map.
    fn customers(
        &self,
        store: &StoreId,
        ids: &[CustomerId],
    ) -> impl Future<Output = Result<HashMap<CustomerId, Customer>, StoreError>> + Send;

    /// A customer by id (strongly consistent), or `None`.
    fn customer(
        &self,
        store: &StoreId,
        id: &CustomerId,
    ) -> impl Future<Output = Result<Option<Customer>, StoreError>> + Send;

    /// An order of the store by its external id (strongly consistent), or `None`.
    fn order(
        &self,
        store: &StoreId,
        external_order_id: &str,
    ) -> impl Future<Output = Result<Option<Order>, StoreError>> + Send;

    /// The latest state of an entity (strongly consistent), or `None`.
    fn entity_state(
        &self,
        store: &StoreId,
        entity_type: EntityType,
        entity_id: &str,
    ) -> impl Future<Output = Result<Option<EntityState>, StoreError>> + Send;

    /// Writes the event (marked pending dispatch), its dedupe record, the customer, the claims, the order and
    /// the entity projection atomically.
    /// Idempotent in effect: a retried commit of the same event is a [`CommitOutcome::Duplicate`] when it
    /// carries a dedupe record, and otherwise writes a second event only if called with a new event id.
    fn commit(&self, commit: &Commit) -> impl Future<Output = Result<CommitOutcome, StoreError>> + Send;
}

/// Reading stored events back (`GET /api/v1/events/{id}`).
pub trait EventReads {
    /// A stored event of the store, or `None`; never another store's.
    fn stored_event(
        &self,
        store: &StoreId,
        id: &EventId,
    ) -> impl Future<Output = Result<Option<StoredEvent>, StoreError>> + Send;

    /// The latest event of the store stored with `unique_id` (a custom event's `uniqueId`, an entity event's
    /// `id`), found through its dedupe record, which lives as long as the event; never another store's.
    fn event_by_unique_id(
        &self,
        store: &StoreId,
        unique_id: &str,
    ) -> impl Future<Output = Result<Option<StoredEvent>, StoreError>> + Send;
}

/// The dispatch queue.
pub trait DispatchQueue {
    /// Enqueues a stored event for dispatch, with the trace of the request that stored it (the message's
    /// `traceparent` attribute). At-least-once: dispatch dedupes by its ledger. An event whose enqueue failed
    /// stays pending in the store and is re-enqueued by the recovery sweep (without a trace).
    fn enqueue(
        &self,
        event: &EventRef,
        trace: Option<&TraceContext>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Enqueues many events of one request in as few calls as the queue allows, retrying entries that failed.
    /// An error means some were not enqueued after the retries; they stay pending for the sweep like a failed
    /// `enqueue`.
    fn enqueue_many(
        &self,
        events: &[EventRef],
        trace: Option<&TraceContext>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
