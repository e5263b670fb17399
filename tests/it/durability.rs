//! A 2xx means durable: failures injected at each step boundary of ingest, at the wire between the real
//! adapters and the local AWS (`Faults::arm`).

use collector_core::domain::event::EventRef;
use collector_core::domain::ids::EventId;
use collector_core::ports::PendingEvents;
use serde_json::{json, Value};

use integration_tests::Fault;

use crate::support::Fixture;
use crate::wiring::Faulty;

fn order() -> Value {
    json!({"eventName": "Order Placed", "uniqueId": "crash-1", "customer": {"email": "crash@example.com"}})
}

#[tokio::test]
async fn when_crash_hits_before_the_commit_should_answer_503_store_nothing_and_accept_the_retry() {
    let f = Fixture::new().await;
    let faulty = Faulty::new(&f).await;
    // The commit request never reaches the table.
    faulty
        .clients
        .faults
        .arm("TransactWriteItems", None, Fault::TimedOut, 1);
    let handler = &faulty.ingest;
    let (status, problem) = f.post_with(handler, &order()).await;
    assert_eq!(status, 503, "{problem}");
    assert_eq!(
        f.stored_counts().await,
        [0, 0, 0, 0],
        "no half-written event, customer or dedupe record"
    );
    // Nothing is left "in progress": the retry with the same uniqueId goes straight through.
    let (status, retry) = f.post_with(handler, &order()).await;
    assert_eq!((status, retry["status"].as_str()), (202, Some("accepted")), "{retry}");
}

#[tokio::test]
async fn when_crash_hits_after_the_commit_should_answer_the_retry_with_the_stored_event() {
    let f = Fixture::new().await;
    let faulty = Faulty::new(&f).await;
    // The commit lands; its answer is lost on the way back.
    faulty
        .clients
        .faults
        .arm("TransactWriteItems", None, Fault::AnswerLost, 1);
    let handler = &faulty.ingest;
    assert_eq!(f.post_with(handler, &order()).await.0, 503);
    assert_eq!(f.count("EVENT").await, 1, "the commit landed before the crash");
    let (status, retry) = f.post_with(handler, &order()).await;
    assert_eq!((status, retry["status"].as_str()), (202, Some("duplicate")), "{retry}");
    let event_id = EventId::parse(retry["eventId"].as_str().unwrap()).unwrap();
    // The crash also skipped the enqueue: the event is still marked pending, where the sweep finds it.
    assert!(f.table.is_pending(&f.store_id, &event_id).await.unwrap());
}

#[tokio::test]
async fn when_enqueue_fails_should_still_answer_202_and_leave_the_event_pending() {
    let f = Fixture::new().await;
    let missing_queue = format!("{}/123456789012/no-such-queue", integration_tests::local_aws().endpoint);
    let handler = f.handler_on(&missing_queue);
    let (status, body) = f.post_with(&handler, &order()).await;
    assert_eq!(status, 202, "{body}");
    let event_id = EventId::parse(body["eventId"].as_str().unwrap()).unwrap();
    // The recovery sweep's read finds it without knowing its id.
    let pending = f
        .table
        .pending_before(chrono::Utc::now() + chrono::Duration::seconds(1), 100)
        .await
        .unwrap();
    let event = EventRef {
        store_id: f.store_id.clone(),
        event_id,
    };
    assert!(pending.contains(&event), "{pending:?}");
}

#[tokio::test]
async fn when_event_is_accepted_should_enqueue_it_for_dispatch() {
    let f = Fixture::new().await;
    let queue_url = f
        .clients
        .sqs
        .create_queue()
        .queue_name(format!("dispatch-{}", f.store_id))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let handler = f.handler_on(&queue_url);
    let (status, body) = f.post_with(&handler, &order()).await;
    assert_eq!(status, 202);
    let received = f
        .clients
        .sqs
        .receive_message()
        .queue_url(&queue_url)
        .message_attribute_names("All")
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    let messages = received.messages();
    assert_eq!(messages.len(), 1);
    let message: Value = serde_json::from_str(messages[0].body().unwrap()).unwrap();
    assert_eq!(message["eventId"], body["eventId"]);
    assert_eq!(message["storeId"], json!(f.store_id.to_string()));
    let attributes = messages[0].message_attributes().unwrap();
    assert_eq!(attributes["eventId"].string_value(), body["eventId"].as_str());
    let event_id = EventId::parse(body["eventId"].as_str().unwrap()).unwrap();
    assert!(
        f.table.is_pending(&f.store_id, &event_id).await.unwrap(),
        "pending until dispatch marks it done"
    );
}

#[tokio::test]
async fn when_storage_fails_permanently_should_answer_500_without_internals() {
    let f = Fixture::new().await;
    let faulty = Faulty::new(&f).await;
    // The event's first read finds no table.
    faulty.clients.faults.arm("BatchGetItem", None, Fault::NoSuchTable, 1);
    let (status, problem) = f.post_with(&faulty.ingest, &order()).await;
    assert_eq!(status, 500, "{problem}");
    assert_eq!(problem["type"], "/problems/internal");
    let text = problem.to_string();
    for internal in ["no-such-table", "ResourceNotFound", "DynamoDB", "prefetch"] {
        assert!(!text.contains(internal), "{internal} leaked: {text}");
    }
    assert_eq!(
        problem["requestId"], "test-request",
        "the id to quote is the API Gateway request id"
    );
}
