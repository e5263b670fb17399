//! Parser rules that the HTTP tests do not reach: pointer prefixes (bulk), hashing, typing.

use chrono::Utc;
use serde_json::json;

use super::custom_event::parse_custom_event;
use super::validation::Pointer;
use super::values::PropertyValue;

#[test]
fn when_event_sits_inside_a_bulk_request_should_prefix_every_pointer() {
    let body = json!({"eventName": "X", "customer": {"email": "nope"}});
    let errors = parse_custom_event(&body, &Pointer::at("/events").index(3), Utc::now()).unwrap_err();
    assert_eq!(errors[0].pointer, "/events/3/customer/email");
}

#[test]
fn when_only_key_order_or_whitespace_differs_should_hash_the_same() {
    let a = json!({"eventName": "X", "customer": {"email": "a@b.co", "firstName": "A"}, "data": {"a": 1, "b": "2", "$extra": {"x": [1, {"k": 1, "j": 2}]}}});
    let b: serde_json::Value = serde_json::from_str(
        r#"{ "data": {"$extra": {"x": [1, {"j": 2, "k": 1}]}, "b": "2", "a": 1}, "customer": {"firstName": "A", "email": "a@b.co"}, "eventName": "X" }"#,
    )
    .unwrap();
    let now = Utc::now();
    let hash = |v| parse_custom_event(v, &Pointer::root(), now).unwrap().payload_hash();
    assert_eq!(hash(&a), hash(&b));
    let c = json!({"eventName": "X", "customer": {"email": "a@b.co", "firstName": "B"}});
    assert_ne!(hash(&a), hash(&c));
}

#[test]
fn when_custom_field_is_a_date_time_should_be_typed_as_a_date() {
    let body = json!({"eventName": "X", "customer": {"email": "a@b.co", "customFields": {"Birthday": "1976-07-04T12:00:00Z", "Note": "2024-01-01"}}});
    let event = parse_custom_event(&body, &Pointer::root(), Utc::now()).unwrap();
    assert!(matches!(
        event.customer_input().patch.custom_fields["Birthday"],
        PropertyValue::Date(_)
    ));
    assert!(matches!(
        event.customer_input().patch.custom_fields["Note"],
        PropertyValue::String(_)
    ));
}

#[test]
fn when_timestamp_is_within_a_day_ahead_should_accept_it() {
    let now = Utc::now();
    let soon = (now + chrono::Duration::hours(23)).to_rfc3339();
    let body = json!({"eventName": "X", "customer": {"email": "a@b.co"}, "eventTimestamp": soon});
    assert!(parse_custom_event(&body, &Pointer::root(), now).is_ok());
}

#[test]
fn when_nesting_is_too_deep_should_reject_it() {
    let mut deep = json!(1);
    for _ in 0..40 {
        deep = json!([deep]);
    }
    let body = json!({"eventName": "X", "customer": {"email": "a@b.co"}, "data": {"$extra": {"deep": deep}}});
    let errors = parse_custom_event(&body, &Pointer::root(), Utc::now()).unwrap_err();
    assert!(errors[0].detail.contains("nesting"), "{errors:?}");
}

#[test]
fn when_a_client_names_its_event_like_a_profile_write_should_refuse_the_reserved_name() {
    let body = json!({"eventName": super::custom_event::PROFILE_WRITE_EVENT, "customer": {"email": "a@b.co"}});
    let errors = parse_custom_event(&body, &Pointer::root(), Utc::now()).unwrap_err();
    assert_eq!(errors[0].pointer, "/eventName");
}

#[test]
fn when_a_profile_is_written_should_parse_the_customer_from_the_root() {
    let parse = super::custom_event::parse_profile_write;
    let write = parse(&json!({"email": "a@b.co", "firstName": "A"})).unwrap();
    assert_eq!(write.event_name, super::custom_event::PROFILE_WRITE_EVENT);
    assert_eq!(write.customer_input().email.as_deref(), Some("a@b.co"));
    let errors = parse(&json!({"email": "nope", "eventName": "X"})).unwrap_err();
    let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(pointers, ["/eventName", "/email"]);
}
