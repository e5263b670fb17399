//! Notification jobs end to end: activity through the real endpoints, a job through the API, a scheduler
//! tick, and the SendGrid request a local receiver gets.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Duration;
use collector_core::ports::JobStore;
use integration_tests::read_response;
use serde_json::{json, Value};

use crate::pipeline::{checked_tick, WebhookReceiver};
use crate::support::Fixture;
use crate::wiring::scheduler;

pub(crate) async fn esputnik(f: &Fixture, body: Value) {
    let (status, answer) = read_response(f.handler.handle(f.json_post("/api/v1/event", &body)).await);
    assert_eq!(status, 200, "{answer}");
}

pub(crate) async fn entity(
    f: &Fixture,
    id: &str,
    entity: &str,
    entity_id: &str,
    operation: &str,
    payload: Value,
    keys: Value,
) {
    let body = json!({"id": id, "entity_name": entity, "entity_id": entity_id, "event_payload": {
        "operation": operation, "key_attributes": keys, "base64_encoded_payload_json": STANDARD.encode(payload.to_string())}});
    let (status, answer) = read_response(f.handler.handle(f.json_post("/api/v1/events", &body)).await);
    assert!(status == 201, "{answer}");
}

async fn job(f: &Fixture, notification: &str) -> String {
    job_with(f, notification, json!({})).await
}

/// A job of `notification` due in an hour, with `extra` fields.
async fn job_with(f: &Fixture, notification: &str, extra: Value) -> String {
    let mut body = json!({"notification": notification, "schedule": "rate(1 hour)", "template_id": "d-0123456789abcdef0123456789abcdef",
                      "job_parameters": {"campaign_id": "spring", "utm_medium": "email"}});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    crate::wiring::create_job(f, &body).await
}

pub(crate) fn viewed(email: &str, product: &str, in_stock: u8) -> Value {
    json!({"eventTypeKey": "productViewed", "keyValue": email, "params": [
        {"name": "product", "value": format!("{{\"productId\":\"{product}\",\"price\":12,\"isInStock\":{in_stock}}}")}]})
}

/// The recipients and their template data in the requests the receiver got.
fn sent(receiver: &WebhookReceiver) -> Vec<(String, Value)> {
    receiver
        .take()
        .iter()
        .flat_map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            assert_eq!(body["template_id"], "d-0123456789abcdef0123456789abcdef");
            assert_eq!(r.header("authorization"), Some("Bearer SG.test-key"));
            body["personalizations"].as_array().unwrap().clone()
        })
        .map(|p| {
            (
                p["to"][0]["email"].as_str().unwrap().to_owned(),
                p["dynamic_template_data"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn when_a_viewed_product_is_back_in_stock_should_mail_the_viewer_once_within_the_cap() {
    let f = Fixture::new().await;
    let receiver = WebhookReceiver::start().await;
    receiver.answer(202);
    let base = receiver.base();
    entity(
        &f,
        "i1",
        "INVENTORY_LEVEL",
        "P1",
        "CREATE",
        json!({"productId": "P1", "quantity": 0}),
        json!({}),
    )
    .await;
    esputnik(&f, viewed("waiting@example.com", "P1", 0)).await;
    esputnik(&f, viewed("browsing@example.com", "P9", 1)).await;
    entity(&f, "p1", "PRODUCT", "P1", "CREATE", json!({"productId": "P1", "name": "Mug", "url": "https://shop.example/mug", "imageUrl": "https://shop.example/mug.png"}), json!({})).await;
    entity(
        &f,
        "c1",
        "PRICE",
        "P1",
        "CREATE",
        json!({"productId": "P1", "price": 12, "currency": "EUR"}),
        json!({}),
    )
    .await;
    entity(
        &f,
        "i2",
        "INVENTORY_LEVEL",
        "P1",
        "UPDATE",
        json!({"productId": "P1", "quantity": 5}),
        json!({}),
    )
    .await;
    let id = job(&f, "BACK_IN_STOCK").await;

    let tick = scheduler(&f, &base);
    f.clock.advance(Duration::minutes(61));
    assert_eq!(checked_tick(&f, &tick).await.jobs.ran, 1);
    let mails = sent(&receiver);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let (to, data) = &mails[0];
    assert_eq!(to, "waiting@example.com");
    let item = &data["items"][0];
    assert_eq!(
        (item["name"].as_str(), item["price"].as_i64(), item["currency"].as_str()),
        (Some("Mug"), Some(12), Some("EUR"))
    );
    assert_eq!(item["imageUrl"], "https://shop.example/mug.png");
    let url = item["url"].as_str().unwrap();
    assert!(
        url.starts_with("https://shop.example/mug?")
            && url.contains("utm_medium=email")
            && url.contains("campaign_id=spring"),
        "{url}"
    );
    let runs = f.table.job_runs(&f.store_id, &id, 5).await.unwrap();
    assert_eq!((runs[0].recipients_evaluated, runs[0].messages_sent), (1, 1));

    // The next hour: still in stock, but the frequency cap holds the same mail back.
    f.clock.advance(Duration::hours(1));
    assert_eq!(checked_tick(&f, &tick).await.jobs.ran, 1);
    assert!(sent(&receiver).is_empty());
    assert_eq!(f.table.job_runs(&f.store_id, &id, 5).await.unwrap()[0].messages_sent, 0);
}

#[tokio::test]
async fn when_prices_drop_carts_wait_and_wishlists_wait_should_mail_each_audience() {
    let f = Fixture::new().await;
    let receiver = WebhookReceiver::start().await;
    receiver.answer(202);
    let base = receiver.base();
    // Price drop: a viewer of P2, whose price falls from 20 to 15.
    entity(
        &f,
        "c2",
        "PRICE",
        "P2",
        "CREATE",
        json!({"productId": "P2", "price": 20}),
        json!({}),
    )
    .await;
    esputnik(&f, viewed("bargain@example.com", "P2", 1)).await;
    entity(
        &f,
        "c3",
        "PRICE",
        "P2",
        "UPDATE",
        json!({"productId": "P2", "price": 15}),
        json!({}),
    )
    .await;
    // Abandoned cart: a cart with P3 and no order after it; another cart followed by an order.
    let cart = |email: &str| {
        json!({"eventTypeKey": "cartUpdated", "keyValue": email, "params": [
        {"name": "products", "value": "[{\"productId\":\"P3\",\"quantity\":1}]"}, {"name": "recycleStateId", "value": "r-1"}]})
    };
    esputnik(&f, cart("left@example.com")).await;
    esputnik(&f, cart("bought@example.com")).await;
    esputnik(&f, json!({"eventTypeKey": "orderCreated", "keyValue": "bought@example.com", "params": [
        {"name": "externalOrderId", "value": "o-1"}, {"name": "externalCustomerId", "value": "x"}, {"name": "totalCost", "value": "9"},
        {"name": "status", "value": "INITIALIZED"}, {"name": "date", "value": "2026-11-22T10:00:00"}]})).await;
    // Wishlist reminder: three items, at most all of them.
    entity(
        &f,
        "w1",
        "WISHLIST",
        "wl-1",
        "CREATE",
        json!({"items": ["P4", "P5", "P6"]}),
        json!({"email": "wisher@example.com"}),
    )
    .await;

    let price_drop = job(&f, "PRICE_DROP").await;
    let abandoned = job(&f, "ABANDONED_CART").await;
    let reminder = job(&f, "WISHLIST_REMINDER").await;
    f.clock.advance(Duration::minutes(61));
    assert_eq!(checked_tick(&f, &scheduler(&f, &base)).await.jobs.ran, 3);
    let mails = sent(&receiver);
    let to = |email: &str| mails.iter().find(|(t, _)| t == email).map(|(_, d)| d.clone());
    let drop = to("bargain@example.com").expect("the viewer hears of the drop");
    assert_eq!(
        (
            drop["items"][0]["price"].as_i64(),
            drop["items"][0]["previousPrice"].as_i64()
        ),
        (Some(15), Some(20))
    );
    assert_eq!(
        to("left@example.com").expect("the abandoned cart")["items"][0]["productId"],
        "P3"
    );
    assert!(to("bought@example.com").is_none(), "an order followed that cart");
    assert_eq!(
        to("wisher@example.com").expect("the wishlist")["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(mails.len(), 3, "{mails:?}");
    for id in [price_drop, abandoned, reminder] {
        assert_eq!(
            f.table.job_runs(&f.store_id, &id, 1).await.unwrap()[0].messages_sent,
            1,
            "{id}"
        );
    }
}

#[tokio::test]
async fn when_customers_withdrew_consent_or_have_no_address_should_mail_only_the_others_and_count_why() {
    let f = Fixture::new().await;
    let receiver = WebhookReceiver::start().await;
    receiver.answer(202);
    let out_of_stock = json!({"productId": "P2", "quantity": 0});
    entity(&f, "i1", "INVENTORY_LEVEL", "P2", "CREATE", out_of_stock, json!({})).await;
    for viewer in [
        "open@example.com",
        "unsubscribed@example.com",
        "declined@example.com",
        "+380501234567",
    ] {
        esputnik(&f, viewed(viewer, "P2", 0)).await;
    }
    // One unsubscribes through the profile API; another says no with an eSputnik event.
    let (status, profile) = crate::customers_upsert::put_customer(
        &f,
        &json!({"email": "unsubscribed@example.com", "customFields": {"Accepts Marketing": false}}),
    )
    .await;
    assert_eq!(status, 200, "{profile}");
    esputnik(
        &f,
        json!({"eventTypeKey": "pageViewed", "keyValue": "declined@example.com",
               "params": [{"name": "acceptsMarketing", "value": "false"}]}),
    )
    .await;
    let in_stock = json!({"productId": "P2", "quantity": 3});
    entity(&f, "i2", "INVENTORY_LEVEL", "P2", "UPDATE", in_stock, json!({})).await;
    let id = job(&f, "BACK_IN_STOCK").await;

    let tick = scheduler(&f, &receiver.base());
    f.clock.advance(Duration::minutes(61));
    assert_eq!(checked_tick(&f, &tick).await.jobs.ran, 1);
    let mailed: Vec<String> = sent(&receiver).into_iter().map(|(to, _)| to).collect();
    assert_eq!(mailed, ["open@example.com"]);
    let run = &f.table.job_runs(&f.store_id, &id, 5).await.unwrap()[0];
    assert_eq!((run.recipients_evaluated, run.messages_sent), (4, 1));
    let skipped = (run.skipped.capped, run.skipped.no_consent, run.skipped.no_email);
    assert_eq!(skipped, (0, 2, 1), "{run:?}");

    // The next hour: the one mailed is capped; the others are skipped again for the same reasons.
    f.clock.advance(Duration::hours(1));
    assert_eq!(checked_tick(&f, &tick).await.jobs.ran, 1);
    assert!(sent(&receiver).is_empty());
    let run = &f.table.job_runs(&f.store_id, &id, 5).await.unwrap()[0];
    let skipped = (run.skipped.capped, run.skipped.no_consent, run.skipped.no_email);
    assert_eq!((run.messages_sent, skipped), (0, (1, 2, 1)), "{run:?}");
}

/// A wishlist of `email`'s with one item, and a WISHLIST_REMINDER job of the fixture's store due in an hour
/// (`extra`: more fields of the job).
async fn a_wishlist_and_its_reminder(f: &Fixture, email: &str, extra: Value) -> String {
    let keys = json!({"email": email});
    entity(f, "w1", "WISHLIST", "wl-1", "CREATE", json!({"items": ["P7"]}), keys).await;
    job_with(f, "WISHLIST_REMINDER", extra).await
}

#[tokio::test]
async fn when_stores_have_their_own_email_identities_should_mail_each_as_itself_and_refuse_without_one() {
    let logs = crate::support::captured_logs();
    let receiver = WebhookReceiver::start().await;
    receiver.answer(202);
    let shop_a = Fixture::new().await;
    shop_a
        .set_email_identity(r#"{"apiKey": "SG.shop-a-key", "fromEmail": "news@shop-a.example", "fromName": "Shop A", "unsubscribeGroupId": 11}"#)
        .await;
    let shop_b = Fixture::new().await;
    shop_b
        .set_email_identity(
            r#"{"apiKey": "SG.shop-b-key", "fromEmail": "hello@shop-b.example", "replyTo": "help@shop-b.example"}"#,
        )
        .await;
    let shop_c = Fixture::without_email_identity().await;
    let mut runs = Vec::new();
    // Shop B's job names its own unsubscribe group; shop A's takes the identity's.
    let jobs = [
        (&shop_a, "ann@example.com", json!({})),
        (&shop_b, "bob@example.com", json!({"unsubscribe_group_id": 77})),
        (&shop_c, "cy@example.com", json!({})),
    ];
    for (f, email, extra) in jobs {
        let id = a_wishlist_and_its_reminder(f, email, extra).await;
        f.clock.advance(Duration::minutes(61));
        assert_eq!(checked_tick(f, &scheduler(f, &receiver.base())).await.jobs.ran, 1);
        runs.push(f.table.job_runs(&f.store_id, &id, 1).await.unwrap().remove(0));
    }
    let requests = receiver.take();
    assert_eq!(requests.len(), 2, "shop C sent nothing");
    let seen: Vec<(Option<&str>, Value)> = requests
        .iter()
        .map(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap();
            let to = body["personalizations"][0]["to"][0]["email"].clone();
            (
                r.header("authorization"),
                json!([body["from"], body["reply_to"], body["asm"], to]),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                Some("Bearer SG.shop-a-key"),
                json!([{"email": "news@shop-a.example", "name": "Shop A"}, null, {"group_id": 11}, "ann@example.com"])
            ),
            (
                Some("Bearer SG.shop-b-key"),
                json!([{"email": "hello@shop-b.example"}, {"email": "help@shop-b.example"}, {"group_id": 77}, "bob@example.com"])
            ),
        ]
    );
    assert_eq!(runs.iter().map(|r| r.messages_sent).collect::<Vec<_>>(), [1, 1, 0]);
    assert_eq!(
        runs[2].errors,
        [collector_core::service::notifications::NO_EMAIL_IDENTITY]
    );

    // The keys are sealed where they are stored: not in the store's item, not in any item of the table.
    for (f, key) in [(&shop_a, "SG.shop-a-key"), (&shop_b, "SG.shop-b-key")] {
        let text = crate::support::table_items(f).await.join("\n");
        assert!(!text.contains(key), "the key in plain text in the table");
        assert!(text.contains("sealedApiKey"), "the identity is stored");
        assert!(!logs.text().contains(key), "the key was logged");
    }
}
