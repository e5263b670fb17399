//! `GET /api/v1/event-subscription/{id}/deliveries`: a subscription's ledger records are spread over the
//! `deliveries` index's shards (keys::DELIVERY_SHARDS); the listing merges them into one list, latest first.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::pipeline::Pipeline;
use crate::support::Fixture;

#[tokio::test]
async fn when_deliveries_span_the_shards_should_list_the_latest_first_and_no_other() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    p.sqs_subscriber(json!({"eventNames": ["Round"]})).await;
    let (_, listed) = p.api("GET", "/api/v1/event-subscription", None).await;
    let id = listed[0]["id"].as_str().expect("the subscription").to_owned();
    // Three rounds of 40 events delivered a minute apart, so the latest 50 records are round 2's 40 and 10
    // of round 1's, spread over many shards, several to a shard.
    let mut rounds: Vec<HashSet<String>> = Vec::new();
    for round in 0..3 {
        let events: Vec<Value> = (0..40)
            .map(|i| json!({"eventName": "Round", "uniqueId": format!("r{round}-{i}"), "customer": {"email": "r@example.com"}}))
            .collect();
        let (status, report) = f.post_bulk(&json!({ "events": events })).await;
        assert_eq!(status, 202, "{report}");
        let ids = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["eventId"].as_str().unwrap().to_owned());
        rounds.push(ids.collect());
        assert_eq!(p.drain().await.delivered, 40);
        f.clock.advance(chrono::Duration::minutes(1));
    }
    let (status, listed) = p
        .api(
            "GET",
            &format!("/api/v1/event-subscription/{id}/deliveries?limit=50"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{listed}");
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 50);
    let times: Vec<&str> = listed.iter().map(|d| d["lastAttemptAt"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "latest first: {times:?}");
    let in_round = |r: usize| {
        listed
            .iter()
            .filter(|d| rounds[r].contains(d["eventId"].as_str().unwrap()))
            .count()
    };
    assert_eq!((in_round(2), in_round(1), in_round(0)), (40, 10, 0));
}
