//! `GET /stores/{storeId}/events`: the listing through the real reads function against moto, by every
//! filter and combination, page by page, with the AWS requests of each page counted and its cursors refused
//! when changed, made up or another store's.

use std::collections::HashSet;

use integration_tests::{apigw_request, read_response};
use serde_json::{json, Value};

use crate::support::{pointers_of, Fixture};
use crate::wiring::reads_handler;

type Reads = reads::Handler<collector_aws::dynamo::DynamoTable, collector_aws::kms::KmsSecretBox>;

/// `GET path` with `key`.
pub async fn get_with(reads: &Reads, key: &str, path: &str) -> (u16, Value) {
    let auth = format!("Bearer {key}");
    let request = apigw_request("GET", path, &[("authorization", auth.as_str())], None);
    read_response(reads.handle(request).await)
}

/// The events a store sent in this test, oldest first, with what each was about.
struct Sent {
    id: String,
    name: &'static str,
    customer: &'static str,
}

/// Seven events a second apart: `Order Placed` and `Viewed Product`, from ann (by email), bob (by phone)
/// and cy.
async fn send_seven(f: &Fixture) -> Vec<Sent> {
    let plan = [
        ("Viewed Product", "ann"),
        ("Order Placed", "bob"),
        ("Viewed Product", "cy"),
        ("Order Placed", "ann"),
        ("Viewed Product", "bob"),
        ("Viewed Product", "ann"),
        ("Order Placed", "cy"),
    ];
    let mut sent = Vec::new();
    for (i, (name, customer)) in plan.into_iter().enumerate() {
        f.clock.advance(chrono::Duration::seconds(1));
        let who = match customer {
            "ann" => json!({"email": "Ann@Example.com"}),
            "bob" => json!({"phoneNumber": "+14155550101"}),
            _ => json!({"email": "cy@example.com"}),
        };
        let (status, body) = f
            .post(&json!({"eventName": name, "customer": who, "data": {"n": i}}))
            .await;
        assert_eq!(status, 202, "{body}");
        sent.push(Sent {
            id: body["eventId"].as_str().unwrap().to_owned(),
            name,
            customer,
        });
    }
    sent
}

/// Every page of `query`, `limit` at a time: the event ids of each page.
async fn pages(f: &Fixture, reads: &Reads, query: &str, limit: usize) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("{}?limit={limit}{query}", f.path());
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let (status, body) = get_with(reads, &f.key, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        pages.push(ids_of(&body));
        match body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return pages,
        }
        assert!(pages.len() < 20, "a listing that never ends");
    }
}

fn ids_of(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["eventId"].as_str().unwrap().to_owned())
        .collect()
}

/// The ids of `sent` that `keep` keeps, newest first: what a listing must answer.
fn newest_first(sent: &[Sent], keep: impl Fn(&Sent) -> bool) -> Vec<String> {
    sent.iter().rev().filter(|s| keep(s)).map(|s| s.id.clone()).collect()
}

#[tokio::test]
async fn when_a_store_pages_through_its_events_should_get_each_once_newest_first() {
    let f = Fixture::new().await;
    let reads = reads_handler(&f);
    let sent = send_seven(&f).await;
    let listed = pages(&f, &reads, "", 3).await;
    assert_eq!(listed.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1], "{listed:?}");
    let all: Vec<String> = listed.concat();
    assert_eq!(
        all,
        newest_first(&sent, |_| true),
        "none missed, none repeated, newest first"
    );
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 7);

    // What a page costs: one query per shard of the store's timeline (and a second page of a shard that
    // may still hold one of the newest), one BatchGetItem of the page's events, and KMS to open the cursor
    // it was given and seal the next.
    let (_, first) = get_with(&reads, &f.key, &format!("{}?limit=3", f.path())).await;
    let cursor = first["nextCursor"].as_str().unwrap();
    f.clients.log.take();
    let (status, _) = get_with(&reads, &f.key, &format!("{}?limit=3&cursor={cursor}", f.path())).await;
    assert_eq!(status, 200);
    let mut counts = f.clients.log.take_counts();
    counts.remove(integration_tests::RATE_LIMIT);
    let queries = counts.remove("Query").unwrap_or(0);
    assert!((64..=64 + 3).contains(&queries), "{queries} queries for a page of 3");
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        [
            ("BatchGetItem".to_owned(), 1),
            ("Decrypt".to_owned(), 1),
            ("Encrypt".to_owned(), 1)
        ]
    );
}

#[tokio::test]
async fn when_events_are_filtered_should_list_exactly_the_matching_ones_for_every_combination() {
    let f = Fixture::new().await;
    let reads = reads_handler(&f);
    let sent = send_seven(&f).await;
    let ann_id = {
        let (_, profile) = get_with(
            &reads,
            &f.key,
            &format!("/stores/{}/customers?email=ann@example.com", f.store_id),
        )
        .await;
        profile["customerId"].as_str().unwrap().to_owned()
    };
    // The third event's second and the sixth's bound a range: events 3, 4 and 5 (since inclusive, until
    // exclusive).
    let (_, third) = get_with(&reads, &f.key, &format!("{}/{}", f.path(), sent[2].id)).await;
    let (_, sixth) = get_with(&reads, &f.key, &format!("{}/{}", f.path(), sent[5].id)).await;
    let since = third["receivedAt"].as_str().unwrap().to_owned();
    let until = sixth["receivedAt"].as_str().unwrap().to_owned();
    let in_range = |s: &Sent| {
        let i = sent.iter().position(|x| x.id == s.id).unwrap();
        (2..5).contains(&i)
    };
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            "&eventName=Order%20Placed".into(),
            newest_first(&sent, |s| s.name == "Order Placed"),
        ),
        (
            "&email=ann%40example.com".into(),
            newest_first(&sent, |s| s.customer == "ann"),
        ),
        (
            "&phoneNumber=%2B14155550101".into(),
            newest_first(&sent, |s| s.customer == "bob"),
        ),
        (
            format!("&customerId={ann_id}&eventName=Viewed%20Product"),
            newest_first(&sent, |s| s.customer == "ann" && s.name == "Viewed Product"),
        ),
        (format!("&since={since}&until={until}"), newest_first(&sent, in_range)),
        (
            format!("&since={since}&eventName=Viewed%20Product"),
            newest_first(&sent, |s| {
                s.name == "Viewed Product" && sent.iter().position(|x| x.id == s.id).unwrap() >= 2
            }),
        ),
        (
            format!("&until={until}&email=ann%40example.com"),
            newest_first(&sent, |s| {
                s.customer == "ann" && sent.iter().position(|x| x.id == s.id).unwrap() < 5
            }),
        ),
        ("&email=nobody%40example.com".into(), Vec::new()),
    ];
    for (query, expected) in cases {
        let listed = pages(&f, &reads, &query, 2).await;
        assert_eq!(listed.concat(), expected, "{query}: {listed:?}");
        assert!(
            listed.iter().all(|page| page.len() <= 2),
            "{query}: pages of at most the limit"
        );
    }

    // A customer's timeline is one partition: a page is its claim, one query and the events.
    f.clients.log.take();
    let (status, _) = get_with(&reads, &f.key, &format!("{}?email=ann%40example.com", f.path())).await;
    assert_eq!(status, 200);
    let mut counts = f.clients.log.take_counts();
    counts.remove(integration_tests::RATE_LIMIT);
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        [
            ("BatchGetItem".to_owned(), 1),
            ("GetItem".to_owned(), 1),
            ("Query".to_owned(), 1)
        ]
    );
}

#[tokio::test]
async fn when_a_cursor_is_changed_made_up_or_another_stores_should_answer_400_and_list_nothing() {
    let f = Fixture::new().await;
    let reads = reads_handler(&f);
    send_seven(&f).await;
    let (_, page) = get_with(
        &reads,
        &f.key,
        &format!("{}?limit=2&eventName=Viewed%20Product", f.path()),
    )
    .await;
    let cursor = page["nextCursor"].as_str().unwrap().to_owned();
    let mut tampered: Vec<char> = cursor.chars().collect();
    let middle = tampered.len() / 2;
    tampered[middle] = if tampered[middle] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();

    // Another store's cursor, made by its own listing.
    let (other_store, other_key) = f.other_tenant_key().await;
    let other_path = format!("/stores/{other_store}/events");
    for i in 0..3 {
        let auth = format!("Bearer {other_key}");
        let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
        let body = json!({"eventName": "Viewed Product", "customer": {"email": format!("o{i}@example.com")}});
        let request = apigw_request("POST", &other_path, &headers, Some(&body.to_string()));
        assert_eq!(read_response(f.handler.handle(request).await).0, 202);
    }
    let (_, other_page) = get_with(&reads, &other_key, &format!("{other_path}?limit=1")).await;
    let foreign = other_page["nextCursor"].as_str().unwrap().to_owned();

    for (what, query) in [
        ("a changed cursor", format!("cursor={tampered}")),
        ("a made-up cursor", "cursor=bm90LWEtY3Vyc29y".to_owned()),
        ("another store's cursor", format!("cursor={foreign}")),
        (
            "a cursor sent with other filters",
            format!("cursor={cursor}&eventName=Order%20Placed"),
        ),
    ] {
        let (status, problem) = get_with(&reads, &f.key, &format!("{}?{query}", f.path())).await;
        assert_eq!(status, 400, "{what}: {problem}");
        assert_eq!(problem["errors"][0]["pointer"], "/cursor", "{what}: {problem}");
        assert!(problem.get("events").is_none(), "{what}: nothing listed");
    }
    // The same filters sent again with their cursor are fine.
    let path = format!("{}?limit=2&eventName=Viewed%20Product&cursor={cursor}", f.path());
    let (status, next) = get_with(&reads, &f.key, &path).await;
    assert_eq!((status, ids_of(&next).len()), (200, 2), "{next}");
}

#[tokio::test]
async fn when_listing_parameters_are_wrong_should_answer_400_naming_each() {
    let f = Fixture::new().await;
    let reads = reads_handler(&f);
    let query = "?limit=0&since=yesterday&email=a%40example.com&phoneNumber=%2B14155550101&sort=asc";
    let (status, problem) = get_with(&reads, &f.key, &format!("{}{query}", f.path())).await;
    assert_eq!(status, 400, "{problem}");
    let pointers = pointers_of(&problem);
    assert_eq!(pointers, ["/sort", "", "/since", "/limit"], "{problem}");
}
