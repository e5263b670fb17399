//! The in-memory table behind the dispatch queue and the dispatch port: what was enqueued, the events with
//! their pending markers and delivered pairs, a ledger whose `DELIVERED` records are final, the subscriptions.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::memory::{customer_key, event_key, key, MemoryTable};
use crate::domain::customer::Customer;
use crate::domain::delivery::DeliveryStatus;
use crate::domain::event::EventRef;
use crate::domain::ids::{CustomerId, StoreId, SubscriptionId};
use crate::domain::subscription::Subscription;
use crate::domain::trace::TraceContext;
use crate::ports::{DispatchQueue, DispatchRecord, DispatchState, DispatchStore, PendingMarker, StoreError};

impl DispatchQueue for MemoryTable {
    async fn enqueue(&self, event: &EventRef, _trace: Option<&TraceContext>) -> Result<(), StoreError> {
        self.guarded("enqueue", |c| c.enqueued.push(event.clone()))
    }

    async fn enqueue_many(&self, events: &[EventRef], _trace: Option<&TraceContext>) -> Result<(), StoreError> {
        self.guarded("enqueue_many", |c| c.enqueued.extend(events.iter().cloned()))
    }
}

impl DispatchStore for MemoryTable {
    async fn dispatch_states(&self, events: &[EventRef]) -> Result<Vec<Option<DispatchState>>, StoreError> {
        self.guarded("dispatch_states", |c| {
            events
                .iter()
                .map(|event| {
                    let at = event_key(event);
                    Some(DispatchState {
                        event: c.events.get(&at)?.clone(),
                        delivered: c.delivered.get(&at).cloned().unwrap_or_default(),
                        pending: c.pending.contains_key(&at),
                    })
                })
                .collect()
        })
    }

    async fn customer_profiles(
        &self,
        customers: &[(StoreId, CustomerId)],
    ) -> Result<HashMap<(StoreId, CustomerId), Customer>, StoreError> {
        self.guarded("customer_profiles", |c| {
            customers
                .iter()
                .filter_map(|(s, id)| Some(((s.clone(), id.clone()), c.customers.get(&customer_key(s, id))?.clone())))
                .collect()
        })
    }

    async fn record_dispatches(&self, records: &[DispatchRecord<'_>]) -> Vec<Result<(), StoreError>> {
        records
            .iter()
            .map(|record| {
                self.guarded("record_dispatches", |c| {
                    let at = event_key(record.event);
                    for entry in &record.entries {
                        let ledger = key(&[&at, entry.subscription_id.as_str(), &entry.message_id]);
                        if !entry.again
                            && c.ledger
                                .get(&ledger)
                                .is_some_and(|(s, _)| *s == DeliveryStatus::Delivered)
                        {
                            continue; // final: a concurrent dispatch delivered it
                        }
                        let (status, attempts) = c.ledger.entry(ledger).or_insert((entry.attempt.status, Vec::new()));
                        *status = entry.attempt.status;
                        attempts.push(entry.clone());
                        if entry.attempt.status == DeliveryStatus::Delivered {
                            let pair = (entry.subscription_id.clone(), entry.message_id.clone());
                            c.delivered.entry(at.clone()).or_default().push(pair);
                        }
                    }
                    if c.events.contains_key(&at) {
                        match record.marker {
                            PendingMarker::Clear => c.pending.remove(&at),
                            PendingMarker::DueAt(at_time) => c.pending.insert(at, Some(at_time)),
                            PendingMarker::Keep => None,
                        };
                    }
                })
            })
            .collect()
    }

    async fn store_news(&self, events: &[crate::domain::event::StoredEvent]) -> Result<(), StoreError> {
        self.guarded("store_news", |c| {
            for event in events {
                let at = event_key(&event.event_ref());
                if !c.events.contains_key(&at) {
                    c.events.insert(at.clone(), event.clone());
                    c.pending.insert(at, None);
                }
            }
        })
    }

    async fn count_replay(
        &self,
        store: &StoreId,
        subscription: &SubscriptionId,
        replay_id: &str,
        (sent, failed): (u64, u64),
    ) -> Result<(), StoreError> {
        self.guarded("count_replay", |c| {
            let counts = c
                .replay_counts
                .entry(key(&[store.as_str(), subscription.as_str(), replay_id]))
                .or_default();
            counts.0 += sent;
            counts.1 += failed;
        })
    }

    async fn subscriptions_of(&self, store: &StoreId) -> Result<Vec<Subscription>, StoreError> {
        self.guarded("subscriptions_of", |c| {
            c.subscriptions
                .iter()
                .filter(|s| &s.store_id == store)
                .cloned()
                .collect()
        })
    }

    async fn deactivate(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.guarded("deactivate", |c| {
            for s in c
                .subscriptions
                .iter_mut()
                .filter(|s| &s.store_id == store && &s.subscription_id == id)
            {
                s.active = false;
                s.deactivated_reason = Some(reason.to_owned());
                s.deactivated_at = Some(now);
            }
        })
    }
}
