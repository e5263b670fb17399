//! CPU per event on the hot paths, without I/O: what a function spends between receiving a body and its
//! first AWS call (ingest), and between reading an event and handing messages to SQS/SNS (dispatch).
//!
//! Each case starts from the request bytes, so JSON parsing is counted: that is what a Lambda pays.

use std::hint::black_box;

use chrono::{DateTime, Utc};
use collector_core::domain::bulk_envelope::{check_event_size, parse_bulk_envelope};
use collector_core::domain::custom_event::{parse_custom_event, CustomEvent};
use collector_core::domain::customer::{Customer, ProfileField};
use collector_core::domain::esputnik::parse_esputnik;
use collector_core::domain::event::{IdentityOutcome, StoredEvent};
use collector_core::domain::identity::MatchedBy;
use collector_core::domain::ids::{CustomerId, EventId, StoreId, SubscriptionId};
use collector_core::domain::job::parse_job;
use collector_core::domain::outbound::{envelope, outbound_of};
use collector_core::domain::subscription::{AwsAccess, Destination, EntityType, Subscription};
use collector_core::domain::validation::Pointer;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Value};

const FULL_EXAMPLE: &str = include_str!("../../../events/bodies/redo-full-example.json");
const ESPUTNIK_ORDER: &str = include_str!("../../../events/bodies/esputnik-order-created.json");

fn now() -> DateTime<Utc> {
    "2026-04-02T12:00:05Z".parse().expect("a timestamp")
}

fn parse_redo(bytes: &[u8]) -> CustomEvent {
    let body: Value = serde_json::from_slice(bytes).expect("JSON");
    parse_custom_event(&body, &Pointer::root(), now()).expect("a valid event")
}

/// The bulk body as bulk ingest checks it: envelope, then each event's size and fields.
fn parse_bulk(bytes: &[u8]) -> Vec<CustomEvent> {
    let body: Value = serde_json::from_slice(bytes).expect("JSON");
    let events = parse_bulk_envelope(&body).expect("a valid envelope");
    let root = Pointer::root().key("events");
    events
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let at = root.index(i);
            check_event_size(raw, &at)
                .and_then(|()| parse_custom_event(raw, &at, now()))
                .expect("a valid event")
        })
        .collect()
}

fn bulk_of_100() -> Vec<u8> {
    let example: Value = serde_json::from_str(FULL_EXAMPLE).expect("JSON");
    let events: Vec<Value> = (0..100)
        .map(|i| {
            let mut event = example.clone();
            event["uniqueId"] = json!(format!("milestone-{i}"));
            event["customer"]["email"] = json!(format!("customer-{i}@example.com"));
            event
        })
        .collect();
    serde_json::to_vec(&json!({ "events": events })).expect("serialises")
}

/// The full example as stored after ingest created its customer.
fn stored_full_example() -> (StoredEvent, Customer) {
    let event = parse_redo(FULL_EXAMPLE.as_bytes());
    let store_id = StoreId::from_bytes([1; 12]);
    let customer_id = CustomerId::from_bytes([3; 12]);
    let mut customer = Customer::new(store_id.clone(), customer_id.clone(), now());
    let input = event.customer.as_ref().expect("the example has a customer");
    customer.email = input.email.clone();
    customer.phone_number = input.phone_number.clone();
    let changed = customer.apply(&input.patch);
    let stored = StoredEvent {
        store_id,
        event_id: EventId::from_bytes([2; 12]),
        event_name: event.event_name,
        customer_id: Some(customer_id),
        occurred_at: event.event_timestamp.unwrap_or_else(now),
        received_at: now(),
        data: event.data,
        extra: event.extra,
        value: event.value,
        value_currency: event.value_currency,
        unique_id: event.unique_id,
        identity: Some(IdentityOutcome {
            matched_by: MatchedBy::Created,
            customer_created: true,
            requested_id_not_found: false,
            conflicts: vec![],
        }),
        changed_fields: changed.iter().map(ProfileField::name).collect(),
        payload_hash: "hash".into(),
        entity: None,
        expires_at: None,
    };
    (stored, customer)
}

/// 100 subscriptions of one store, of which a realistic few match a custom event that created a customer:
/// one in ten names the event or `*`, one in ten wants customer creations, the rest want other things.
fn subscriptions(store_id: &StoreId) -> Vec<Subscription> {
    let created_at: DateTime<Utc> = "2026-01-01T00:00:00Z".parse().expect("a timestamp");
    (0..100u8)
        .map(|i| {
            let (entity_type, event_names) = match i % 10 {
                0 => (None, vec!["Purchase Milestone Reached".to_owned()]),
                1 => (Some(EntityType::Customer), vec![]),
                2 => (Some(EntityType::Order), vec![]),
                3 => (None, vec!["*".to_owned()]),
                _ => (None, vec![format!("Other Event {i}")]),
            };
            Subscription {
                store_id: store_id.clone(),
                subscription_id: SubscriptionId::from_bytes([i; 12]),
                active: i % 20 != 19,
                entity_type,
                subscribe_create: true,
                subscribe_change: i % 2 == 0,
                subscribe_delete: false,
                event_names,
                description: None,
                destination: Destination::Sqs {
                    queue_url: format!("https://sqs.us-east-1.amazonaws.com/123456789012/q{i}"),
                    region: "us-east-1".into(),
                    access: AwsAccess::CollectorRole,
                },
                created_at,
                updated_at: created_at,
                deactivated_reason: None,
                deactivated_at: None,
            }
        })
        .collect()
}

/// What dispatch computes per event: its messages, the subscriptions each matches, and each body.
fn render_and_match(event: &StoredEvent, customer: &Customer, subscriptions: &[Subscription]) -> Vec<String> {
    let mut bodies = Vec::new();
    for message in outbound_of(event) {
        let matching = subscriptions
            .iter()
            .filter(|s| s.matches(&message.subject, message.operation, event.received_at))
            .count();
        if matching == 0 {
            continue;
        }
        // One body per message, sent to every matching subscription, as dispatch does.
        let profile = message.is_about_customer().then_some(customer);
        let body = serde_json::to_string(&envelope(event, &message, profile)).expect("serialises");
        bodies.extend(std::iter::repeat_n(body, matching));
    }
    bodies
}

fn hot_paths(c: &mut Criterion) {
    let mut ingest = c.benchmark_group("ingest");
    ingest.throughput(Throughput::Elements(1));
    ingest.bench_function("redo_full_example", |b| {
        b.iter(|| parse_redo(black_box(FULL_EXAMPLE.as_bytes())))
    });
    ingest.bench_function("esputnik_order_created", |b| {
        b.iter(|| {
            let body: Value = serde_json::from_slice(black_box(ESPUTNIK_ORDER.as_bytes())).expect("JSON");
            parse_esputnik(&body).expect("a valid event")
        })
    });
    let bulk = bulk_of_100();
    ingest.throughput(Throughput::Elements(100));
    ingest.bench_function("bulk_of_100_full_examples", |b| b.iter(|| parse_bulk(black_box(&bulk))));
    ingest.finish();

    let (event, customer) = stored_full_example();
    let subs = subscriptions(&event.store_id);
    // 20 for the event (its name or `*`), 10 for the customer it created; inactive ones match nothing.
    assert_eq!(
        render_and_match(&event, &customer, &subs).len(),
        30,
        "the bench matches what it says"
    );
    let mut dispatch = c.benchmark_group("dispatch");
    dispatch.throughput(Throughput::Elements(1));
    dispatch.bench_function("render_and_match_100_subscriptions", |b| {
        b.iter(|| render_and_match(black_box(&event), &customer, black_box(&subs)))
    });
    dispatch.finish();

    // A job body whose schedule matches no day: the whole five-year horizon is searched before the 400.
    let never = json!({"notification": "BACK_IN_STOCK", "schedule": "cron(0 0 30 2 ? *)", "time_zone": "Europe/Kyiv",
                       "template_id": "d-0123456789abcdef0123456789abcdef"});
    assert!(parse_job(&never, now()).is_err(), "the bench's schedule never runs");
    let mut jobs = c.benchmark_group("jobs");
    jobs.throughput(Throughput::Elements(1));
    jobs.bench_function("job_whose_schedule_never_runs", |b| {
        b.iter(|| parse_job(black_box(&never), now()))
    });
    jobs.finish();
}

criterion_group!(benches, hot_paths);
criterion_main!(benches);
