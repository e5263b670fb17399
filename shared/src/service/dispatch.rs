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
use crate::ports::{
    Delivery, DispatchState, DispatchStore, LedgerEntry, MessageAttributes, PendingMarker, Publisher, SendOutcome,
};

/// One dispatch message: the event, and how many times the queue has handed it over (1 on first receipt).
#[derive(Debug, Clone)]
pub struct DispatchItem {
    pub event: EventRef,
    pub receive_count: u32,
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

/// Dispatches a batch of messages. Reads each event with its ledger and each store's subscriptions once,
/// sends everything in one [`Publisher::publish`] (so destinations get batches across events), then records
/// each event's attempts in one write. `jitter` in `[0, 1)` spreads the retry delays.
pub async fn dispatch<S: DispatchStore + Sync, P: Publisher + Sync>(
    store: &S,
    publisher: &P,
    items: &[DispatchItem],
    now: DateTime<Utc>,
    jitter: f64,
) -> (Vec<ItemOutcome>, DispatchCounts) {
    let mut outcomes = vec![ItemOutcome::Done; items.len()];
    let states = join_all(items.iter().map(|item| store.dispatch_state(&item.event))).await;
    let mut found: Vec<Option<DispatchState>> = Vec::with_capacity(items.len());
    for (i, state) in states.into_iter().enumerate() {
        match state {
            Ok(state) => {
                if state.is_none() {
                    tracing::warn!(event_id = %items[i].event.event_id, "dispatch message for an event that does not exist; dropped");
                }
                found.push(state);
            }
            Err(error) => {
                tracing::error!(event_id = %items[i].event.event_id, %error, "reading the event failed");
                outcomes[i] = ItemOutcome::Failed;
                found.push(None);
            }
        }
    }

    let stores: HashSet<StoreId> = found.iter().flatten().map(|s| s.event.store_id.clone()).collect();
    let stores: Vec<StoreId> = stores.into_iter().collect();
    let listed = join_all(stores.iter().map(|s| store.subscriptions(s))).await;
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
            let body = envelope(event, &p.message, customers.get(&p.item).and_then(Option::as_ref));
            let attributes = MessageAttributes {
                type_: body.type_.clone(),
                entity_type: body.entity_type.to_owned(),
                operation: body.operation.to_owned(),
                event_name: body.event_name.map(str::to_owned),
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

    let mut writes = Vec::new();
    for (i, state) in found.iter().enumerate() {
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
        if state.pending || !entries[i].is_empty() {
            writes.push((i, store.record_dispatch(&items[i].event, &entries[i], marker)));
        }
    }
    let (indexes, writes): (Vec<usize>, Vec<_>) = writes.into_iter().unzip();
    for (i, written) in indexes.into_iter().zip(join_all(writes).await) {
        if let Err(error) = written {
            tracing::error!(event_id = %items[i].event.event_id, %error, "recording deliveries failed");
            outcomes[i] = ItemOutcome::Failed;
        }
    }
    let deactivations = deactivate
        .iter()
        .map(|((store_id, id), reason)| store.deactivate_subscription(store_id, id, reason, now));
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
                let delivered = state.deliveries.iter().any(|d| {
                    d.subscription_id == subscription.subscription_id
                        && d.message_id == message.id
                        && d.status == DeliveryStatus::Delivered
                });
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

/// The current profile of each event's customer, read only for events with a customer message to send.
async fn customer_profiles<S: DispatchStore + Sync>(
    store: &S,
    found: &[Option<DispatchState>],
    planned: &[Planned<'_>],
) -> HashMap<usize, Option<Customer>> {
    let mut wanted: Vec<(usize, &CustomerId)> = planned
        .iter()
        .filter(|p| p.message.is_about_customer())
        .filter_map(|p| Some((p.item, found[p.item].as_ref()?.event.customer_id.as_ref()?)))
        .collect();
    wanted.dedup();
    let reads = wanted.iter().map(|&(i, customer_id)| {
        let event = &found[i].as_ref().expect("planned events exist").event;
        store.customer_profile(&event.store_id, customer_id)
    });
    let read = join_all(reads).await;
    wanted
        .into_iter()
        .zip(read)
        .map(|((i, _), profile)| {
            // Without the profile the message still goes out, with the customer id as its data.
            let profile = profile.unwrap_or_else(|error| {
                tracing::warn!(%error, "reading the customer failed; sending the id only");
                None
            });
            (i, profile)
        })
        .collect()
}
