//! AWS requests one event costs, counted by an SDK interceptor. Deterministic, so a change that adds a
//! call per event fails here.

use serde_json::json;

use crate::support::Fixture;

#[tokio::test]
async fn when_events_are_ingested_should_cost_the_documented_aws_requests() {
    let f = Fixture::new().await;
    let new_customer = json!({"eventName": "Count", "uniqueId": "c-1", "customer": {"email": "count@example.com"}});
    assert_eq!(f.post(&new_customer).await.0, 202);
    // Cold key cache: the key lookup, one batched read, one transaction, one send.
    assert_eq!(
        f.clients.log.take_operations(),
        ["GetItem", "BatchGetItem", "TransactWriteItems", "SendMessage"]
    );

    let known_by_email = json!({"eventName": "Count", "uniqueId": "c-2", "customer": {"email": "count@example.com"}});
    assert_eq!(f.post(&known_by_email).await.0, 202);
    // Warm key cache; the email claim names the customer, whose profile is then read.
    assert_eq!(
        f.clients.log.take_operations(),
        ["BatchGetItem", "GetItem", "TransactWriteItems", "SendMessage"]
    );

    let (_, body) = f
        .post(&json!({"eventName": "Count", "customer": {"email": "count@example.com"}}))
        .await;
    f.clients.log.take();
    let known_by_id = json!({"eventName": "Count", "customer": {"id": body["customerId"]}});
    assert_eq!(f.post(&known_by_id).await.0, 202);
    // customer.id fetches the profile in the batched read itself.
    assert_eq!(
        f.clients.log.take_operations(),
        ["BatchGetItem", "TransactWriteItems", "SendMessage"]
    );

    assert_eq!(f.post(&new_customer).await.1["status"], "duplicate");
    // A duplicate is recognised in the batched read: nothing is written or sent.
    assert_eq!(f.clients.log.take_operations(), ["BatchGetItem"]);
}

fn counts(operations: Vec<String>) -> std::collections::BTreeMap<String, usize> {
    let mut counts = std::collections::BTreeMap::new();
    for operation in operations {
        *counts.entry(operation).or_insert(0) += 1;
    }
    counts
}

#[tokio::test]
async fn when_a_100_event_bulk_is_ingested_should_cost_about_one_request_per_event() {
    let f = Fixture::new().await;
    let bulk = |round: &str| {
        let events: Vec<_> = (0..100)
            .map(|i| json!({"eventName": "Count", "uniqueId": format!("{round}-{i}"), "customer": {"email": format!("c{i}@example.com")}}))
            .collect();
        json!({ "events": events })
    };
    let (_, report) = f.post_bulk(&bulk("new")).await;
    assert_eq!(report["summary"]["accepted"], 100, "{report}");
    // All new customers: the key, 200 keys read in 2 batches, one transaction each, 10 batched sends.
    let new = counts(f.clients.log.take_operations());
    assert_eq!(
        new,
        counts(
            ["GetItem"; 1]
                .into_iter()
                .chain(["BatchGetItem"; 2])
                .chain(["TransactWriteItems"; 100])
                .chain(["SendMessageBatch"; 10])
                .map(String::from)
                .collect()
        )
    );

    let (_, report) = f.post_bulk(&bulk("known")).await;
    assert_eq!(report["summary"]["accepted"], 100, "{report}");
    // All known customers (warm key cache): 2 batched reads of claims and dedupe keys, 1 of the 100
    // profiles, a transaction each, 10 batched sends: 113 requests, 1.13 per event.
    let known = counts(f.clients.log.take_operations());
    assert_eq!(
        known,
        counts(
            ["BatchGetItem"; 3]
                .into_iter()
                .chain(["TransactWriteItems"; 100])
                .chain(["SendMessageBatch"; 10])
                .map(String::from)
                .collect()
        )
    );
    assert!(known.values().sum::<usize>() as f64 / 100.0 <= 1.3);
}
