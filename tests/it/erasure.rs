//! Erasing a customer: every record of theirs goes (profile, identifiers, events with their delivery and
//! dedupe records, order, product view, cart, wishlist, notification cap), nothing of anyone else's does,
//! and the answer says what was removed.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use collector_core::domain::ids::CustomerId;
use collector_core::domain::job::Notification;
use collector_core::ports::{AudienceStore, CustomerErasure};
use integration_tests::{apigw_request, read_response};
use serde_json::{json, Value};

use crate::pipeline::Pipeline;
use crate::support::{table_items, Fixture};

/// Every item but the rate limiter's counters, which every request moves.
async fn data_items(f: &Fixture) -> Vec<String> {
    let mut items = table_items(f).await;
    items.retain(|item| !item.contains("#RATE#"));
    items
}

const ANN: &str = "ann@example.com";
const ANN_PHONE: &str = "+14155550123";

async fn esputnik(f: &Fixture, body: Value) -> Value {
    let (status, answer) = read_response(f.handler.handle(f.json_post("/api/v1/event", &body)).await);
    assert_eq!(status, 200, "{answer}");
    answer
}

async fn erase(f: &Fixture, path_and_query: &str) -> (u16, Value) {
    let bearer = f.bearer();
    let request = apigw_request(
        "DELETE",
        &format!("/stores/{}/customers{path_and_query}", f.store_id),
        &[("authorization", &bearer)],
        None,
    );
    read_response(f.handler.handle(request).await)
}

/// A customer's whole footprint: events of every dialect, activity, an order, a
/// wishlist, deliveries to a subscriber and a notification cap. Returns the customer id.
async fn active_customer(f: &Fixture, email: &str, phone: &str, order_id: &str) -> String {
    let (status, first) = f
        .post(&json!({"eventName": "Signed Up", "uniqueId": format!("signup-{email}"),
                      "customer": {"email": email, "phoneNumber": phone, "firstName": "Ann"}}))
        .await;
    assert_eq!(status, 202, "{first}");
    let id = first["customerId"].as_str().unwrap().to_owned();
    // Another email for the same customer: recorded on the event as a conflict, not claimed.
    let other = format!("other-{email}");
    let (status, _) = f
        .post(&json!({"eventName": "Email Changed", "customer": {"id": id, "email": other}}))
        .await;
    assert_eq!(status, 202);
    esputnik(
        f,
        json!({"eventTypeKey": "productViewed", "keyValue": email, "params": [
        {"name": "product", "value": "{\"productId\":\"P1\",\"price\":12,\"isInStock\":0}"}]}),
    )
    .await;
    esputnik(f, json!({"eventTypeKey": "cartUpdated", "keyValue": email, "params": [
        {"name": "products", "value": "[{\"productId\":\"P1\",\"quantity\":1}]"}, {"name": "recycleStateId", "value": "r-1"}]}))
    .await;
    esputnik(
        f,
        json!({"eventTypeKey": "orderCreated", "keyValue": email, "params": [
        {"name": "externalOrderId", "value": order_id}, {"name": "externalCustomerId", "value": "x"},
        {"name": "totalCost", "value": "9"}, {"name": "status", "value": "INITIALIZED"},
        {"name": "date", "value": "2026-11-22T10:00:00"}]}),
    )
    .await;
    let wishlist = json!({"id": format!("wish-{email}"), "entity_name": "WISHLIST", "entity_id": format!("wl-{email}"),
        "event_payload": {"operation": "CREATE", "key_attributes": {"email": email},
            "base64_encoded_payload_json": STANDARD.encode(json!({"items": ["P1"]}).to_string())}});
    let (status, answer) = read_response(f.handler.handle(f.json_post("/api/v1/events", &wishlist)).await);
    assert_eq!(status, 201, "{answer}");
    id
}

#[tokio::test]
async fn when_a_customer_is_erased_by_email_should_remove_all_of_theirs_and_nothing_else() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    p.sqs_subscriber(json!({"eventNames": ["*"]})).await;
    let ann = active_customer(&f, ANN, ANN_PHONE, "o-ann").await;
    let bob = active_customer(&f, "bob@example.com", "+14155550199", "o-bob").await;
    let delivered = p.drain().await.delivered;
    assert!(delivered > 0, "the customers' custom events were delivered");
    let cap = |id: &str| (CustomerId::parse(id).unwrap(), "P1".to_owned());
    let until = chrono::Utc::now() + chrono::Duration::days(7);
    f.table
        .cap(&f.store_id, Notification::BackInStock, &[cap(&ann), cap(&bob)], until)
        .await
        .unwrap();
    let before = data_items(&f).await;

    let (status, answer) = erase(&f, "?email=ANN@Example.com").await;

    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["customerId"], ann.as_str());
    assert_eq!(answer["complete"], true);
    let removed = &answer["removed"];
    // 5 custom-dialect events + the wishlist entity event; an email and a phone; one of each activity.
    let expected = json!({"profiles": 1, "identifiers": 2, "events": 6, "dedupeRecords": 2, "orders": 1,
        "productViews": 1, "carts": 1, "entities": 1, "notificationCaps": 1});
    for (kind, count) in expected.as_object().unwrap() {
        assert_eq!(&removed[kind], count, "{kind}: {removed}");
    }
    assert_eq!(removed["deliveryRecords"], delivered / 2, "{removed}");

    let after = data_items(&f).await;
    for item in &after {
        for trace in [ann.as_str(), "ann@example.com", ANN_PHONE, "o-ann"] {
            assert!(!item.contains(trace), "{trace} survived the erasure in {item}");
        }
    }
    assert!(after.iter().all(|item| before.contains(item)), "nothing else changed");
    let total: u64 = removed.as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!((before.len() - after.len()) as u64, total, "the counts are what went");
    assert!(
        after.iter().any(|item| item.contains(&bob)),
        "the other customer is untouched"
    );

    let (status, again) = erase(&f, "?email=ann@example.com").await;
    assert_eq!(status, 404, "an erased customer is gone: {again}");
    let (status, back) = f
        .post(&json!({"eventName": "Came Back", "customer": {"email": ANN}}))
        .await;
    assert_eq!(status, 202);
    assert_ne!(back["customerId"], ann.as_str(), "a returning customer is a new one");
}

#[tokio::test]
async fn when_a_customer_is_erased_by_id_or_phone_should_find_them_either_way() {
    let f = Fixture::new().await;
    let ann = active_customer(&f, ANN, ANN_PHONE, "o-1").await;
    let (status, answer) = erase(&f, &format!("/{ann}")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["removed"]["profiles"], 1);

    let bob = active_customer(&f, "bob@example.com", "+14155550199", "o-2").await;
    // An unencoded `+` decodes to a space; it is read back as `+`.
    let (status, answer) = erase(&f, "?phoneNumber=+14155550199").await;
    assert_eq!(
        (status, answer["customerId"].as_str()),
        (200, Some(bob.as_str())),
        "{answer}"
    );
    assert!(table_items(&f).await.iter().all(|item| !item.contains(&bob)));
}

#[tokio::test]
async fn when_erasure_is_asked_wrongly_should_answer_a_problem_and_remove_nothing() {
    let f = Fixture::new().await;
    active_customer(&f, ANN, ANN_PHONE, "o-1").await;
    let before = data_items(&f).await;
    for (query, expected) in [
        ("", 400),
        ("?email=ann@example.com&phoneNumber=%2B14155550123", 400),
        ("?email=not-an-email", 400),
        ("?phoneNumber=12", 400),
        ("?email=nobody@example.com", 404),
        ("/665f1a2b3c4d5e6f7a8b9c0d", 404),
        ("/not-an-id", 404),
    ] {
        let (status, problem) = erase(&f, query).await;
        assert_eq!(status, expected, "{query}: {problem}");
    }
    let bearer = f.bearer();
    let get = apigw_request(
        "GET",
        &format!("/stores/{}/customers?email={ANN}", f.store_id),
        &[("authorization", &bearer)],
        None,
    );
    assert_eq!(read_response(f.handler.handle(get).await).0, 405);
    assert_eq!(data_items(&f).await, before);
}

#[tokio::test]
async fn when_an_erasure_stops_at_its_budget_should_finish_on_the_next_call() {
    let f = Fixture::new().await;
    let ann = active_customer(&f, ANN, ANN_PHONE, "o-1").await;
    for i in 0..5 {
        let (status, _) = f
            .post(&json!({"eventName": "Browse", "uniqueId": format!("b-{i}"), "customer": {"id": ann}}))
            .await;
        assert_eq!(status, 202);
    }
    let customer = CustomerId::parse(&ann).unwrap();
    let mut calls = 0;
    let mut events = 0;
    loop {
        let erasure = f.table.erase_customer(&f.store_id, &customer, 1).await.unwrap();
        calls += 1;
        events += erasure.removed.events;
        if erasure.complete {
            assert_eq!(erasure.removed.profiles, 1, "the profile goes last");
            break;
        }
        assert_eq!(erasure.removed.profiles, 0, "the profile stays while records remain");
        assert!(f.customer(&ann).await.email.is_some(), "and can still be found by");
    }
    assert!(calls > 1, "a budget of one record stops after each round");
    assert_eq!(events, 11);
    assert!(table_items(&f).await.iter().all(|item| !item.contains(&ann)));
}
