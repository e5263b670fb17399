use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use super::*;

fn encoded(value: Value) -> String {
    STANDARD.encode(value.to_string())
}

fn body(entity: &str, operation: &str, payload: &str) -> Value {
    json!({
        "id": "evt-1", "entity_id": "SKU-1", "entity_name": entity, "event_source": "APPLICATION", "event_type": "ENTITY_EVENT",
        "event_payload": {"base64_encoded_payload_json": payload, "entity_id": "SKU-1", "key_attributes": {"sku": "SKU-1"}, "operation": operation}
    })
}

#[test]
fn when_the_spec_example_is_sent_should_reject_its_literal_string_payload() {
    // The spec's example carries the word "string" where base64 JSON belongs.
    let errors = parse_entity_event(&body("string", "BULK_CREATE", "string")).unwrap_err();
    let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        ["/entity_name", "/event_payload/base64_encoded_payload_json"],
        "{errors:?}"
    );
}

#[test]
fn when_operations_and_names_vary_should_map_them() {
    let payload = encoded(json!({"productId": "P1", "quantity": 0}));
    for (op, expected) in [
        ("BULK_CREATE", Operation::Create),
        ("update", Operation::Change),
        ("DELETE", Operation::Delete),
    ] {
        let parsed = parse_entity_event(&body("inventoryLevel", op, &payload)).unwrap();
        assert_eq!(parsed.change.operation, expected, "{op}");
        assert_eq!(parsed.change.entity_type, EntityType::InventoryLevel);
    }
    for name in [
        "INVENTORY_LEVEL",
        "Inventory Level",
        "inventory-level",
        "InventoryLevel",
    ] {
        assert!(parse_entity_event(&body(name, "CREATE", &payload)).is_ok(), "{name}");
    }
    let parsed = parse_entity_event(&body("VARIANT_PRODUCT", "CREATE", &payload)).unwrap();
    assert_eq!(parsed.change.payload["productId"], "P1");
    assert_eq!(parsed.event.unique_id.as_deref(), Some("evt-1"));
}

#[test]
fn when_base64_or_its_json_is_bad_should_say_which() {
    let not_base64 = parse_entity_event(&body("PRICE", "CREATE", "%%%")).unwrap_err();
    assert!(
        not_base64[0].detail.starts_with("is not valid base64"),
        "{not_base64:?}"
    );
    let not_json = parse_entity_event(&body("PRICE", "CREATE", &STANDARD.encode("{oops"))).unwrap_err();
    assert!(
        not_json[0].detail.starts_with("does not decode to JSON"),
        "{not_json:?}"
    );
}

#[test]
fn when_entity_ids_disagree_should_point_at_the_inner_one() {
    let mut b = body("PRICE", "CREATE", &encoded(json!({"price": 1})));
    b["event_payload"]["entity_id"] = json!("OTHER");
    let errors = parse_entity_event(&b).unwrap_err();
    assert_eq!(errors[0].pointer, "/event_payload/entity_id");
}

#[test]
fn when_a_path_segment_names_a_client_id_should_decode_it_and_bound_it() {
    assert_eq!(client_id_of_segment("order-1").as_deref(), Some("order-1"));
    assert_eq!(client_id_of_segment("ev%201%C3%A9").as_deref(), Some("ev 1é"));
    assert_eq!(client_id_of_segment(""), None);
    assert_eq!(client_id_of_segment("%FF"), None, "not UTF-8");
    assert_eq!(client_id_of_segment(&"a".repeat(256)), None, "longer than any id");
    assert_eq!(client_id_of_segment(&"a".repeat(255)).map(|id| id.len()), Some(255));
}

#[test]
fn when_an_entity_event_names_operations_should_refuse_it() {
    let body = serde_json::json!({"id": "x", "entity_name": "OPERATIONS", "entity_id": "1",
        "event_payload": {"operation": "CREATE", "base64_encoded_payload_json": "e30="}});
    let errors = super::parse_entity_event(&body).unwrap_err();
    assert!(errors.iter().any(|e| e.pointer == "/entity_name"), "{errors:?}");
}

#[test]
fn when_a_customer_entity_carries_consent_should_patch_its_profile() {
    use crate::domain::consent::ACCEPTS_MARKETING;
    let mut sent = body("CUSTOMER", "UPDATE", &encoded(json!({"name": "Ann"})));
    sent["event_payload"]["key_attributes"] = json!({"email": "ann@example.com", "accepts_marketing": "false"});
    let parsed = parse_entity_event(&sent).unwrap();
    let customer = parsed.event.customer.expect("the customer the keys name");
    assert_eq!(
        customer.patch.custom_fields.get(ACCEPTS_MARKETING),
        Some(&PropertyValue::Bool(false))
    );
}
