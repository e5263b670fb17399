//! The ingest use case: resolve the customer, dedupe, store atomically, enqueue. Shared by every dialect.

use chrono::{DateTime, Duration, Utc};

use super::ingest_plan::{plan_commit, Found, NewEvent, Planned, Resolved};
use crate::domain::activity::ActivityWrite;
use crate::domain::custom_event::CustomEvent;
use crate::domain::customer::{Customer, ProfileField};
use crate::domain::customer_input::CustomerInput;
use crate::domain::entity_event::EntityChange;
use crate::domain::event::{DedupeRecord, EventRef, IdentityOutcome};
use crate::domain::identity::{
    attach_identifiers, only_identifies, resolve, Identifier, IdentityLookup, MatchedBy, Target,
};
use crate::domain::ids::{CustomerId, EventId, StoreId};
use crate::domain::order::OrderCommand;
use crate::domain::store_settings::{StoreSettings, DEFAULT_RETENTION_DAYS};
use crate::domain::trace::TraceContext;
use crate::domain::validation::FieldError;
use crate::ports::{CommitOutcome, CustomerWrite, DispatchQueue, IdGenerator, IngestStore, Prefetched, StoreError};

/// The ports ingest uses, borrowed for one call, and the call's trace, which goes with what it enqueues.
pub struct IngestPorts<'a, S, Q> {
    pub store: &'a S,
    pub queue: &'a Q,
    pub ids: &'a dyn IdGenerator,
    pub trace: Option<TraceContext>,
}

/// Settings of ingest, from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestConfig {
    /// How long a `uniqueId` blocks a second event with the same id (default 7 days).
    pub dedupe_window: Duration,
    /// How long events are kept (the store's retention; 395 days unless it set its own).
    pub retention: Duration,
}

impl IngestConfig {
    /// This configuration under `settings`: the store's retention, and a dedupe window no longer than it
    /// (a dedupe record outliving its event would answer `duplicate` for an event no longer there).
    pub fn for_store(&self, settings: &StoreSettings) -> Self {
        let retention = settings.retention();
        Self {
            dedupe_window: self.dedupe_window.min(retention),
            retention,
        }
    }
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            dedupe_window: Duration::days(7),
            retention: Duration::days(i64::from(DEFAULT_RETENTION_DAYS)),
        }
    }
}

/// Whether the event was stored now or had been stored before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestStatus {
    Accepted,
    Duplicate,
}

impl IngestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IngestStatus::Accepted => "accepted",
            IngestStatus::Duplicate => "duplicate",
        }
    }
}

/// What the caller is told about an ingested event.
#[derive(Debug, Clone, PartialEq)]
pub struct Ingested {
    pub status: IngestStatus,
    pub event_id: EventId,
    /// `None` for an event about no customer.
    pub customer_id: Option<CustomerId>,
    /// For an accepted event: how the customer was found. `None` for a duplicate.
    pub matched_by: Option<MatchedBy>,
    pub customer_created: bool,
}

/// What one event to ingest carries: the canonical event and, for order lifecycle events, the order command.
#[derive(Debug, Clone, Copy)]
pub struct EventInput<'a> {
    pub event: &'a CustomEvent,
    pub order: Option<&'a OrderCommand>,
    pub activity: &'a [ActivityWrite],
    /// For entity events: the entity change.
    pub entity: Option<&'a EntityChange>,
}

impl<'a> From<&'a CustomEvent> for EventInput<'a> {
    fn from(event: &'a CustomEvent) -> Self {
        Self {
            event,
            order: None,
            activity: &[],
            entity: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// Valid alone, invalid against what is stored (an order update that would create an order without the
    /// fields a new order needs).
    #[error("the event does not fit what is stored")]
    Invalid(Vec<FieldError>),
    /// Nothing to do, and the caller is told why (a status change of an order that does not exist).
    #[error("ignored: {0}")]
    Ignored(String),
    /// The `uniqueId` was used, within the window, for an event with different content.
    #[error("uniqueId '{unique_id}' was already used for a different event ({event_id})")]
    UniqueIdConflict { unique_id: String, event_id: EventId },
    /// Concurrent writers kept changing the customer; the client may retry.
    #[error("the customer was changed concurrently {0} times in a row")]
    Contention(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Commits re-resolve after a lost race; this many rounds is far beyond any real contention.
const MAX_ATTEMPTS: usize = 8;

/// Reads made ahead for many events at once (bulk). Used on the first attempt only; a retry reads afresh.
#[derive(Debug, Default)]
pub struct Preloaded {
    pub prefetched: Prefetched,
    /// The profile of the customer the email (else phone) claim points at, when read ahead.
    pub claimed_profile: Option<Customer>,
}

/// An event stored (or found stored) and, when stored by this call, the event to enqueue.
#[derive(Debug)]
pub struct Stored {
    pub ingested: Ingested,
    pub to_enqueue: Option<EventRef>,
}

/// Ingests one validated event for `store`. The event is durable when this returns `Ok`; the enqueue is
/// best-effort because an event that was not enqueued stays pending and the recovery sweep sends it.
pub async fn ingest_event<S: IngestStore, Q: DispatchQueue>(
    ports: &IngestPorts<'_, S, Q>,
    store: &StoreId,
    input: EventInput<'_>,
    now: DateTime<Utc>,
    config: &IngestConfig,
) -> Result<Ingested, IngestError> {
    // Boxed: the resolution and commit state machine is large, and callers' stacks need not carry it.
    let stored = Box::pin(store_event(ports.store, ports.ids, store, input, now, config, None)).await?;
    if let Some(event) = &stored.to_enqueue {
        if let Err(error) = ports.queue.enqueue(event, ports.trace.as_ref()).await {
            tracing::warn!(event_id = %event.event_id, %error, "enqueue failed; the event stays pending for the sweep");
        }
    }
    Ok(stored.ingested)
}

/// Resolves the customer, dedupes and commits one event; does not enqueue. `preloaded` stands in for the
/// first round of reads.
pub async fn store_event<S: IngestStore>(
    ports: &S,
    ids: &dyn IdGenerator,
    store: &StoreId,
    input: EventInput<'_>,
    now: DateTime<Utc>,
    config: &IngestConfig,
    mut preloaded: Option<Preloaded>,
) -> Result<Stored, IngestError> {
    let event = input.event;
    let payload_hash = event.payload_hash();
    let unique_id = event.unique_id.as_deref();
    for _ in 0..MAX_ATTEMPTS {
        let (prefetched, claimed_profile) = match preloaded.take() {
            Some(preloaded) => (preloaded.prefetched, preloaded.claimed_profile),
            None => (ports.prefetch(store, unique_id, event.customer_input()).await?, None),
        };
        if let Some(record) = prefetched.dedupe.filter(|r| r.is_live(now)) {
            return duplicate_or_conflict(record, &payload_hash);
        }
        let resolved = match &event.customer {
            None => None,
            Some(customer) => {
                let lookup = prefetched.identity;
                let resolving = resolve_customer(ports, ids, store, customer, &lookup, claimed_profile, now);
                match Box::pin(resolving).await? {
                    Some(resolved) => Some(resolved),
                    // A claim pointing at a customer that is gone: erased concurrently; resolve again.
                    None => continue,
                }
            }
        };
        let order = match input.order {
            Some(command) => ports.order(store, command.external_order_id()).await?,
            None => None,
        };
        let entity = match input.entity {
            Some(change) => ports.entity_state(store, change.entity_type, &change.entity_id).await?,
            None => None,
        };
        let found = Found {
            customer: resolved.as_ref(),
            order: order.as_ref(),
            entity: entity.as_ref(),
        };
        let new = NewEvent {
            event_id: EventId::from_bytes(ids.object_id(now)),
            payload_hash: payload_hash.clone(),
        };
        let Planned { commit, ingested } = plan_commit(store, &input, found, new, now, config)?;
        match ports.commit(&commit).await? {
            CommitOutcome::Committed => {
                return Ok(Stored {
                    ingested,
                    to_enqueue: Some(commit.event.event_ref()),
                })
            }
            CommitOutcome::Duplicate(record) => return duplicate_or_conflict(record, &payload_hash),
            CommitOutcome::Contended => continue,
        }
    }
    Err(IngestError::Contention(MAX_ATTEMPTS))
}

/// Resolves the event's customer and applies its identifiers and patch. `None` when the customer a claim
/// names is gone (erased concurrently): the caller reads and resolves again.
async fn resolve_customer<S: IngestStore>(
    ports: &S,
    ids: &dyn IdGenerator,
    store: &StoreId,
    input: &CustomerInput,
    lookup: &IdentityLookup,
    claimed_profile: Option<Customer>,
    now: DateTime<Utc>,
) -> Result<Option<Resolved>, IngestError> {
    let resolution = resolve(input, lookup, CustomerId::from_bytes(ids.object_id(now)));
    let (mut customer, created) = match &resolution.target {
        Target::New(id) => (Customer::new(store.clone(), id.clone(), now), true),
        // The claim was read in the same request as the dedupe key, and claims are written with their
        // customer, so it stands for the customer as the profile would: one read less per known customer.
        Target::Existing(id) if lookup.by_id.is_none() && only_identifies(input, lookup, id) => {
            return Ok(Some(Resolved {
                customer_id: id.clone(),
                identity: IdentityOutcome {
                    matched_by: resolution.matched_by,
                    customer_created: false,
                    requested_id_not_found: resolution.requested_id_not_found,
                    conflicts: Vec::new(),
                },
                changed_fields: Vec::new(),
                claims: Vec::new(),
                write: None,
            }));
        }
        Target::Existing(id) => {
            let found = match (&lookup.by_id, &claimed_profile) {
                (Some(c), _) | (_, Some(c)) if &c.customer_id == id => Some(c.clone()),
                _ => ports.customer(store, id).await?,
            };
            let Some(found) = found else { return Ok(None) };
            (found, false)
        }
    };
    let (claims, conflicts) = attach_identifiers(&mut customer, input, lookup);
    let mut changed: Vec<ProfileField> = claims.iter().map(|(kind, _)| identifier_field(*kind)).collect();
    changed.extend(customer.apply(&input.patch));
    let changed_fields = changed.iter().map(ProfileField::name).collect();
    customer.version += 1;
    customer.updated_at = now;
    let customer_id = customer.customer_id.clone();
    let write = if created {
        Some(CustomerWrite::Create(customer))
    } else if !changed.is_empty() {
        Some(CustomerWrite::Update { customer, changed })
    } else {
        None
    };
    Ok(Some(Resolved {
        identity: IdentityOutcome {
            matched_by: resolution.matched_by,
            customer_created: created,
            requested_id_not_found: resolution.requested_id_not_found,
            conflicts,
        },
        customer_id,
        changed_fields,
        claims,
        write,
    }))
}

fn duplicate_or_conflict(record: DedupeRecord, payload_hash: &str) -> Result<Stored, IngestError> {
    if record.payload_hash != payload_hash {
        return Err(IngestError::UniqueIdConflict {
            unique_id: record.unique_id,
            event_id: record.event_id,
        });
    }
    let ingested = Ingested {
        status: IngestStatus::Duplicate,
        event_id: record.event_id,
        customer_id: record.customer_id,
        matched_by: None,
        customer_created: false,
    };
    Ok(Stored {
        ingested,
        to_enqueue: None,
    })
}

fn identifier_field(kind: Identifier) -> ProfileField {
    match kind {
        Identifier::Email => ProfileField::Email,
        Identifier::PhoneNumber => ProfileField::PhoneNumber,
    }
}

#[cfg(test)]
#[path = "ingest_tests.rs"]
mod tests;
