//! AWS requests per event, counted by an SDK interceptor. Deterministic, so a change that adds a call per
//! event fails here. Each figure, once asserted, is also written for `make bench`'s report
//! (`target/bench/requests/`), so docs/PERFORMANCE.md shows the counts these tests hold, and the partitions
//! each touched, for the heat model (`target/scale/sequences/`, docs/SCALE.md).

use std::collections::BTreeMap;

use integration_tests::heat::write_sequence;
use integration_tests::{record_request_figure, RATE_LIMIT};
use serde_json::{json, Value};

use crate::support::Fixture;

/// Asserts the operations of one HTTP request, logged since the last take, and records them as `figure`, per
/// `events` events. The rate limiter's counter update is shown apart: at most one per request, and fewer
/// when an instance's lease still holds permits (`collector_core::domain::rate_limit`), so it depends on timing.
fn expect_requests(f: &Fixture, figure: &str, events: usize, expected: &[(&str, usize)]) {
    let mut logged = f.clients.log.take_counts();
    let limiter = logged.remove(RATE_LIMIT).unwrap_or(0);
    assert!(limiter <= 1, "{figure}: {limiter} rate-limit updates for one request");
    let expected: BTreeMap<String, usize> = expected.iter().map(|(op, n)| ((*op).to_owned(), *n)).collect();
    assert_eq!(logged, expected, "{figure}");
    record_request_figure(figure, &logged, events, limiter);
    let description = figure.replace('_', " ");
    write_sequence(figure, &description, events, &f.clients.log.take_touches());
}

#[tokio::test]
async fn when_events_are_ingested_should_cost_the_documented_aws_requests() {
    let f = Fixture::new().await;
    f.clients.log.take_touches();
    let new_customer = json!({"eventName": "Count", "uniqueId": "c-1", "customer": {"email": "count@example.com"}});
    assert_eq!(f.post(&new_customer).await.0, 202);
    // Cold caches: the key and the store's settings (once per instance and minute), then what every new
    // customer costs.
    expect_requests(
        &f,
        "single_new_customer_cold_key",
        1,
        &[
            ("GetItem", 2),
            ("BatchGetItem", 1),
            ("TransactWriteItems", 1),
            ("SendMessage", 1),
        ],
    );

    let another = json!({"eventName": "Count", "customer": {"email": "another@example.com", "firstName": "Ann"}});
    assert_eq!(f.post(&another).await.0, 202);
    // One batched read (dedupe key, claims), one transaction, one send.
    let warm = [("BatchGetItem", 1), ("TransactWriteItems", 1), ("SendMessage", 1)];
    expect_requests(&f, "single_new_customer", 1, &warm);

    let known_by_email = json!({"eventName": "Count", "uniqueId": "c-2", "customer": {"email": "count@example.com"}});
    assert_eq!(f.post(&known_by_email).await.0, 202);
    // The email claim names the customer; an event that changes nothing on the profile needs no more.
    expect_requests(&f, "single_known_customer_by_email", 1, &warm);

    let profile_change = json!({"eventName": "Count", "customer": {"email": "count@example.com", "firstName": "Ada"}});
    let (_, body) = f.post(&profile_change).await;
    // A profile change reads the profile the claim names, to know what changed.
    expect_requests(
        &f,
        "single_known_customer_by_email_with_profile_change",
        1,
        &[
            ("BatchGetItem", 1),
            ("GetItem", 1),
            ("TransactWriteItems", 1),
            ("SendMessage", 1),
        ],
    );

    let known_by_id = json!({"eventName": "Count", "customer": {"id": body["customerId"], "lastName": "Lovelace"}});
    assert_eq!(f.post(&known_by_id).await.0, 202);
    // customer.id fetches the profile in the batched read itself.
    expect_requests(&f, "single_known_customer_by_id", 1, &warm);

    assert_eq!(f.post(&new_customer).await.1["status"], "duplicate");
    // A duplicate is recognised in the batched read: nothing is written or sent.
    expect_requests(&f, "single_duplicate", 1, &[("BatchGetItem", 1)]);
}

fn bulk(round: &str, customer: impl Fn(usize) -> Value) -> Value {
    let events: Vec<_> = (0..100)
        .map(|i| json!({"eventName": "Count", "uniqueId": format!("{round}-{i}"), "customer": customer(i)}))
        .collect();
    json!({ "events": events })
}

#[tokio::test]
async fn when_a_100_event_bulk_is_ingested_should_cost_about_one_request_per_event() {
    let f = Fixture::new().await;
    f.clients.log.take_touches();
    let email = |i: usize| json!({"email": format!("c{i}@example.com")});
    let (_, report) = f.post_bulk(&bulk("new", email)).await;
    assert_eq!(report["summary"]["accepted"], 100, "{report}");
    // All new customers: the key and store settings, 200 keys read in 2 batches, one transaction each, 10
    // batched sends.
    expect_requests(
        &f,
        "bulk_100_new_customers_cold_key",
        100,
        &[
            ("GetItem", 2),
            ("BatchGetItem", 2),
            ("TransactWriteItems", 100),
            ("SendMessageBatch", 10),
        ],
    );

    let (_, report) = f.post_bulk(&bulk("known", email)).await;
    assert_eq!(report["summary"]["accepted"], 100, "{report}");
    // Known customers, identified only (warm key cache): 2 batched reads of claims and dedupe keys, a
    // transaction each, 10 batched sends: 112 requests, 1.12 per event.
    let known = [
        ("BatchGetItem", 2),
        ("TransactWriteItems", 100),
        ("SendMessageBatch", 10),
    ];
    expect_requests(&f, "bulk_100_known_customers", 100, &known);

    let renamed = |i: usize| json!({"email": format!("c{i}@example.com"), "firstName": format!("C{i}")});
    let (_, report) = f.post_bulk(&bulk("renamed", renamed)).await;
    assert_eq!(report["summary"]["accepted"], 100, "{report}");
    // Known customers whose profiles change: one more batched read, of the 100 profiles. 1.13 per event.
    expect_requests(
        &f,
        "bulk_100_known_customers_with_profile_change",
        100,
        &[
            ("BatchGetItem", 3),
            ("TransactWriteItems", 100),
            ("SendMessageBatch", 10),
        ],
    );
}
