//! Dedupe on (store, uniqueId): duplicate, conflict, expiry, and concurrent identical requests.

use collector_core::service::ingest::IngestConfig;
use serde_json::json;

use crate::support::Fixture;

fn order(unique_id: &str, total: i64) -> serde_json::Value {
    json!({"eventName": "Order Placed", "uniqueId": unique_id, "customer": {"email": "d@example.com", "firstName": "Dee"},
           "data": {"Total": total, "Channel": "web"}})
}

#[tokio::test]
async fn when_same_key_and_same_payload_arrive_again_should_answer_duplicate_with_the_original_event() {
    let f = Fixture::new().await;
    let (status, first) = f.post(&order("o-1", 10)).await;
    assert_eq!((status, first["status"].as_str()), (202, Some("accepted")));
    // Same content, other key order: still the same payload.
    let reordered = json!({"data": {"Channel": "web", "Total": 10}, "customer": {"firstName": "Dee", "email": "d@example.com"},
                           "uniqueId": "o-1", "eventName": "Order Placed"});
    // Meanwhile the profile changes; the duplicate must not re-apply its older firstName.
    assert_eq!(
        f.post(&json!({"eventName": "Rename", "customer": {"email": "d@example.com", "firstName": "Dana"}}))
            .await
            .0,
        202
    );
    let (status, again) = f.post(&reordered).await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["status"], "duplicate");
    assert_eq!(again["eventId"], first["eventId"]);
    assert_eq!(again["customerId"], first["customerId"]);
    assert_eq!(f.count("EVENT").await, 2, "the duplicate was not stored");
    assert_eq!(
        f.customer(first["customerId"].as_str().unwrap())
            .await
            .first_name
            .as_deref(),
        Some("Dana")
    );
}

#[tokio::test]
async fn when_same_key_arrives_with_a_different_payload_should_answer_409_naming_the_conflict() {
    let f = Fixture::new().await;
    let (_, first) = f.post(&order("o-2", 10)).await;
    let (status, problem) = f.post(&order("o-2", 11)).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["type"], "/problems/unique-id-conflict");
    assert_eq!(problem["errors"][0]["pointer"], "/uniqueId");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains(first["eventId"].as_str().unwrap()));
    assert_eq!(f.count("EVENT").await, 1);
}

#[tokio::test]
async fn when_the_window_has_passed_should_accept_the_key_again_even_before_ttl_deletes_the_record() {
    let f = Fixture::new().await;
    let (_, first) = f.post(&order("o-3", 10)).await;
    f.clock
        .advance(chrono::Duration::days(7) - chrono::Duration::seconds(1));
    assert_eq!(f.post(&order("o-3", 10)).await.1["status"], "duplicate");
    f.clock.advance(chrono::Duration::seconds(2));
    // The record is still in the table (moto, like DynamoDB, has not deleted it); dedupeUntil decides.
    assert_eq!(f.count("UNIQUE").await, 1);
    let (status, again) = f.post(&order("o-3", 11)).await;
    assert_eq!((status, again["status"].as_str()), (202, Some("accepted")), "{again}");
    assert_ne!(again["eventId"], first["eventId"]);
}

#[tokio::test]
async fn when_the_window_is_configured_should_use_it() {
    let f = Fixture::with_config(IngestConfig {
        dedupe_window: chrono::Duration::seconds(60),
        ..IngestConfig::default()
    })
    .await;
    f.post(&order("o-4", 10)).await;
    f.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(f.post(&order("o-4", 10)).await.1["status"], "accepted");
}

#[tokio::test]
async fn when_50_identical_requests_race_should_store_exactly_one_event() {
    let f = Fixture::new().await;
    let body = order("o-race", 42);
    let responses = futures::future::join_all((0..50).map(|_| f.post(&body))).await;
    let mut accepted = 0;
    for (status, response) in &responses {
        assert_eq!(*status, 202, "{response}");
        assert_eq!(response["eventId"], responses[0].1["eventId"]);
        accepted += usize::from(response["status"] == "accepted");
    }
    assert_eq!(accepted, 1);
    assert_eq!(f.count("EVENT").await, 1);
    assert_eq!(f.count("CUSTOMER").await, 1);
}
