//! Fault injection: thousands of randomized events through ingest, bulk ingest, dispatch and the sweep
//! while AWS fails at random under every call (throttling, 500s, timeouts before the request lands,
//! answers lost after it landed) and invocations die at random points (a handler's future dropped
//! mid-flight, as a Lambda timeout or crash leaves it). A client retries what did not succeed, as
//! merchants do. Then, with faults off, the invariants: every event answered 2xx is stored exactly once and
//! delivered to every subscription it matches (and none it does not); no uniqueId is stored twice; no
//! customer exists twice; no job slot runs twice.
//!
//! `FAULT_EVENTS` (default 300, bounded for `make test`) and `FAULT_SEED` (default: time) size and
//! reproduce a run; `make faults` runs 2,000 (moto is the bottleneck: 1,000 events take about 11 minutes).
//! The figures are printed, and written to `target/bench/faults.json`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use collector_core::domain::job::Job;
use collector_core::ports::Clock;
use collector_core::service::admin::set_rate_limit;
use collector_core::service::job_runs::{run_due_jobs, JobRunner, RunOutcome, TickConfig};
use collector_core::service::sweep::{sweep, SweepConfig};
use futures::{stream, StreamExt};
use integration_tests::{apigw_request, read_response};
use serde_json::{json, Value};

use crate::pipeline::Pipeline;
use crate::support::{table_scan, Fixture};
use crate::wiring::Faulty;

/// Of every 1,000 AWS requests, this many fail.
const FAULTS_PER_MILLE: u32 = 150;
/// Of every 100 invocations, this many die at a random point.
const DEATHS_PERCENT: u64 = 4;
const EMAILS: usize = 60;
const NAMES: [&str; 5] = [
    "Order Placed",
    "Product Viewed",
    "Page Viewed",
    "Signed Up",
    "Cart Updated",
];

/// xorshift64, seeded: the run's randomness, reproducible from `FAULT_SEED`.
struct Rng(Mutex<u64>);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(Mutex::new(seed | 1))
    }

    fn below(&self, n: u64) -> u64 {
        let mut state = self.0.lock().unwrap();
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state % n
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Runs `work` as an invocation that may die: dropped after a random few milliseconds. `None` when it died.
async fn invocation<T>(rng: &Rng, deaths: &AtomicUsize, work: impl std::future::Future<Output = T>) -> Option<T> {
    if rng.below(100) >= DEATHS_PERCENT {
        return Some(work.await);
    }
    let lives = Duration::from_millis(rng.below(60));
    let outcome = tokio::time::timeout(lives, work).await.ok();
    if outcome.is_none() {
        deaths.fetch_add(1, Ordering::Relaxed);
    }
    outcome
}

/// One planned event: what the merchant sends, the same every time it is sent.
fn planned_event(rng: &Rng, i: usize) -> Value {
    let name = NAMES[rng.below(NAMES.len() as u64) as usize];
    let email = format!("shopper{}@example.com", rng.below(EMAILS as u64));
    let mut customer = json!({"email": email});
    if rng.below(4) == 0 {
        customer["firstName"] = json!(format!("Name{}", rng.below(5)));
    }
    json!({"eventName": name, "uniqueId": format!("ev-{i}"), "customer": customer,
           "data": {"n": i, "price": rng.below(100)}})
}

/// What the merchant was told: uniqueId → the event ids answered (all must be one).
type Answers = Mutex<HashMap<String, HashSet<String>>>;

/// Sends `events` until each is answered 2xx (single) or accepted/duplicate (bulk), retrying everything else.
async fn send_until_answered(
    faulty: &Faulty,
    f: &Fixture,
    rng: &Rng,
    deaths: &AtomicUsize,
    answers: &Answers,
    events: Vec<Value>,
    bulk: bool,
) {
    let mut remaining = events;
    for _attempt in 0..60 {
        if remaining.is_empty() {
            return;
        }
        let bearer = f.bearer();
        let headers = [("authorization", bearer.as_str()), ("content-type", "application/json")];
        let (path, body) = if bulk {
            (format!("{}/bulk", f.path()), json!({"events": remaining}))
        } else {
            (f.path(), remaining[0].clone())
        };
        let request = apigw_request("POST", &path, &headers, Some(&body.to_string()));
        let handled = if bulk {
            invocation(rng, deaths, faulty.bulk.handle(request)).await
        } else {
            invocation(rng, deaths, faulty.ingest.handle(request)).await
        };
        let Some(response) = handled else { continue };
        let (status, answer) = read_response(response);
        match status {
            202 if bulk => {
                let mut again = Vec::new();
                for (event, result) in remaining.iter().zip(answer["results"].as_array().unwrap()) {
                    match result["status"].as_str().unwrap() {
                        "accepted" | "duplicate" => record(answers, event, &result["eventId"]),
                        "failed" => again.push(event.clone()),
                        other => panic!("{other}: {result}"),
                    }
                }
                remaining = again;
            }
            202 => {
                record(answers, &remaining[0], &answer["eventId"]);
                remaining.clear();
            }
            429 | 500..=599 => {}
            other => panic!("{other}: {answer}"),
        }
        tokio::time::sleep(Duration::from_millis(rng.below(20))).await;
    }
    panic!("events still unanswered after 60 attempts: {}", remaining.len());
}

fn record(answers: &Answers, event: &Value, event_id: &Value) {
    let unique = event["uniqueId"].as_str().unwrap().to_owned();
    let id = event_id.as_str().expect("an event id").to_owned();
    answers.lock().unwrap().entry(unique).or_default().insert(id);
}

/// Dispatch and the sweep until no event is pending: batches through the faulty dispatcher (which may
/// die), deletes what it reports done (the event source mapping), then time passes (the clock moves past
/// every retry and the sweep's grace) and the sweep re-enqueues what is still pending. Returns the rounds.
async fn settle(p: &Pipeline<'_>, faulty: &Faulty, rng: &Rng, deaths: &AtomicUsize) -> usize {
    for round in 1..=40 {
        while let Some((batch, receipts)) = p.receive_up_to(10).await {
            let ids: Vec<String> = batch
                .records
                .iter()
                .map(|r| r.message_id.clone().unwrap_or_default())
                .collect();
            let Some(answer) = invocation(rng, deaths, faulty.dispatcher.handle_counted(batch, "it-request")).await
            else {
                continue;
            };
            let (response, _) = answer.expect("every record has a messageId");
            for (id, receipt) in ids.iter().zip(&receipts) {
                if !response.batch_item_failures.iter().any(|f| &f.item_identifier == id) {
                    let sqs = &p.f.clients.sqs;
                    sqs.delete_message()
                        .queue_url(&p.f.dispatch_queue_url)
                        .receipt_handle(receipt)
                        .send()
                        .await
                        .unwrap();
                }
            }
        }
        if pending_events(p.f).await == 0 {
            return round;
        }
        p.f.clock.advance(chrono::Duration::hours(11));
        // The sweep may fail or die too; the next round sweeps again.
        let _ = invocation(
            rng,
            deaths,
            sweep(&faulty.table, &faulty.queue, p.f.clock.now(), SweepConfig::default()),
        )
        .await;
    }
    panic!("events still pending after 40 rounds: {}", pending_events(p.f).await);
}

fn text<'a>(item: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

/// Events still carrying the pending marker: one filtered scan (moto serves each of the `pending` index's
/// eight shard queries with a scan of its own).
async fn pending_events(f: &Fixture) -> usize {
    let mut count = 0;
    let mut start = None;
    loop {
        let page = f
            .clients
            .dynamodb
            .scan()
            .table_name(&f.table_name)
            .filter_expression("attribute_exists(pendingShard)")
            .select(aws_sdk_dynamodb::types::Select::Count)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        count += page.count() as usize;
        start = page.last_evaluated_key;
        if start.is_none() {
            return count;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_aws_fails_and_invocations_die_at_random_should_store_once_and_deliver_everywhere() {
    let events = env_number("FAULT_EVENTS", 300) as usize;
    let seed = env_number("FAULT_SEED", Utc::now().timestamp_micros() as u64);
    println!("fault run: {events} events, seed {seed} (FAULT_SEED={seed} reproduces the draws)");
    let f = Fixture::new().await;
    set_rate_limit(&f.table, &f.store_id, 10_000).await.unwrap();
    let p = Pipeline::new(&f);
    let subscribers = [
        (p.sqs_subscriber(json!({"eventNames": ["*"]})).await, NAMES.to_vec()),
        (
            p.sqs_subscriber(json!({"eventNames": ["Order Placed"]})).await,
            vec!["Order Placed"],
        ),
        (
            p.sqs_subscriber(json!({"eventNames": ["Product Viewed", "Page Viewed"]}))
                .await,
            vec!["Product Viewed", "Page Viewed"],
        ),
    ];
    let rng = Rng::new(seed);
    let plan: Vec<Value> = (0..events).map(|i| planned_event(&rng, i)).collect();
    // Groups of 1 go to the single endpoint, larger ones in bulk; a tenth of the groups are sent twice, at
    // the same time, as a merchant's retry racing its first attempt.
    let mut groups = Vec::new();
    let mut at = 0;
    while at < plan.len() {
        let size = if rng.below(2) == 0 {
            1
        } else {
            1 + rng.below(40) as usize
        };
        let group: Vec<Value> = plan[at..(at + size).min(plan.len())].to_vec();
        at += group.len();
        if rng.below(10) == 0 {
            groups.push(group.clone());
        }
        groups.push(group);
    }
    let faulty = Faulty::new(&f).await;
    let deaths = AtomicUsize::new(0);
    let answers: Answers = Mutex::default();
    faulty.clients.faults.start(FAULTS_PER_MILLE, seed);
    let started = std::time::Instant::now();

    stream::iter(groups)
        .for_each_concurrent(8, |group| {
            let bulk = group.len() > 1;
            send_until_answered(&faulty, &f, &rng, &deaths, &answers, group, bulk)
        })
        .await;
    let sent_in = started.elapsed();
    let rounds = settle(&p, &faulty, &rng, &deaths).await;
    faulty.clients.faults.stop();
    let settled_in = started.elapsed() - sent_in;

    // Stored exactly once, under the id the merchant was told.
    let answers = answers.into_inner().unwrap();
    assert_eq!(answers.len(), events, "every event was answered");
    let items = table_scan(&f).await;
    let mut stored: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut names: HashMap<&str, String> = HashMap::new();
    for item in items.iter().filter(|i| text(i, "sk") == Some("EVENT")) {
        let id = text(item, "pk").unwrap().rsplit('#').next().unwrap();
        stored
            .entry(text(item, "uniqueId").expect("every planned event has one"))
            .or_default()
            .push(id);
        names.insert(id, text(item, "eventName").unwrap().to_owned());
    }
    assert_eq!(stored.len(), events, "no event lost, none stored that was not sent");
    for (unique, ids) in &answers {
        assert_eq!(ids.len(), 1, "{unique} was answered with two event ids: {ids:?}");
        let kept = &stored[unique.as_str()];
        assert_eq!(kept.len(), 1, "{unique} stored {} times", kept.len());
        assert!(ids.contains(kept[0]), "{unique}: answered {ids:?}, stored {kept:?}");
    }
    // One customer per email.
    let mut profiles: HashMap<String, usize> = HashMap::new();
    for item in items.iter().filter(|i| text(i, "sk") == Some("PROFILE")) {
        *profiles.entry(text(item, "email").unwrap().to_lowercase()).or_default() += 1;
    }
    assert!(
        profiles.values().all(|n| *n == 1),
        "a customer was duplicated: {profiles:?}"
    );

    // Delivered to every matching subscription, to no other.
    let mut duplicates = 0;
    for (queue, wanted) in &subscribers {
        let mut got: BTreeMap<String, usize> = BTreeMap::new();
        for (message, _) in p.received(queue).await {
            *got.entry(message["data"]["eventId"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        for (id, name) in &names {
            let expected = wanted.contains(&name.as_str());
            assert_eq!(
                got.contains_key(*id),
                expected,
                "{name} event {id} and subscription to {wanted:?}"
            );
        }
        duplicates += got.values().map(|n| n - 1).sum::<usize>();
    }

    let injected = faulty.clients.faults.injected();
    let figures = json!({"events": events, "seed": seed, "faultsInjected": faulty.clients.faults.total(),
        "invocationsDied": deaths.load(Ordering::Relaxed), "settleRounds": rounds,
        "duplicateDeliveries": duplicates, "sendSeconds": sent_in.as_secs(), "settleSeconds": settled_in.as_secs(),
        "byOperation": injected});
    println!("fault run figures: {figures:#}");
    let dir = integration_tests::target_dir().join("bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("faults.json"), figures.to_string()).unwrap();
}

/// Records every (job, slot) it is asked to run.
#[derive(Default)]
struct Runs(Mutex<Vec<(String, DateTime<Utc>)>>);

impl JobRunner for Runs {
    async fn run(&self, job: &Job, slot: DateTime<Utc>) -> RunOutcome {
        self.0.lock().unwrap().push((job.id.clone(), slot));
        tokio::time::sleep(Duration::from_millis(5)).await;
        RunOutcome::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn when_aws_fails_under_concurrent_ticks_should_run_no_job_slot_twice() {
    let seed = env_number("FAULT_SEED", Utc::now().timestamp_micros() as u64);
    let f = Fixture::new().await;
    let mut jobs = Vec::new();
    for _ in 0..12 {
        jobs.push(crate::job_runs::hourly_job(&f).await);
    }
    let faulty = Faulty::new(&f).await;
    let runs = Runs::default();
    faulty.clients.faults.start(FAULTS_PER_MILLE, seed);
    let mut failed = 0;
    for _hour in 0..8 {
        f.clock.advance(chrono::Duration::minutes(61));
        // Three schedulers tick at once (EventBridge may deliver a tick twice; an invocation may overlap the next).
        let ticks = (0..3).map(|_| run_due_jobs(&faulty.table, &runs, &f.clock, TickConfig::default()));
        for tick in futures::future::join_all(ticks).await {
            failed += tick.map_or(1, |report| report.failed);
        }
    }
    faulty.clients.faults.stop();
    // Faults over, claims left by failed ticks go stale, and the next ticks catch up.
    for _ in 0..2 {
        f.clock.advance(chrono::Duration::minutes(61));
        run_due_jobs(&faulty.table, &runs, &f.clock, TickConfig::default())
            .await
            .unwrap();
    }
    let runs = runs.0.lock().unwrap().clone();
    let mut per_slot: HashMap<&(String, DateTime<Utc>), usize> = HashMap::new();
    for run in &runs {
        *per_slot.entry(run).or_default() += 1;
    }
    let twice: Vec<_> = per_slot.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "slots run twice: {twice:?}");
    for job in &jobs {
        assert!(runs.iter().any(|(id, _)| id == job), "job {job} never ran");
    }
    println!(
        "scheduler fault run: {} runs of {} jobs, {} faults injected, {failed} job runs or ticks failed, seed {seed}",
        runs.len(),
        jobs.len(),
        faulty.clients.faults.total()
    );
}
