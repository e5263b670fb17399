//! The ingest use case over the in-memory table: the retry loop, dedupe and the step boundaries, in
//! milliseconds. `tests/it` holds the same system to account against the local AWS.

use serde_json::json;

use super::*;
use crate::domain::custom_event::parse_custom_event;
use crate::domain::validation::Pointer;
use crate::ports::RandomIds;
use crate::testing::{Failure, MemoryTable};

fn now() -> DateTime<Utc> {
    "2026-11-22T10:00:00Z".parse().unwrap()
}

fn store() -> StoreId {
    StoreId::from_bytes([1; 12])
}

fn event(unique_id: &str, email: &str, first_name: &str) -> CustomEvent {
    let body = json!({"eventName": "Order Placed", "uniqueId": unique_id,
                      "customer": {"email": email, "firstName": first_name}});
    parse_custom_event(&body, &Pointer::root(), now()).unwrap()
}

async fn ingest(table: &MemoryTable, event: &CustomEvent) -> Result<Ingested, IngestError> {
    let ports = IngestPorts {
        store: table,
        queue: table,
        ids: &RandomIds,
        trace: None,
    };
    ingest_event(&ports, &store(), event.into(), now(), &IngestConfig::default()).await
}

#[tokio::test]
async fn when_an_event_comes_twice_should_store_it_once_and_answer_the_second_as_a_duplicate() {
    let table = MemoryTable::default();
    let first = ingest(&table, &event("u-1", "a@example.com", "Ada")).await.unwrap();
    assert_eq!((first.status, first.customer_created), (IngestStatus::Accepted, true));
    let again = ingest(&table, &event("u-1", "a@example.com", "Ada")).await.unwrap();
    assert_eq!(again.status, IngestStatus::Duplicate);
    assert_eq!(
        (again.event_id, again.customer_id),
        (first.event_id.clone(), first.customer_id)
    );
    let conflict = ingest(&table, &event("u-1", "a@example.com", "Bea")).await;
    assert!(matches!(conflict, Err(IngestError::UniqueIdConflict { event_id, .. }) if event_id == first.event_id));
    let contents = table.contents();
    assert_eq!(
        (contents.events.len(), contents.customers.len(), contents.enqueued.len()),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn when_the_commit_fails_before_or_after_it_lands_should_leave_a_retry_safe_state() {
    let table = MemoryTable::default();
    table.arm("commit", Failure::Before);
    assert!(matches!(
        ingest(&table, &event("u-2", "b@example.com", "B")).await,
        Err(IngestError::Store(_))
    ));
    assert!(table.contents().events.is_empty(), "nothing half-written");
    let retried = ingest(&table, &event("u-2", "b@example.com", "B")).await.unwrap();
    assert_eq!(retried.status, IngestStatus::Accepted);

    table.arm("commit", Failure::After);
    assert!(ingest(&table, &event("u-3", "c@example.com", "C")).await.is_err());
    assert_eq!(table.contents().events.len(), 2, "the commit landed");
    assert_eq!(
        table.contents().enqueued.len(),
        1,
        "the failed call enqueued nothing: the sweep will"
    );
    let retried = ingest(&table, &event("u-3", "c@example.com", "C")).await.unwrap();
    assert_eq!(
        retried.status,
        IngestStatus::Duplicate,
        "the retry finds the landed event"
    );
}

#[tokio::test]
async fn when_the_enqueue_fails_should_still_accept_the_event_and_leave_it_pending() {
    let table = MemoryTable::default();
    table.arm("enqueue", Failure::Before);
    let ingested = ingest(&table, &event("u-4", "d@example.com", "D")).await.unwrap();
    assert_eq!(ingested.status, IngestStatus::Accepted);
    let contents = table.contents();
    assert!(contents.enqueued.is_empty());
    assert_eq!(contents.pending.len(), 1, "the sweep finds it");
}

#[tokio::test]
async fn when_another_request_claims_the_email_first_should_resolve_again_and_join_that_customer() {
    let table = MemoryTable::default();
    let (other_id, store_id) = (CustomerId::from_bytes([9; 12]), store());
    table.race_next_commit(move |contents| {
        // A concurrent request created the customer with this email between our reads and our commit.
        let mut other = Customer::new(store_id.clone(), other_id.clone(), now());
        other.email = Some("e@example.com".to_owned());
        contents.customers.insert(format!("{store_id}#{other_id}"), other);
        contents
            .claims
            .insert(format!("{store_id}#Email#e@example.com"), other_id);
    });
    let ingested = ingest(&table, &event("u-5", "e@example.com", "Eve")).await.unwrap();
    assert_eq!(
        ingested.customer_id,
        Some(CustomerId::from_bytes([9; 12])),
        "the claim's owner"
    );
    assert!(!ingested.customer_created, "one customer for one email");
    let contents = table.contents();
    assert_eq!(contents.customers.len(), 1);
    let customer = contents.customers.values().next().unwrap();
    assert_eq!(
        customer.first_name.as_deref(),
        Some("Eve"),
        "the event's patch applied to it"
    );
}
