//! `PUT /stores/{storeId}/customers`: creating or updating a profile by email with the patch semantics of
//! an event's `customer`, through the real ingest function against moto, and what subscribers receive.

use integration_tests::{apigw_request, read_response};
use serde_json::{json, Value};

use crate::pipeline::Pipeline;
use crate::reads::get_with;
use crate::support::Fixture;
use crate::wiring::reads_handler;

pub(crate) async fn put_customer(f: &Fixture, body: &Value) -> (u16, Value) {
    let auth = f.bearer();
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    let path = format!("/stores/{}/customers", f.store_id);
    let request = apigw_request("PUT", &path, &headers, Some(&body.to_string()));
    read_response(f.handler.handle(request).await)
}

#[tokio::test]
async fn when_a_profile_is_put_should_create_then_patch_it_and_tell_customer_subscribers() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let reads = reads_handler(&f);
    let customers = p
        .sqs_subscriber(json!({"entityType": "CUSTOMER", "subscribeCreate": true, "subscribeChange": true}))
        .await;
    let every_event = p.sqs_subscriber(json!({"eventNames": ["*"]})).await;

    let (status, created) = put_customer(
        &f,
        &json!({"email": "Ada@Example.com", "firstName": "Ada", "location": {"city": "London"},
                "customFields": {"Tier": "Gold"}}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["customerId"].as_str().unwrap().to_owned();
    assert_eq!(created["email"], "Ada@Example.com");
    assert_eq!(created["firstName"], "Ada");
    assert_eq!(created["customFields"], json!({"Tier": "Gold"}));

    // Only sent fields change; an empty string removes one; a phone nobody owns is attached.
    let (status, updated) = put_customer(
        &f,
        &json!({"email": "ada@example.com", "lastName": "Lovelace", "location": {"city": ""},
                "phoneNumber": "+442071234567"}),
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["customerId"], id.as_str());
    assert_eq!(
        (&updated["firstName"], &updated["lastName"]),
        (&json!("Ada"), &json!("Lovelace"))
    );
    assert_eq!(updated["location"], json!({}));
    assert_eq!(updated["phoneNumber"], "+442071234567");
    assert_eq!(updated["customFields"], json!({"Tier": "Gold"}), "not sent, kept");

    // The same again changes nothing and tells nobody.
    let (status, again) = put_customer(&f, &json!({"email": "ada@example.com", "lastName": "Lovelace"})).await;
    assert_eq!((status, &again["lastName"]), (200, &json!("Lovelace")));

    p.drain().await;
    let messages: Vec<Value> = p.received(&customers).await.into_iter().map(|(m, _)| m).collect();
    let types: Vec<&str> = messages.iter().map(|m| m["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["customer.created", "customer.updated"], "{messages:?}");
    let mut changed: Vec<&str> = messages[1]["changedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    changed.sort_unstable();
    assert_eq!(changed, ["lastName", "location.city", "phoneNumber"]);
    assert_eq!(messages[1]["data"]["customerId"], id.as_str());
    assert!(
        p.received(&every_event).await.is_empty(),
        "a profile write is not a custom event: custom-event subscribers get nothing"
    );

    // The profile reads back as the answer said, and the phone now finds it.
    let (status, read) = get_with(
        &reads,
        &f.key,
        &format!("/stores/{}/customers?phoneNumber=%2B442071234567", f.store_id),
    )
    .await;
    assert_eq!((status, &read["customerId"]), (200, &json!(id)));
}

#[tokio::test]
async fn when_a_profile_names_an_owned_phone_should_resolve_to_its_owner_as_an_event_does() {
    let f = Fixture::new().await;
    let reads = reads_handler(&f);
    let (status, owner) = f
        .post(&json!({"eventName": "Signed Up", "customer": {"email": "owner@example.com", "phoneNumber": "+14155550111"}}))
        .await;
    assert_eq!(status, 202, "{owner}");
    // Later than the event, so it lists first (events of one millisecond list by id).
    f.clock.advance(chrono::Duration::seconds(1));
    let (status, put) = put_customer(
        &f,
        &json!({"email": "other@example.com", "phoneNumber": "+14155550111"}),
    )
    .await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(
        put["customerId"], owner["customerId"],
        "the phone's owner, as an event would find"
    );
    assert_eq!(
        put["email"], "owner@example.com",
        "an email differing from the profile's is not taken"
    );
    // The write is listed among the customer's events, with the conflict it recorded.
    let customer = owner["customerId"].as_str().unwrap();
    let (status, listed) = get_with(&reads, &f.key, &format!("{}?customerId={customer}", f.path())).await;
    assert_eq!(status, 200, "{listed}");
    let newest = &listed["events"][0];
    assert_eq!(newest["eventName"], "$profile");
    assert_eq!(newest["identity"]["matchedBy"], "phoneNumber", "{newest}");
    assert!(
        !newest["identity"]["conflicts"].as_array().unwrap().is_empty(),
        "{newest}"
    );
}

#[tokio::test]
async fn when_a_profile_is_invalid_should_answer_400_with_pointers_and_write_nothing() {
    let f = Fixture::new().await;
    let before = f.stored_counts().await;
    for (body, pointers) in [
        (json!({"firstName": "No Identifier"}), vec![""]),
        (
            json!({"email": "not-an-email", "phoneNumber": "555"}),
            vec!["/email", "/phoneNumber"],
        ),
        (
            json!({"email": "a@example.com", "customFields": {"x": [1]}}),
            vec!["/customFields/x"],
        ),
        (json!([1, 2]), vec![""]),
    ] {
        let (status, problem) = put_customer(&f, &body).await;
        assert_eq!(status, 400, "{body}: {problem}");
        let got: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["pointer"].as_str().unwrap())
            .collect();
        assert_eq!(got, pointers, "{body}: {problem}");
    }
    assert_eq!(f.stored_counts().await, before, "nothing written");
}
