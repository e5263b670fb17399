//! Rate limits per store, shared by every instance: a counter in the table, not per-process memory.

use std::collections::HashSet;

use collector_core::service::admin::set_rate_limit;
use futures::future::join_all;
use integration_tests::read_response;
use lambda_http::{Body, Response};
use serde_json::{json, Value};

use crate::support::Fixture;

fn header(response: &Response<Body>, name: &str) -> Option<String> {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_owned())
}

fn event(i: usize) -> Value {
    json!({"eventName": "Limited", "uniqueId": format!("limited-{i}"), "customer": {"email": "limited@example.com"}})
}

fn epoch_second() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn when_a_store_exceeds_its_limit_should_answer_429_with_retry_after_and_store_nothing() {
    let f = Fixture::new().await;
    set_rate_limit(&f.table, &f.store_id, 3).await.unwrap();
    let first_second = epoch_second();
    let mut admitted = Vec::new();
    let mut refused = Vec::new();
    for i in 0..12 {
        let response = f.handler.handle(f.json_post(&f.path(), &event(i))).await;
        assert_eq!(header(&response, "ratelimit-limit").as_deref(), Some("3"));
        assert_eq!(header(&response, "ratelimit-reset").as_deref(), Some("1"));
        let remaining = header(&response, "ratelimit-remaining").expect("RateLimit-Remaining on every answer");
        let retry_after = header(&response, "retry-after");
        let (status, body) = read_response(response);
        match status {
            202 => admitted.push(i),
            429 => {
                assert_eq!(body["type"], "/problems/rate-limited");
                assert_eq!(retry_after.as_deref(), Some("1"));
                assert_eq!(remaining, "0");
                refused.push(i);
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    let seconds = epoch_second() - first_second + 1;
    assert!(!refused.is_empty(), "12 requests in {seconds} s under a limit of 3");
    assert!(
        admitted.len() as i64 <= 3 * seconds,
        "{} admitted in {seconds} s",
        admitted.len()
    );

    // A refused request changed nothing: sent again in a later second, it is new, not a duplicate.
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (status, body) = f.post(&event(refused[0])).await;
    assert_eq!((status, body["status"].as_str()), (202, Some("accepted")), "{body}");
}

#[tokio::test]
async fn when_instances_share_a_store_should_admit_no_more_than_the_limit_per_second_between_them() {
    let f = Fixture::new().await;
    set_rate_limit(&f.table, &f.store_id, 5).await.unwrap();
    // Three instances of the function: each its own process memory, one table.
    let instances: Vec<_> = (0..3).map(|_| f.handler_on(&f.dispatch_queue_url)).collect();
    let first_second = epoch_second();
    let f = &f;
    let answers = join_all((0..30).map(|i| {
        let handler = &instances[i % instances.len()];
        async move { read_response(handler.handle(f.json_post(&f.path(), &event(i))).await) }
    }))
    .await;
    let seconds = epoch_second() - first_second + 1;
    let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
    let admitted = statuses.iter().filter(|s| **s == 202).count() as i64;
    assert!(statuses.iter().all(|s| [202, 429].contains(s)), "{statuses:?}");
    assert!(
        admitted >= 1 && admitted <= 5 * seconds,
        "{admitted} admitted in {seconds} s: {statuses:?}"
    );
    let stored: HashSet<String> = answers
        .iter()
        .filter(|(status, _)| *status == 202)
        .map(|(_, body)| body["eventId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(stored.len() as i64, admitted);
}

#[tokio::test]
async fn when_a_bulk_request_arrives_should_count_ten_against_the_limit() {
    let f = Fixture::new().await;
    set_rate_limit(&f.table, &f.store_id, 12).await.unwrap();
    let bulk = json!({"events": [event(1)]});
    let response = f.bulk.handle(f.json_post(&format!("{}/bulk", f.path()), &bulk)).await;
    let remaining: u32 = header(&response, "ratelimit-remaining").unwrap().parse().unwrap();
    assert_eq!(remaining, 2, "a bulk request uses 10 of the second's 12");
    assert_eq!(read_response(response).0, 202);
}

#[tokio::test]
async fn when_a_rate_limit_is_set_out_of_range_should_refuse_it() {
    let f = Fixture::new().await;
    assert!(set_rate_limit(&f.table, &f.store_id, 0).await.is_err());
    let missing = collector_core::domain::ids::StoreId::parse("65f1a2b3c4d5e6f708192a3b").unwrap();
    assert!(set_rate_limit(&f.table, &missing, 10)
        .await
        .unwrap_err()
        .contains("does not exist"));
}
