//! `POST /api/v1/event`: the eSputnik dialect on the same pipeline, with the order lifecycle.

use integration_tests::read_response;
use serde_json::{json, Value};

use collector_core::ports::{Clock, IngestStore};

use crate::pipeline::Pipeline;
use crate::support::Fixture;

async fn send(f: &Fixture, body: &Value) -> (u16, Value) {
    read_response(f.handler.handle(f.json_post("/api/v1/event", body)).await)
}

/// The spec's orderCreated example, verbatim (`events/bodies/`, shared with the benchmarks).
fn order_created() -> Value {
    serde_json::from_str(include_str!("../../events/bodies/esputnik-order-created.json")).expect("the fixture is JSON")
}

fn order_event(key: &str, extra: &[(&str, &str)]) -> Value {
    let mut params = vec![
        json!({"name": "phone", "value": "380501234567"}),
        json!({"name": "externalOrderId", "value": "12345679"}),
    ];
    params.extend(extra.iter().map(|(n, v)| json!({"name": n, "value": v})));
    json!({"eventTypeKey": key, "keyValue": "380501234567", "params": params})
}

#[tokio::test]
async fn when_the_order_lifecycle_runs_should_keep_the_order_and_tell_order_subscribers() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let orders = p
        .sqs_subscriber(json!({"entityType": "ORDER", "subscribeCreate": true, "subscribeChange": true}))
        .await;

    // Delivered before it was created: ignored, and the answer says so.
    let (status, ignored) = send(&f, &order_event("orderDelivered", &[])).await;
    assert_eq!(
        (status, ignored["status"].as_str()),
        (200, Some("ignored")),
        "{ignored}"
    );
    assert!(ignored["detail"].as_str().unwrap().contains("does not exist"));
    assert_eq!(f.count("EVENT").await, 0, "nothing stored");

    let (status, created) = send(&f, &order_created()).await;
    assert_eq!(
        (status, created["status"].as_str()),
        (200, Some("accepted")),
        "{created}"
    );
    let order = f
        .table
        .order(&f.store_id, "12345679")
        .await
        .unwrap()
        .expect("the order is stored");
    assert_eq!(
        (order.status.as_str(), order.total_cost.as_f64()),
        ("INITIALIZED", Some(258.0))
    );
    assert_eq!(order.items.as_ref().unwrap()[0]["name"], "Super Device");
    assert_eq!(order.customer_id.to_string(), created["customerId"].as_str().unwrap());

    let (_, updated) = send(&f, &order_event("orderUpdated", &[("status", "IN_PROGRESS")])).await;
    assert_eq!(updated["status"], "accepted");
    assert_eq!(
        updated["customerId"], created["customerId"],
        "the same customer, by phone"
    );
    send(&f, &order_event("orderDelivered", &[])).await;
    assert_eq!(
        f.table.order(&f.store_id, "12345679").await.unwrap().unwrap().status,
        "DELIVERED"
    );
    send(&f, &order_event("orderCancelled", &[])).await;
    let order = f.table.order(&f.store_id, "12345679").await.unwrap().unwrap();
    assert_eq!((order.status.as_str(), order.version), ("CANCELLED", 4));

    p.drain().await;
    let got = p.received(&orders).await;
    let seen: Vec<(String, String)> = got
        .iter()
        .map(|(e, _)| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["data"]["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(seen.contains(&("order.created".into(), "INITIALIZED".into())));
    for status in ["IN_PROGRESS", "DELIVERED", "CANCELLED"] {
        assert!(
            seen.contains(&("order.updated".into(), status.into())),
            "{status}: {seen:?}"
        );
    }
    let change = got.iter().find(|(e, _)| e["data"]["status"] == "DELIVERED").unwrap();
    assert_eq!(change.0["changedFields"], json!(["status"]));
    assert_eq!(change.0["data"]["externalOrderId"], "12345679");
}

#[tokio::test]
async fn when_an_update_creates_an_order_without_the_create_parameters_should_answer_400_and_store_nothing() {
    let f = Fixture::new().await;
    let (status, problem) = send(&f, &order_event("orderUpdated", &[("status", "IN_PROGRESS")])).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/params");
    assert!(problem["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("missing: externalCustomerId, totalCost, date"));
    assert_eq!(f.stored_counts().await, [0, 0, 0, 0]);
    let (status, problem) = send(&f, &order_event("orderCreated", &[("status", "INITIALIZED")])).await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (400, Some("/params"))
    );
}

#[tokio::test]
async fn when_the_specs_recommendation_examples_are_sent_should_accept_the_well_formed_ones() {
    let f = Fixture::new().await;
    let page = json!({"eventTypeKey": "pageViewed", "keyValue": "example@email.com", "params": [
        {"name": "phone", "value": "380501234567"}, {"name": "email", "value": "example@email.com"},
        {"name": "page", "value": "{\"location\":\"https://example.com\"}"}]});
    let (status, accepted) = send(&f, &page).await;
    assert_eq!(
        (status, accepted["status"].as_str()),
        (200, Some("accepted")),
        "{accepted}"
    );
    let stored = f.event(&accepted).await;
    assert_eq!(stored.event_name, "pageViewed");
    assert_eq!(stored.extra.unwrap()["page"]["location"], "https://example.com");

    // The spec's productViewed example has "]}" after its JSON: a field error, pointing at the value.
    let product = json!({"eventTypeKey": "productViewed", "keyValue": "example@email.com", "params": [
        {"name": "phone", "value": "411786452"}, {"name": "email", "value": "example@email.com"},
        {"name": "product", "value": "{\"productId\":\"WS01-L-Green\",\"price\":45.5,\"isInStock\":1,\"someProductProperty\":[\"green\"]}]}"},
        {"name": "currencyCode", "value": "USD"}]});
    let (status, problem) = send(&f, &product).await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (400, Some("/params/2/value")),
        "{problem}"
    );
    let mut fixed = product.clone();
    fixed["params"][2]["value"] =
        json!("{\"productId\":\"WS01-L-Green\",\"price\":45.5,\"isInStock\":1,\"someProductProperty\":[\"green\"]}");
    let (status, accepted) = send(&f, &fixed).await;
    assert_eq!(status, 200, "{accepted}");
    let extra = f.event(&accepted).await.extra.unwrap();
    assert_eq!(extra["product"]["isInStock"], 1);
    assert_eq!(
        extra["product"]["someProductProperty"], "[\"green\"]",
        "one level deep; deeper stays a string"
    );

    let category = json!({"eventTypeKey": "productCategoryViewed", "keyValue": "example@email.com", "params": [
        {"name": "phone", "value": "7411324763"}, {"name": "email", "value": "example@email.com"},
        {"name": "category", "value": "{\"productCategoryId\":\"Mugs\"}"}]});
    assert_eq!(send(&f, &category).await.0, 200);
    let cart = json!({"eventTypeKey": "cartUpdated", "keyValue": "example@email.com", "params": [
        {"name": "phone", "value": "73456712"}, {"name": "email", "value": "example@email.com"},
        {"name": "products", "value": "[{\"productId\":\"WS01-L-Green\",\"quantity\":1,\"price\":45.5}]"},
        {"name": "currencyCode", "value": "USD"}, {"name": "recycleStateId", "value": "d59c6e6d-4123-4b0e-8c32-15f0656a8c60"}]});
    let (status, accepted) = send(&f, &cart).await;
    assert_eq!(status, 200);
    let stored = f.event(&accepted).await;
    assert_eq!(stored.extra.unwrap()["products"][0]["productId"], "WS01-L-Green");
    assert!(stored.data.contains_key("recycleStateId"));
}

#[tokio::test]
async fn when_identified_by_parameters_in_odd_casing_should_resolve_one_customer() {
    let f = Fixture::new().await;
    let event = |name: &str, value: &str| json!({"eventTypeKey": "pageViewed", "keyValue": "ignored-key", "params": [{"name": name, "value": value}, {"name": "email", "value": "casey@example.com"}]});
    let (_, first) = send(&f, &event("SmS", "+1 (415) 555-0100")).await;
    let (_, second) = send(
        &f,
        &json!({"eventTypeKey": "pageViewed", "keyValue": "CASEY@example.com", "params": []}),
    )
    .await;
    let (_, third) = send(&f, &json!({"eventTypeKey": "pageViewed", "keyValue": "x", "params": [{"name": "PHONENUMBER", "value": "14155550100"}]})).await;
    assert_eq!(
        first["customerId"], second["customerId"],
        "email matches case-insensitively"
    );
    assert_eq!(
        first["customerId"], third["customerId"],
        "the phone, normalised, was attached"
    );
    assert_eq!(f.count("CUSTOMER").await, 1);
}

#[tokio::test]
async fn when_an_esputnik_event_carries_a_unique_id_should_store_it_once() {
    let f = Fixture::new().await;
    let event = json!({"eventTypeKey": "pageViewed", "keyValue": "dup@example.com", "params": [{"name": "uniqueId", "value": "u-1"}]});
    let (_, first) = send(&f, &event).await;
    let (status, again) = send(&f, &event).await;
    assert_eq!((status, again["status"].as_str()), (200, Some("duplicate")));
    assert_eq!(again["eventId"], first["eventId"]);
    let headers_body = json!({"eventTypeKey": "pageViewed", "keyValue": "t@example.com", "params": []});
    let auth = f.bearer();
    let request = integration_tests::apigw_request(
        "POST",
        "/api/v1/event",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
            ("x-twc-tenant", "665f1a2b3c4d5e6f7a8b9c0d"),
        ],
        Some(&headers_body.to_string()),
    );
    assert_eq!(
        read_response(f.handler.handle(request).await).0,
        403,
        "X-TWC-Tenant names another tenant"
    );
}

#[tokio::test]
async fn when_products_are_viewed_and_carts_change_should_record_what_the_jobs_query() {
    let f = Fixture::new().await;
    let viewed = |in_stock: u8| {
        json!({"eventTypeKey": "productViewed", "keyValue": "shopper@example.com", "params": [
            {"name": "product", "value": format!("{{\"productId\":\"WS01-L-Green\",\"price\":45.5,\"isInStock\":{in_stock}}}")},
            {"name": "currencyCode", "value": "USD"}]})
    };
    let (status, first) = send(&f, &viewed(0)).await;
    assert_eq!(status, 200, "{first}");
    send(&f, &viewed(1)).await;
    let viewers = f.table.product_viewers(&f.store_id, "WS01-L-Green").await.unwrap();
    assert_eq!(viewers.len(), 1);
    let view = &viewers[0];
    assert_eq!(view.customer_id.to_string(), first["customerId"].as_str().unwrap());
    assert_eq!((view.views, view.in_stock), (2, Some(true)));
    assert!(
        view.out_of_stock_viewed_at.is_some(),
        "seen out of stock once: a back-in-stock candidate"
    );

    let cart = json!({"eventTypeKey": "cartUpdated", "keyValue": "shopper@example.com", "params": [
        {"name": "products", "value": "[{\"productId\":\"WS01-L-Green\",\"quantity\":1,\"price\":45.5}]"},
        {"name": "recycleStateId", "value": "d59c6e6d-4123-4b0e-8c32-15f0656a8c60"}]});
    assert_eq!(send(&f, &cart).await.0, 200);
    let later = f.clock.now() + chrono::Duration::seconds(1);
    let open = f.table.open_carts_before(&f.store_id, later).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].products.as_ref().unwrap()[0]["productId"], "WS01-L-Green");
    let (status, problem) = send(
        &f,
        &json!({"eventTypeKey": "cartUpdated", "keyValue": "shopper@example.com", "params": []}),
    )
    .await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (400, Some("/params")),
        "recycleStateId is required"
    );

    // The customer orders: the cart was followed by an order.
    let mut order = order_created();
    order["keyValue"] = json!("shopper@example.com");
    order["params"][0] = json!({"name": "email", "value": "shopper@example.com"});
    assert_eq!(send(&f, &order).await.1["status"], "accepted");
    assert!(f.table.open_carts_before(&f.store_id, later).await.unwrap().is_empty());
    let customer = collector_core::domain::ids::CustomerId::parse(first["customerId"].as_str().unwrap()).unwrap();
    assert_eq!(
        f.table.cart(&f.store_id, &customer).await.unwrap().unwrap().cart_status,
        "ORDERED"
    );
}
