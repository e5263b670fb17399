//! Sending again, through the real subscriptions and dispatch functions against moto: redelivering one
//! message, replaying a range after an outage (what was missed, or everything), and the backfill of a new
//! subscription.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::pipeline::Pipeline;
use crate::reads::get_with;
use crate::support::{create_queue, hex_id, Fixture};
use crate::wiring::reads_handler;

/// A subscription of `filters` to a new queue: its id and the queue.
async fn subscribe_queue(p: &Pipeline<'_>, filters: Value) -> (String, String, Value) {
    let url = create_queue(&p.f.clients, &format!("replayed-{}", hex_id())).await;
    let mut body = filters;
    body["destination"] = json!({"type": "SQS", "sqs": {"queueUrl": url, "region": "us-east-1"}});
    let created = p.subscribe(body.clone()).await;
    (created["id"].as_str().unwrap().to_owned(), url, body)
}

/// How many times each envelope id arrived at the queue.
async fn arrivals(p: &Pipeline<'_>, queue: &str) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for (message, _) in p.received(queue).await {
        *seen.entry(message["id"].as_str().unwrap().to_owned()).or_insert(0) += 1;
    }
    seen
}

/// `n` orders, a second apart, from `n` customers: their event ids.
pub async fn send_orders(f: &Fixture, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        f.clock.advance(chrono::Duration::seconds(1));
        let (status, body) = f
            .post(&json!({"eventName": "Order Placed", "customer": {"email": format!("r{i}@example.com")}}))
            .await;
        assert_eq!(status, 202, "{body}");
        ids.push(body["eventId"].as_str().unwrap().to_owned());
    }
    ids
}

/// Dispatches until the queue is empty, twice over: a replay's page queues its events for the next round.
async fn drain_all(p: &Pipeline<'_>) {
    for _ in 0..3 {
        p.drain().await;
    }
}

#[tokio::test]
async fn when_a_delivered_message_is_redelivered_should_send_it_again_with_its_id_and_record_the_attempt() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let reads = reads_handler(&f);
    let (subscription, queue, _) = subscribe_queue(&p, json!({"eventNames": ["Order Placed"]})).await;
    let event = send_orders(&f, 1).await.remove(0);
    drain_all(&p).await;
    assert_eq!(arrivals(&p, &queue).await, HashMap::from([(event.clone(), 1)]));

    let base = format!("/api/v1/event-subscription/{subscription}");
    let (status, queued) = p
        .api("POST", &format!("{base}/deliveries/{event}/redeliver"), None)
        .await;
    assert_eq!((status, &queued["status"]), (202, &json!("queued")), "{queued}");
    drain_all(&p).await;
    assert_eq!(
        arrivals(&p, &queue).await,
        HashMap::from([(event.clone(), 1)]),
        "sent again, with the same envelope id"
    );
    let (_, read) = get_with(&reads, &f.key, &format!("{}/{event}", f.path())).await;
    assert_eq!(read["deliveries"][0]["attempts"], 2, "{read}");
    assert_eq!(read["deliveries"][0]["status"], "DELIVERED");

    for missing in [
        format!("{}-customer", event),
        "0".repeat(24),
        "not-a-message".to_owned(),
    ] {
        let (status, _) = p
            .api("POST", &format!("{base}/deliveries/{missing}/redeliver"), None)
            .await;
        assert_eq!(status, 404, "{missing}: no such delivery");
    }
}

#[tokio::test]
async fn when_a_subscriber_was_away_should_replay_exactly_what_it_missed_or_everything() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let since = f.clock_now_text();
    let (subscription, queue, body) = subscribe_queue(&p, json!({"eventNames": ["Order Placed"]})).await;
    let base = format!("/api/v1/event-subscription/{subscription}");
    let before = send_orders(&f, 2).await;
    drain_all(&p).await;
    assert_eq!(arrivals(&p, &queue).await.len(), 2);

    // Away: deactivated, three orders go by, then back.
    let (status, _) = p.api("PUT", &format!("{base}/deactivate"), None).await;
    assert_eq!(status, 200);
    let missed = send_orders(&f, 3).await;
    drain_all(&p).await;
    assert!(arrivals(&p, &queue).await.is_empty(), "nothing while inactive");
    let (_, listed) = p.api("GET", &format!("{base}/deliveries"), None).await;
    let skipped: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "SKIPPED")
        .map(|d| d["eventId"].as_str().unwrap())
        .collect();
    let mut expected_skipped: Vec<&str> = missed.iter().map(String::as_str).collect();
    expected_skipped.sort_unstable();
    let mut skipped_sorted = skipped.clone();
    skipped_sorted.sort_unstable();
    assert_eq!(
        skipped_sorted, expected_skipped,
        "recorded as skipped while inactive: {listed}"
    );
    let (status, problem) = p
        .api("POST", &format!("{base}/replay"), Some(&json!({"since": since})))
        .await;
    assert_eq!(status, 409, "an inactive subscription is not replayed to: {problem}");
    let mut reactivated = body.clone();
    reactivated["active"] = json!(true);
    reactivated["id"] = json!(subscription);
    let (status, again) = p.api("PUT", "/api/v1/event-subscription", Some(&reactivated)).await;
    assert_eq!((status, &again["active"]), (200, &json!(true)), "{again}");
    f.clock.advance(chrono::Duration::seconds(1));

    let (status, replay) = p
        .api(
            "POST",
            &format!("{base}/replay"),
            Some(&json!({"since": since, "onlyUndelivered": true})),
        )
        .await;
    assert_eq!(status, 202, "{replay}");
    drain_all(&p).await;
    let expected: HashMap<String, usize> = missed.iter().map(|id| (id.clone(), 1)).collect();
    assert_eq!(
        arrivals(&p, &queue).await,
        expected,
        "exactly the missed ones, once each"
    );
    let replay_id = replay["replayId"].as_str().unwrap();
    let (status, progress) = p.api("GET", &format!("{base}/replays/{replay_id}"), None).await;
    assert_eq!(status, 200, "{progress}");
    assert_eq!(
        (
            &progress["finished"],
            &progress["matched"],
            &progress["sent"],
            &progress["failed"]
        ),
        (&json!(true), &json!(5), &json!(3), &json!(0)),
        "{progress}"
    );

    let (status, all) = p
        .api("POST", &format!("{base}/replay"), Some(&json!({"since": since})))
        .await;
    assert_eq!(status, 202, "{all}");
    drain_all(&p).await;
    let everything: HashMap<String, usize> = before.iter().chain(&missed).map(|id| (id.clone(), 1)).collect();
    assert_eq!(
        arrivals(&p, &queue).await,
        everything,
        "onlyUndelivered false: every one again"
    );

    let (status, _) = p.api("GET", &format!("{base}/replays/{}", "0".repeat(24)), None).await;
    assert_eq!(status, 404);
    let (status, problem) = p
        .api("POST", &format!("{base}/replay"), Some(&json!({"until": since})))
        .await;
    assert_eq!(
        (status, &problem["errors"][0]["pointer"]),
        (400, &json!("/since")),
        "{problem}"
    );
}

#[tokio::test]
async fn when_a_subscription_asks_for_a_backfill_should_receive_the_matching_events_of_before() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let since = f.clock_now_text();
    let orders = send_orders(&f, 3).await;
    let (status, _) = f
        .post(&json!({"eventName": "Page Viewed", "customer": {"email": "v@example.com"}}))
        .await;
    assert_eq!(status, 202);
    f.clock.advance(chrono::Duration::seconds(1));
    let (_, without, _) = subscribe_queue(&p, json!({"eventNames": ["Order Placed"]})).await;
    let (_, with, _) = subscribe_queue(&p, json!({"eventNames": ["Order Placed"], "replayFrom": since})).await;
    drain_all(&p).await;
    let expected: HashMap<String, usize> = orders.iter().map(|id| (id.clone(), 1)).collect();
    assert_eq!(
        arrivals(&p, &with).await,
        expected,
        "the orders of before, not the page view"
    );
    assert!(arrivals(&p, &without).await.is_empty(), "without replayFrom, as before");
}
