//! Ports: the contracts between the domain services and the outside world. Adapters implement them for AWS;
//! tests wrap them to inject failures.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use chrono::{DateTime, Utc};

use crate::domain::activity::{ActivityWrite, Cart, ProductView};
use crate::domain::api_key::ApiKeyRecord;
use crate::domain::custom_event::CustomerInput;
use crate::domain::customer::{Customer, ProfileField};
use crate::domain::delivery::{Attempt, DeliveryRecord};
use crate::domain::entity_state::{EntityState, StateWrite};
use crate::domain::erasure::Erasure;
use crate::domain::event::{DedupeRecord, EventRef, StoredEvent};
use crate::domain::identity::{Identifier, IdentityLookup};
use crate::domain::ids::{CustomerId, EventId, StoreId, SubscriptionId};
use crate::domain::job::{Job, JobRun, Notification};
use crate::domain::order::Order;
use crate::domain::store::{Setting, StoreRecord};
use crate::domain::store_settings::StoreSettings;
use crate::domain::subscription::EntityType;
use crate::domain::subscription::Subscription;
use crate::domain::trace::TraceContext;

/// A backend call that failed. Outcomes such as "condition not met" are never errors; they are values of
/// the operation's result type.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation}: {kind:?}: {message}")]
pub struct StoreError {
    pub operation: &'static str,
    pub kind: ErrorKind,
    pub message: String,
}

impl StoreError {
    /// `Transient` or `Permanent`: what may be said about an error where its message may not (outbound
    /// error codes users read).
    pub fn kind_label(&self) -> &'static str {
        match self.kind {
            ErrorKind::Transient => "Transient",
            ErrorKind::Permanent => "Permanent",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Throttling, timeouts, 5xx: worth retrying later.
    Transient,
    /// Bad configuration or a bug: retrying will not help.
    Permanent,
}

/// What every request's admission reads: its key, its store's settings, and the store's rate counter.
pub trait AdmissionStore {
    /// The record of the key with this SHA-256 hash, or `None`. Never returns another store's key as this one.
    fn find_api_key(&self, key_hash: &str) -> impl Future<Output = Result<Option<ApiKeyRecord>, StoreError>> + Send;

    /// The store's settings; the defaults when it set none.
    fn store_settings(&self, store: &StoreId) -> impl Future<Output = Result<StoreSettings, StoreError>> + Send;

    /// Atomically adds `permits` to the store's count for `window` (an epoch second) if the count stays
    /// within `limit`, shared by every instance. `permits <= limit`. Counts expire on their own.
    fn take_permits(
        &self,
        store: &StoreId,
        window: i64,
        permits: u32,
        limit: u32,
    ) -> impl Future<Output = Result<Permits, StoreError>> + Send;
}

/// The rate counter's answer, with the window's count after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permits {
    Granted { counted: u32 },
    Refused { counted: u32 },
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

/// Store and key administration: what the `storeadmin` command (and the tests' fixtures) do.
pub trait StoreAdministration {
    /// Creates the store; an error if its id exists.
    fn create_store(&self, store: &StoreRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores a key's record and its entry in the store's list of keys together; an error if either exists.
    fn put_api_key(&self, record: &ApiKeyRecord) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sets one of the store's settings; `false` when the store does not exist.
    fn set_store_setting(
        &self,
        store: &StoreId,
        setting: Setting,
        value: u32,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The store's keys, oldest first.
    fn api_keys(&self, store: &StoreId) -> impl Future<Output = Result<Vec<ApiKeyRecord>, StoreError>> + Send;

    /// Revokes the store's key `key_id`: from then on it authenticates nothing, and running it again finishes
    /// a revocation cut short. `false` when the store has no such key (another store's included).
    fn revoke_api_key(&self, store: &StoreId, key_id: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Recipients in one mail request at most (SendGrid's limit of personalizations).
pub const MAX_PERSONALIZATIONS: usize = 1_000;

/// One recipient and their template data.
#[derive(Debug, Clone, PartialEq)]
pub struct Email {
    pub to: String,
    pub data: serde_json::Value,
}

/// Why a batch of mail was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Worth trying again later (429, 5xx, no connection) after the mailer's own retries.
    #[error("SendGrid unavailable: {0}")]
    Transient(String),
    /// The request is wrong or not allowed (400, 401, 403 …): retrying will not help.
    #[error("SendGrid refused the request: {0}")]
    Refused(String),
}

/// Sends templated email.
pub trait Mailer {
    /// Sends `emails` with the template in batches of [`MAX_PERSONALIZATIONS`], one after another; one
    /// result per batch, in order: how many it accepted, or why not.
    fn send(&self, template_id: &str, emails: &[Email]) -> impl Future<Output = Vec<Result<usize, MailError>>> + Send;
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

    /// Writes the event (marked pending dispatch), its dedupe record, the customer, the claims, the order and
    /// the entity projection atomically.
    /// Idempotent in effect: a retried commit of the same event is a [`CommitOutcome::Duplicate`] when it
    /// carries a dedupe record, and otherwise writes a second event only if called with a new event id.
    fn commit(&self, commit: &Commit) -> impl Future<Output = Result<CommitOutcome, StoreError>> + Send;
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

/// The visibility of messages the dispatch function received.
pub trait MessageVisibility {
    /// Hands a received message over again after `delay` rather than the queue's visibility timeout.
    fn redeliver_after(
        &self,
        receipt_handle: &str,
        delay: std::time::Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Subscriptions of a store, and the ledger records users read through them.
pub trait SubscriptionStore {
    /// Stores a new subscription; fails if its id exists.
    fn create_subscription(&self, subscription: &Subscription) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Replaces a stored subscription. `Ok(false)`, writing nothing, when it does not exist.
    fn replace_subscription(
        &self,
        subscription: &Subscription,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// One subscription of the store (strongly consistent), or `None`; never another store's.
    fn subscription(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
    ) -> impl Future<Output = Result<Option<Subscription>, StoreError>> + Send;

    /// Every subscription of the store, active or not, by id (so, by creation time).
    fn subscriptions(&self, store: &StoreId) -> impl Future<Output = Result<Vec<Subscription>, StoreError>> + Send;

    /// Deletes a subscription. `Ok(false)` when it did not exist.
    fn delete_subscription(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Marks a subscription inactive with a reason, in place (concurrent edits of other fields survive).
    /// Returns it as now stored, or `None` when it does not exist.
    fn deactivate_subscription(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Subscription>, StoreError>> + Send;

    /// Ledger records of a subscription, latest attempt first, at most `limit`.
    fn deliveries(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<DeliveryRecord>, StoreError>> + Send;
}

/// Notification jobs of a store, and their runs.
pub trait JobStore {
    /// Stores a job and its next run (`None`: not due, out of the scheduler's index). `create`: fails with
    /// `Ok(false)` if the id exists; else replaces, with `Ok(false)` if it does not exist.
    fn put_job(
        &self,
        job: &Job,
        next_run: Option<DateTime<Utc>>,
        create: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// One job of the store (strongly consistent), deleted or not; never another store's.
    fn job(&self, store: &StoreId, id: &str) -> impl Future<Output = Result<Option<Job>, StoreError>> + Send;

    /// Every job of the store, deleted ones included.
    fn jobs(&self, store: &StoreId) -> impl Future<Output = Result<Vec<Job>, StoreError>> + Send;

    /// A job's runs, latest slot first, at most `limit`.
    fn job_runs(
        &self,
        store: &StoreId,
        id: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<JobRun>, StoreError>> + Send;
}

/// A job whose next run is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueJob {
    pub store_id: StoreId,
    pub job_id: String,
    /// The next run the index holds: the first slot not yet run.
    pub next_run: DateTime<Utc>,
}

/// The result of claiming a (job, slot) run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// This invocation runs it.
    Claimed,
    /// It ran to the end already.
    Finished,
    /// Another invocation is running it.
    Running,
}

/// What the scheduler needs to run each (job, slot) once.
pub trait JobSchedule: JobStore {
    /// Jobs whose next run is at or before `now`, at most `limit`, from the `dueJobs` index.
    fn due_jobs(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<DueJob>, StoreError>> + Send;

    /// Claims a run of a slot: creates its record, or takes over a record whose claim is older than
    /// `stale_before` and that never finished (its runner died).
    fn claim_run(
        &self,
        store: &StoreId,
        run: &JobRun,
        stale_before: DateTime<Utc>,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Moves the job's next run from `from` to `to` (`None`: out of the index). Does nothing if the job's next
    /// run is no longer `from` (another invocation moved it, or the job was edited).
    fn advance_job(
        &self,
        store: &StoreId,
        job_id: &str,
        from: DateTime<Utc>,
        to: Option<DateTime<Utc>>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records how a claimed run ended.
    fn finish_run(&self, store: &StoreId, run: &JobRun) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What notification jobs read from the projections, and the frequency cap they keep.
pub trait AudienceStore: IngestStore {
    /// Every entity of a type in the store.
    fn entities(
        &self,
        store: &StoreId,
        entity_type: EntityType,
    ) -> impl Future<Output = Result<Vec<EntityState>, StoreError>> + Send;

    /// Who viewed a product.
    fn viewers(
        &self,
        store: &StoreId,
        product_id: &str,
    ) -> impl Future<Output = Result<Vec<ProductView>, StoreError>> + Send;

    /// Open carts last changed before `before`.
    fn carts_before(
        &self,
        store: &StoreId,
        before: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<Cart>, StoreError>> + Send;

    /// Of the (customer, product) pairs, those that got `notification` and whose cap has not expired at `now`.
    fn capped(
        &self,
        store: &StoreId,
        notification: Notification,
        pairs: &[(CustomerId, String)],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<HashSet<(CustomerId, String)>, StoreError>> + Send;

    /// Caps the pairs until `until`: they were notified.
    fn cap(
        &self,
        store: &StoreId,
        notification: Notification,
        pairs: &[(CustomerId, String)],
        until: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

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
}

/// What becomes of an event's pending-dispatch marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PendingMarker {
    /// Every delivery is settled: the event leaves the sweep's index.
    Clear,
    /// A retry is scheduled: the sweep leaves the event alone until this time (plus its grace).
    DueAt(DateTime<Utc>),
}

/// What dispatch reads and writes.
pub trait DispatchStore: SubscriptionStore {
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
}

/// Erasing a customer. Every record written for a customer can be found from the customer alone.
pub trait CustomerErasure {
    /// The customer an identifier (in its matching form) belongs to, or `None`.
    fn identifier_owner(
        &self,
        store: &StoreId,
        kind: Identifier,
        value: &str,
    ) -> impl Future<Output = Result<Option<CustomerId>, StoreError>> + Send;

    /// Deletes the customer's records, stopping once about `budget` are gone (`complete: false`): each event's
    /// delivery records before the event, every other record of the customer, then its frequency caps, and
    /// the profile last, once nothing else is left. A call cut short anywhere therefore leaves the profile,
    /// and calling again continues. Records committed while it runs may survive it (the index it reads is
    /// eventually consistent); calling again removes them.
    fn erase_customer(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        budget: usize,
    ) -> impl Future<Output = Result<Erasure, StoreError>> + Send;
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

/// What a sealed secret is bound to: opening it needs the same store and subscription.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SecretContext {
    pub store_id: StoreId,
    pub subscription_id: SubscriptionId,
}

/// Encryption of stored secrets (destination credentials, webhook signing secrets).
pub trait SecretBox {
    /// Encrypts `plaintext` bound to `context`; the result is safe to store.
    fn seal(&self, plaintext: &str, context: &SecretContext)
        -> impl Future<Output = Result<String, StoreError>> + Send;

    /// Decrypts what [`SecretBox::seal`] made with the same context.
    fn open(&self, sealed: &str, context: &SecretContext) -> impl Future<Output = Result<String, StoreError>> + Send;
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
