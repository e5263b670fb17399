//! The request sequences the partition-heat model reads (`tests/heat/`, `scripts/scale_model.py`): each flow
//! the model's scenarios combine, run through the real handlers, recorded as the partitions it touched.
//! Single events and bulks are recorded where their request counts are asserted (`requests.rs`); the rest
//! here. A flow whose requests the recorder cannot interpret fails.

use chrono::Duration;
use integration_tests::heat::write_sequence;
use integration_tests::read_response;
use serde_json::{json, Value};

use crate::notifications::{entity, esputnik, viewed};
use crate::pipeline::{checked_tick, Pipeline, WebhookReceiver};
use crate::support::Fixture;
use crate::wiring::{create_job, scheduler, scheduler_with};

fn record(f: &Fixture, name: &str, description: &str, instances: usize) {
    write_sequence(name, description, instances, &f.clients.log.take_touches());
}

#[tokio::test]
async fn when_esputnik_events_of_each_kind_arrive_should_record_their_requests() {
    let f = Fixture::new().await;
    // A known customer: the key and settings are cached, the customer exists.
    esputnik(&f, viewed("shopper@example.com", "P0", 1)).await;
    f.clients.log.take_touches();

    esputnik(&f, viewed("shopper@example.com", "P1", 0)).await;
    record(
        &f,
        "esputnik_product_viewed",
        "eSputnik productViewed of a known customer",
        1,
    );
    let cart = json!({"eventTypeKey": "cartUpdated", "keyValue": "shopper@example.com", "params": [
        {"name": "products", "value": "[{\"productId\":\"P1\",\"quantity\":1,\"price\":12}]"},
        {"name": "recycleStateId", "value": "r-1"}]});
    esputnik(&f, cart).await;
    record(
        &f,
        "esputnik_cart_updated",
        "eSputnik cartUpdated of a known customer",
        1,
    );
    let order = |key: &str| {
        json!({"eventTypeKey": key, "keyValue": "shopper@example.com", "params": [
            {"name": "externalOrderId", "value": "o-1"}, {"name": "externalCustomerId", "value": "x"},
            {"name": "totalCost", "value": "12"}, {"name": "status", "value": "INITIALIZED"},
            {"name": "date", "value": "2026-11-22T10:00:00"}]})
    };
    esputnik(&f, order("orderCreated")).await;
    record(
        &f,
        "esputnik_order_created",
        "eSputnik orderCreated of a known customer",
        1,
    );
    esputnik(&f, order("orderDelivered")).await;
    record(
        &f,
        "esputnik_order_status",
        "eSputnik orderDelivered (a status change)",
        1,
    );
}

/// An inventory level of product `P1`.
async fn inventory(f: &Fixture, id: &str, operation: &str, quantity: u32) {
    let level = json!({"productId": "P1", "quantity": quantity});
    entity(f, id, "INVENTORY_LEVEL", "P1", operation, level, json!({})).await;
}

fn mug() -> Value {
    json!({"productId": "P1", "name": "Mug", "url": "https://shop.example/mug", "imageUrl": "https://shop.example/mug.png"})
}

#[tokio::test]
async fn when_entity_events_of_each_kind_arrive_should_record_their_requests() {
    let f = Fixture::new().await;
    let price = |price: u32| json!({"productId": "P1", "price": price, "currency": "EUR"});
    entity(&f, "warm", "PRICE", "P0", "CREATE", price(1), json!({})).await;
    f.clients.log.take_touches();

    inventory(&f, "i1", "CREATE", 0).await;
    record(&f, "entity_inventory_create", "entity event: INVENTORY_LEVEL CREATE", 1);
    inventory(&f, "i2", "UPDATE", 5).await;
    record(
        &f,
        "entity_inventory_update",
        "entity event: INVENTORY_LEVEL UPDATE of a known level",
        1,
    );
    entity(&f, "c1", "PRICE", "P1", "CREATE", price(12), json!({})).await;
    record(&f, "entity_price_create", "entity event: PRICE CREATE", 1);
    entity(&f, "c2", "PRICE", "P1", "UPDATE", price(10), json!({})).await;
    record(
        &f,
        "entity_price_update",
        "entity event: PRICE UPDATE of a known price",
        1,
    );
    entity(&f, "p1", "PRODUCT", "P1", "CREATE", mug(), json!({})).await;
    record(&f, "entity_product_create", "entity event: PRODUCT CREATE", 1);
    let wisher = json!({"email": "wisher@example.com"});
    entity(&f, "w1", "WISHLIST", "wl-1", "CREATE", json!({"items": ["P1"]}), wisher).await;
    record(
        &f,
        "entity_wishlist_create",
        "entity event: WISHLIST CREATE of a new customer",
        1,
    );
    let customer = json!({"email": "new@example.com", "firstName": "N"});
    let keys = json!({"email": "new@example.com"});
    entity(&f, "u1", "CUSTOMER", "cu-1", "CREATE", customer, keys).await;
    record(&f, "entity_customer_create", "entity event: CUSTOMER CREATE", 1);
}

#[tokio::test]
async fn when_a_full_batch_goes_to_five_subscriptions_should_record_its_requests() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let all = json!({"eventNames": ["Order Placed"]});
    p.sqs_subscriber(all.clone()).await;
    p.sqs_subscriber(all.clone()).await;
    p.sns_subscriber(all.clone()).await;
    p.sns_subscriber(all).await;
    let (receiver, _) = p.webhook_subscriber(json!(["Order Placed"])).await;
    receiver.answer(200);
    let description = "dispatch of a 100-message batch to 2 SQS, 2 SNS and 1 webhook subscription";
    dispatch_recorded(&p, "Order Placed", 500, "dispatch_batch_5_subscriptions", description).await;
}

/// Ingests a bulk of 100 `event_name` events, then records the dispatch of the batch of their 100 messages,
/// which must deliver `delivered` messages.
async fn dispatch_recorded(p: &Pipeline<'_>, event_name: &str, delivered: usize, name: &str, description: &str) {
    let f = p.f;
    let events: Vec<Value> = (0..100)
        .map(|i| json!({"eventName": event_name, "uniqueId": format!("o-{i}"), "customer": {"email": format!("c{i}@example.com")}}))
        .collect();
    assert_eq!(f.post_bulk(&json!({ "events": events })).await.0, 202);
    let (event, _) = p.receive_up_to(100).await.unwrap();
    f.clients.log.take_touches();
    let (_, counts) = p.dispatcher.handle_counted(event, "it-request").await.unwrap();
    assert_eq!(counts.delivered, delivered);
    record(f, name, description, 100);
}

#[tokio::test]
async fn when_the_sweep_finds_stalled_events_should_record_its_requests() {
    let f = Fixture::new().await;
    for i in 0..10 {
        assert_eq!(
            f.post(
                &json!({"eventName": "Stalled", "uniqueId": format!("s-{i}"), "customer": {"email": "s@example.com"}})
            )
            .await
            .0,
            202
        );
    }
    // The sweep as deployed: it reads every one of the deployment's shards (the events are in the first
    // of them: the fixture spreads over fewer).
    let shards = deployed_pending_shards().to_string();
    let sweeper = scheduler_with(&f, "http://127.0.0.1:9", &[("PENDING_SHARDS", &shards)]);
    f.clock.advance(Duration::minutes(6));
    f.clients.log.take_touches();
    assert_eq!(checked_tick(&f, &sweeper).await.sweep.enqueued, 10);
    record(
        &f,
        "scheduler_tick_sweep_10",
        "a scheduler tick whose sweep re-enqueues 10 stalled events (no job due)",
        1,
    );
}

#[tokio::test]
async fn when_a_job_runs_should_record_its_requests() {
    let f = Fixture::new().await;
    let receiver = WebhookReceiver::start().await;
    receiver.answer(202);
    inventory(&f, "i1", "CREATE", 0).await;
    for n in 0..5 {
        esputnik(&f, viewed(&format!("waiting{n}@example.com"), "P1", 0)).await;
    }
    entity(&f, "p1", "PRODUCT", "P1", "CREATE", mug(), json!({})).await;
    inventory(&f, "i2", "UPDATE", 5).await;
    let body = json!({"notification": "BACK_IN_STOCK", "schedule": "rate(1 hour)", "template_id": "d-0123456789abcdef0123456789abcdef"});
    create_job(&f, &body).await;
    let tick = scheduler(&f, &receiver.base());
    f.clock.advance(Duration::minutes(61));
    f.clients.log.take_touches();
    assert_eq!(checked_tick(&f, &tick).await.jobs.ran, 1);
    assert_eq!(receiver.take().len(), 1, "one SendGrid request for the five viewers");
    record(
        &f,
        "job_run_back_in_stock_5",
        "a BACK_IN_STOCK run mailing the 5 viewers of a product back in stock",
        1,
    );
}

#[tokio::test]
async fn when_a_customer_is_erased_should_record_its_requests() {
    let f = Fixture::new().await;
    let (status, first) = f
        .post(
            &json!({"eventName": "Signed Up", "customer": {"email": "ann@example.com", "phoneNumber": "+14155550123"}}),
        )
        .await;
    assert_eq!(status, 202, "{first}");
    esputnik(&f, viewed("ann@example.com", "P1", 1)).await;
    f.clients.log.take_touches();
    let bearer = f.bearer();
    let request = integration_tests::apigw_request(
        "DELETE",
        &format!("/stores/{}/customers?email=ann@example.com", f.store_id),
        &[("authorization", &bearer)],
        None,
    );
    let (status, answer) = read_response(f.handler.handle(request).await);
    assert_eq!(status, 200, "{answer}");
    record(
        &f,
        "erasure_by_email",
        "erasure of a customer with 2 events, a product view and 2 identifiers",
        1,
    );
}

#[tokio::test]
async fn when_a_full_batch_has_no_subscriber_should_record_its_requests() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let description = "dispatch of a 100-message batch no subscription matches";
    dispatch_recorded(&p, "Nobody Listens", 0, "dispatch_batch_no_subscription", description).await;
}

#[tokio::test]
async fn when_a_full_batch_meets_an_inactive_subscription_should_record_its_skipped_records() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    p.sqs_subscriber(json!({"eventNames": ["Order Placed"]})).await;
    let (_, listed) = p.api("GET", "/api/v1/event-subscription", None).await;
    let id = listed[0]["id"].as_str().unwrap();
    let (status, _) = p
        .api("PUT", &format!("/api/v1/event-subscription/{id}/deactivate"), None)
        .await;
    assert_eq!(status, 200);
    let description = "dispatch of a 100-message batch to 1 inactive subscription (100 SKIPPED records)";
    dispatch_recorded(
        &p,
        "Order Placed",
        0,
        "dispatch_batch_inactive_subscription",
        description,
    )
    .await;
}

#[tokio::test]
async fn when_a_replay_sends_a_page_should_record_its_requests() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let since = f.clock_now_text();
    let queue = p.sqs_subscriber(json!({"eventNames": ["Order Placed"]})).await;
    let (_, listed) = p.api("GET", "/api/v1/event-subscription", None).await;
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let events: Vec<Value> = (0..100)
        .map(|i| json!({"eventName": "Order Placed", "uniqueId": format!("o-{i}"), "customer": {"email": format!("c{i}@example.com")}}))
        .collect();
    assert_eq!(f.post_bulk(&json!({ "events": events })).await.0, 202);
    assert_eq!(p.drain().await.delivered, 100);
    p.received(&queue).await;
    f.clock.advance(Duration::seconds(1));
    let body = json!({"since": since});
    let (status, replay) = p
        .api("POST", &format!("/api/v1/event-subscription/{id}/replay"), Some(&body))
        .await;
    assert_eq!(status, 202, "{replay}");
    f.clients.log.take_touches();
    // The page: the replay record, the timeline's shards, the page's events; then the 100 aimed messages
    // dispatched as dispatch would any other.
    let mut delivered = 0;
    for _ in 0..3 {
        delivered += p.drain().await.delivered;
    }
    assert_eq!((delivered, p.received(&queue).await.len()), (100, 100));
    let description = "a replay page of 100 events to 1 SQS subscription: the page read, then each event sent again";
    record(&f, "replay_page_100", description, 100);
}

/// The pending shards a deployment has: the template's `PENDING_SHARDS`, as every function reads it.
fn deployed_pending_shards() -> u16 {
    let env = integration_tests::function_env("IngestFunction", &[]);
    env["PENDING_SHARDS"].parse().expect("a number of shards")
}

/// The constants of the code the model needs besides the requests: how many partitions a sharded key
/// spreads over, and how the rate limiter's leases grow.
#[test]
fn the_model_gets_the_codes_constants() {
    use collector_aws::keys;
    use collector_core::domain::rate_limit;
    let constants = json!({
        "shards": {"PENDING#{shard}": deployed_pending_shards(), "DUE#{shard}": keys::DUE_SHARDS,
                   "STORE#{store}#SUB#{subscription}#{shard}": keys::DELIVERY_SHARDS,
                   "STORE#{store}#SUB#{subscription}#{status}#{shard}": keys::DELIVERY_SHARDS,
                   "STORE#{store}#PRODUCTVIEW#{shard}#{product}": keys::VIEW_SHARDS,
                   "STORE#{store}#OPENCARTS#{shard}": keys::OPEN_CART_SHARDS,
                   "STORE#{store}#ENTITIES#{type}#{shard}": keys::ENTITY_SHARDS,
                   "STORE#{store}#EVENTS#{shard}": keys::TIMELINE_SHARDS,
                   "STORE#{store}#NAMED#{name}#{shard}": keys::TIMELINE_SHARDS},
        "rate_limit": {"max_lease": rate_limit::MAX_LEASE, "lease_share_divisor": rate_limit::LEASE_SHARE_DIVISOR,
                        "bulk_weight": rate_limit::BULK_WEIGHT,
                        "max_per_second": rate_limit::PER_SECOND_RANGE.end()},
    });
    let dir = integration_tests::target_dir().join("scale");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("constants.json"), constants.to_string()).unwrap();
}
