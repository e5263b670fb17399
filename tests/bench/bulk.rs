//! `make bench` (bulk): one 100-event bulk request against the local stack, compared with the same 100 events
//! sent one by one. Reports AWS requests per event and wall time, median of several rounds. The local AWS is
//! moto, so absolute times are the emulator's more than ours; the ratio and the request counts carry over.

use std::time::{Duration, Instant};

use chrono::Utc;
use collector_aws::dynamo::DynamoTable;
use collector_aws::sqs::SqsDispatchQueue;
use collector_core::domain::api_key::Scope;
use collector_core::ports::{IdGenerator, RandomIds, SystemClock};
use collector_core::service::admin::{create_store, issue_key};
use collector_core::service::ingest::IngestConfig;
use collector_http::edge::IngestDeps;
use integration_tests::{apigw_request, clone_template_table, read_response, Clients};
use serde_json::{json, Value};

const ROUNDS: usize = 3;
const EVENTS: usize = 100;

struct Setup {
    clients: Clients,
    table_name: String,
    single: ingest::Handler<DynamoTable, SqsDispatchQueue>,
    bulk: bulk_ingest::Handler<DynamoTable, SqsDispatchQueue>,
    path: String,
    auth: String,
}

fn event(round: &str, i: usize, customers: &str) -> Value {
    json!({"eventName": "Order Placed", "uniqueId": format!("{round}-{i}"),
           "customer": {"email": format!("{customers}-{i}@example.com"), "firstName": "Bench"},
           "value": 10.5, "valueCurrency": "USD", "data": {"Order Id": format!("o-{round}-{i}"), "Items": 3}})
}

async fn post(setup: &Setup, bulk: bool, body: &Value) -> Value {
    let path = if bulk {
        format!("{}/bulk", setup.path)
    } else {
        setup.path.clone()
    };
    let request = apigw_request(
        "POST",
        &path,
        &[("authorization", &setup.auth), ("content-type", "application/json")],
        Some(&body.to_string()),
    );
    let response = if bulk {
        setup.bulk.handle(request).await
    } else {
        setup.single.handle(request).await
    };
    let (status, body) = read_response(response);
    assert_eq!(status, 202, "{body}");
    body
}

/// A fresh table, store, key and handlers, with the "known" customers already created and the key cache
/// and connections warm. Every round gets its own so the emulator's cost does not grow between rounds.
async fn setup() -> Setup {
    let clients = Clients::new().await;
    let name = format!("bench-{}", hex::encode(RandomIds.object_id(Utc::now())));
    let table_name = clone_template_table(&clients.dynamodb, &name).await;
    let table = DynamoTable::new(clients.dynamodb.clone(), &table_name);
    let now = Utc::now();
    let store = create_store(&table, &RandomIds, "bench", now).await.unwrap();
    let key = issue_key(&table, &RandomIds, &store.store_id, Scope::ALL.to_vec(), now)
        .await
        .unwrap();
    let queue = || SqsDispatchQueue::new(clients.sqs.clone(), &integration_tests::local_aws().dispatch_queue_url);
    let config = IngestConfig::default();
    let single = ingest::Handler::from(IngestDeps::new(
        table.clone(),
        queue(),
        Box::new(SystemClock),
        Box::new(RandomIds),
        config.clone(),
    ));
    let bulk = bulk_ingest::Handler::from(IngestDeps::new(
        table.clone(),
        queue(),
        Box::new(SystemClock),
        Box::new(RandomIds),
        config,
    ));
    let setup = Setup {
        path: format!("/stores/{}/events", store.store_id),
        auth: format!("Bearer {}", key.plaintext),
        table_name,
        clients,
        single,
        bulk,
    };
    let known: Vec<Value> = (0..EVENTS).map(|i| event("warm", i, "known")).collect();
    post(&setup, true, &json!({ "events": known })).await;
    post(&setup, false, &event("warm-single", 0, "known")).await;
    setup
}

#[derive(Clone, Copy)]
enum Scenario {
    Bulk,
    Singles,
}

/// Median wall time and AWS requests per event over `ROUNDS` rounds of 100 events for `customers`.
async fn measure(scenario: Scenario, customers: &str) -> (Duration, f64) {
    let mut times = Vec::new();
    let mut requests = Vec::new();
    for _ in 0..ROUNDS {
        let s = setup().await;
        let events: Vec<Value> = (0..EVENTS).map(|i| event("measured", i, customers)).collect();
        s.clients.log.take();
        let started = Instant::now();
        match scenario {
            Scenario::Bulk => {
                post(&s, true, &json!({ "events": events })).await;
            }
            Scenario::Singles => {
                for event in &events {
                    post(&s, false, event).await;
                }
            }
        }
        times.push(started.elapsed());
        requests.push(s.clients.log.take().len());
        // The emulator slows down with everything it holds; start each round from the same size.
        s.clients
            .dynamodb
            .delete_table()
            .table_name(&s.table_name)
            .send()
            .await
            .unwrap();
    }
    times.sort();
    requests.sort();
    (times[ROUNDS / 2], requests[ROUNDS / 2] as f64 / EVENTS as f64)
}

#[tokio::main]
async fn main() {
    let bulk_known = measure(Scenario::Bulk, "known").await;
    let single_known = measure(Scenario::Singles, "known").await;
    let bulk_new = measure(Scenario::Bulk, "new").await;
    let single_new = measure(Scenario::Singles, "new").await;

    println!("\n## Bulk vs single ingest, {EVENTS} events, median of {ROUNDS} rounds, local stack (moto)\n");
    println!("| customers | path | wall time | AWS requests per event |");
    println!("|---|---|---|---|");
    for (customers, path, (time, per_event)) in [
        ("known", "1 bulk request", bulk_known),
        ("known", "100 single requests", single_known),
        ("new", "1 bulk request", bulk_new),
        ("new", "100 single requests", single_new),
    ] {
        println!(
            "| {customers} | {path} | {:.0} ms | {per_event:.2} |",
            time.as_secs_f64() * 1000.0
        );
    }
    let ratio = |bulk: (Duration, f64), single: (Duration, f64)| single.0.as_secs_f64() / bulk.0.as_secs_f64();
    println!(
        "\nbulk is {:.1}x faster than single requests for known customers, {:.1}x for new ones",
        ratio(bulk_known, single_known),
        ratio(bulk_new, single_new)
    );
}
