//! `GET /api/v1/event-subscription/{id}/deliveries`: a subscription's ledger records are spread over the
//! `deliveries` index's shards (keys::DELIVERY_SHARDS); the listing merges them into one list, latest first.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::pipeline::Pipeline;
use crate::replay::send_orders;
use crate::support::{pointers_of, Fixture};

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

/// Every page of `first`, following each page's `Link` to the next: the message ids of each page.
async fn follow_pages(p: &Pipeline<'_>, first: &str) -> Vec<Vec<String>> {
    let (mut pages, mut next) = (Vec::new(), Some(first.to_owned()));
    while let Some(path) = next.take() {
        let (status, page, link) = p.api_page(&path).await;
        assert_eq!(status, 200, "{path}: {page}");
        let ids = page.as_array().unwrap().iter();
        pages.push(ids.map(|d| d["messageId"].as_str().unwrap().to_owned()).collect());
        assert!(pages.len() <= 50, "the pages never end");
        next = link;
    }
    pages
}

async fn subscription_id(p: &Pipeline<'_>, index: usize) -> String {
    let (_, listed) = p.api("GET", "/api/v1/event-subscription", None).await;
    listed[index]["id"].as_str().expect("the subscription").to_owned()
}

#[tokio::test]
async fn when_the_ledger_is_paged_should_list_every_record_once_across_shards_and_shared_milliseconds() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    p.sqs_subscriber(json!({"eventNames": ["Round"]})).await;
    let id = subscription_id(&p, 0).await;
    // Two rounds of 23 delivered in one millisecond each: pages of 7 end inside a millisecond's records.
    for round in 0..2 {
        let events: Vec<Value> = (0..23)
            .map(|i| json!({"eventName": "Round", "uniqueId": format!("p{round}-{i}"), "customer": {"email": "p@example.com"}}))
            .collect();
        let (status, report) = f.post_bulk(&json!({ "events": events })).await;
        assert_eq!(status, 202, "{report}");
        assert_eq!(p.drain().await.delivered, 23);
        f.clock.advance(chrono::Duration::minutes(1));
    }
    let base = format!("/api/v1/event-subscription/{id}/deliveries");
    let (_, whole) = p.api("GET", &format!("{base}?limit=200"), None).await;
    let whole: Vec<String> = whole
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["messageId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(whole.len(), 46);

    let pages = follow_pages(&p, &format!("{base}?limit=7")).await;
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, [7, 7, 7, 7, 7, 7, 4], "full pages, then the rest, then no link");
    assert_eq!(
        pages.concat(),
        whole,
        "none missed, none repeated, in the listing's order"
    );
    assert_eq!(pages.concat().iter().collect::<HashSet<_>>().len(), 46);

    // What a page costs: a query of each of the 64 shards (a few more for shards that may still hold one
    // of the page), and KMS to open the cursor it was given and seal the next.
    let (_, _, link) = p.api_page(&format!("{base}?limit=7")).await;
    f.clients.log.take();
    p.api_page(&link.unwrap()).await;
    let mut counts = f.clients.log.take_counts();
    counts.remove(integration_tests::RATE_LIMIT);
    let queries = counts.remove("Query").unwrap_or(0);
    assert!((64..=64 + 7).contains(&queries), "{queries} queries for a page of 7");
    let rest: Vec<(String, usize)> = counts.into_iter().collect();
    assert_eq!(
        rest,
        [
            ("Decrypt".to_owned(), 1),
            ("Encrypt".to_owned(), 1),
            ("GetItem".to_owned(), 1)
        ]
    );
}

#[tokio::test]
async fn when_a_status_is_asked_should_list_exactly_the_records_of_that_status() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let queue = p.sqs_subscriber(json!({"eventNames": ["Order Placed"]})).await;
    let id = subscription_id(&p, 0).await;
    let delivered = send_orders(&f, 3).await;
    p.drain().await;
    // The queue goes away: the next delivery is refused for good and deactivates the subscription; what
    // comes after is skipped.
    f.clients.sqs.delete_queue().queue_url(&queue).send().await.unwrap();
    let rejected = send_orders(&f, 1).await;
    p.drain().await;
    let skipped = send_orders(&f, 4).await;
    p.drain().await;

    let base = format!("/api/v1/event-subscription/{id}/deliveries");
    let events_of = |page: &Value| -> Vec<String> {
        let mut ids: Vec<String> = page
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["eventId"].as_str().unwrap().to_owned())
            .collect();
        ids.sort_unstable();
        ids
    };
    let sorted = |ids: &[String]| {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids
    };
    for (status, expected) in [
        ("DELIVERED", &delivered),
        ("REJECTED", &rejected),
        ("SKIPPED", &skipped),
        ("FAILED", &Vec::new()),
        ("EXHAUSTED", &Vec::new()),
    ] {
        let (code, page, next) = p.api_page(&format!("{base}?status={status}")).await;
        assert_eq!(code, 200, "{page}");
        assert_eq!(events_of(&page), sorted(expected), "{status}: {page}");
        assert!(page.as_array().unwrap().iter().all(|d| d["status"] == status));
        assert_eq!(next, None, "{status}: one page holds them");
    }
    let (_, all) = p.api("GET", &base, None).await;
    assert_eq!(all.as_array().unwrap().len(), 8);

    // Pages of one status: the cursor keeps the status, and a status sent with it must be the same.
    let pages = follow_pages(&p, &format!("{base}?status=SKIPPED&limit=3")).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [3, 1]);
    let (_, _, link) = p.api_page(&format!("{base}?status=SKIPPED&limit=3")).await;
    let (code, problem) = p.api("GET", &format!("{}&status=DELIVERED", link.unwrap()), None).await;
    assert_eq!(
        (code, problem["errors"][0]["pointer"].as_str()),
        (400, Some("/cursor")),
        "{problem}"
    );

    // Back, at a new queue, and replayed: the skipped and the rejected are delivered, and leave their
    // statuses' listings.
    let new_queue = crate::support::create_queue(&f.clients, &format!("back-{}", crate::support::hex_id())).await;
    let (_, mut body) = p.api("GET", &format!("/api/v1/event-subscription/{id}"), None).await;
    body["active"] = json!(true);
    body["destination"] = json!({"type": "SQS", "sqs": {"queueUrl": new_queue, "region": "us-east-1"}});
    let (code, again) = p.api("PUT", "/api/v1/event-subscription", Some(&body)).await;
    assert_eq!(code, 200, "{again}");
    f.clock.advance(chrono::Duration::seconds(1));
    let since = "2020-01-01T00:00:00Z";
    let (code, replay) = p
        .api(
            "POST",
            &format!("/api/v1/event-subscription/{id}/replay"),
            Some(&json!({"since": since, "onlyUndelivered": true})),
        )
        .await;
    assert_eq!(code, 202, "{replay}");
    for _ in 0..3 {
        p.drain().await;
    }
    for (status, count) in [("SKIPPED", 0), ("REJECTED", 0), ("DELIVERED", 8)] {
        let (_, page) = p.api("GET", &format!("{base}?status={status}"), None).await;
        assert_eq!(page.as_array().unwrap().len(), count, "{status}: {page}");
    }
}

#[tokio::test]
async fn when_a_cursor_is_not_this_listings_should_refuse_it_and_name_the_parameter() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    p.sqs_subscriber(json!({"eventNames": ["Order Placed"]})).await;
    p.sqs_subscriber(json!({"eventNames": ["Order Placed"]})).await;
    let (mine, other) = (subscription_id(&p, 0).await, subscription_id(&p, 1).await);
    for i in 0..3 {
        f.clock.advance(chrono::Duration::seconds(1));
        let (status, _) = f
            .post(&json!({"eventName": "Order Placed", "customer": {"email": format!("c{i}@example.com")}}))
            .await;
        assert_eq!(status, 202);
    }
    p.drain().await;
    let base = |id: &str| format!("/api/v1/event-subscription/{id}/deliveries");
    let (_, _, link) = p.api_page(&format!("{}?limit=1", base(&mine))).await;
    let link = link.expect("a next page");
    let cursor = link.split("cursor=").nth(1).unwrap().to_owned();
    let mut tampered = cursor.clone().into_bytes();
    tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let (_, events) = crate::reads::get_with(
        &crate::wiring::reads_handler(&f),
        &f.key,
        &format!("{}?limit=1", f.path()),
    )
    .await;
    let events_cursor = events["nextCursor"].as_str().expect("an events cursor").to_owned();
    for (what, path) in [
        ("tampered", format!("{}?cursor={tampered}", base(&mine))),
        ("another subscription's", format!("{}?cursor={cursor}", base(&other))),
        (
            "the events listing's",
            format!("{}?cursor={events_cursor}", base(&mine)),
        ),
        ("made up", format!("{}?cursor=bm90LWEtY3Vyc29y", base(&mine))),
    ] {
        let (status, problem) = p.api("GET", &path, None).await;
        assert_eq!(status, 400, "{what}: {problem}");
        assert_eq!(problem["errors"][0]["pointer"], "/cursor", "{what}: {problem}");
    }
    let (status, problem) = p
        .api("GET", &format!("{}?status=lost&limit=0&order=asc", base(&mine)), None)
        .await;
    assert_eq!(status, 400);
    let pointers = pointers_of(&problem);
    assert_eq!(pointers, ["/order", "/status", "/limit"], "{problem}");
    let (status, _, _) = p.api_page(&link).await;
    assert_eq!(status, 200, "the real cursor still opens");
}
