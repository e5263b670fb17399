//! `GET /stores/{storeId}/events/{eventId}` (the event as stored, with its deliveries) and
//! `GET /stores/{storeId}/customers…` (the profile) through the real reads function against moto.

use serde_json::json;

use crate::pipeline::Pipeline;
use crate::reads::get_with;
use crate::support::Fixture;
use crate::wiring::reads_handler;

/// The AWS requests since the last take, by operation, the rate limiter's counter aside (its lease makes
/// it depend on timing).
fn counts_without_limiter(f: &Fixture) -> Vec<(String, usize)> {
    let mut counts = f.clients.log.take_counts();
    counts.remove(integration_tests::RATE_LIMIT);
    counts.into_iter().collect()
}

#[tokio::test]
async fn when_an_event_is_read_should_show_it_as_sent_with_its_deliveries() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let reads = reads_handler(&f);
    let queue = p.sqs_subscriber(json!({"eventNames": ["Order Placed"]})).await;
    let body = json!({"eventName": "Order Placed", "uniqueId": "order-1001",
        "customer": {"email": "reader@example.com", "firstName": "Rea"},
        "value": 42.5, "valueCurrency": "EUR",
        "data": {"Placed At": "2026-03-01T10:00:00+02:00", "Items": 3, "Gift": false,
                 "$extra": {"lines": [{"sku": "A", "qty": 2}]}}});
    let (status, accepted) = f.post(&body).await;
    assert_eq!(status, 202, "{accepted}");
    let event_id = accepted["eventId"].as_str().unwrap();
    assert_eq!(p.drain().await.delivered, 1);
    assert_eq!(p.received(&queue).await.len(), 1);

    f.clients.log.take();
    let (status, event) = get_with(&reads, &f.key, &format!("{}/{event_id}", f.path())).await;
    assert_eq!(status, 200, "{event}");
    // The event and its ledger: one GetItem of the event, one query of its partition (and, on this cold
    // handler, the key and the store's settings).
    assert_eq!(
        counts_without_limiter(&f),
        [("GetItem".to_owned(), 3), ("Query".to_owned(), 1)]
    );
    assert_eq!(event["eventId"], event_id);
    assert_eq!(event["eventName"], "Order Placed");
    assert_eq!(event["customerId"], accepted["customerId"]);
    assert_eq!(event["uniqueId"], "order-1001");
    assert_eq!(event["value"], 42.5);
    assert_eq!(
        event["data"],
        json!({"Placed At": "2026-03-01T08:00:00.000Z", "Items": 3, "Gift": false}),
        "typed values as sent, the date in UTC"
    );
    assert_eq!(event["$extra"], json!({"lines": [{"sku": "A", "qty": 2}]}));
    assert_eq!(event["identity"]["matchedBy"], "created");
    assert_eq!(event["identity"]["customerCreated"], true);
    assert!(
        event["changedFields"].as_array().unwrap().contains(&json!("firstName")),
        "{event}"
    );
    for internal in ["payloadHash", "expiresAt", "pendingShard", "storeId", "delivered"] {
        assert!(event.get(internal).is_none(), "{internal} is not shown: {event}");
    }
    let deliveries = event["deliveries"].as_array().unwrap();
    assert_eq!(deliveries.len(), 1, "{event}");
    assert_eq!(deliveries[0]["status"], "DELIVERED");
    assert_eq!(deliveries[0]["attempts"], 1);
    assert_eq!(deliveries[0]["messageId"], event_id);

    // The id the client gave it finds it too; an id the store has not, and another store's event, do not.
    let (status, by_unique) = get_with(&reads, &f.key, &format!("{}/order-1001", f.path())).await;
    assert_eq!((status, &by_unique["eventId"]), (200, &json!(event_id)));
    let (status, _) = get_with(&reads, &f.key, &format!("{}/{}", f.path(), "0".repeat(24))).await;
    assert_eq!(status, 404);
    let (other, other_key) = f.other_tenant_key().await;
    let (status, _) = get_with(&reads, &other_key, &format!("/stores/{other}/events/{event_id}")).await;
    assert_eq!(status, 404, "another store's event is not found");
}

#[tokio::test]
async fn when_a_customer_is_read_by_each_identifier_should_answer_the_profile() {
    let f = Fixture::new().await;
    let reads = reads_handler(&f);
    let body = json!({"eventName": "Signed Up", "customer": {"email": "Grace@Example.com",
        "phoneNumber": "+14155550199", "firstName": "Grace", "lastName": "Hopper",
        "location": {"city": "Arlington"},
        "customFields": {"Tier": "Gold", "Born": "1906-12-09T00:00:00Z", "Admiral": true}}});
    let (status, accepted) = f.post(&body).await;
    assert_eq!(status, 202, "{accepted}");
    let id = accepted["customerId"].as_str().unwrap();
    let customers = format!("/stores/{}/customers", f.store_id);
    f.clients.log.take();
    let (status, _) = get_with(&reads, &f.key, &format!("{customers}?email=grace%40example.com")).await;
    assert_eq!(status, 200);
    // The claim, then the profile (and, cold, the key and the store's settings).
    assert_eq!(counts_without_limiter(&f), [("GetItem".to_owned(), 4)]);
    for path in [
        format!("{customers}/{id}"),
        format!("{customers}?email=grace%40example.com"),
        format!("{customers}?email=GRACE%40EXAMPLE.COM"),
        format!("{customers}?phoneNumber=%2B14155550199"),
        format!("{customers}?phoneNumber=+14155550199"),
    ] {
        let (status, profile) = get_with(&reads, &f.key, &path).await;
        assert_eq!(status, 200, "{path}: {profile}");
        assert_eq!(profile["customerId"], id, "{path}");
        assert_eq!(profile["email"], "Grace@Example.com");
        assert_eq!(profile["phoneNumber"], "+14155550199");
        assert_eq!(
            (&profile["firstName"], &profile["lastName"]),
            (&json!("Grace"), &json!("Hopper"))
        );
        assert_eq!(profile["location"], json!({"city": "Arlington"}));
        assert_eq!(
            profile["customFields"],
            json!({"Admiral": true, "Born": "1906-12-09T00:00:00.000Z", "Tier": "Gold"})
        );
        assert!(profile["createdAt"].is_string() && profile["updatedAt"].is_string());
        assert!(profile.get("version").is_none() && profile.get("storeId").is_none());
    }
    for (path, expected) in [
        (format!("{customers}?email=nobody%40example.com"), 404),
        (format!("{customers}/{}", "0".repeat(24)), 404),
        (format!("{customers}/not-an-id"), 404),
        (format!("{customers}?email=not-an-email"), 400),
        (customers.clone(), 400),
    ] {
        let (status, problem) = get_with(&reads, &f.key, &path).await;
        assert_eq!(status, expected, "{path}: {problem}");
    }
}
