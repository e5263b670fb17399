use serde_json::{json, Value};

use super::*;

fn body(key: &str, key_value: &str, params: Value) -> Value {
    json!({"eventTypeKey": key, "keyValue": key_value, "params": params})
}

#[test]
fn when_identification_parameters_come_in_any_casing_should_map_onto_email_phone_and_id() {
    for (name, value) in [
        ("EMAIL", "Ada@Example.com"),
        ("emailaddress", "a@example.com"),
        ("UserEmail", "a@example.com"),
        ("contactEMAIL", "a@example.com"),
    ] {
        let parsed = parse_esputnik(&body("pageViewed", "x", json!([{"name": name, "value": value}]))).unwrap();
        assert_eq!(parsed.event.customer_input().email.as_deref(), Some(value), "{name}");
    }
    for name in ["PHONE", "sms", "PhoneNumber"] {
        let parsed = parse_esputnik(&body(
            "pageViewed",
            "x",
            json!([{"name": name, "value": "38 (050) 123-45-67"}]),
        ))
        .unwrap();
        assert_eq!(
            parsed.event.customer_input().phone_number.as_deref(),
            Some("+380501234567"),
            "{name}"
        );
    }
    let by_key = |name: &str, value: &str| {
        parse_esputnik(&body(
            "pageViewed",
            "a@example.com",
            json!([{"name": name, "value": value}]),
        ))
        .unwrap()
        .event
        .customer
        .unwrap()
        .id
    };
    for name in ["ContactId", "contact_id", "CONTACTKEY", "Contact_Key", "pushToken"] {
        assert!(by_key(name, "AV13760").is_some(), "{name}");
    }
    assert_eq!(
        by_key("contactid", "AV13760"),
        by_key("ContactID", "AV13760"),
        "names fold case"
    );
    assert_ne!(
        by_key("contactid", "AV13760"),
        by_key("contactid", "av13760"),
        "values do not"
    );
    assert_eq!(
        by_key("contactkey", "665f1a2b3c4d5e6f7a8b9c0d").unwrap().as_str(),
        "665f1a2b3c4d5e6f7a8b9c0d"
    );
}

#[test]
fn when_key_value_is_the_only_identifier_should_identify_by_its_form() {
    let customer = |key: &str| {
        parse_esputnik(&body("pageViewed", key, json!([])))
            .unwrap()
            .event
            .customer
            .unwrap()
    };
    assert_eq!(
        customer("example@email.com").email.as_deref(),
        Some("example@email.com")
    );
    assert_eq!(customer("380501234567").phone_number.as_deref(), Some("+380501234567"));
    assert!(customer("device-42").id.is_some());
}

#[test]
fn when_json_parameters_nest_should_parse_one_level_and_keep_deeper_values_as_strings() {
    let parsed = parse_esputnik(&body(
        "cartUpdated",
        "a@example.com",
        json!([{"name": "products", "value": "[{\"productId\":\"WS01\",\"quantity\":1,\"tags\":[\"green\"]}]"},
               {"name": "recycleStateId", "value": "r-1"}]),
    ))
    .unwrap();
    let products = &parsed.event.extra.unwrap()["products"];
    assert_eq!(products[0]["productId"], "WS01");
    assert_eq!(products[0]["tags"], "[\"green\"]");
}

#[test]
fn when_a_json_parameter_is_malformed_should_point_at_its_value() {
    // The spec's own productViewed example: trailing characters after the JSON.
    let errors = parse_esputnik(&body(
        "productViewed",
        "a@example.com",
        json!([{"name": "email", "value": "a@example.com"}, {"name": "product", "value": "{\"productId\":\"WS01-L-Green\",\"price\":45.5,\"isInStock\":1,\"someProductProperty\":[\"green\"]}]}"}]),
    ))
    .unwrap_err();
    assert_eq!(errors[0].pointer, "/params/1/value");
    assert!(
        errors[0].detail.starts_with("parameter 'product' is not valid JSON: "),
        "{errors:?}"
    );
}

#[test]
fn when_order_created_lacks_a_required_parameter_should_name_it() {
    let errors = parse_esputnik(&body(
        "orderCreated",
        "380501234567",
        json!([{"name": "externalOrderId", "value": "1"}, {"name": "status", "value": "INITIALIZED"}]),
    ))
    .unwrap_err();
    assert_eq!(errors[0].pointer, "/params");
    assert!(
        errors[0]
            .detail
            .ends_with("missing: externalCustomerId, totalCost, date"),
        "{errors:?}"
    );
}

#[test]
fn when_order_events_arrive_should_give_the_order_command() {
    let delivered = parse_esputnik(&body(
        "orderDelivered",
        "380501234567",
        json!([{"name": "externalOrderId", "value": "1"}]),
    ))
    .unwrap();
    assert_eq!(
        delivered.order,
        Some(OrderCommand::SetStatus {
            external_order_id: "1".into(),
            status: "DELIVERED".into()
        })
    );
    assert_eq!(
        parse_esputnik(&body("pageViewed", "a@example.com", json!([])))
            .unwrap()
            .order,
        None
    );
}

#[test]
fn when_consent_comes_with_an_event_should_go_on_the_contacts_profile() {
    use crate::domain::consent::ACCEPTS_MARKETING;
    for (value, expected) in [(json!(false), false), (json!("unsubscribed"), false), (json!(1), true)] {
        let params = json!([{"name": "acceptsMarketing", "value": value}]);
        let parsed = parse_esputnik(&body("pageViewed", "ann@example.com", params)).unwrap();
        let patch = &parsed.event.customer_input().patch;
        assert_eq!(
            patch.custom_fields.get(ACCEPTS_MARKETING),
            Some(&PropertyValue::Bool(expected)),
            "{value}"
        );
    }
    let parsed = parse_esputnik(&body("pageViewed", "ann@example.com", json!([]))).unwrap();
    assert!(parsed.event.customer_input().patch.custom_fields.is_empty());
}
