//! Bulk ingest: every event an independent unit, one report in input order.

use std::collections::HashMap;

use serde_json::{json, Value};

use integration_tests::Fault;

use crate::support::Fixture;
use crate::wiring::Faulty;

fn event(i: usize) -> Value {
    json!({"eventName": "Bulk Event", "uniqueId": format!("b-{i}"), "customer": {"email": format!("u{i}@example.com")},
           "data": {"n": i + 1}})
}

fn statuses(report: &Value) -> Vec<String> {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn when_spec_mixed_events_example_is_posted_should_accept_both() {
    let f = Fixture::new().await;
    let body = json!({"events": [
        {"eventName": "User Registered", "customer": {"email": "alice@example.com"}, "data": {"Plan Type": "premium"}},
        {"eventName": "Purchase Completed", "customer": {"email": "bob@example.com"},
         "data": {"Order Total": 99.99, "Item Count": 3}, "value": 99.99, "valueCurrency": "USD", "uniqueId": "order-456"}
    ]});
    let (status, report) = f.post_bulk(&body).await;
    assert_eq!(status, 202, "{report}");
    assert_eq!(report["status"], "completed");
    assert_eq!(
        report["summary"],
        json!({"accepted": 2, "duplicates": 0, "conflicts": 0, "rejected": 0, "failed": 0})
    );
    assert_eq!(report["errors"], json!([]));
    for (i, result) in report["results"].as_array().unwrap().iter().enumerate() {
        assert_eq!(result["index"], i);
        assert_eq!(result["customerCreated"], true);
        assert_eq!(result["matchedBy"], "created");
        let event = f.event(result).await;
        assert_eq!(
            event.customer_id.unwrap().as_str(),
            result["customerId"].as_str().unwrap()
        );
    }
    assert_eq!(
        f.event(&report["results"][1]).await.value_currency.as_deref(),
        Some("USD")
    );
}

#[tokio::test]
async fn when_100_events_mix_every_outcome_should_report_each_one_in_order() {
    let f = Fixture::new().await;
    let earlier =
        json!({"eventName": "Earlier", "uniqueId": "earlier-1", "customer": {"email": "earlier@example.com"}});
    let (_, first) = f.post(&earlier).await;
    f.post(&json!({"eventName": "Earlier", "uniqueId": "earlier-2", "customer": {"email": "earlier@example.com"}}))
        .await;

    let mut events: Vec<Value> = (0..100).map(event).collect();
    events[10]["customer"]["email"] = json!("not-an-email");
    events[20]["uniqueId"] = json!("in-request");
    events[21] = events[20].clone();
    events[30] = earlier.clone();
    events[40] = json!({"eventName": "Changed", "uniqueId": "earlier-2", "customer": {"email": "earlier@example.com"}});
    events[50] =
        json!({"eventName": "First of two", "customer": {"email": "same-new@example.com", "firstName": "Sam"}});
    events[51] =
        json!({"eventName": "Second of two", "customer": {"email": "SAME-NEW@example.com", "lastName": "Neu"}});
    events[60]["uniqueId"] = json!("in-request-2");
    events[61]["uniqueId"] = json!("in-request-2");
    events[70] = json!({"eventName": "No customer"});

    let queue_url = f
        .clients
        .sqs
        .create_queue()
        .queue_name(format!("bulk-{}", f.store_id))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let handler = f.bulk_handler_on(&queue_url);
    let (status, report) = f.post_bulk_with(&handler, &json!({ "events": events })).await;
    assert_eq!(status, 202, "{report}");
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 100);

    let expected: HashMap<usize, &str> = HashMap::from([
        (10, "rejected"),
        (21, "duplicate"),
        (30, "duplicate"),
        (40, "conflict"),
        (61, "conflict"),
        (70, "rejected"),
    ]);
    for (i, got) in statuses(&report).iter().enumerate() {
        assert_eq!(results[i]["index"], i);
        assert_eq!(
            got,
            expected.get(&i).unwrap_or(&"accepted"),
            "event {i}: {}",
            results[i]
        );
    }
    assert_eq!(
        report["summary"],
        json!({"accepted": 94, "duplicates": 2, "conflicts": 2, "rejected": 2, "failed": 0})
    );
    assert_eq!(report["status"], "error");
    let error_lines: Vec<u64> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(error_lines, [10, 40, 61, 70]);

    assert_eq!(results[10]["errors"][0]["pointer"], "/events/10/customer/email");
    assert_eq!(results[70]["errors"][0]["pointer"], "/events/70/customer");
    assert_eq!(results[40]["errors"][0]["pointer"], "/events/40/uniqueId");
    assert_eq!(results[61]["errors"][0]["pointer"], "/events/61/uniqueId");
    assert_eq!(
        results[21]["eventId"], results[20]["eventId"],
        "an in-request duplicate names the stored event"
    );
    assert_eq!(
        results[30]["eventId"], first["eventId"],
        "a duplicate of an earlier request names that event"
    );
    // Two events for one new customer: created once, found by the second.
    assert_eq!(results[50]["customerId"], results[51]["customerId"]);
    assert_eq!(
        (
            results[50]["customerCreated"].clone(),
            results[51]["customerCreated"].clone()
        ),
        (json!(true), json!(false))
    );
    let customer = f.customer(results[50]["customerId"].as_str().unwrap()).await;
    assert_eq!(
        (customer.first_name.as_deref(), customer.last_name.as_deref()),
        (Some("Sam"), Some("Neu"))
    );

    // Every accepted event is stored once and queued once; nothing else was stored.
    assert_eq!(f.count("EVENT").await, 2 + 94);
    let mut queued = 0;
    loop {
        let received = f
            .clients
            .sqs
            .receive_message()
            .queue_url(&queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        if received.messages().is_empty() {
            break;
        }
        queued += received.messages().len();
    }
    assert_eq!(queued, 94);
}

#[tokio::test]
async fn when_envelope_is_invalid_should_answer_400_and_store_nothing() {
    let f = Fixture::new().await;
    let many: Vec<Value> = (0..101).map(event).collect();
    for (case, body, pointer) in [
        ("events missing", json!({}), "/events"),
        ("events empty", json!({"events": []}), "/events"),
        ("101 events", json!({ "events": many }), "/events"),
        ("events not an array", json!({"events": event(1)}), "/events"),
        (
            "another property",
            json!({"events": [event(1)], "dryRun": true}),
            "/dryRun",
        ),
    ] {
        let (status, problem) = f.post_bulk(&body).await;
        assert_eq!(status, 400, "{case}: {problem}");
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{case}");
    }
    assert_eq!(f.stored_counts().await, [0, 0, 0, 0]);
}

#[tokio::test]
async fn when_one_event_is_too_large_should_reject_it_alone_and_a_huge_body_with_413() {
    let f = Fixture::new().await;
    let mut big = event(1);
    big["data"]["$extra"] = json!({"a": "x".repeat(90_000), "b": "y".repeat(90_000), "c": "z".repeat(30_000)});
    let (status, report) = f.post_bulk(&json!({"events": [event(0), big, event(2)]})).await;
    assert_eq!(status, 202, "{report}");
    assert_eq!(statuses(&report), ["accepted", "rejected", "accepted"]);
    assert_eq!(report["results"][1]["errors"][0]["pointer"], "/events/1");

    let huge: Vec<Value> = (0..30)
        .map(|i| {
            let mut e = event(i);
            e["data"]["$extra"] = json!({"a": "x".repeat(90_000), "b": "y".repeat(90_000)});
            e
        })
        .collect();
    let (status, problem) = f.post_bulk(&json!({ "events": huge })).await;
    assert_eq!(status, 413, "{problem}");
    assert_eq!(problem["limit"], 5 * 1024 * 1024);
}

#[tokio::test]
async fn when_one_conditional_write_fails_should_report_it_failed_and_accept_the_rest() {
    let f = Fixture::new().await;
    let mut events: Vec<Value> = (0..20).map(event).collect();
    events[7]["eventName"] = json!("Fail me");
    let faulty = Faulty::new(&f).await;
    // The commit of the event named "Fail me" never reaches the table.
    faulty
        .clients
        .faults
        .arm("TransactWriteItems", Some("Fail me"), Fault::TimedOut, 1);
    let handler = &faulty.bulk;
    let (status, report) = f.post_bulk_with(handler, &json!({ "events": events.clone() })).await;
    assert_eq!(status, 202, "{report}");
    for (i, got) in statuses(&report).iter().enumerate() {
        assert_eq!(got, if i == 7 { "failed" } else { "accepted" }, "event {i}");
    }
    assert_eq!(report["results"][7]["errors"][0]["pointer"], "/events/7");
    assert_eq!(report["errors"][0]["index"], 7);
    assert_eq!(f.count("EVENT").await, 19, "the failed event was not half-stored");
    // Reported, not lost: sending the request again stores it, and the rest are duplicates.
    let (_, again) = f.post_bulk_with(handler, &json!({ "events": events })).await;
    for (i, got) in statuses(&again).iter().enumerate() {
        assert_eq!(got, if i == 7 { "accepted" } else { "duplicate" }, "event {i}");
    }
    assert_eq!(f.count("EVENT").await, 20);
}
