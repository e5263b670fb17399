//! The three request examples of the spec, end to end.

use serde_json::{json, Value};

use crate::support::Fixture;

/// The spec's `full_example`, kept in `events/bodies/` where the benchmarks read it too.
pub fn full_example() -> Value {
    serde_json::from_str(include_str!("../../events/bodies/redo-full-example.json")).expect("the fixture is JSON")
}

pub fn medium_example() -> Value {
    json!({
        "eventName": "Order Placed",
        "customer": {
            "email": "stewart@example.com", "firstName": "Stewart", "lastName": "Thompson",
            "customFields": {"Birthday": "1976-07-04T12:00:00Z", "Loyalty Tier": "Gold"}
        },
        "value": 149.99,
        "valueCurrency": "USD",
        "data": {"Order Id": "ord_456", "Item Count": 3, "Category": "apparel"}
    })
}

pub fn minimal_example() -> Value {
    json!({"eventName": "Page Viewed", "customer": {"email": "stewart@example.com"}})
}

#[tokio::test]
async fn when_full_example_is_posted_should_store_every_field_typed() {
    let f = Fixture::new().await;
    let (status, body) = f.post(&full_example()).await;
    assert_eq!(status, 202, "{body}");
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["eventId", "status", "customerId"]);
    assert_eq!(body["status"], "accepted");
    // customer.id was not known: the customer is created and adopts it.
    assert_eq!(body["customerId"], "665f1a2b3c4d5e6f7a8b9c0d");

    let event = f.event(&body).await;
    let stored = serde_json::to_value(&event).unwrap();
    assert_eq!(stored["eventName"], "Purchase Milestone Reached");
    assert_eq!(stored["occurredAt"], "2026-04-02T12:00:00Z");
    assert_eq!(stored["value"], json!(299.99));
    assert_eq!(stored["valueCurrency"], "USD");
    assert_eq!(stored["uniqueId"], "milestone-test-001");
    assert_eq!(
        stored["data"]["Enrolled At"],
        json!({"$date": "2025-01-01T00:00:00.000Z"})
    );
    assert_eq!(
        stored["data"]["Last Purchase Date"],
        json!({"$date": "2026-03-15T00:00:00.000Z"})
    );
    assert_eq!(stored["data"]["Total Spent"], json!(5000));
    assert_eq!(stored["data"]["Milestone Type"], "100th_purchase");
    assert_eq!(
        stored["extra"],
        json!({"Most Recent Order IDs": [1, 2, 3], "Profile Snapshot": {"tier": "gold", "memberSince": "2024-01-01"}})
    );
    assert_eq!(stored["identity"]["matchedBy"], "created");
    assert_eq!(stored["identity"]["customerCreated"], true);

    let customer = serde_json::to_value(f.customer("665f1a2b3c4d5e6f7a8b9c0d").await).unwrap();
    assert_eq!(customer["email"], "stewart@example.com");
    assert_eq!(customer["phoneNumber"], "+11234567890");
    assert_eq!(customer["firstName"], "Stewart");
    assert_eq!(customer["location"]["countryCode"], "US");
    assert_eq!(customer["location"]["latitude"], json!(47.6062));
    assert_eq!(
        customer["customFields"]["Birthday"],
        json!({"$date": "1976-07-04T12:00:00.000Z"})
    );
    assert_eq!(customer["customFields"]["Age at Signup"], json!(25));
    assert_eq!(customer["customFields"]["Accepts Marketing"], json!(true));
}

#[tokio::test]
async fn when_medium_example_is_posted_should_create_the_customer_by_email() {
    let f = Fixture::new().await;
    let (status, body) = f.post(&medium_example()).await;
    assert_eq!(status, 202, "{body}");
    let event = serde_json::to_value(f.event(&body).await).unwrap();
    assert_eq!(
        event["data"],
        json!({"Category": "apparel", "Item Count": 3, "Order Id": "ord_456"})
    );
    assert_eq!(event["value"], json!(149.99));
    let customer = serde_json::to_value(f.customer(body["customerId"].as_str().unwrap()).await).unwrap();
    assert_eq!(customer["customFields"]["Loyalty Tier"], "Gold");
    assert_eq!(customer["lastName"], "Thompson");
}

#[tokio::test]
async fn when_minimal_example_is_posted_should_default_the_timestamp_to_now() {
    let f = Fixture::new().await;
    let (status, body) = f.post(&minimal_example()).await;
    assert_eq!(status, 202, "{body}");
    let event = f.event(&body).await;
    assert_eq!(event.occurred_at, collector_core::ports::Clock::now(&f.clock));
    assert_eq!(event.received_at, event.occurred_at);
    assert!(event.data.is_empty() && event.extra.is_none());
}

#[tokio::test]
async fn when_data_has_unset_values_should_drop_them_but_keep_extra_as_sent() {
    let f = Fixture::new().await;
    let body = json!({
        "eventName": "Unset", "customer": {"email": "unset@example.com"},
        "data": {"Zero": 0, "Null": null, "Empty": "", "False": false, "Kept": "x",
                 "$extra": {"zero": 0, "null": null, "empty": "", "": "empty key", "huge": 1e300}}
    });
    let (status, response) = f.post(&body).await;
    assert_eq!(status, 202, "{response}");
    let event = serde_json::to_value(f.event(&response).await).unwrap();
    assert_eq!(event["data"], json!({"False": false, "Kept": "x"}));
    assert_eq!(
        event["extra"],
        json!({"zero": 0, "null": null, "empty": "", "": "empty key", "huge": 1e300})
    );
}

#[tokio::test]
async fn when_top_level_has_unknown_properties_should_accept_and_ignore_them() {
    let f = Fixture::new().await;
    let (status, body) = f
        .post(&json!({"eventName": "X", "customer": {"email": "u@example.com"}, "channel": "web"}))
        .await;
    assert_eq!(status, 202, "{body}");
}
