//! The dispatch use case: for each dispatch message, the stored event's outbound messages go to every
//! matching active subscription not yet delivered to, the attempts go to the ledger, and the event's
//! pending marker is cleared once every delivery is settled.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::join_all;

use super::dispatch_plan::{plan, skipped, slots, Planned, Slot};
use crate::domain::customer::Customer;
use crate::domain::delivery::{Attempt, DeliveryStatus};
use crate::domain::event::{EventRef, StoredEvent};
use crate::domain::ids::{CustomerId, StoreId, SubscriptionId};
use crate::domain::operational::{is_news, news_of, Incident, DELIVERY_EXHAUSTED, SUBSCRIPTION_DEACTIVATED};
use crate::domain::outbound::envelope;
use crate::domain::redelivery::Target;
use crate::domain::retry::{retry_delay, MAX_ATTEMPTS};
use crate::domain::subscription::Subscription;
use crate::domain::trace::TraceContext;
use crate::ports::{
    Delivery, DispatchRecord, DispatchStore, ErrorKind, LedgerEntry, MessageAttributes, PendingMarker, Publisher,
    SendOutcome, StoreError,
};

/// One dispatch message: the event, how many times the queue has handed it over (1 on first receipt), and
/// the trace of the request that stored the event (none when the recovery sweep enqueued it).
#[derive(Debug, Clone)]
pub struct DispatchItem {
    pub event: EventRef,
    pub receive_count: u32,
    pub trace: Option<TraceContext>,
    /// For one subscription only (a redelivery, a replay); every matching one when `None`.
    pub target: Option<Target>,
    /// Sent back from the dead-letter queue by an operator: its attempts say so.
    pub redrive: bool,
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
    /// The news this dispatch stored (a subscription deactivated, a message exhausted): to be enqueued.
    pub announced: Vec<EventRef>,
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
    let refs: Vec<EventRef> = items.iter().map(|item| item.event.clone()).collect();
    let states = match store.dispatch_states(&refs).await {
        Ok(states) => states,
        Err(error) => {
            tracing::error!(%error, "reading the events failed");
            let outcomes = items
                .iter()
                .map(|item| after_store_error(&error, item.receive_count, jitter))
                .collect();
            return (outcomes, DispatchCounts::default());
        }
    };
    let mut slots = slots(items, states);
    let subscriptions = subscriptions_of(store, &mut slots).await;
    let planned = plan(&slots, &subscriptions);
    skipped(&mut slots, &subscriptions, now);
    let customers = customer_profiles(store, &slots, &planned).await;
    let bodies: Vec<(String, MessageAttributes)> = planned
        .iter()
        .map(|p| {
            let slot = &slots[p.slot];
            let event = &slot.state.as_ref().expect("planned events exist").event;
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
                traceparent: slot.item.trace.map(|t| t.to_string()),
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
    let mut deactivate: HashMap<(StoreId, SubscriptionId), (String, usize)> = HashMap::new();
    let mut exhausted: Vec<(usize, &Subscription, String, Option<String>)> = Vec::new();
    let mut replays: HashMap<(StoreId, SubscriptionId, String), (u64, u64)> = HashMap::new();
    for (p, outcome) in planned.iter().zip(sent) {
        let slot = &mut slots[p.slot];
        let attempt = attempt_of(outcome, (slot.item.receive_count, slot.item.redrive), now);
        if let Some(replay_id) = slot.item.target.as_ref().and_then(|t| t.replay_id.clone()) {
            let s = p.subscription;
            let tally = replays
                .entry((s.store_id.clone(), s.subscription_id.clone(), replay_id))
                .or_default();
            match attempt.status {
                DeliveryStatus::Delivered => tally.0 += 1,
                _ => tally.1 += 1,
            }
        }
        match attempt.status {
            DeliveryStatus::Delivered => counts.delivered += 1,
            DeliveryStatus::Failed | DeliveryStatus::Exhausted => {
                counts.failed += 1;
                slot.transient = true;
                if attempt.status == DeliveryStatus::Exhausted {
                    exhausted.push((p.slot, p.subscription, p.message.id.clone(), attempt.error.clone()));
                }
            }
            DeliveryStatus::Rejected => {
                counts.rejected += 1;
                let s = p.subscription;
                let code = attempt.error.as_deref().unwrap_or_default();
                let reason = format!(
                    "the {} destination refused delivery permanently ({code})",
                    s.destination.type_name()
                );
                deactivate.insert((s.store_id.clone(), s.subscription_id.clone()), (reason, p.slot));
            }
            // Never the answer of a send: only what `skipped` records.
            DeliveryStatus::Skipped => {}
        }
        slot.entries.push(LedgerEntry {
            subscription_id: p.subscription.subscription_id.clone(),
            message_id: p.message.id.clone(),
            message_type: p.message.type_name(),
            attempt,
            again: p.again,
        });
    }

    let mut records = Vec::new();
    let mut recorded = Vec::new();
    for (i, slot) in slots.iter_mut().enumerate() {
        let Some(state) = &slot.state else { continue };
        let (marker, outcome) = settle(slot.item.receive_count, slot.transient, jitter, now);
        slot.outcome = outcome;
        // A message for one subscription leaves the event's own dispatch as it is.
        let (marker, settles) = match slot.item.target {
            Some(_) => (PendingMarker::Keep, false),
            None => (marker, state.pending),
        };
        if settles || !slot.entries.is_empty() {
            records.push(DispatchRecord {
                event: &slot.item.event,
                expires_at: state.event.expires_at,
                entries: std::mem::take(&mut slot.entries),
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
            tracing::error!(event_id = %slots[i].item.event.event_id, %error, "recording deliveries failed");
            slots[i].outcome = after_store_error(&error, slots[i].item.receive_count, jitter);
        }
    }
    let counted = replays
        .iter()
        .map(|((store_id, id, replay_id), tally)| store.count_replay(store_id, id, replay_id, *tally));
    for done in join_all(counted).await {
        if let Err(error) = done {
            tracing::warn!(%error, "counting a replay's sends failed; its progress shows fewer");
        }
    }
    let deactivations = deactivate
        .iter()
        .map(|((store_id, id), (reason, _))| store.deactivate(store_id, id, reason, now));
    let mut news = Vec::new();
    for (((store_id, id), (reason, slot)), done) in deactivate.iter().zip(join_all(deactivations).await) {
        match done {
            Ok(()) => tracing::warn!(subscription_id = %id, reason, "subscription deactivated"),
            Err(error) => tracing::error!(subscription_id = %id, %error, "deactivating the subscription failed"),
        }
        let details = serde_json::json!({"reason": reason});
        news.extend(news_of_slot(
            &slots[*slot],
            (SUBSCRIPTION_DEACTIVATED, store_id, id),
            details,
            now,
        ));
    }
    for (slot, subscription, message_id, error) in exhausted {
        let details = serde_json::json!({"messageId": message_id, "error": error, "attempts": MAX_ATTEMPTS});
        let about = (
            DELIVERY_EXHAUSTED,
            &subscription.store_id,
            &subscription.subscription_id,
        );
        news.extend(news_of_slot(&slots[slot], about, details, now));
    }
    if !news.is_empty() {
        match store.store_news(&news).await {
            Ok(()) => counts.announced = news.iter().map(StoredEvent::event_ref).collect(),
            Err(error) => tracing::error!(%error, "storing operational news failed; its subscribers miss it"),
        }
    }
    let outcomes = (0..slots.len())
        .map(|i| slots[slots[i].copy_of.unwrap_or(i)].outcome.clone())
        .collect();
    (outcomes, counts)
}

/// The news of an incident with a slot's event, unless that event is news itself: a failure to deliver news
/// is not news (two failing `OPERATIONS` subscribers would tell each other forever).
fn news_of_slot(
    slot: &Slot<'_>,
    (kind, store_id, subscription_id): (&'static str, &StoreId, &SubscriptionId),
    details: serde_json::Value,
    now: DateTime<Utc>,
) -> Option<StoredEvent> {
    let event = &slot.state.as_ref()?.event;
    if is_news(event) {
        return None;
    }
    let incident = Incident {
        kind,
        store_id,
        subscription_id,
        source: (&event.event_id, event.received_at),
        details,
    };
    Some(news_of(&incident, now, event.expires_at))
}

/// The subscriptions of every store in the batch; the slots of a store whose read failed fail.
async fn subscriptions_of<S: DispatchStore + Sync>(
    store: &S,
    slots: &mut [Slot<'_>],
) -> HashMap<StoreId, Vec<Subscription>> {
    let stores: HashSet<StoreId> = slots
        .iter()
        .filter_map(|slot| slot.state.as_ref())
        .map(|state| state.event.store_id.clone())
        .collect();
    let stores: Vec<StoreId> = stores.into_iter().collect();
    let listed = join_all(stores.iter().map(|s| store.subscriptions_of(s))).await;
    let mut subscriptions = HashMap::new();
    for (store_id, listed) in stores.into_iter().zip(listed) {
        match listed {
            Ok(list) => {
                subscriptions.insert(store_id, list);
            }
            Err(error) => {
                tracing::error!(%store_id, %error, "reading subscriptions failed");
                for slot in slots.iter_mut() {
                    if slot.state.as_ref().is_some_and(|s| s.event.store_id == store_id) {
                        slot.outcome = ItemOutcome::Failed;
                        slot.state = None;
                    }
                }
            }
        }
    }
    subscriptions
}

/// The ledger's attempt for how a destination answered, on the message's `receive_count`-th receipt: a
/// transient failure on the last receipt the queue allows is `Exhausted`.
fn attempt_of(outcome: SendOutcome, (receive_count, redrive): (u32, bool), now: DateTime<Utc>) -> Attempt {
    let (status, error) = match outcome {
        SendOutcome::Delivered => (DeliveryStatus::Delivered, None),
        SendOutcome::Transient(code) if receive_count >= MAX_ATTEMPTS => (DeliveryStatus::Exhausted, Some(code)),
        SendOutcome::Transient(code) => (DeliveryStatus::Failed, Some(code)),
        SendOutcome::Permanent(code) => (DeliveryStatus::Rejected, Some(code)),
    };
    Attempt {
        status,
        at: now,
        error,
        redrive,
    }
}

/// What becomes of an event's marker and its message: settled when nothing failed transiently; else retried
/// after the schedule's delay while attempts are left, and failed (to the dead-letter queue) when not.
/// What becomes of a message when the table failed it (its event could not be read, or its attempts not
/// recorded). A throttled table is given time: the message comes back after the retry delay (sends already
/// made may then repeat; a subscriber dedupes by message id). Anything else fails it.
fn after_store_error(error: &StoreError, receive_count: u32, jitter: f64) -> ItemOutcome {
    match (error.kind, retry_delay(receive_count, jitter)) {
        (ErrorKind::Transient, Some(delay)) => ItemOutcome::RetryAfter(delay),
        _ => ItemOutcome::Failed,
    }
}

fn settle(receive_count: u32, transient: bool, jitter: f64, now: DateTime<Utc>) -> (PendingMarker, ItemOutcome) {
    if !transient {
        return (PendingMarker::Clear, ItemOutcome::Done);
    }
    match retry_delay(receive_count, jitter) {
        Some(delay) => (
            PendingMarker::DueAt(now + chrono::Duration::from_std(delay).unwrap_or_default()),
            ItemOutcome::RetryAfter(delay),
        ),
        None => (PendingMarker::Clear, ItemOutcome::Failed),
    }
}

/// The current profile of each customer a planned customer message is about, in one batched read.
async fn customer_profiles<S: DispatchStore + Sync>(
    store: &S,
    slots: &[Slot<'_>],
    planned: &[Planned<'_>],
) -> HashMap<(StoreId, CustomerId), Customer> {
    let wanted: Vec<(StoreId, CustomerId)> = planned
        .iter()
        .filter(|p| p.message.is_about_customer())
        .filter_map(|p| {
            let event = &slots[p.slot].state.as_ref()?.event;
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

#[cfg(test)]
#[path = "dispatch_tests.rs"]
mod tests;
