//! Retention per store: events, their delivery records, their dedupe records and job runs carry the TTL
//! attribute (`expiresAt`) the template enables, computed from the store's retention.

use aws_sdk_dynamodb::types::AttributeValue;
use collector_core::service::admin::set_retention;
use serde_json::json;

use collector_core::ports::Clock;
use collector_core::service::job_runs::{run_due_jobs, TickConfig};

use crate::job_runs::{hourly_job, Recorder};
use crate::pipeline::Pipeline;
use crate::support::Fixture;

const DAY: i64 = 24 * 60 * 60;

/// `expiresAt` of every item in the partition `pk` whose sort key starts with `sk_prefix`.
async fn expiries(f: &Fixture, pk: &str, sk_prefix: &str) -> Vec<i64> {
    numbers(f, pk, sk_prefix, "expiresAt").await
}

/// The number `attribute` of every item in the partition `pk` whose sort key starts with `sk_prefix`.
async fn numbers(f: &Fixture, pk: &str, sk_prefix: &str, attribute: &str) -> Vec<i64> {
    let items = f
        .clients
        .dynamodb
        .query()
        .table_name(&f.table_name)
        .key_condition_expression("pk = :pk AND begins_with(sk, :sk)")
        .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
        .expression_attribute_values(":sk", AttributeValue::S(sk_prefix.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("query");
    items
        .items()
        .iter()
        .map(|item| match item.get(attribute) {
            Some(AttributeValue::N(n)) => n.parse().unwrap(),
            other => panic!("no {attribute}: {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn when_a_store_sets_its_retention_should_expire_events_deliveries_and_dedupe_records_with_it() {
    let f = Fixture::new().await;
    set_retention(&f.table, &f.store_id, 3).await.unwrap();
    let p = Pipeline::new(&f);
    p.sqs_subscriber(json!({"eventNames": ["Kept"]})).await;
    let (status, body) = f
        .post(&json!({"eventName": "Kept", "uniqueId": "kept-1", "customer": {"email": "kept@example.com"}}))
        .await;
    assert_eq!(status, 202, "{body}");
    let event = f.event(&body).await;
    let received = event.received_at.timestamp();
    assert_eq!(event.expires_at, Some(received + 3 * DAY), "the event lives 3 days");

    // The dedupe window (7 days) is cut to the retention: no duplicate answer for an event that is gone.
    let dedupe_pk = format!("STORE#{}#UNIQUE#kept-1", f.store_id);
    assert_eq!(expiries(&f, &dedupe_pk, "DEDUPE").await, [received + 3 * DAY]);
    assert_eq!(
        numbers(&f, &dedupe_pk, "DEDUPE", "dedupeUntil").await,
        [received + 3 * DAY]
    );

    let (batch, receipts) = p.receive_batch().await.expect("the event is queued");
    let (_, counts) = p.deliver_batch(batch, &receipts).await;
    assert_eq!(counts.delivered, 1);
    let event_pk = format!("STORE#{}#EVENT#{}", f.store_id, event.event_id);
    assert_eq!(
        expiries(&f, &event_pk, "DELIVERY#").await,
        [received + 3 * DAY],
        "delivery records go with their event"
    );
}

#[tokio::test]
async fn when_a_store_sets_nothing_should_keep_events_395_days_and_dedupe_7() {
    // The dedupe record blocks its key for 7 days and stays with its event, which can be found by that id.
    let f = Fixture::new().await;
    let (_, body) = f
        .post(&json!({"eventName": "Default", "uniqueId": "d-1", "customer": {"email": "d@example.com"}}))
        .await;
    let event = f.event(&body).await;
    let received = event.received_at.timestamp();
    assert_eq!(event.expires_at, Some(received + 395 * DAY));
    let dedupe_pk = format!("STORE#{}#UNIQUE#d-1", f.store_id);
    assert_eq!(
        numbers(&f, &dedupe_pk, "DEDUPE", "dedupeUntil").await,
        [received + 7 * DAY]
    );
    assert_eq!(expiries(&f, &dedupe_pk, "DEDUPE").await, [received + 395 * DAY]);
    assert!(set_retention(&f.table, &f.store_id, 0).await.is_err(), "at least a day");
    assert!(
        set_retention(&f.table, &f.store_id, 3_651).await.is_err(),
        "at most ten years"
    );
}

#[tokio::test]
async fn when_a_job_runs_should_keep_its_run_record_for_the_store_retention() {
    let f = Fixture::new().await;
    set_retention(&f.table, &f.store_id, 30).await.unwrap();
    let job = hourly_job(&f).await;
    f.clock.advance(chrono::Duration::minutes(61));
    let report = run_due_jobs(&f.table, &Recorder::default(), &f.clock, TickConfig::default())
        .await
        .unwrap();
    assert_eq!(report.ran, 1);
    let runs = format!("STORE#{}#JOB#{job}#RUNS", f.store_id);
    assert_eq!(
        expiries(&f, &runs, "SLOT#").await,
        [f.clock.now().timestamp() + 30 * DAY]
    );
}
