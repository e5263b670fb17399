//! Identity resolution (id > email > phoneNumber) and profile patch semantics.

use serde_json::{json, Value};

use crate::support::Fixture;

fn event(customer: Value) -> Value {
    json!({"eventName": "Identity", "customer": customer})
}

async fn accepted(f: &Fixture, customer: Value) -> Value {
    let (status, body) = f.post(&event(customer)).await;
    assert_eq!(status, 202, "{body}");
    serde_json::to_value(f.event(&body).await).unwrap()
}

#[tokio::test]
async fn when_no_identifier_matches_should_create_one_customer_and_match_it_later_by_each_identifier() {
    let f = Fixture::new().await;
    let first = accepted(&f, json!({"email": "Ada@Example.com", "phoneNumber": "+14155550100"})).await;
    assert_eq!(first["identity"]["matchedBy"], "created");
    let id = first["customerId"].clone();

    let by_email = accepted(&f, json!({"email": "ada@example.COM"})).await;
    assert_eq!(
        (
            by_email["customerId"].clone(),
            by_email["identity"]["matchedBy"].clone()
        ),
        (id.clone(), json!("email"))
    );
    let by_phone = accepted(&f, json!({"phoneNumber": "+14155550100"})).await;
    assert_eq!(
        (
            by_phone["customerId"].clone(),
            by_phone["identity"]["matchedBy"].clone()
        ),
        (id.clone(), json!("phoneNumber"))
    );
    let by_id = accepted(&f, json!({"id": id, "email": "someone-else@example.com"})).await;
    assert_eq!(
        (by_id["customerId"].clone(), by_id["identity"]["matchedBy"].clone()),
        (id.clone(), json!("id"))
    );
    assert_eq!(f.count("CUSTOMER").await, 1);
    // The stored email keeps the case it was sent in; matching ignores case.
    assert_eq!(
        f.customer(id.as_str().unwrap()).await.email.as_deref(),
        Some("Ada@Example.com")
    );
}

#[tokio::test]
async fn when_id_is_not_found_should_fall_back_to_email_instead_of_404() {
    let f = Fixture::new().await;
    let known = accepted(&f, json!({"email": "grace@example.com"})).await;
    let fallback = accepted(
        &f,
        json!({"id": "aaaaaaaaaaaaaaaaaaaaaaaa", "email": "grace@example.com"}),
    )
    .await;
    assert_eq!(fallback["customerId"], known["customerId"]);
    assert_eq!(fallback["identity"]["matchedBy"], "email");
    assert_eq!(fallback["identity"]["requestedIdNotFound"], true);
}

#[tokio::test]
async fn when_email_and_phone_point_to_different_customers_should_take_email_and_record_the_conflict() {
    let f = Fixture::new().await;
    let by_email = accepted(&f, json!({"email": "a@example.com"})).await["customerId"].clone();
    let by_phone = accepted(&f, json!({"phoneNumber": "+14155550111"})).await["customerId"].clone();
    assert_ne!(by_email, by_phone);

    let mixed = accepted(&f, json!({"email": "a@example.com", "phoneNumber": "+14155550111"})).await;
    assert_eq!(mixed["customerId"], by_email);
    assert_eq!(
        mixed["identity"]["conflicts"],
        json!([{"kind": "belongsToOtherCustomer", "identifier": "phoneNumber", "customerId": by_phone}])
    );
    // Nothing moved: the phone still finds its own customer, and the email customer did not get it.
    assert_eq!(
        accepted(&f, json!({"phoneNumber": "+14155550111"})).await["customerId"],
        by_phone
    );
    assert_eq!(f.customer(by_email.as_str().unwrap()).await.phone_number, None);
}

#[tokio::test]
async fn when_profile_fields_are_omitted_should_keep_them_and_record_what_changed() {
    let f = Fixture::new().await;
    let created = accepted(
        &f,
        json!({"email": "p@example.com", "firstName": "Pat", "lastName": "Lee",
               "location": {"city": "Oslo", "countryCode": "no"}, "customFields": {"Tier": "Gold", "Since": "2020-01-01T00:00:00Z"}}),
    )
    .await;
    let id = created["customerId"].as_str().unwrap().to_owned();

    let patched = accepted(&f, json!({"email": "p@example.com", "firstName": "Patricia", "location": {"postalCode": "0150"}, "customFields": {"Tier": "Gold"}})).await;
    assert_eq!(patched["changedFields"], json!(["firstName", "location.postalCode"]));
    let customer = serde_json::to_value(f.customer(&id).await).unwrap();
    assert_eq!(customer["firstName"], "Patricia");
    assert_eq!(customer["lastName"], "Lee");
    assert_eq!(
        customer["location"],
        json!({"city": "Oslo", "countryCode": "NO", "postalCode": "0150"})
    );
    assert_eq!(
        customer["customFields"]["Since"],
        json!({"$date": "2020-01-01T00:00:00.000Z"})
    );

    let unchanged = accepted(&f, json!({"email": "p@example.com", "lastName": "Lee"})).await;
    assert_eq!(unchanged["changedFields"], json!([]));
    let cleared = accepted(&f, json!({"email": "p@example.com", "lastName": ""})).await;
    assert_eq!(cleared["changedFields"], json!(["lastName"]));
    assert_eq!(f.customer(&id).await.last_name, None);
}

#[tokio::test]
async fn when_free_identifier_arrives_for_a_known_customer_should_attach_it() {
    let f = Fixture::new().await;
    let id = accepted(&f, json!({"email": "attach@example.com"})).await["customerId"].clone();
    let attached = accepted(&f, json!({"email": "attach@example.com", "phoneNumber": "+4723456789"})).await;
    assert_eq!(attached["changedFields"], json!(["phoneNumber"]));
    assert_eq!(
        accepted(&f, json!({"phoneNumber": "+4723456789"})).await["customerId"],
        id
    );
}

#[tokio::test]
async fn when_many_requests_race_for_a_new_customer_should_create_exactly_one() {
    let f = Fixture::new().await;
    let requests = (0..20).map(|i| {
        let body =
            json!({"eventName": "Race", "customer": {"email": "race@example.com", "customFields": {"n": i + 1}}});
        let f = &f;
        async move { f.post(&body).await }
    });
    let responses = futures::future::join_all(requests).await;
    let ids: std::collections::HashSet<String> = responses
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 202, "{body}");
            body["customerId"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "every event resolved to the same customer");
    assert_eq!(f.count("CUSTOMER").await, 1);
    assert_eq!(f.count("EVENT").await, 20);
}
