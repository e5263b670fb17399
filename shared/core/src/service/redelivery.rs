//! Sending again: one message to one subscription (a redelivery), and every event of a time range that a
//! subscription's filters match (a replay, a backfill), read in bounded pages at a bounded rate.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::event::EventRef;
use crate::domain::event_listing::{EventQuery, Timeline};
use crate::domain::ids::StoreId;
use crate::domain::outbound::outbound_of;
use crate::domain::redelivery::{DispatchMessage, Replay, ReplayPage, ReplayRequest, Target, REPLAY_PAGE, REPLAY_RATE};
use crate::domain::subscription::Subscription;
use crate::ports::{
    Delivery, DispatchMessages, DispatchStore, EventTimelines, IdGenerator, MessageAttributes, Publisher, ReplayStore,
    SendOutcome, StoreError,
};

/// Queues `message_id` of `event` to `subscription` again, whatever its status: dispatch sends it with the
/// same envelope id and appends the attempt to its ledger record.
pub async fn redeliver(
    queue: &impl DispatchMessages,
    subscription: &Subscription,
    event: EventRef,
    message_id: &str,
) -> Result<(), StoreError> {
    let target = Target {
        subscription_id: subscription.subscription_id.clone(),
        message_id: Some(message_id.to_owned()),
        again: true,
        replay_id: None,
    };
    queue
        .send(&[DispatchMessage::Aimed { event, target }], Duration::ZERO)
        .await
}

/// Starts a replay of `request`'s range to `subscription`: stores it and queues its first page.
pub async fn start_replay(
    (store, queue, ids): (&impl ReplayStore, &impl DispatchMessages, &dyn IdGenerator),
    subscription: &Subscription,
    request: &ReplayRequest,
    now: DateTime<Utc>,
) -> Result<Replay, StoreError> {
    let replay = Replay {
        store_id: subscription.store_id.clone(),
        subscription_id: subscription.subscription_id.clone(),
        replay_id: hex::encode(ids.object_id(now)),
        since: request.since,
        until: request.until.unwrap_or(now),
        only_undelivered: request.only_undelivered,
        created_at: now,
        matched: 0,
        sent: 0,
        failed: 0,
        finished_at: None,
        next: None,
    };
    store.create_replay(&replay).await?;
    queue.send(&[page_of(&replay)], Duration::ZERO).await?;
    Ok(replay)
}

fn page_of(replay: &Replay) -> DispatchMessage {
    DispatchMessage::ReplayPage(ReplayPage {
        store_id: replay.store_id.clone(),
        subscription_id: replay.subscription_id.clone(),
        replay_id: replay.replay_id.clone(),
    })
}

/// One page of a replay: up to [`REPLAY_PAGE`] events of its range, newest first, those the subscription
/// wants queued for it (again, or only where undelivered), the replay's progress recorded, and the next page
/// queued after as long as those events take at [`REPLAY_RATE`]. A page handled twice (its message came back)
/// queues its events again (subscribers dedupe by envelope id) but not a second next page. A replay whose
/// subscription was deleted finishes.
pub async fn replay_page<S>(
    store: &S,
    queue: &impl DispatchMessages,
    page: &ReplayPage,
    now: DateTime<Utc>,
) -> Result<(), StoreError>
where
    S: ReplayStore + EventTimelines + DispatchStore + Sync,
{
    let store_id: &StoreId = &page.store_id;
    let Some(replay) = store.replay(store_id, &page.subscription_id, &page.replay_id).await? else {
        return Ok(());
    };
    if replay.finished_at.is_some() {
        return Ok(());
    }
    let subscriptions = store.subscriptions_of(store_id).await?;
    let Some(subscription) = subscriptions.iter().find(|s| s.subscription_id == page.subscription_id) else {
        store.advance_replay(&replay, 0, None, Some(now)).await?;
        return Ok(());
    };
    let query = EventQuery {
        timeline: Timeline::Store,
        since: Some(replay.since),
        until: Some(replay.until),
    };
    let events = store
        .timeline_page(store_id, &query, replay.next.as_ref(), REPLAY_PAGE)
        .await?;
    let target = Target {
        subscription_id: subscription.subscription_id.clone(),
        message_id: None,
        again: !replay.only_undelivered,
        replay_id: Some(replay.replay_id.clone()),
    };
    let aimed: Vec<DispatchMessage> = events
        .events
        .iter()
        .filter(|event| {
            outbound_of(event)
                .iter()
                .any(|m| subscription.wants(&m.subject, m.operation))
        })
        .map(|event| DispatchMessage::Aimed {
            event: event.event_ref(),
            target: target.clone(),
        })
        .collect();
    if !aimed.is_empty() {
        queue.send(&aimed, Duration::ZERO).await?;
    }
    let finished = events.next.is_none().then_some(now);
    let advanced = store
        .advance_replay(&replay, aimed.len() as u64, events.next.as_ref(), finished)
        .await?;
    if advanced && finished.is_none() {
        let seconds = aimed.len().div_ceil(REPLAY_RATE).max(1) as u64;
        queue.send(&[page_of(&replay)], Duration::from_secs(seconds)).await?;
    }
    Ok(())
}

/// What a test of a destination found.
#[derive(Debug, Clone, PartialEq)]
pub struct Ping {
    pub id: String,
    pub status: crate::domain::delivery::DeliveryStatus,
    /// The destination's error code (`HTTP 503`, `AWS.SimpleQueueService.NonExistentQueue` …).
    pub error: Option<String>,
    pub latency: Duration,
}

/// Sends a `ping` to the subscription's destination now, signed and carried like any message (the envelope
/// with `type: ping`), and says how it went. Records nothing and never deactivates: it is a question.
pub async fn ping(
    publisher: &impl Publisher,
    subscription: &Subscription,
    ids: &dyn IdGenerator,
    now: DateTime<Utc>,
) -> Ping {
    use crate::domain::delivery::DeliveryStatus;
    let id = format!("ping-{}", hex::encode(ids.object_id(now)));
    let body = serde_json::json!({
        "id": id, "type": "ping", "entityType": "PING", "operation": "test",
        "occurredAt": crate::domain::outbound::timestamp(now), "storeId": subscription.store_id,
        "data": {"subscriptionId": subscription.subscription_id,
                 "message": "A test from the event collector: nothing happened, nothing to do."},
    })
    .to_string();
    let attributes = MessageAttributes {
        type_: "ping".to_owned(),
        entity_type: "PING".to_owned(),
        operation: "test".to_owned(),
        event_name: None,
        traceparent: None,
    };
    let delivery = Delivery {
        subscription,
        message_id: &id,
        body: &body,
        attributes: &attributes,
    };
    let started = std::time::Instant::now();
    let outcome = publisher.publish(&[delivery]).await.into_iter().next();
    let latency = started.elapsed();
    let (status, error) = match outcome {
        Some(SendOutcome::Delivered) => (DeliveryStatus::Delivered, None),
        Some(SendOutcome::Transient(code)) => (DeliveryStatus::Failed, Some(code)),
        Some(SendOutcome::Permanent(code)) => (DeliveryStatus::Rejected, Some(code)),
        None => (DeliveryStatus::Failed, Some("NoAnswer".to_owned())),
    };
    Ping {
        id,
        status,
        error,
        latency,
    }
}
