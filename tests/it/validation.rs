//! Every validation rule: one failing case each, the JSON Pointer checked, and nothing written.

use integration_tests::{apigw_request, read_response};
use serde_json::{json, Value};

use crate::support::{pointers_of, Fixture};

fn with(mut base: Value, patch: impl FnOnce(&mut Value)) -> Value {
    patch(&mut base);
    base
}

fn valid() -> Value {
    json!({"eventName": "Checked", "customer": {"email": "valid@example.com"}})
}

/// (case, body, pointer the error must name)
fn invalid_cases() -> Vec<(&'static str, Value, &'static str)> {
    let many: serde_json::Map<String, Value> = (0..401).map(|i| (format!("p{i}"), json!(i + 1))).collect();
    vec![
        (
            "eventName missing",
            json!({"customer": {"email": "a@example.com"}}),
            "/eventName",
        ),
        (
            "eventName blank",
            with(valid(), |b| b["eventName"] = json!("  ")),
            "/eventName",
        ),
        (
            "eventName not a string",
            with(valid(), |b| b["eventName"] = json!(7)),
            "/eventName",
        ),
        (
            "eventName too long",
            with(valid(), |b| b["eventName"] = json!("x".repeat(256))),
            "/eventName",
        ),
        ("customer missing", json!({"eventName": "X"}), "/customer"),
        (
            "customer without identifier",
            with(valid(), |b| b["customer"] = json!({"firstName": "A"})),
            "/customer",
        ),
        (
            "email invalid",
            with(valid(), |b| b["customer"]["email"] = json!("not-an-email")),
            "/customer/email",
        ),
        (
            "phone not E.164",
            with(valid(), |b| b["customer"]["phoneNumber"] = json!("555-1234")),
            "/customer/phoneNumber",
        ),
        (
            "customer id malformed",
            with(valid(), |b| b["customer"]["id"] = json!("cust-1")),
            "/customer/id",
        ),
        (
            "unknown customer property",
            with(valid(), |b| b["customer"]["nickname"] = json!("Stu")),
            "/customer/nickname",
        ),
        (
            "unknown location property",
            with(valid(), |b| b["customer"]["location"] = json!({"planet": "Earth"})),
            "/customer/location/planet",
        ),
        (
            "latitude out of range",
            with(valid(), |b| b["customer"]["location"] = json!({"latitude": 91})),
            "/customer/location/latitude",
        ),
        (
            "countryCode not alpha-2",
            with(valid(), |b| b["customer"]["location"] = json!({"countryCode": "USA"})),
            "/customer/location/countryCode",
        ),
        (
            "customField value nested",
            with(valid(), |b| b["customer"]["customFields"] = json!({"Prefs": {"a": 1}})),
            "/customer/customFields/Prefs",
        ),
        (
            "data over 400 properties",
            with(valid(), |b| b["data"] = Value::Object(many)),
            "/data",
        ),
        (
            "data value an array",
            with(valid(), |b| b["data"] = json!({"Items": [1]})),
            "/data/Items",
        ),
        (
            "data key escaped in pointer",
            with(valid(), |b| b["data"] = json!({"a/b~c": {}})),
            "/data/a~1b~0c",
        ),
        (
            "data number out of range",
            with(valid(), |b| b["data"] = json!({"Huge": 1e200})),
            "/data/Huge",
        ),
        (
            "$extra not an object",
            with(valid(), |b| b["data"] = json!({"$extra": [1]})),
            "/data/$extra",
        ),
        (
            "string over 100 KiB anywhere",
            with(valid(), |b| {
                b["data"] = json!({"$extra": {"html": ["x".repeat(100 * 1024 + 1)]}})
            }),
            "/data/$extra/html/0",
        ),
        (
            "eventTimestamp not RFC 3339",
            with(valid(), |b| b["eventTimestamp"] = json!("04/02/2026")),
            "/eventTimestamp",
        ),
        (
            "eventTimestamp before 2000",
            with(valid(), |b| b["eventTimestamp"] = json!("1999-12-31T23:59:59Z")),
            "/eventTimestamp",
        ),
        (
            "eventTimestamp over a day ahead",
            with(valid(), |b| {
                b["eventTimestamp"] = json!((chrono::Utc::now() + chrono::Duration::hours(25)).to_rfc3339())
            }),
            "/eventTimestamp",
        ),
        (
            "value not a number",
            with(valid(), |b| b["value"] = json!("12.50")),
            "/value",
        ),
        (
            "valueCurrency not ISO 4217",
            with(valid(), |b| b["valueCurrency"] = json!("XYZ")),
            "/valueCurrency",
        ),
        (
            "uniqueId empty",
            with(valid(), |b| b["uniqueId"] = json!("")),
            "/uniqueId",
        ),
        (
            "uniqueId over 255 characters",
            with(valid(), |b| b["uniqueId"] = json!("u".repeat(256))),
            "/uniqueId",
        ),
        ("body not an object", json!([valid()]), ""),
    ]
}

#[tokio::test]
async fn when_a_rule_is_broken_should_answer_400_with_the_pointer_and_write_nothing() {
    let f = Fixture::new().await;
    for (case, body, pointer) in invalid_cases() {
        let (status, problem) = f.post(&body).await;
        assert_eq!(status, 400, "{case}: {problem}");
        assert_eq!(problem["type"], "/problems/validation-failed", "{case}");
        let pointers = pointers_of(&problem);
        assert!(
            pointers.contains(&pointer),
            "{case}: expected {pointer} in {pointers:?}"
        );
    }
    assert_eq!(
        f.stored_counts().await,
        [0, 0, 0, 0],
        "rejected requests must not write"
    );
    // The same body made valid is accepted, so the cases above failed for their rule and nothing else.
    assert_eq!(f.post(&valid()).await.0, 202);
}

#[tokio::test]
async fn when_several_fields_are_invalid_should_list_them_all() {
    let f = Fixture::new().await;
    let body = json!({"eventName": "", "customer": {"email": "x", "phoneNumber": "1"}, "value": "a"});
    let (status, problem) = f.post(&body).await;
    assert_eq!(status, 400);
    let pointers = pointers_of(&problem);
    assert_eq!(
        pointers,
        ["/eventName", "/customer/email", "/customer/phoneNumber", "/value"]
    );
}

#[tokio::test]
async fn when_json_is_malformed_should_answer_400_malformed_json() {
    let f = Fixture::new().await;
    let auth = f.bearer();
    let request = apigw_request(
        "POST",
        &f.path(),
        &[("authorization", &auth), ("content-type", "application/json")],
        Some("{\"eventName\": \"X\", "),
    );
    let (status, problem) = read_response(f.handler.handle(request).await);
    assert_eq!(status, 400);
    assert_eq!(problem["type"], "/problems/malformed-json");
    assert!(problem["detail"].as_str().unwrap().contains("line 1"), "{problem}");
}

#[tokio::test]
async fn when_content_type_is_not_json_should_answer_415() {
    let f = Fixture::new().await;
    let auth = f.bearer();
    let body = valid().to_string();
    let request = apigw_request(
        "POST",
        &f.path(),
        &[("authorization", &auth), ("content-type", "text/plain")],
        Some(&body),
    );
    let (status, problem) = read_response(f.handler.handle(request).await);
    assert_eq!(status, 415, "{problem}");
    assert_eq!(f.stored_counts().await, [0, 0, 0, 0]);
}

#[tokio::test]
async fn when_body_exceeds_the_event_limit_should_answer_413_with_the_limit() {
    let f = Fixture::new().await;
    let big = with(
        valid(),
        |b| b["data"] = json!({"$extra": {"a": "x".repeat(90_000), "b": "y".repeat(90_000), "c": "z".repeat(30_000)}}),
    );
    let (status, problem) = f.post(&big).await;
    assert_eq!(status, 413, "{problem}");
    assert_eq!(problem["limit"], json!(204_800));
    assert!(problem["detail"].as_str().unwrap().contains("204800"));
    assert_eq!(f.stored_counts().await, [0, 0, 0, 0]);
}

#[tokio::test]
async fn when_headers_exceed_their_limit_should_answer_431_before_anything_else() {
    let f = Fixture::new().await;
    let padding = "p".repeat(17 * 1024);
    let auth = f.bearer();
    let headers = [
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("x-padding", padding.as_str()),
    ];
    let body = valid().to_string();
    let request = integration_tests::apigw_request("POST", &f.path(), &headers, Some(&body));
    let (status, problem) = integration_tests::read_response(f.handler.handle(request).await);
    assert_eq!(status, 431, "{problem}");
    assert_eq!(problem["type"], "/problems/headers-too-large");
    assert_eq!(problem["limit"], json!(16_384));
    assert_eq!(f.stored_counts().await, [0, 0, 0, 0]);
}
