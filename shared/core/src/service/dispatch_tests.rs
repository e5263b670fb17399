//! Dispatch planning and settling over the in-memory table and a recording publisher, in milliseconds.
//! `tests/it` holds the same system to account against the local AWS.

use serde_json::json;

use super::*;
use crate::domain::custom_event::parse_custom_event;
use crate::domain::delivery::DeliveryStatus;
use crate::domain::subscription::{AwsAccess, Destination, EntityType};
use crate::domain::validation::Pointer;
use crate::ports::RandomIds;
use crate::service::ingest::{ingest_event, IngestConfig, IngestPorts};
use crate::testing::{Failure, MemoryTable, RecordingPublisher};

fn now() -> DateTime<Utc> {
    "2026-11-22T10:00:00Z".parse().unwrap()
}

fn store() -> StoreId {
    StoreId::from_bytes([1; 12])
}

fn subscription(n: u8, entity: Option<EntityType>, event_names: &[&str]) -> Subscription {
    let created_at: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().unwrap();
    Subscription {
        store_id: store(),
        subscription_id: SubscriptionId::from_bytes([n; 12]),
        active: true,
        entity_type: entity,
        subscribe_create: true,
        subscribe_change: true,
        subscribe_delete: false,
        event_names: event_names.iter().map(|n| (*n).to_owned()).collect(),
        description: None,
        destination: Destination::Sqs {
            queue_url: format!("https://sqs.us-east-1.amazonaws.com/123456789012/q{n}"),
            region: "us-east-1".into(),
            access: AwsAccess::CollectorRole,
        },
        created_at,
        updated_at: created_at,
        deactivated_reason: None,
        deactivated_at: None,
    }
}

/// A table with the given subscriptions and one ingested event for a new customer; its dispatch item.
async fn table_with_event(subscriptions: Vec<Subscription>) -> (MemoryTable, DispatchItem) {
    let table = MemoryTable::default();
    table.contents().subscriptions = subscriptions;
    let body = json!({"eventName": "Order Placed", "customer": {"email": "a@example.com"}});
    let event = parse_custom_event(&body, &Pointer::root(), now()).unwrap();
    let ports = IngestPorts {
        store: &table,
        queue: &table,
        ids: &RandomIds,
        trace: None,
    };
    ingest_event(&ports, &store(), (&event).into(), now(), &IngestConfig::default())
        .await
        .unwrap();
    let event = table.contents().enqueued[0].clone();
    let item = DispatchItem {
        event,
        receive_count: 1,
        trace: None,
        target: None,
        redrive: false,
    };
    (table, item)
}

fn later() -> DateTime<Utc> {
    now() + chrono::Duration::seconds(1)
}

#[tokio::test]
async fn when_an_event_matches_subscriptions_should_deliver_each_message_once_across_redeliveries() {
    let orders = subscription(1, None, &["Order Placed"]);
    let customers = subscription(2, Some(EntityType::Customer), &[]);
    let mut inactive = subscription(3, None, &["*"]);
    inactive.active = false;
    let other = subscription(4, None, &["Page Viewed"]);
    let (table, item) = table_with_event(vec![orders, customers, inactive, other]).await;
    let publisher = RecordingPublisher::default();
    // The same message twice in one batch (a sweep's re-enqueue beside the original): one outcome for both.
    let (outcomes, counts) = dispatch(&table, &publisher, &[item.clone(), item.clone()], later(), 0.5).await;
    assert_eq!(outcomes, [ItemOutcome::Done, ItemOutcome::Done]);
    assert_eq!(
        counts.delivered, 2,
        "the order to its subscriber, the new customer to the other"
    );
    let sent: Vec<(u8, bool)> = publisher
        .sent()
        .iter()
        .map(|(id, message, _)| (id.as_str().as_bytes()[1] - b'0', message.ends_with("-customer")))
        .collect();
    assert_eq!(sent, [(1, false), (2, true)]);
    assert!(table.contents().pending.is_empty(), "settled");
    // Handed over again: the ledger says it was delivered.
    let (_, again) = dispatch(&table, &publisher, &[item], later(), 0.5).await;
    assert_eq!(again.delivered, 0);
    assert_eq!(publisher.sent().len(), 2);
}

#[tokio::test]
async fn when_a_destination_fails_should_retry_while_attempts_last_then_give_up_and_deactivate_on_refusal() {
    let flaky = subscription(1, None, &["Order Placed"]);
    let gone = subscription(2, Some(EntityType::Customer), &[]);
    let (table, item) = table_with_event(vec![flaky.clone(), gone.clone()]).await;
    let publisher = RecordingPublisher::default();
    publisher.answer(&flaky.subscription_id, SendOutcome::Transient("HTTP 503".into()));
    publisher.answer(&gone.subscription_id, SendOutcome::Permanent("NonExistentQueue".into()));
    let (outcomes, counts) = dispatch(&table, &publisher, std::slice::from_ref(&item), later(), 0.5).await;
    assert!(matches!(outcomes[0], ItemOutcome::RetryAfter(_)), "{outcomes:?}");
    assert_eq!((counts.failed, counts.rejected), (1, 1));
    {
        let contents = table.contents();
        let event_marker = contents
            .pending
            .iter()
            .find(|(k, _)| !crate::domain::operational::is_news(&contents.events[*k]))
            .map(|(_, due)| *due);
        assert!(
            matches!(event_marker, Some(Some(due)) if due > later()),
            "due at the retry"
        );
        assert_eq!(counts.announced.len(), 1, "the deactivation is news");
        let deactivated = contents
            .subscriptions
            .iter()
            .find(|s| s.subscription_id == gone.subscription_id)
            .unwrap();
        assert!(
            !deactivated.active
                && deactivated
                    .deactivated_reason
                    .as_deref()
                    .unwrap()
                    .contains("NonExistentQueue")
        );
    }

    let last = DispatchItem {
        receive_count: MAX_ATTEMPTS,
        ..item
    };
    let (outcomes, _) = dispatch(&table, &publisher, &[last], later(), 0.5).await;
    assert_eq!(outcomes, [ItemOutcome::Failed], "to the dead-letter queue");
    let contents = table.contents();
    let (status, _) = contents
        .ledger
        .values()
        .find(|(_, e)| e[0].subscription_id == flaky.subscription_id)
        .unwrap();
    assert_eq!(*status, DeliveryStatus::Exhausted);
    // Nothing of the event is left for the sweep (the message carries the failure); what is pending is the
    // news of the exhaustion, for the store's OPERATIONS subscribers.
    let pending: Vec<&StoredEvent> = contents.pending.keys().map(|k| &contents.events[k]).collect();
    assert!(
        pending.iter().all(|e| crate::domain::operational::is_news(e)),
        "{pending:?}"
    );
    assert!(pending.iter().any(|e| e.event_name == "delivery.exhausted"));
}

#[tokio::test]
async fn when_the_table_is_throttled_should_give_the_message_time_and_fail_it_only_for_good() {
    let (table, item) = table_with_event(vec![subscription(1, None, &["*"])]).await;
    let publisher = RecordingPublisher::default();
    // Sent, then the record throttled: the message comes back after the retry delay, not to the DLQ's count
    // as a failure.
    table.arm("record_dispatches", Failure::Before);
    let (outcomes, counts) = dispatch(&table, &publisher, std::slice::from_ref(&item), later(), 0.5).await;
    assert_eq!(counts.delivered, 1);
    assert!(matches!(outcomes[..], [ItemOutcome::RetryAfter(_)]), "{outcomes:?}");
    table.arm("dispatch_states", Failure::Before);
    let (outcomes, _) = dispatch(&table, &publisher, std::slice::from_ref(&item), later(), 0.5).await;
    assert!(matches!(outcomes[..], [ItemOutcome::RetryAfter(_)]), "{outcomes:?}");
    table.arm("record_dispatches", Failure::Permanent);
    let (outcomes, _) = dispatch(&table, &publisher, std::slice::from_ref(&item), later(), 0.5).await;
    assert_eq!(outcomes, [ItemOutcome::Failed]);
    table.arm("dispatch_states", Failure::Permanent);
    let (outcomes, _) = dispatch(&table, &publisher, &[item], later(), 0.5).await;
    assert_eq!(outcomes, [ItemOutcome::Failed]);
}

#[test]
fn when_settling_should_clear_retry_or_give_up_by_the_attempts_left() {
    assert_eq!(settle(1, false, 0.5, now()), (PendingMarker::Clear, ItemOutcome::Done));
    let (marker, outcome) = settle(1, true, 0.5, now());
    let ItemOutcome::RetryAfter(delay) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(
        marker,
        PendingMarker::DueAt(now() + chrono::Duration::from_std(delay).unwrap())
    );
    assert_eq!(
        settle(MAX_ATTEMPTS, true, 0.5, now()),
        (PendingMarker::Clear, ItemOutcome::Failed)
    );
    let attempt = attempt_of(SendOutcome::Transient("Timeout".into()), (MAX_ATTEMPTS, false), now());
    assert_eq!(
        (attempt.status, attempt.error.as_deref()),
        (DeliveryStatus::Exhausted, Some("Timeout"))
    );
}

#[tokio::test]
async fn when_a_message_is_aimed_at_one_subscription_should_send_it_there_alone_again_and_count_its_replay() {
    let orders = subscription(1, None, &["Order Placed"]);
    let customers = subscription(2, Some(EntityType::Customer), &[]);
    let (table, item) = table_with_event(vec![orders.clone(), customers]).await;
    let publisher = RecordingPublisher::default();
    dispatch(&table, &publisher, std::slice::from_ref(&item), later(), 0.5).await;
    assert_eq!(publisher.sent().len(), 2);

    // A redelivery of the delivered order message: sent again, to that subscription only, with its id.
    let redeliver = DispatchItem {
        target: Some(Target {
            subscription_id: orders.subscription_id.clone(),
            message_id: Some(item.event.event_id.to_string()),
            again: true,
            replay_id: None,
        }),
        ..item.clone()
    };
    let (outcomes, counts) = dispatch(&table, &publisher, &[redeliver], later(), 0.5).await;
    assert_eq!((outcomes, counts.delivered), (vec![ItemOutcome::Done], 1));
    let sent = publisher.sent();
    assert_eq!(sent.len(), 3);
    assert_eq!(
        (&sent[2].0, &sent[2].1),
        (&orders.subscription_id, &item.event.event_id.to_string())
    );
    let attempts: Vec<usize> = table.contents().ledger.values().map(|(_, a)| a.len()).collect();
    assert!(
        attempts.contains(&2),
        "a second attempt on the delivered record: {attempts:?}"
    );

    // A replay's message without `again` finds it delivered and sends nothing; with `again` it counts.
    let replayed = |again| DispatchItem {
        target: Some(Target {
            subscription_id: orders.subscription_id.clone(),
            message_id: None,
            again,
            replay_id: Some("r1".into()),
        }),
        ..item.clone()
    };
    let (_, counts) = dispatch(&table, &publisher, &[replayed(false)], later(), 0.5).await;
    assert_eq!(counts.delivered, 0);
    let (_, counts) = dispatch(&table, &publisher, &[replayed(true)], later(), 0.5).await;
    assert_eq!(counts.delivered, 1);
    assert_eq!(
        table.contents().replay_counts.values().copied().collect::<Vec<_>>(),
        [(1, 0)]
    );
    assert!(
        table.contents().pending.is_empty(),
        "aimed messages leave the marker as it was"
    );
}
