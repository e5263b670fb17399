//! Ports: the contracts between the domain services and the outside world. Adapters implement them for AWS;
//! tests wrap them to inject failures.

use std::collections::HashMap;
use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::api_key::ApiKeyRecord;
use crate::domain::custom_event::CustomerInput;
use crate::domain::customer::{Customer, ProfileField};
use crate::domain::event::{DedupeRecord, StoredEvent};
use crate::domain::identity::{Identifier, IdentityLookup};
use crate::domain::ids::{CustomerId, StoreId};

/// A backend call that failed. Outcomes such as "condition not met" are never errors; they are values of
/// the operation's result type.
#[derive(Debug, thiserror::Error)]
#[error("{operation}: {kind:?}: {message}")]
pub struct StoreError {
    pub operation: &'static str,
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Throttling, timeouts, 5xx: worth retrying later.
    Transient,
    /// Bad configuration or a bug: retrying will not help.
    Permanent,
}

/// Finds API keys by hash.
pub trait ApiKeyStore {
    /// The record of the key with this SHA-256 hash, or `None`. Never returns another store's key as this one.
    fn find_api_key(&self, key_hash: &str) -> impl Future<Output = Result<Option<ApiKeyRecord>, StoreError>> + Send;
}

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
    /// Put unless a live record holds the key (a record whose `expires_at` has passed is overwritten).
    pub dedupe: Option<DedupeRecord>,
    pub customer: Option<CustomerWrite>,
    /// Identifiers newly claimed for `event.customer_id`; each fails the commit if someone owns it.
    pub claims: Vec<(Identifier, String)>,
    /// The time live dedupe records are judged against.
    pub now: DateTime<Utc>,
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

    /// Writes the event (marked pending dispatch), its dedupe record, the customer and the claims atomically.
    /// Idempotent in effect: a retried commit of the same event is a [`CommitOutcome::Duplicate`] when it
    /// carries a dedupe record, and otherwise writes a second event only if called with a new event id.
    fn commit(&self, commit: &Commit) -> impl Future<Output = Result<CommitOutcome, StoreError>> + Send;
}

/// The dispatch queue.
pub trait DispatchQueue {
    /// Enqueues a stored event for dispatch. At-least-once: dispatch dedupes by event id. An event whose
    /// enqueue failed stays pending in the store and is re-enqueued by the recovery sweep.
    fn enqueue(&self, event: &StoredEvent) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Enqueues many events in as few calls as the queue allows, retrying entries that failed. An error means
    /// some were not enqueued after the retries; they stay pending for the sweep like a failed `enqueue`.
    fn enqueue_many(&self, events: &[StoredEvent]) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Fresh identifiers.
pub trait IdGenerator: Send + Sync {
    /// 12 bytes in the ObjectId layout: 4 bytes of `now` in seconds, then 8 random bytes.
    fn object_id(&self, now: DateTime<Utc>) -> [u8; 12];
    /// 32 random bytes, for secrets.
    fn secret(&self) -> [u8; 32];
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Ids from the operating system's random source.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn object_id(&self, now: DateTime<Utc>) -> [u8; 12] {
        let mut id = [0u8; 12];
        id[..4].copy_from_slice(&(now.timestamp() as u32).to_be_bytes());
        getrandom::fill(&mut id[4..]).expect("the OS random source is available");
        id
    }

    fn secret(&self) -> [u8; 32] {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the OS random source is available");
        secret
    }
}
