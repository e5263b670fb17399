//! docs/SCALE.md's scenarios (a) and (c), scaled down to this machine, with every DynamoDB partition
//! throttled as DynamoDB throttles one (`integration_tests::PartitionBuckets`: a bucket of write units per
//! partition, refilled by the table's own traffic; see [`RATE`]). The load is concentrated so that the run
//! must throttle: scenario (a)'s very active customers become one customer sending a fifth of the events,
//! scenario (c)'s catalogue five products changed 40 times each. Clients retry a 503 as
//! `Retry-After` tells them. What must hold: no 500, every event stored once, every subscriber gets every
//! event (a duplicate delivery is counted, not hidden), nothing left failed. The figures go to
//! `target/bench/throttling-<scenario>.json` and the test's output.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use collector_core::domain::subscription::EntityType;
use futures::stream::{self, StreamExt};
use integration_tests::{read_response, PartitionBuckets};
use serde_json::{json, Value};

use crate::pipeline::Pipeline;
use crate::support::Fixture;

/// Write units a partition gets back per write request to the table, and the most it saves up. A
/// partition's share of a run's write units is what decides: a hot customer's partition takes some 80
/// units over about 600 write requests in (a), a product's some 80 over about 250 in (c), so each takes
/// well over `BURST + RATE × writes` and is throttled on any machine (the test asserts the margin too).
/// The burst holds the largest single write of a partition (a dispatch transaction's updates of one
/// event, 12 units) with room to spare.
const RATE: f64 = 0.03;
const BURST: f64 = 15.0;
/// How often a client tries one request before it gives up.
const TRIES: usize = 5_000;
const CONCURRENCY: usize = 8;

/// What a client saw sending one request until it was taken: 503s on the way, and the final answer.
struct Sent {
    unavailable: usize,
    status: u16,
    body: Value,
}

/// Sends `request()` until it is answered with something other than 503 ([`TRIES`] times at most), waiting
/// a little between tries as a client reading `Retry-After` would.
async fn send_until_taken(f: &Fixture, request: impl Fn() -> lambda_http::Request) -> Sent {
    let mut unavailable = 0;
    loop {
        let (status, body) = read_response(f.handler.handle(request()).await);
        if status != 503 || unavailable >= TRIES {
            return Sent {
                unavailable,
                status,
                body,
            };
        }
        unavailable += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How many event items the store holds (its ledger records share their partitions, and are not counted).
async fn stored_events(f: &Fixture) -> usize {
    crate::support::table_scan(f)
        .await
        .iter()
        .filter(|item| {
            item.get("sk")
                .and_then(|sk| sk.as_s().ok())
                .is_some_and(|sk| sk == "EVENT")
        })
        .count()
}

/// The figures of a run, printed and written for the note, with the buckets' own.
fn report(scenario: &str, buckets: &PartitionBuckets, mut figures: Value) {
    let (hottest, units) = buckets.hottest();
    figures["write_requests"] = json!(buckets.writes());
    figures["hottest_partition"] = json!({"key": hottest, "units": units});
    eprintln!("throttling {scenario}: {figures}");
    let dir = integration_tests::target_dir().join("bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("throttling-{scenario}.json")), figures.to_string()).unwrap();
}

/// The run throttled, and had to: its hottest partition took more units than the buckets could have given
/// it had nothing been refused, so no machine runs this test without throttling.
fn assert_forced_to_throttle(buckets: &PartitionBuckets) {
    let (hottest, units) = buckets.hottest();
    let unthrottled_writes = buckets.writes() - buckets.throttled() as u64;
    assert!(
        units > BURST + RATE * unthrottled_writes as f64 + 5.0,
        "{hottest} took {units} units over {unthrottled_writes} writes: too little to force throttling"
    );
    assert!(buckets.throttled() > 0, "the run must throttle to prove anything");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_one_store_sends_faster_than_its_partitions_take_should_store_once_and_deliver_everything() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let mut queues = Vec::new();
    for _ in 0..5 {
        queues.push(p.sqs_subscriber(json!({"eventNames": ["Order Placed"]})).await);
    }
    let buckets = Arc::new(PartitionBuckets::new(RATE, BURST));
    f.clients.faults.throttle_partitions(buckets.clone());
    // 200 events, one in five from one very active customer.
    let event = |i: usize| {
        let email = if i % 5 == 0 {
            "hot@example.com".to_owned()
        } else {
            format!("c{i}@example.com")
        };
        json!({"eventName": "Order Placed", "uniqueId": format!("a-{i}"), "customer": {"email": email},
               "data": {"total": i}})
    };
    let path = f.path();
    let sent: Vec<Sent> = stream::iter(0..200)
        .map(|i| {
            let (f, path, body) = (&f, path.clone(), event(i));
            async move { send_until_taken(f, || f.json_post(&path, &body)).await }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let statuses: HashMap<u16, usize> = sent.iter().fold(HashMap::new(), |mut m, s| {
        *m.entry(s.status).or_default() += 1;
        m
    });
    let event_ids: HashSet<String> = sent
        .iter()
        .filter_map(|s| s.body["eventId"].as_str().map(str::to_owned))
        .collect();
    let ingest_throttles = buckets.throttled();

    // Dispatch until every subscriber has every event, the retries' delays included.
    let mut received: Vec<Vec<String>> = vec![Vec::new(); queues.len()];
    let (mut failed, mut rejected) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let counts = p.drain().await;
        failed += counts.failed;
        rejected += counts.rejected;
        for (queue, got) in queues.iter().zip(received.iter_mut()) {
            got.extend(
                p.received(queue)
                    .await
                    .into_iter()
                    .filter_map(|(m, _)| m["id"].as_str().map(str::to_owned)),
            );
        }
        let complete = received
            .iter()
            .all(|got| got.iter().collect::<HashSet<_>>().len() >= event_ids.len());
        if complete || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let duplicates: usize = received
        .iter()
        .map(|got| got.len() - got.iter().collect::<HashSet<_>>().len())
        .sum();
    let lost: usize = received
        .iter()
        .map(|got| {
            let got: HashSet<&String> = got.iter().collect();
            event_ids.iter().filter(|id| !got.contains(id)).count()
        })
        .sum();
    let stored = stored_events(&f).await;
    let unavailable: usize = sent.iter().map(|s| s.unavailable).sum();
    report(
        "a",
        &buckets,
        json!({"events": 200, "subscriptions": 5, "throttled_writes": buckets.throttled(),
               "throttled_at_ingest": ingest_throttles, "answers_503": unavailable, "statuses": statuses,
               "stored": stored, "duplicate_deliveries": duplicates, "lost_deliveries": lost,
               "failed_attempts": failed, "rejected": rejected}),
    );
    assert_eq!(
        statuses.get(&202),
        Some(&200),
        "every event taken, none answered 500: {statuses:?}"
    );
    assert_forced_to_throttle(&buckets);
    assert_eq!((event_ids.len(), stored), (200, 200), "each stored exactly once");
    assert_eq!(lost, 0, "every subscriber got every event");
    assert!(duplicates <= 200, "duplicates stay bounded: {duplicates}");
    assert_eq!(rejected, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_a_catalogue_changes_faster_than_its_partitions_take_should_keep_every_change_once() {
    let f = Fixture::new().await;
    let buckets = Arc::new(PartitionBuckets::new(RATE, BURST));
    f.clients.faults.throttle_partitions(buckets.clone());
    // 5 products, each created then changed 39 times, as inventory levels: 200 entity events, in order per
    // product (a change waits for the one before it), the products at once.
    let entity_event = |product: usize, n: usize| {
        let payload = json!({"productId": format!("P{product}"), "quantity": n});
        json!({"id": format!("i-{product}-{n}"), "entity_name": "INVENTORY_LEVEL", "entity_id": format!("P{product}"),
               "event_payload": {"operation": if n == 0 { "CREATE" } else { "UPDATE" },
                                 "base64_encoded_payload_json": STANDARD.encode(payload.to_string())}})
    };
    let runs: Vec<Vec<Sent>> = stream::iter(0..5)
        .map(|product| {
            let f = &f;
            async move {
                let mut sent = Vec::new();
                for n in 0..40 {
                    let body = entity_event(product, n);
                    sent.push(send_until_taken(f, || f.json_post("/api/v1/events", &body)).await);
                }
                sent
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let sent: Vec<&Sent> = runs.iter().flatten().collect();
    let statuses: HashMap<u16, usize> = sent.iter().fold(HashMap::new(), |mut m, s| {
        *m.entry(s.status).or_default() += 1;
        m
    });
    let states = f
        .table
        .entity_states(&f.store_id, EntityType::InventoryLevel)
        .await
        .unwrap();
    let versions: Vec<u64> = states.iter().map(|s| s.version).collect();
    let stored = stored_events(&f).await;
    let unavailable: usize = sent.iter().map(|s| s.unavailable).sum();
    report(
        "c",
        &buckets,
        json!({"events": 200, "entities": 5, "throttled_writes": buckets.throttled(), "answers_503": unavailable,
               "statuses": statuses, "stored": stored, "entity_versions": versions}),
    );
    assert_eq!(
        statuses.get(&201),
        Some(&200),
        "every event taken, none answered 500: {statuses:?}"
    );
    assert_forced_to_throttle(&buckets);
    assert_eq!(stored, 200, "each stored exactly once");
    assert_eq!(states.len(), 5);
    assert!(
        states.iter().all(|s| s.state["quantity"] == 39),
        "every entity ends at its last change"
    );
}
