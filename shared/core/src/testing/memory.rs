//! An in-memory table behind the ingest and dispatch ports, for the fast tier of service tests: the contracts
//! of the DynamoDB adapter (the commit is all-or-nothing, a live dedupe record answers `Duplicate`, claims
//! and customer creations are first come first served, orders and projections are versioned, a `DELIVERED`
//! ledger record is final), without I/O, with a failure armed where a test wants one. It never replaces the
//! integration tests against the local AWS: it states what the services may rely on, the adapter is held to
//! the same by those.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::activity::ActivityWrite;
use crate::domain::customer::Customer;
use crate::domain::customer_input::CustomerInput;
use crate::domain::delivery::DeliveryStatus;
use crate::domain::entity_state::EntityState;
use crate::domain::event::{DedupeRecord, EventRef, StoredEvent};
use crate::domain::identity::{Identifier, IdentityLookup};
use crate::domain::ids::{CustomerId, StoreId, SubscriptionId};
use crate::domain::order::Order;
use crate::domain::subscription::{EntityType, Subscription};
use crate::ports::{Commit, CommitOutcome, CustomerWrite, ErrorKind, IngestStore, LedgerEntry, Prefetched, StoreError};

/// What the table holds.
#[derive(Debug, Default)]
pub struct Contents {
    pub dedupe: BTreeMap<String, DedupeRecord>,
    pub events: BTreeMap<String, StoredEvent>,
    /// Events still marked pending dispatch, and when their marker is due (`None`: at once).
    pub pending: BTreeMap<String, Option<DateTime<Utc>>>,
    /// Per event, the (subscription, message) pairs delivered.
    pub delivered: BTreeMap<String, Vec<(SubscriptionId, String)>>,
    /// The ledger: every attempt per `(event, subscription, message)`, and its status.
    pub ledger: BTreeMap<String, (DeliveryStatus, Vec<LedgerEntry>)>,
    pub customers: BTreeMap<String, Customer>,
    pub claims: BTreeMap<String, CustomerId>,
    pub orders: BTreeMap<String, Order>,
    pub entities: BTreeMap<String, EntityState>,
    pub activity: Vec<(CustomerId, ActivityWrite)>,
    pub subscriptions: Vec<Subscription>,
    pub enqueued: Vec<EventRef>,
    /// Per (store, subscription, replay): the sends it counted, delivered and failed.
    pub replay_counts: BTreeMap<String, (u64, u64)>,
}

/// A failure a test arms for the next call of one operation (`commit`, `prefetch`, `record_dispatches` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The call fails and changes nothing.
    Before,
    /// The call takes effect, then fails: its caller cannot tell (an answer lost on the way back).
    After,
    /// The call fails for good and changes nothing (a missing table, a refused request).
    Permanent,
}

/// A change another writer makes just before the next commit is judged: the race a test wants to see lost.
type Race = Box<dyn FnOnce(&mut Contents) + Send>;

/// The in-memory table.
#[derive(Default)]
pub struct MemoryTable {
    contents: Mutex<Contents>,
    armed: Mutex<Vec<(&'static str, Failure)>>,
    race: Mutex<Option<Race>>,
}

impl std::fmt::Debug for MemoryTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTable").field("contents", &self.contents).finish()
    }
}

pub(super) fn key(parts: &[&str]) -> String {
    parts.join("#")
}

pub(super) fn event_key(event: &EventRef) -> String {
    key(&[event.store_id.as_str(), event.event_id.as_str()])
}

fn failed(operation: &'static str, kind: ErrorKind) -> StoreError {
    StoreError {
        operation,
        kind,
        message: "injected".to_owned(),
    }
}

impl MemoryTable {
    /// What the table holds now, for a test to read or set up.
    pub fn contents(&self) -> std::sync::MutexGuard<'_, Contents> {
        self.contents.lock().expect("the table's lock")
    }

    /// The next call of `operation` fails as `failure` says.
    pub fn arm(&self, operation: &'static str, failure: Failure) {
        self.armed.lock().expect("the armed lock").push((operation, failure));
    }

    /// Just before the next commit is judged, another writer does `race`.
    pub fn race_next_commit(&self, race: impl FnOnce(&mut Contents) + Send + 'static) {
        *self.race.lock().expect("the race lock") = Some(Box::new(race));
    }

    fn take_armed(&self, operation: &'static str) -> Option<Failure> {
        let mut armed = self.armed.lock().expect("the armed lock");
        let at = armed.iter().position(|(op, _)| *op == operation)?;
        Some(armed.remove(at).1)
    }

    /// Runs `call` under the failure armed for `operation`, if any.
    pub(super) fn guarded<T>(
        &self,
        operation: &'static str,
        call: impl FnOnce(&mut Contents) -> T,
    ) -> Result<T, StoreError> {
        let failure = self.take_armed(operation);
        match failure {
            Some(Failure::Before) => return Err(failed(operation, ErrorKind::Transient)),
            Some(Failure::Permanent) => return Err(failed(operation, ErrorKind::Permanent)),
            _ => {}
        }
        let result = call(&mut self.contents());
        match failure {
            Some(Failure::After) => Err(failed(operation, ErrorKind::Transient)),
            _ => Ok(result),
        }
    }
}

fn claim_key(store: &StoreId, kind: Identifier, value: &str) -> String {
    key(&[store.as_str(), &format!("{kind:?}"), value])
}

pub(super) fn customer_key(store: &StoreId, id: &CustomerId) -> String {
    key(&[store.as_str(), id.as_str()])
}

impl Contents {
    fn prefetched(&self, store: &StoreId, unique_id: Option<&str>, customer: &CustomerInput) -> Prefetched {
        let owner =
            |kind, value: Option<String>| value.and_then(|v| self.claims.get(&claim_key(store, kind, &v)).cloned());
        Prefetched {
            dedupe: unique_id.and_then(|u| self.dedupe.get(&key(&[store.as_str(), u])).cloned()),
            identity: IdentityLookup {
                by_id: customer
                    .id
                    .as_ref()
                    .and_then(|id| self.customers.get(&customer_key(store, id)).cloned()),
                email_owner: owner(Identifier::Email, customer.email_key()),
                phone_owner: owner(Identifier::PhoneNumber, customer.phone_number.clone()),
            },
        }
    }

    /// The outcome of the first condition of the commit that does not hold; `None` when all hold.
    fn refusal(&self, commit: &Commit) -> Option<CommitOutcome> {
        let store = &commit.event.store_id;
        if let Some(record) = &commit.dedupe {
            if let Some(old) = self.dedupe.get(&key(&[store.as_str(), &record.unique_id])) {
                if old.is_live(commit.now) {
                    return Some(CommitOutcome::Duplicate(old.clone()));
                }
            }
        }
        let contended = Some(CommitOutcome::Contended);
        match &commit.customer {
            Some(CustomerWrite::Create(c)) if self.customers.contains_key(&customer_key(store, &c.customer_id)) => {
                return contended
            }
            Some(CustomerWrite::Update { customer, changed }) => {
                let Some(stored) = self.customers.get(&customer_key(store, &customer.customer_id)) else {
                    return contended;
                };
                let stored = serde_json::to_value(stored).expect("customers serialise");
                let attached = changed
                    .iter()
                    .filter(|f| f.path().1.is_none() && customer.value_of(f).is_some());
                for field in attached.filter(|f| matches!(f.path().0, "email" | "phoneNumber")) {
                    if !stored[field.path().0].is_null() {
                        return contended;
                    }
                }
            }
            _ => {}
        }
        if commit
            .claims
            .iter()
            .any(|(kind, value)| self.claims.contains_key(&claim_key(store, *kind, value)))
        {
            return contended;
        }
        if let Some(write) = &commit.order {
            let stored = self.orders.get(&key(&[store.as_str(), &write.order.external_order_id]));
            if stored.map(|o| o.version) != write.expected_version {
                return contended;
            }
        }
        if let Some(write) = &commit.entity_state {
            let at = key(&[store.as_str(), write.entity_type.name(), &write.entity_id]);
            if self.entities.get(&at).map(|e| e.version) != write.expected_version {
                return contended;
            }
        }
        None
    }

    fn apply(&mut self, commit: &Commit) {
        let store = &commit.event.store_id;
        if let Some(record) = &commit.dedupe {
            self.dedupe
                .insert(key(&[store.as_str(), &record.unique_id]), record.clone());
        }
        let at = event_key(&commit.event.event_ref());
        self.events.insert(at.clone(), commit.event.clone());
        self.pending.insert(at, None);
        match &commit.customer {
            Some(CustomerWrite::Create(c)) => {
                self.customers.insert(customer_key(store, &c.customer_id), c.clone());
            }
            Some(CustomerWrite::Update { customer, changed }) => {
                let at = customer_key(store, &customer.customer_id);
                let mut stored = serde_json::to_value(&self.customers[&at]).expect("customers serialise");
                for field in changed {
                    let (top, map_key) = field.path();
                    let value = customer.value_of(field).unwrap_or(Value::Null);
                    match map_key {
                        Some(k) => stored[top][k] = value,
                        None => stored[top] = value,
                    }
                }
                stored["version"] = Value::from(customer.version);
                stored["updatedAt"] = serde_json::to_value(customer.updated_at).expect("times serialise");
                let stored = strip_nulls(stored);
                self.customers
                    .insert(at, serde_json::from_value(stored).expect("a customer after the patch"));
            }
            None => {}
        }
        if let Some(owner) = &commit.event.customer_id {
            for (kind, value) in &commit.claims {
                self.claims.insert(claim_key(store, *kind, value), owner.clone());
            }
            for activity in &commit.activity {
                self.activity.push((owner.clone(), activity.clone()));
            }
        }
        if let Some(write) = &commit.order {
            let at = key(&[store.as_str(), &write.order.external_order_id]);
            self.orders.insert(at, write.order.clone());
        }
        if let Some(write) = &commit.entity_state {
            let at = key(&[store.as_str(), write.entity_type.name(), &write.entity_id]);
            match &write.state {
                Some(state) => self.entities.insert(at, state.clone()),
                None => self.entities.remove(&at),
            };
        }
    }
}

/// A removed field is absent, as DynamoDB's `REMOVE` leaves it (nested maps included).
fn strip_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        other => other,
    }
}

impl IngestStore for MemoryTable {
    async fn prefetch(
        &self,
        store: &StoreId,
        unique_id: Option<&str>,
        customer: &CustomerInput,
    ) -> Result<Prefetched, StoreError> {
        self.guarded("prefetch", |c| c.prefetched(store, unique_id, customer))
    }

    async fn prefetch_many(
        &self,
        store: &StoreId,
        requests: &[(Option<&str>, &CustomerInput)],
    ) -> Result<Vec<Prefetched>, StoreError> {
        self.guarded("prefetch_many", |c| {
            requests
                .iter()
                .map(|(u, customer)| c.prefetched(store, *u, customer))
                .collect()
        })
    }

    async fn customers(
        &self,
        store: &StoreId,
        ids: &[CustomerId],
    ) -> Result<HashMap<CustomerId, Customer>, StoreError> {
        self.guarded("customers", |c| {
            ids.iter()
                .filter_map(|id| Some((id.clone(), c.customers.get(&customer_key(store, id))?.clone())))
                .collect()
        })
    }

    async fn customer(&self, store: &StoreId, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        self.guarded("customer", |c| c.customers.get(&customer_key(store, id)).cloned())
    }

    async fn order(&self, store: &StoreId, external_order_id: &str) -> Result<Option<Order>, StoreError> {
        self.guarded("order", |c| {
            c.orders.get(&key(&[store.as_str(), external_order_id])).cloned()
        })
    }

    async fn entity_state(
        &self,
        store: &StoreId,
        entity_type: EntityType,
        entity_id: &str,
    ) -> Result<Option<EntityState>, StoreError> {
        self.guarded("entity_state", |c| {
            c.entities
                .get(&key(&[store.as_str(), entity_type.name(), entity_id]))
                .cloned()
        })
    }

    async fn commit(&self, commit: &Commit) -> Result<CommitOutcome, StoreError> {
        let race = self.race.lock().expect("the race lock").take();
        if let Some(race) = race {
            race(&mut self.contents());
        }
        self.guarded("commit", |c| match c.refusal(commit) {
            None => {
                c.apply(commit);
                CommitOutcome::Committed
            }
            Some(outcome) => outcome,
        })
    }
}
