//! The dispatch use case: for each dispatch message, the stored event's outbound messages go to every
//! matching active subscription not yet delivered to, the attempts go to the ledger, and the event's
//! pending marker is cleared once every delivery is settled.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;

use crate::domain::customer::Customer;
use crate::domain::delivery::{Attempt, DeliveryStatus};
use crate::domain::event::EventRef;
use crate::domain::ids::{CustomerId, StoreId, SubscriptionId};
use crate::domain::outbound::{envelope, outbound_of, Outbound};
use crate::domain::retry::{retry_delay, MAX_ATTEMPTS};
use crate::domain::subscription::Subscription;
use crate::domain::trace::TraceContext;
use crate::ports::{
    Delivery, DispatchRecord, DispatchState, DispatchStore, LedgerEntry, MessageAttributes, PendingMarker, Publisher,
    SendOutcome,
};

/// One dispatch message: the event, how many times the queue has handed it over (1 on first receipt), and
/// the trace of the request that stored the event (none when the recovery sweep enqueued it).
#[derive(Debug, Clone)]
pub struct DispatchItem {
    pub event: EventRef,
    pub receive_count: u32,
    pub trace: Option<TraceContext>,
}

/// What to do with a dispatch message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemOutcome {
    /// Every delivery is settled: delete the message.
    Done,
    /// Some deliveries failed transiently: hand the message over again after this delay.
    RetryAfter(Duration),
    /// No attempt is left (the message goes to the dead-letter queue), or the store failed: report it failed.
    Failed,
}

/// What one dispatch call did, for the log line and the tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DispatchCounts {
    pub delivered: usize,
    pub failed: usize,
    pub rejected: usize,
}

/// A message that goes to a subscription in this call.
struct Planned<'a> {
    item: usize,
    message: Outbound,
    subscription: &'a Subscription,
}

/// Dispatches a batch of messages in a fixed number of round trips whatever its size: one batched read of
/// the events, one read of each store's subscriptions, one batched read of the profiles customer messages
/// carry, one [`Publisher::publish`] (destinations get batches across events), and one batched record of
/// every event's attempts. `jitter` in `[0, 1)` spreads the retry delays.
pub async fn dispatch<S: DispatchStore + Sync, P: Publisher + Sync>(
    store: &S,
    publisher: &P,
    items: &[DispatchItem],
    now: DateTime<Utc>,
    jitter: f64,
) -> (Vec<ItemOutcome>, DispatchCounts) {
    let mut outcomes = vec![ItemOutcome::Done; items.len()];
    // A message for an event already in the batch (a redelivery, a sweep's re-enqueue) shares its outcome.
    let first_of: Vec<usize> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            items[..i]
                .iter()
                .position(|other| other.event == item.event)
                .unwrap_or(i)
        })
        .collect();
    let refs: Vec<EventRef> = items.iter().map(|item| item.event.clone()).collect();
    let mut found: Vec<Option<DispatchState>> = match store.dispatch_states(&refs).await {
        Ok(states) => states,
        Err(error) => {
            tracing::error!(%error, "reading the events failed");
            return (vec![ItemOutcome::Failed; items.len()], DispatchCounts::default());
        }
    };
    for (i, state) in found.iter_mut().enumerate() {
        if first_of[i] != i {
            *state = None;
        } else if state.is_none() {
            tracing::warn!(event_id = %items[i].event.event_id, "dispatch message for an event that does not exist; dropped");
        }
    }

    let stores: HashSet<StoreId> = found.iter().flatten().map(|s| s.event.store_id.clone()).collect();
    let stores: Vec<StoreId> = stores.into_iter().collect();
    let listed = join_all(stores.iter().map(|s| store.subscriptions_of(s))).await;
    let mut subscriptions: HashMap<StoreId, Vec<Subscription>> = HashMap::new();
    for (store_id, listed) in stores.into_iter().zip(listed) {
        match listed {
            Ok(list) => {
                subscriptions.insert(store_id, list);
            }
            Err(error) => {
                tracing::error!(%store_id, %error, "reading subscriptions failed");
                for (i, state) in found.iter_mut().enumerate() {
                    if state.as_ref().is_some_and(|s| s.event.store_id == store_id) {
                        outcomes[i] = ItemOutcome::Failed;
                        *state = None;
                    }
                }
            }
        }
    }

    let planned = plan(&found, &subscriptions);
    let customers = customer_profiles(store, &found, &planned).await;
    let bodies: Vec<(String, MessageAttributes)> = planned
        .iter()
        .map(|p| {
            let event = &found[p.item].as_ref().expect("planned events exist").event;
            let customer = event
                .customer_id
                .as_ref()
                .filter(|_| p.message.is_about_customer())
                .and_then(|id| customers.get(&(event.store_id.clone(), id.clone())));
            let body = envelope(event, &p.message, customer);
            let attributes = MessageAttributes {
                type_: body.type_.clone(),
                entity_type: body.entity_type.to_owned(),
                operation: body.operation.to_owned(),
                event_name: body.event_name.map(str::to_owned),
                traceparent: items[p.item].trace.map(|t| t.to_string()),
            };
            (serde_json::to_string(&body).expect("envelopes serialise"), attributes)
        })
        .collect();
    let deliveries: Vec<Delivery<'_>> = planned
        .iter()
        .zip(&bodies)
        .map(|(p, (body, attributes))| Delivery {
            subscription: p.subscription,
            message_id: &p.message.id,
            body,
            attributes,
        })
        .collect();
    let sent = if deliveries.is_empty() {
        Vec::new()
    } else {
        publisher.publish(&deliveries).await
    };

    let mut counts = DispatchCounts::default();
    let mut entries: Vec<Vec<LedgerEntry>> = vec![Vec::new(); items.len()];
    let mut transient = vec![false; items.len()];
    let mut deactivate: HashMap<(StoreId, SubscriptionId), String> = HashMap::new();
    for (p, outcome) in planned.iter().zip(sent) {
        let (status, error) = match outcome {
            SendOutcome::Delivered => {
                counts.delivered += 1;
                (DeliveryStatus::Delivered, None)
            }
            SendOutcome::Transient(code) => {
                counts.failed += 1;
                transient[p.item] = true;
                let status = if items[p.item].receive_count >= MAX_ATTEMPTS {
                    DeliveryStatus::Exhausted
                } else {
                    DeliveryStatus::Failed
                };
                (status, Some(code))
            }
            SendOutcome::Permanent(code) => {
                counts.rejected += 1;
                let s = p.subscription;
                let reason = format!(
                    "the {} destination refused delivery permanently ({code})",
                    s.destination.type_name()
                );
                deactivate.insert((s.store_id.clone(), s.subscription_id.clone()), reason);
                (DeliveryStatus::Rejected, Some(code))
            }
        };
        entries[p.item].push(LedgerEntry {
            subscription_id: p.subscription.subscription_id.clone(),
            message_id: p.message.id.clone(),
            message_type: p.message.type_name(),
            attempt: Attempt { status, at: now, error },
        });
    }

    let mut records = Vec::new();
    let mut recorded = Vec::new();
    for (i, (state, entries)) in found.iter().zip(entries).enumerate() {
        let Some(state) = state else { continue };
        let retry = transient[i]
            .then(|| retry_delay(items[i].receive_count, jitter))
            .flatten();
        let marker = match retry {
            Some(delay) => PendingMarker::DueAt(now + chrono::Duration::from_std(delay).unwrap_or_default()),
            None => PendingMarker::Clear,
        };
        outcomes[i] = match (retry, transient[i]) {
            (Some(delay), _) => ItemOutcome::RetryAfter(delay),
            (None, true) => ItemOutcome::Failed,
            (None, false) => ItemOutcome::Done,
        };
        if state.pending || !entries.is_empty() {
            records.push(DispatchRecord {
                event: &items[i].event,
                expires_at: state.event.expires_at,
                entries,
                marker,
            });
            recorded.push(i);
        }
    }
    let written = if records.is_empty() {
        Vec::new()
    } else {
        store.record_dispatches(&records).await
    };
    for (i, written) in recorded.into_iter().zip(written) {
        if let Err(error) = written {
            tracing::error!(event_id = %items[i].event.event_id, %error, "recording deliveries failed");
            outcomes[i] = ItemOutcome::Failed;
        }
    }
    for (i, first) in first_of.into_iter().enumerate() {
        if first != i {
            outcomes[i] = outcomes[first].clone();
        }
    }
    let deactivations = deactivate
        .iter()
        .map(|((store_id, id), reason)| store.deactivate(store_id, id, reason, now));
    for (((_, id), reason), done) in deactivate.iter().zip(join_all(deactivations).await) {
        match done {
            Ok(_) => tracing::warn!(subscription_id = %id, reason, "subscription deactivated"),
            Err(error) => tracing::error!(subscription_id = %id, %error, "deactivating the subscription failed"),
        }
    }
    (outcomes, counts)
}

/// Every (outbound message, subscription) pair that matches and is not delivered yet.
fn plan<'a>(
    found: &[Option<DispatchState>],
    subscriptions: &'a HashMap<StoreId, Vec<Subscription>>,
) -> Vec<Planned<'a>> {
    let mut planned = Vec::new();
    for (item, state) in found.iter().enumerate() {
        let Some(state) = state else { continue };
        let Some(subs) = subscriptions.get(&state.event.store_id) else {
            continue;
        };
        for message in outbound_of(&state.event) {
            for subscription in subs {
                if !subscription.matches(&message.subject, message.operation, state.event.received_at) {
                    continue;
                }
                let delivered = state
                    .delivered
                    .iter()
                    .any(|(id, message_id)| *id == subscription.subscription_id && *message_id == message.id);
                if !delivered {
                    planned.push(Planned {
                        item,
                        message: message.clone(),
                        subscription,
                    });
                }
            }
        }
    }
    planned
}

/// The current profile of each customer a planned customer message is about, in one batched read.
async fn customer_profiles<S: DispatchStore + Sync>(
    store: &S,
    found: &[Option<DispatchState>],
    planned: &[Planned<'_>],
) -> HashMap<(StoreId, CustomerId), Customer> {
    let wanted: Vec<(StoreId, CustomerId)> = planned
        .iter()
        .filter(|p| p.message.is_about_customer())
        .filter_map(|p| {
            let event = &found[p.item].as_ref()?.event;
            Some((event.store_id.clone(), event.customer_id.clone()?))
        })
        .collect();
    if wanted.is_empty() {
        return HashMap::new();
    }
    // Without the profile the message still goes out, with the customer id as its data.
    store.customer_profiles(&wanted).await.unwrap_or_else(|error| {
        tracing::warn!(%error, "reading the customers failed; sending their ids only");
        HashMap::new()
    })
}
