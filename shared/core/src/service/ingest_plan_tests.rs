use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::*;
use crate::domain::custom_event::parse_custom_event;
use crate::domain::entity_event::parse_entity_event;
use crate::domain::esputnik::{parse_esputnik, EsputnikEvent};
use crate::domain::identity::MatchedBy;
use crate::domain::validation::Pointer;

fn now() -> DateTime<Utc> {
    "2026-11-22T10:00:00Z".parse().unwrap()
}

fn store() -> StoreId {
    StoreId::from_bytes([1; 12])
}

fn new_event() -> NewEvent {
    NewEvent {
        event_id: EventId::from_bytes([2; 12]),
        payload_hash: "hash".to_owned(),
    }
}

fn resolved(created: bool) -> Resolved {
    Resolved {
        customer_id: CustomerId::from_bytes([3; 12]),
        identity: IdentityOutcome {
            matched_by: MatchedBy::Email,
            customer_created: created,
            requested_id_not_found: false,
            conflicts: vec![],
        },
        changed_fields: vec!["firstName".to_owned()],
        claims: vec![],
        write: None,
    }
}

/// What an attempt found: just the customer.
fn of(customer: &Resolved) -> Found<'_> {
    Found {
        customer: Some(customer),
        ..Found::default()
    }
}

fn esputnik(body: Value) -> EsputnikEvent {
    parse_esputnik(&body).expect("a valid eSputnik event")
}

fn order_created() -> EsputnikEvent {
    esputnik(
        json!({"eventTypeKey": "orderCreated", "keyValue": "a@example.com", "params": [
        {"name": "email", "value": "a@example.com"}, {"name": "externalOrderId", "value": "o-1"},
        {"name": "externalCustomerId", "value": "c-1"}, {"name": "totalCost", "value": "10.5"},
        {"name": "status", "value": "INITIALIZED"}, {"name": "date", "value": "2026-11-22T09:00:00"}]}),
    )
}

fn input(parsed: &EsputnikEvent) -> EventInput<'_> {
    EventInput {
        event: &parsed.event,
        order: parsed.order.as_ref(),
        activity: &parsed.activity,
        entity: None,
    }
}

#[test]
fn when_a_custom_event_is_planned_should_store_it_with_its_customer_and_a_dedupe_record_kept_with_it() {
    let body = json!({"eventName": "Order Placed", "uniqueId": "u-1", "customer": {"email": "a@example.com"}});
    let event = parse_custom_event(&body, &Pointer::root(), now()).unwrap();
    let customer = resolved(true);
    let found = of(&customer);
    let config = IngestConfig::default();
    let planned = plan_commit(&store(), &(&event).into(), found, new_event(), now(), &config).unwrap();
    let commit = &planned.commit;
    assert_eq!(commit.event.customer_id, Some(customer.customer_id.clone()));
    assert_eq!(commit.event.changed_fields, ["firstName"]);
    assert_eq!(commit.event.expires_at, Some((now() + config.retention).timestamp()));
    let dedupe = commit.dedupe.as_ref().expect("a uniqueId gets a dedupe record");
    assert_eq!(dedupe.dedupe_until, (now() + Duration::days(7)).timestamp());
    assert_eq!(
        dedupe.expires_at,
        commit.event.expires_at.unwrap(),
        "kept as long as its event"
    );
    assert_eq!(
        (dedupe.event_id.clone(), dedupe.payload_hash.as_str()),
        (new_event().event_id, "hash")
    );
    assert!(commit.order.is_none() && commit.entity_state.is_none() && commit.activity.is_empty());
    assert_eq!(
        (
            planned.ingested.status,
            planned.ingested.customer_created,
            planned.ingested.matched_by
        ),
        (IngestStatus::Accepted, true, Some(MatchedBy::Email))
    );
}

#[test]
fn when_an_order_is_created_should_write_it_with_its_entity_record_and_close_the_cart() {
    let parsed = order_created();
    let customer = resolved(false);
    let found = of(&customer);
    let planned = plan_commit(
        &store(),
        &input(&parsed),
        found,
        new_event(),
        now(),
        &IngestConfig::default(),
    )
    .unwrap();
    let commit = planned.commit;
    let order = commit.order.expect("the order is created");
    assert_eq!(
        (order.order.external_order_id.as_str(), order.expected_version),
        ("o-1", None)
    );
    let entity = commit.event.entity.expect("subscribers hear of the order");
    assert_eq!(
        (entity.entity_type, entity.operation),
        (EntityType::Order, Operation::Create)
    );
    assert_eq!(commit.activity, [ActivityWrite::CloseCart]);
}

#[test]
fn when_an_order_comes_again_unchanged_should_store_the_event_and_leave_the_order_alone() {
    let parsed = order_created();
    let customer = resolved(false);
    let first = plan_commit(
        &store(),
        &input(&parsed),
        of(&customer),
        new_event(),
        now(),
        &IngestConfig::default(),
    )
    .unwrap();
    let stored = first.commit.order.unwrap().order;
    let found = Found {
        customer: Some(&customer),
        order: Some(&stored),
        entity: None,
    };
    let again = plan_commit(
        &store(),
        &input(&parsed),
        found,
        new_event(),
        now(),
        &IngestConfig::default(),
    )
    .unwrap();
    assert!(again.commit.order.is_none() && again.commit.event.entity.is_none());
    assert!(
        again.commit.activity.is_empty(),
        "no cart to close: the order is not new"
    );
}

#[test]
fn when_an_order_event_cannot_apply_should_refuse_or_ignore_it_without_a_commit() {
    let parsed = order_created();
    let config = IngestConfig::default();
    let without_customer = plan_commit(&store(), &input(&parsed), Found::default(), new_event(), now(), &config);
    assert!(matches!(without_customer, Err(IngestError::Invalid(_))));
    let delivered = esputnik(
        json!({"eventTypeKey": "orderDelivered", "keyValue": "a@example.com", "params": [
        {"name": "email", "value": "a@example.com"}, {"name": "externalOrderId", "value": "o-404"}]}),
    );
    let customer = resolved(false);
    let found = of(&customer);
    let unknown = plan_commit(&store(), &input(&delivered), found, new_event(), now(), &config);
    assert!(matches!(unknown, Err(IngestError::Ignored(why)) if why.contains("o-404")));
}

#[test]
fn when_an_entity_event_is_planned_should_write_its_projection_and_no_activity_without_a_customer() {
    let payload = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        r#"{"sku":"S-1","quantity":0}"#,
    );
    let body = json!({"id": "e-1", "entity_id": "S-1", "entity_name": "INVENTORY_LEVEL", "event_type": "ENTITY_EVENT",
                      "event_payload": {"base64_encoded_payload_json": payload, "entity_id": "S-1", "operation": "CREATE"}});
    let parsed = parse_entity_event(&body).unwrap();
    let input = EventInput {
        event: &parsed.event,
        order: None,
        activity: &[],
        entity: Some(&parsed.change),
    };
    let planned = plan_commit(
        &store(),
        &input,
        Found::default(),
        new_event(),
        now(),
        &IngestConfig::default(),
    )
    .unwrap();
    let state = planned.commit.entity_state.expect("the projection is written");
    assert_eq!(
        state.state.expect("a created entity has a state").summary.in_stock,
        Some(false)
    );
    let entity = planned.commit.event.entity.expect("subscribers hear of the entity");
    assert_eq!(
        (entity.entity_type, entity.operation),
        (EntityType::InventoryLevel, Operation::Create)
    );
    assert!(planned.commit.activity.is_empty(), "only a new order closes a cart");
    assert!(planned.commit.event.customer_id.is_none());
}
