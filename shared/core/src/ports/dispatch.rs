//! Delivering stored events: what dispatch reads and records, the destinations it sends to, and the recovery
//! sweep's view of what is still pending.

use std::collections::HashMap;
use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::customer::Customer;
use crate::domain::delivery::Attempt;
use crate::domain::event::{EventRef, StoredEvent};
use crate::domain::ids::{CustomerId, StoreId, SubscriptionId};
use crate::domain::subscription::Subscription;

use super::StoreError;

/// A stored event as dispatch finds it.
#[derive(Debug, Clone)]
pub struct DispatchState {
    pub event: StoredEvent,
    /// The (subscription, outbound message id) pairs already delivered.
    pub delivered: Vec<(SubscriptionId, String)>,
    /// Whether it still carries the pending-dispatch marker.
    pub pending: bool,
}

/// What one dispatch call writes for one event: its ledger entries and its marker.
#[derive(Debug, Clone)]
pub struct DispatchRecord<'a> {
    pub event: &'a EventRef,
    /// The event's own expiry (epoch s): its ledger records go with it.
    pub expires_at: Option<i64>,
    pub entries: Vec<LedgerEntry>,
    pub marker: PendingMarker,
}

/// One attempt to append to the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    pub subscription_id: SubscriptionId,
    pub message_id: String,
    pub message_type: String,
    pub attempt: Attempt,
    /// A send asked for again (a redelivery, a replay of everything): appended even to a record that is
    /// `DELIVERED`.
    pub again: bool,
}

/// What becomes of an event's pending-dispatch marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingMarker {
    /// Every delivery is settled: the event leaves the sweep's index.
    Clear,
    /// A retry is scheduled: the sweep leaves the event alone until this time (plus its grace).
    DueAt(DateTime<Utc>),
    /// Left as it is: a message aimed at one subscription does not settle the event for the others.
    Keep,
}

/// What dispatch reads and writes.
pub trait DispatchStore {
    /// Each event with what was delivered of it, in the order of `events`, `None` for an event that does not
    /// exist. One strongly consistent batched read for the whole batch; it fails as a whole.
    fn dispatch_states(
        &self,
        events: &[EventRef],
    ) -> impl Future<Output = Result<Vec<Option<DispatchState>>, StoreError>> + Send;

    /// The profiles as they are now, in one batched read; a customer that does not exist is left out.
    fn customer_profiles(
        &self,
        customers: &[(StoreId, CustomerId)],
    ) -> impl Future<Output = Result<HashMap<(StoreId, CustomerId), Customer>, StoreError>> + Send;

    /// Appends each record's entries to the ledger, marks the delivered ones on the event and updates its
    /// marker; one result per record, in order. Records are packed into as few atomic writes as the store
    /// allows, and one record is never split across two unless it alone exceeds one (then its marker goes
    /// last, so it is cleared only once every entry is written). A ledger record already `DELIVERED` is never
    /// overwritten: such entries are dropped (a concurrent dispatch delivered it) and the rest written. A
    /// marker on an event that no longer exists is not recreated.
    fn record_dispatches(
        &self,
        records: &[DispatchRecord<'_>],
    ) -> impl Future<Output = Vec<Result<(), StoreError>>> + Send;

    /// Every subscription of the store, active or not (strongly consistent): what its events are matched
    /// against.
    fn subscriptions_of(&self, store: &StoreId) -> impl Future<Output = Result<Vec<Subscription>, StoreError>> + Send;

    /// Stores the collector's news (`domain::operational`) as events pending dispatch, each once: one already
    /// stored (a retried dispatch makes the same id) is left as it is. The caller enqueues them; one whose
    /// enqueue fails is found by the recovery sweep.
    fn store_news(&self, events: &[StoredEvent]) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Adds a dispatch's delivered and failed sends to the replay they belong to.
    fn count_replay(
        &self,
        store: &StoreId,
        subscription: &SubscriptionId,
        replay_id: &str,
        sent_and_failed: (u64, u64),
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks a subscription inactive with a reason, as a permanent refusal of its destination calls for.
    fn deactivate(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The visibility of messages the dispatch function received.
pub trait MessageVisibility {
    /// Hands a received message over again after `delay` rather than the queue's visibility timeout.
    fn redeliver_after(
        &self,
        receipt_handle: &str,
        delay: std::time::Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The recovery sweep's view of the store.
pub trait PendingEvents {
    /// Events still pending whose marker is due before `before`, at most `limit`. The index is read shard by
    /// shard; a shard that fails is skipped (logged), so one failing read does not stop the rest. Fails
    /// only when no shard could be read.
    fn pending_before(
        &self,
        before: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<EventRef>, StoreError>> + Send;

    /// Moves a pending event's marker to `due_at`; does nothing when it is no longer pending.
    fn postpone(&self, event: &EventRef, due_at: DateTime<Utc>) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Message attributes every SQS and SNS delivery carries, so subscribers can filter without parsing bodies.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageAttributes {
    pub type_: String,
    pub entity_type: String,
    pub operation: String,
    pub event_name: Option<String>,
    /// The W3C `traceparent` of this delivery (a child of the ingest request's), when the event came with
    /// one: the `traceparent` attribute of SQS and SNS messages and header of webhooks.
    pub traceparent: Option<String>,
}

/// One message to one subscription's destination.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    pub subscription: &'a Subscription,
    /// The envelope's stable id: the SQS deduplication id, the `webhook-id`.
    pub message_id: &'a str,
    pub body: &'a str,
    pub attributes: &'a MessageAttributes,
}

/// How a destination answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Delivered,
    /// Worth retrying later (throttling, 5xx, timeouts). Carries the error code.
    Transient(String),
    /// Will never succeed as configured (access denied, not found, HTTP 410). Carries the error code.
    Permanent(String),
}

/// Sends messages to subscription destinations.
pub trait Publisher {
    /// Sends each delivery, batching those to the same destination (`SendMessageBatch`, `PublishBatch`);
    /// one outcome per delivery, in order. Never fails as a whole.
    fn publish(&self, deliveries: &[Delivery<'_>]) -> impl Future<Output = Vec<SendOutcome>> + Send;
}
