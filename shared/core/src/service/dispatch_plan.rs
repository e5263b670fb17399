//! Dispatch's plan for a batch: a slot per message with its event as read, which (message, subscription)
//! pairs go out, which are recorded as skipped, and where a message aimed at one subscription may go.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::dispatch::{DispatchItem, ItemOutcome};
use crate::domain::delivery::{Attempt, DeliveryStatus};
use crate::domain::ids::StoreId;
use crate::domain::operational::is_about;
use crate::domain::outbound::{outbound_of, Outbound};
use crate::domain::redelivery::Target;
use crate::domain::subscription::Subscription;
use crate::ports::{DispatchState, LedgerEntry};

/// A message that goes to a subscription in this call, for the slot `slot`.
pub(super) struct Planned<'a> {
    pub(super) slot: usize,
    pub(super) message: Outbound,
    pub(super) subscription: &'a Subscription,
    /// Sent though it may have been delivered (a redelivery, a replay of everything).
    pub(super) again: bool,
}

/// One message of the batch as dispatch works through it.
pub(super) struct Slot<'a> {
    pub(super) item: &'a DispatchItem,
    /// The event as read, with what was delivered of it; `None` once there is nothing to do for it (it does
    /// not exist, its store's subscriptions could not be read, or it copies an earlier slot).
    pub(super) state: Option<DispatchState>,
    /// An earlier slot of the batch for the same event (a redelivery, a sweep's re-enqueue): this one takes
    /// its outcome.
    pub(super) copy_of: Option<usize>,
    /// This call's attempts, for the ledger.
    pub(super) entries: Vec<LedgerEntry>,
    /// Whether a delivery failed in a way worth retrying.
    pub(super) transient: bool,
    pub(super) outcome: ItemOutcome,
}

/// A slot per message, with its event as read; a message for an event an earlier slot has copies that one.
pub(super) fn slots(items: &[DispatchItem], states: Vec<Option<DispatchState>>) -> Vec<Slot<'_>> {
    let mut slots: Vec<Slot<'_>> = Vec::with_capacity(items.len());
    for (item, state) in items.iter().zip(states) {
        let copy_of = slots
            .iter()
            .position(|earlier| earlier.item.event == item.event && earlier.item.target == item.target);
        if copy_of.is_none() && state.is_none() {
            tracing::warn!(event_id = %item.event.event_id, "dispatch message for an event that does not exist; dropped");
        }
        slots.push(Slot {
            item,
            state: state.filter(|_| copy_of.is_none()),
            copy_of,
            entries: Vec::new(),
            transient: false,
            outcome: ItemOutcome::Done,
        });
    }
    slots
}

/// The pairs an event's own dispatch does not send because the subscription is inactive but would take the
/// message: recorded as `SKIPPED`, so the ledger shows what a subscriber missed and a replay finds it.
pub(super) fn skipped(slots: &mut [Slot<'_>], subscriptions: &HashMap<StoreId, Vec<Subscription>>, now: DateTime<Utc>) {
    for slot in slots.iter_mut().filter(|slot| slot.item.target.is_none()) {
        let Some(state) = &slot.state else { continue };
        let Some(subs) = subscriptions.get(&state.event.store_id) else {
            continue;
        };
        for message in outbound_of(&state.event) {
            for subscription in subs.iter().filter(|s| !s.active) {
                let delivered = state
                    .delivered
                    .iter()
                    .any(|(id, m)| *id == subscription.subscription_id && *m == message.id);
                let about_itself = is_about(&state.event, &subscription.subscription_id);
                if delivered
                    || about_itself
                    || !subscription.would_match(&message.subject, message.operation, state.event.received_at)
                {
                    continue;
                }
                slot.entries.push(LedgerEntry {
                    subscription_id: subscription.subscription_id.clone(),
                    message_id: message.id.clone(),
                    message_type: message.type_name(),
                    attempt: Attempt {
                        status: DeliveryStatus::Skipped,
                        at: now,
                        error: Some("SubscriptionInactive".to_owned()),
                        redrive: false,
                    },
                    again: false,
                });
            }
        }
    }
}

/// Every (outbound message, subscription) pair that matches and is not delivered yet.
pub(super) fn plan<'a>(slots: &[Slot<'_>], subscriptions: &'a HashMap<StoreId, Vec<Subscription>>) -> Vec<Planned<'a>> {
    let mut planned = Vec::new();
    for (slot, state) in slots.iter().enumerate() {
        let Some(state) = &state.state else { continue };
        let Some(subs) = subscriptions.get(&state.event.store_id) else {
            continue;
        };
        let target = slots[slot].item.target.as_ref();
        for message in outbound_of(&state.event) {
            for subscription in subs {
                if is_about(&state.event, &subscription.subscription_id)
                    || !aimed_at(target, subscription, &message, state.event.received_at)
                {
                    continue;
                }
                let again = target.is_some_and(|t| t.again);
                let delivered = state
                    .delivered
                    .iter()
                    .any(|(id, message_id)| *id == subscription.subscription_id && *message_id == message.id);
                if again || !delivered {
                    planned.push(Planned {
                        slot,
                        message: message.clone(),
                        subscription,
                        again,
                    });
                }
            }
        }
    }
    planned
}

/// Whether `message` goes to `subscription`: for a stored event's own dispatch, when it matches and the
/// subscription existed when the event arrived; for a message aimed at one subscription, when it is that one
/// and active, and either the message it names (a redelivery, whatever the filters say now) or one its
/// filters want (a replay, however old the event).
fn aimed_at(
    target: Option<&Target>,
    subscription: &Subscription,
    message: &Outbound,
    received_at: DateTime<Utc>,
) -> bool {
    let Some(target) = target else {
        return subscription.matches(&message.subject, message.operation, received_at);
    };
    if subscription.subscription_id != target.subscription_id {
        return false;
    }
    match &target.message_id {
        Some(id) => subscription.active && *id == message.id,
        None => subscription.wants(&message.subject, message.operation),
    }
}
