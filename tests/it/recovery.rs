//! DESIGN.md §3.1, proved: a crash at each step boundary of ingest, dispatch and the sweep, and still every
//! accepted event reaches every matching subscription.

use std::collections::{BTreeSet, HashMap};

use integration_tests::Fault;
use serde_json::{json, Value};

use crate::pipeline::{checked_tick, Pipeline};
use crate::support::Fixture;
use crate::wiring::{scheduler, Faulty};

/// Where dispatch dies: at the request that hangs there, when the invocation is given up on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DispatchCrash {
    /// Reading the subscriptions, after the events: before anything is sent.
    BeforeSend,
    /// Writing the ledger and the markers, after sending.
    AfterSendBeforeRecord,
}

impl DispatchCrash {
    fn operation(self) -> &'static str {
        match self {
            DispatchCrash::BeforeSend => "Query",
            DispatchCrash::AfterSendBeforeRecord => "TransactWriteItems",
        }
    }
}

fn order(n: usize) -> Value {
    json!({"eventName": "Order Placed", "uniqueId": format!("crash-{n}"), "customer": {"email": format!("c{n}@example.com")}})
}

#[tokio::test]
async fn when_the_process_dies_at_every_step_should_still_deliver_every_accepted_event_to_every_subscription() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let orders = p.sqs_subscriber(json!({"eventNames": ["Order Placed"]})).await;
    let customers = p
        .sqs_subscriber(json!({"entityType": "CUSTOMER", "subscribeCreate": true}))
        .await;
    let mut accepted: Vec<String> = Vec::new();
    let mut accept = |response: &Value| accepted.push(response["eventId"].as_str().expect("an event id").to_owned());

    // Ingest, crash before the commit: 503, nothing stored; the client's retry is accepted.
    let faulty = Faulty::new(&f).await;
    faulty
        .clients
        .faults
        .arm("TransactWriteItems", None, Fault::TimedOut, 1);
    assert_eq!(f.post_with(&faulty.ingest, &order(1)).await.0, 503);
    let (status, retried) = f.post(&order(1)).await;
    assert_eq!(status, 202);
    accept(&retried);
    // Ingest, crash after the commit and before the enqueue: 503, stored, pending; the retry is a duplicate.
    faulty
        .clients
        .faults
        .arm("TransactWriteItems", None, Fault::AnswerLost, 1);
    assert_eq!(f.post_with(&faulty.ingest, &order(2)).await.0, 503);
    let (_, duplicate) = f.post(&order(2)).await;
    assert_eq!(duplicate["status"], "duplicate");
    accept(&duplicate);
    // Ingest, the enqueue fails: 202, and only the pending marker remembers the event.
    let missing_queue = format!("{}/123456789012/no-such-queue", integration_tests::local_aws().endpoint);
    let no_queue = f.handler_on(&missing_queue);
    let (status, unqueued) = f.post_with(&no_queue, &order(3)).await;
    assert_eq!(status, 202);
    accept(&unqueued);
    for n in 4..=6 {
        let (status, body) = f.post(&order(n)).await;
        assert_eq!(status, 202);
        accept(&body);
    }

    // Dispatch dies before sending, then after sending and before recording, then after recording but
    // before the event source mapping deletes the messages. Each time the batch comes back when its
    // visibility timeout ends (made immediate here).
    for step in [
        Some(DispatchCrash::BeforeSend),
        Some(DispatchCrash::AfterSendBeforeRecord),
        None,
    ] {
        if let Some(step) = step {
            faulty.clients.faults.arm(step.operation(), None, Fault::Hang, 1);
        }
        let (event, receipts) = p.receive_batch().await.expect("the batch is back");
        let died = tokio::select! {
            _ = faulty.dispatcher.handle(event, "it-request") => false,
            () = faulty.clients.faults.hung() => true,
        };
        assert_eq!(died, step.is_some(), "{step:?}");
        for receipt in &receipts {
            f.clients
                .sqs
                .change_message_visibility()
                .queue_url(&f.dispatch_queue_url)
                .receipt_handle(receipt)
                .visibility_timeout(0)
                .send()
                .await
                .unwrap();
        }
    }
    p.drain().await;

    // The sweep finds what never reached the queue once its grace has passed; a sweep that dies after
    // enqueuing (before postponing) only enqueues again next time.
    let sweeper = scheduler(&f, "http://127.0.0.1:9");
    assert_eq!(
        checked_tick(&f, &sweeper).await.sweep.enqueued,
        0,
        "nothing is stalled yet"
    );
    f.clock.advance(chrono::Duration::minutes(6));
    assert_eq!(
        checked_tick(&f, &sweeper).await.sweep.enqueued,
        2,
        "the two events that were never enqueued"
    );
    p.drain().await;
    f.clock.advance(chrono::Duration::minutes(6));
    assert_eq!(
        checked_tick(&f, &sweeper).await.sweep.enqueued,
        0,
        "nothing is pending any more"
    );

    let ids_in = |messages: Vec<(Value, Vec<(String, String)>)>| -> HashMap<String, usize> {
        let mut seen = HashMap::new();
        for (envelope, _) in messages {
            let id = envelope["id"]
                .as_str()
                .unwrap()
                .trim_end_matches("-customer")
                .to_owned();
            *seen.entry(id).or_default() += 1;
        }
        seen
    };
    let expected: BTreeSet<String> = accepted.iter().cloned().collect();
    let got_orders = ids_in(p.received(&orders).await);
    let got_customers = ids_in(p.received(&customers).await);
    assert_eq!(
        got_orders.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "every order event, to the order subscriber"
    );
    assert_eq!(
        got_customers.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "every new customer, to the customer subscriber"
    );
    // Only the crash between sending and recording sends twice: the four events of that batch (the envelope
    // id lets subscribers drop the copy). Every other path, redelivery included, delivers once.
    let mut counts: Vec<usize> = got_orders.values().copied().collect();
    counts.sort_unstable();
    assert_eq!(counts, [1, 1, 2, 2, 2, 2], "{got_orders:?}");
    for id in &accepted {
        let id = collector_core::domain::ids::EventId::parse(id).unwrap();
        assert!(!f.table.is_pending(&f.store_id, &id).await.unwrap(), "settled: {id}");
    }
}
