//! Throttling is transient everywhere: DynamoDB's answers when a partition is over its capacity (a
//! transaction cancelled with `ThrottlingError` reasons, batch calls that leave items unprocessed) reach
//! the caller as 503 with `Retry-After`, and a dispatch whose ledger write is throttled neither fails the
//! message nor sends it twice.

use collector_core::domain::ids::EventId;
use integration_tests::Fault;
use serde_json::json;

use crate::pipeline::Pipeline;
use crate::support::Fixture;

fn event(unique: &str) -> serde_json::Value {
    json!({"eventName": "Order Placed", "uniqueId": unique, "customer": {"email": "throttled@example.com"}})
}

#[tokio::test]
async fn when_the_ingest_transaction_is_throttled_should_answer_503_with_retry_after_and_store_nothing() {
    let f = Fixture::new().await;
    f.clients
        .faults
        .arm("TransactWriteItems", None, Fault::TransactionThrottled, 20);
    let response = f.handler.handle(f.json_post(&f.path(), &event("t-1"))).await;
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let (_, problem) = integration_tests::read_response(response);
    assert_eq!(
        problem["type"].as_str().map(|t| t.ends_with("/unavailable")),
        Some(true),
        "{problem}"
    );
    assert_eq!(f.count("EVENT").await, 0, "nothing stored");

    f.clients.faults.disarm();
    assert_eq!(f.post(&event("t-1")).await.0, 202, "the client's retry is accepted");
    assert_eq!(f.count("EVENT").await, 1);
}

#[tokio::test]
async fn when_batch_reads_stay_unprocessed_should_give_up_in_bounded_time_with_503() {
    let f = Fixture::new().await;
    // Warm the key cache, so the throttled read is the event's own.
    assert_eq!(f.post(&event("warm")).await.0, 202);
    f.clients.faults.arm("BatchGetItem", None, Fault::Unprocessed, 100);
    let started = std::time::Instant::now();
    let response = f.handler.handle(f.json_post(&f.path(), &event("u-1"))).await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(f.count("EVENT").await, 1, "only the warm-up event");
}

#[tokio::test]
async fn when_the_dispatch_ledger_write_is_throttled_should_deliver_once() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let queue = p.sqs_subscriber(json!({"eventNames": ["Order Placed"]})).await;
    assert_eq!(f.post(&event("d-1")).await.0, 202);
    let (batch, receipts) = p.receive_batch().await.expect("the dispatch message");
    // Throttled once: the adapter tries the ledger transaction again; the message is sent once and done.
    f.clients
        .faults
        .arm("TransactWriteItems", Some("DELIVERY#"), Fault::TransactionThrottled, 1);
    let (response, counts) = p.deliver_batch(batch, &receipts).await;
    assert!(response.batch_item_failures.is_empty(), "{response:?}");
    assert_eq!(counts.delivered, 1);
    assert_eq!(p.drain().await.delivered, 0, "nothing is left to send");
    assert_eq!(p.received(&queue).await.len(), 1, "delivered exactly once");
    assert_eq!(f.clients.faults.injected().values().sum::<usize>(), 1);
}

#[tokio::test]
async fn when_the_dispatch_ledger_stays_throttled_should_give_the_message_back_to_retry_not_fail_it() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let queue = p.sqs_subscriber(json!({"eventNames": ["Order Placed"]})).await;
    let (status, accepted) = f.post(&event("d-2")).await;
    assert_eq!(status, 202);
    let event_id = EventId::parse(accepted["eventId"].as_str().unwrap()).unwrap();
    let (batch, receipts) = p.receive_batch().await.expect("the dispatch message");
    let logs = crate::support::captured_logs();
    f.clients
        .faults
        .arm("TransactWriteItems", Some("DELIVERY#"), Fault::TransactionThrottled, 4);
    let (response, _) = p.deliver_batch(batch, &receipts).await;
    assert_eq!(response.batch_item_failures.len(), 1, "handed back to the queue");
    let line = logs
        .lines_with("event_id", event_id.as_str())
        .into_iter()
        .find(|l| l["receive_count"] == 1);
    let line = line.expect("dispatch's log line of the message");
    // The first retry's delay: 5 s within ±20 % jitter (domain::retry), whole seconds in the log.
    assert_eq!(line["outcome"], "retry", "{line}");
    assert!(
        line["retry_in_s"].as_u64().is_some_and(|s| (3..=6).contains(&s)),
        "{line}"
    );
    // The retry delay hides it.
    assert!(
        p.receive_batch().await.is_none(),
        "backed off with its visibility timeout"
    );
    assert_eq!(
        p.received(&queue).await.len(),
        1,
        "sent once so far; its retry may send it again"
    );
    assert!(
        f.table.is_pending(&f.store_id, &event_id).await.unwrap(),
        "still owed to the subscriber"
    );
}
