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
