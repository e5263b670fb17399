//! `POST /api/v1/events` and `GET /api/v1/events/{id}`: entity events on the same pipeline, feeding the
//! projections the jobs read and reaching subscribers of the entity type.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use collector_core::domain::subscription::EntityType;
use integration_tests::{apigw_request, read_response};
use serde_json::{json, Value};

use crate::pipeline::Pipeline;
use crate::support::{pointers_of, Fixture};

async fn post(f: &Fixture, body: &Value) -> (u16, Value) {
    read_response(f.handler.handle(f.json_post("/api/v1/events", body)).await)
}

async fn get(f: &Fixture, key: &str, id: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let auth = format!("Bearer {key}");
    let mut headers = vec![("authorization", auth.as_str())];
    headers.extend_from_slice(extra);
    read_response(
        f.handler
            .handle(apigw_request("GET", &format!("/api/v1/events/{id}"), &headers, None))
            .await,
    )
}

fn entity_event(id: &str, entity: &str, entity_id: &str, operation: &str, payload: Value, keys: Value) -> Value {
    json!({
        "id": id, "entity_id": entity_id, "entity_name": entity, "event_source": "APPLICATION", "event_type": "ENTITY_EVENT",
        "event_payload": {"base64_encoded_payload_json": STANDARD.encode(payload.to_string()), "entity_id": entity_id,
                          "key_attributes": keys, "operation": operation}
    })
}

/// The spec's example, verbatim.
fn spec_example() -> Value {
    json!({
        "entity_id": "string", "entity_name": "string",
        "event_payload": {"base64_encoded_fault_json": "string", "base64_encoded_payload_json": "string", "entity_id": "string",
                          "key_attributes": {"additionalProp1": "string", "additionalProp2": "string", "additionalProp3": "string"},
                          "operation": "BULK_CREATE"},
        "event_source": "APPLICATION", "event_type": "ENTITY_EVENT", "id": "string"
    })
}

#[tokio::test]
async fn when_the_spec_example_is_posted_should_answer_400_for_its_placeholder_fields() {
    let f = Fixture::new().await;
    let (status, problem) = post(&f, &spec_example()).await;
    assert_eq!(status, 400, "{problem}");
    let pointers = pointers_of(&problem);
    // "string" is neither an entity type nor base64 JSON.
    assert_eq!(
        pointers,
        [
            "/entity_name",
            "/event_payload/base64_encoded_payload_json",
            "/event_payload/base64_encoded_fault_json"
        ],
        "{problem}"
    );
    assert_eq!(f.count("EVENT").await, 0);
    // The same example with real values where the placeholders were is accepted.
    let mut fixed = spec_example();
    fixed["entity_name"] = json!("PRODUCT");
    fixed["event_payload"]["base64_encoded_payload_json"] = json!(STANDARD.encode(r#"{"name":"Mug"}"#));
    fixed["event_payload"]["base64_encoded_fault_json"] = json!(STANDARD.encode("{}"));
    let (status, created) = post(&f, &fixed).await;
    assert_eq!(
        (status, created["status"].as_str()),
        (201, Some("accepted")),
        "{created}"
    );
    assert_eq!(
        created["event_payload"]["operation"], "BULK_CREATE",
        "the representation comes back"
    );
}

#[tokio::test]
async fn when_an_inventory_level_is_created_changed_and_deleted_should_keep_its_stock_and_tell_subscribers() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let queue = p
        .sqs_subscriber(json!({"entityType": "INVENTORY_LEVEL", "subscribeCreate": true, "subscribeChange": true, "subscribeDelete": true}))
        .await;
    let sku = json!({"sku": "WS01-L-Green"});
    let (status, created) = post(
        &f,
        &entity_event(
            "e-1",
            "INVENTORY_LEVEL",
            "WS01-L-Green",
            "CREATE",
            json!({"sku": "WS01-L-Green", "quantity": 0}),
            sku.clone(),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let state = |f: &'_ Fixture| {
        let table = f.table.clone();
        let store = f.store_id.clone();
        async move { table.entity_states(&store, EntityType::InventoryLevel).await.unwrap() }
    };
    assert_eq!(state(&f).await[0].summary.in_stock, Some(false));
    post(
        &f,
        &entity_event(
            "e-2",
            "inventoryLevel",
            "WS01-L-Green",
            "UPDATE",
            json!({"sku": "WS01-L-Green", "quantity": 5}),
            sku.clone(),
        ),
    )
    .await;
    let states = state(&f).await;
    assert_eq!((states[0].summary.in_stock, states[0].version), (Some(true), 2));
    let (status, _) = post(
        &f,
        &entity_event("e-3", "INVENTORY_LEVEL", "WS01-L-Green", "DELETE", json!({}), sku),
    )
    .await;
    assert_eq!(status, 201);
    assert!(state(&f).await.is_empty(), "deleted from the projection");

    p.drain().await;
    let got: Vec<Value> = p.received(&queue).await.into_iter().map(|(e, _)| e).collect();
    let types: Vec<&str> = got.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.len(), 3);
    for expected in [
        "inventory_level.created",
        "inventory_level.updated",
        "inventory_level.deleted",
    ] {
        assert!(types.contains(&expected), "{types:?}");
    }
    let updated = got.iter().find(|e| e["type"] == "inventory_level.updated").unwrap();
    assert_eq!(updated["changedFields"], json!(["quantity"]));
    assert_eq!(updated["data"]["quantity"], 5);
}

#[tokio::test]
async fn when_wishlists_prices_and_products_arrive_should_lift_what_the_jobs_need() {
    let f = Fixture::new().await;
    let wishlist = entity_event(
        "w-1",
        "WISHLIST",
        "wl-9",
        "CREATE",
        json!({"items": [{"productId": "P1"}, "P2"]}),
        json!({"email": "wisher@example.com"}),
    );
    let (status, created) = post(&f, &wishlist).await;
    assert_eq!(status, 201, "{created}");
    let lists = f.table.entity_states(&f.store_id, EntityType::Wishlist).await.unwrap();
    assert_eq!(lists[0].summary.items, ["P1", "P2"]);
    let customer = lists[0]
        .customer_id
        .clone()
        .expect("the wishlist's customer, from key_attributes.email");
    assert_eq!(
        f.customer(customer.as_str()).await.email.as_deref(),
        Some("wisher@example.com")
    );

    post(
        &f,
        &entity_event(
            "p-1",
            "PRICE",
            "P1",
            "CREATE",
            json!({"productId": "P1", "price": "19.90", "currency": "EUR"}),
            json!({}),
        ),
    )
    .await;
    let prices = f.table.entity_states(&f.store_id, EntityType::Price).await.unwrap();
    assert_eq!(
        (
            prices[0].summary.price.as_ref().and_then(|p| p.as_f64()),
            prices[0].summary.currency.as_deref()
        ),
        (Some(19.9), Some("EUR"))
    );
    post(
        &f,
        &entity_event(
            "p-2",
            "VARIANT_PRODUCT",
            "P1-L",
            "CREATE",
            json!({"name": "Mug L", "url": "https://shop.example/mug", "imageUrl": "https://shop.example/mug.png"}),
            json!({}),
        ),
    )
    .await;
    let variants = f
        .table
        .entity_states(&f.store_id, EntityType::VariantProduct)
        .await
        .unwrap();
    assert_eq!(
        variants[0].summary.image_url.as_deref(),
        Some("https://shop.example/mug.png")
    );
}

#[tokio::test]
async fn when_the_same_id_comes_again_should_dedupe_and_reads_should_stay_within_the_tenant() {
    let f = Fixture::new().await;
    let event = entity_event("dup-1", "PRICE", "P9", "CREATE", json!({"price": 3}), json!({}));
    let (status, first) = post(&f, &event).await;
    assert_eq!(status, 201);
    let (status, again) = post(&f, &event).await;
    assert_eq!((status, again["status"].as_str()), (200, Some("duplicate")));
    assert_eq!(again["eventId"], first["eventId"]);
    let other_content = entity_event("dup-1", "PRICE", "P9", "CREATE", json!({"price": 4}), json!({}));
    assert_eq!(post(&f, &other_content).await.0, 409);

    let id = first["eventId"].as_str().unwrap();
    let (status, read) = get(&f, &f.key, id, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(read["id"], "dup-1");
    assert_eq!(read["event_payload"], event["event_payload"], "as sent, base64 and all");
    let (other, other_key) = f.other_tenant_key().await;
    assert_eq!(
        get(&f, &other_key, id, &[]).await.0,
        404,
        "another tenant's event is not found"
    );
    assert_eq!(get(&f, &f.key, "665f1a2b3c4d5e6f7a8b9c0d", &[]).await.0, 404);
    assert_eq!(get(&f, &f.key, id, &[("x-twc-tenant", other.as_str())]).await.0, 403);

    let mut bad = event.clone();
    bad["event_payload"]["base64_encoded_payload_json"] = json!("not base64!");
    let (status, problem) = post(&f, &bad).await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (400, Some("/event_payload/base64_encoded_payload_json"))
    );
}

#[tokio::test]
async fn when_an_event_is_read_by_the_id_its_client_sent_should_find_it_within_the_tenant() {
    let f = Fixture::new().await;
    let event = entity_event("client id/1 é", "PRICE", "P9", "CREATE", json!({"price": 3}), json!({}));
    let (status, created) = post(&f, &event).await;
    assert_eq!(status, 201, "{created}");
    let by_client_id = "client%20id%2F1%20%C3%A9";
    let (status, read) = get(&f, &f.key, by_client_id, &[]).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["eventId"], created["eventId"]);
    assert_eq!(read["id"], "client id/1 é");
    let (_, other_key) = f.other_tenant_key().await;
    assert_eq!(
        get(&f, &other_key, by_client_id, &[]).await.0,
        404,
        "not across tenants"
    );
    // A Redo event's uniqueId shares the key space, but is no entity event.
    f.post(&json!({"eventName": "Order Placed", "uniqueId": "redo-1", "customer": {"email": "r@example.com"}}))
        .await;
    assert_eq!(get(&f, &f.key, "redo-1", &[]).await.0, 404);
    for hostile in ["%FF", &"a".repeat(300), "unknown"] {
        assert_eq!(get(&f, &f.key, hostile, &[]).await.0, 404, "{hostile}");
    }

    // After the dedupe window the id may name a new event: the read finds the latest.
    f.clock.advance(chrono::Duration::days(8));
    let (status, newer) = post(
        &f,
        &entity_event("client id/1 é", "PRICE", "P9", "UPDATE", json!({"price": 2}), json!({})),
    )
    .await;
    assert_eq!(status, 201, "{newer}");
    assert_eq!(get(&f, &f.key, by_client_id, &[]).await.1["eventId"], newer["eventId"]);
    let first_id = created["eventId"].as_str().unwrap();
    assert_eq!(
        get(&f, &f.key, first_id, &[]).await.0,
        200,
        "the first is still there by its eventId"
    );
}

#[tokio::test]
async fn when_a_customer_entity_event_creates_the_customer_should_send_one_customer_created() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let queue = p
        .sqs_subscriber(json!({"entityType": "CUSTOMER", "subscribeCreate": true, "subscribeChange": true}))
        .await;
    let (status, created) = post(
        &f,
        &entity_event(
            "c-1",
            "CUSTOMER",
            "C-1",
            "CREATE",
            json!({"email": "new@example.com", "firstName": "Ada"}),
            json!({"email": "new@example.com"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    p.drain().await;
    let got: Vec<Value> = p.received(&queue).await.into_iter().map(|(e, _)| e).collect();
    let types: Vec<&str> = got.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        ["customer.created"],
        "one message per (event, subscription, type): {got:?}"
    );
    assert_eq!(got[0]["id"], created["eventId"]);
}
