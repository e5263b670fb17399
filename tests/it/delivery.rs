//! Dispatch: stored events reach SQS, SNS and webhook subscribers, once per (event, subscription).

use collector_core::domain::event::EventRef;
use collector_core::domain::ids::EventId;
use serde_json::{json, Value};

use crate::pipeline::{verify_with_reference_library, Pipeline};
use crate::support::{create_queue, hex_id, Fixture};

fn order(unique: &str, email: &str) -> Value {
    json!({"eventName": "Order Placed", "uniqueId": unique, "customer": {"email": email, "firstName": "Ada"},
           "data": {"orderId": unique, "total": 42.5}})
}

fn event_ref(f: &Fixture, response: &Value) -> EventRef {
    EventRef {
        store_id: f.store_id.clone(),
        event_id: EventId::parse(response["eventId"].as_str().unwrap()).unwrap(),
    }
}

fn attribute<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn when_event_is_ingested_should_reach_matching_sqs_subscribers_with_attributes() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let orders = p.sqs_subscriber(json!({"eventNames": ["Order Placed"]})).await;
    let customers = p
        .sqs_subscriber(json!({"entityType": "CUSTOMER", "subscribeCreate": true, "subscribeChange": true}))
        .await;
    let pages = p.sqs_subscriber(json!({"eventNames": ["Page Viewed"]})).await;

    let (status, accepted) = f.post(&order("o-1", "ada@example.com")).await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(p.drain().await.delivered, 2);

    let got = p.received(&orders).await;
    assert_eq!(got.len(), 1);
    let (envelope, attributes) = &got[0];
    assert_eq!(envelope["id"], accepted["eventId"], "the envelope id is the event id");
    assert_eq!(envelope["type"], "custom_event.created");
    assert_eq!(envelope["storeId"], json!(f.store_id.to_string()));
    assert_eq!(envelope["data"]["data"]["orderId"], "o-1");
    assert_eq!(attribute(attributes, "type"), Some("custom_event.created"));
    assert_eq!(attribute(attributes, "entityType"), Some("CUSTOM_EVENT"));
    assert_eq!(attribute(attributes, "operation"), Some("CREATE"));
    assert_eq!(attribute(attributes, "eventName"), Some("Order Placed"));

    let got = p.received(&customers).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0["type"], "customer.created");
    assert_eq!(got[0].0["data"]["email"], "ada@example.com");
    assert!(p.received(&pages).await.is_empty(), "no match, no message");
    assert!(!f
        .table
        .is_pending(&f.store_id, &event_ref(&f, &accepted).event_id)
        .await
        .unwrap());

    // A profile change is a customer.updated with the changed fields; an unchanged profile sends nothing.
    let renamed =
        json!({"eventName": "Order Placed", "customer": {"email": "ada@example.com", "firstName": "Augusta"}});
    f.post(&renamed).await;
    f.post(&renamed).await;
    p.drain().await;
    let got = p.received(&customers).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0["type"], "customer.updated");
    assert_eq!(got[0].0["changedFields"], json!(["firstName"]));
    assert_eq!(p.received(&orders).await.len(), 2);
}

#[tokio::test]
async fn when_subscribed_with_sns_should_publish_to_the_topic() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let topic_arn = f
        .clients
        .sns
        .create_topic()
        .name(format!("t-{}", hex_id()))
        .send()
        .await
        .unwrap()
        .topic_arn
        .unwrap();
    let queue = create_queue(&f.clients, &format!("sns-sub-{}", hex_id())).await;
    let queue_arn = format!(
        "arn:aws:sqs:us-east-1:123456789012:{}",
        queue.rsplit('/').next().unwrap()
    );
    f.clients
        .sns
        .subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .unwrap();
    p.subscribe(json!({"eventNames": ["*"], "destination": {"type": "SNS", "sns": {"topicArn": topic_arn}}}))
        .await;
    let (_, accepted) = f.post(&order("o-2", "grace@example.com")).await;
    p.drain().await;
    let got = p.received(&queue).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0["id"], accepted["eventId"]);
    assert_eq!(attribute(&got[0].1, "eventName"), Some("Order Placed"));
}

#[tokio::test]
async fn when_subscribed_with_a_webhook_should_post_a_signature_the_reference_library_verifies() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let (receiver, created) = p.webhook_subscriber(json!(["Order Placed"])).await;
    let secret = created["destination"]["webhook"]["signingSecret"]
        .as_str()
        .expect("shown once")
        .to_owned();
    let (_, accepted) = f.post(&order("o-3", "alan@example.com")).await;
    p.drain().await;
    let got = receiver.take();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("webhook-id"), accepted["eventId"].as_str());
    assert_eq!(got[0].header("content-type"), Some("application/json"));
    verify_with_reference_library(&secret, &got[0]).expect("the signature verifies");
    let tampered = crate::pipeline::Received {
        body: got[0].body.replace("o-3", "o-4"),
        ..got[0].clone()
    };
    assert!(
        verify_with_reference_library(&secret, &tampered).is_err(),
        "a changed body fails"
    );

    // After a rotation both secrets verify for a while, so receivers can switch without losing messages.
    let id = created["id"].as_str().unwrap();
    let (status, rotated) = p
        .api("POST", &format!("/api/v1/event-subscription/{id}/rotate-secret"), None)
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["destination"]["webhook"]["signingSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_secret, secret);
    f.post(&order("o-5", "alan@example.com")).await;
    p.drain().await;
    let got = receiver.take();
    verify_with_reference_library(&new_secret, &got[0]).expect("the new secret verifies");
    verify_with_reference_library(&secret, &got[0]).expect("the previous secret still verifies");
}

#[tokio::test]
async fn when_the_same_dispatch_message_is_processed_twice_should_deliver_once() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let queue = p.sqs_subscriber(json!({"eventNames": ["*"]})).await;
    f.post(&order("o-6", "once@example.com")).await;
    let (event, receipts) = p.receive_batch().await.unwrap();
    let (first, counts) = p.dispatcher.handle_counted(event.clone(), "it-request").await.unwrap();
    assert!(first.batch_item_failures.is_empty());
    assert_eq!(counts.delivered, 1);
    // SQS hands the same message over again (the delete was lost, say).
    let (again, counts) = p.deliver_batch(event, &receipts).await;
    assert!(again.batch_item_failures.is_empty());
    assert_eq!(counts.delivered, 0, "the ledger says it was delivered");
    assert_eq!(p.received(&queue).await.len(), 1);
}

#[tokio::test]
async fn when_one_batch_names_the_same_event_twice_should_deliver_once_and_settle_both() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let queue = p.sqs_subscriber(json!({"eventNames": ["*"]})).await;
    f.post(&order("o-6b", "twice@example.com")).await;
    let (mut event, _) = p.receive_batch().await.unwrap();
    // A sweep's re-enqueue arriving with the original: a second message for the same event.
    let mut copy = event.records[0].clone();
    copy.message_id = Some("copy".to_owned());
    event.records.push(copy);
    let (response, counts) = p.dispatcher.handle_counted(event, "it-request").await.unwrap();
    assert!(
        response.batch_item_failures.is_empty(),
        "{:?}",
        response.batch_item_failures
    );
    assert_eq!(counts.delivered, 1);
    assert_eq!(p.received(&queue).await.len(), 1);
}

#[tokio::test]
async fn when_a_message_is_poison_should_fail_alone() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let queue = p.sqs_subscriber(json!({"eventNames": ["*"]})).await;
    f.post(&order("o-7", "poison@example.com")).await;
    f.clients
        .sqs
        .send_message()
        .queue_url(&f.dispatch_queue_url)
        .message_body("{not json")
        .send()
        .await
        .unwrap();
    let mut failed = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..2 {
        let Some((event, receipts)) = p.receive_batch().await else {
            break;
        };
        ids.extend(
            event
                .records
                .iter()
                .map(|r| (r.message_id.clone().unwrap(), r.body.clone().unwrap())),
        );
        let (response, _) = p.deliver_batch(event, &receipts).await;
        failed.extend(response.batch_item_failures.into_iter().map(|f| f.item_identifier));
    }
    let poison: Vec<_> = ids
        .iter()
        .filter(|(_, body)| body == "{not json")
        .map(|(id, _)| id.clone())
        .collect();
    assert_eq!(failed, poison, "only the poison message is reported");
    assert_eq!(p.received(&queue).await.len(), 1, "its neighbour was delivered");
}

#[tokio::test]
async fn when_a_failed_record_has_no_message_id_should_fail_the_whole_batch() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let queue = p.sqs_subscriber(json!({"eventNames": ["*"]})).await;
    f.post(&order("o-7b", "unnamed@example.com")).await;
    let (mut event, _) = p.receive_batch().await.expect("the event is queued");
    // A poison record SQS cannot be told about: unlisted, it would count as done and be deleted.
    let mut unnamed = event.records[0].clone();
    unnamed.message_id = None;
    unnamed.body = Some("{not json".to_owned());
    event.records.push(unnamed);
    let failed = p.dispatcher.handle(event, "it-request").await;
    assert_eq!(
        failed,
        Err(dispatch::UnnamedFailures(1)),
        "the invocation fails, so SQS redelivers the batch"
    );
    assert_eq!(
        p.received(&queue).await.len(),
        1,
        "the named neighbour was still delivered"
    );
}

#[tokio::test]
async fn when_the_destination_is_gone_should_deactivate_the_subscription_with_its_reason() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let missing = format!(
        "{}/123456789012/no-such-queue-{}",
        integration_tests::local_aws().endpoint,
        hex_id()
    );
    let created = p
        .subscribe(json!({"eventNames": ["*"], "destination": {"type": "SQS", "sqs": {"queueUrl": missing, "region": "us-east-1"}}}))
        .await;
    let (_, accepted) = f.post(&order("o-8", "gone@example.com")).await;
    let counts = p.drain().await;
    assert_eq!(counts.rejected, 1);
    let id = created["id"].as_str().unwrap();
    let (_, subscription) = p.api("GET", &format!("/api/v1/event-subscription/{id}"), None).await;
    assert_eq!(subscription["active"], false);
    let reason = subscription["deactivatedReason"].as_str().unwrap();
    assert!(
        reason.contains("NonExistentQueue") || reason.contains("QueueDoesNotExist"),
        "{reason}"
    );
    let (_, deliveries) = p
        .api("GET", &format!("/api/v1/event-subscription/{id}/deliveries"), None)
        .await;
    assert_eq!(deliveries[0]["status"], "REJECTED", "{deliveries}");
    assert_eq!(deliveries[0]["eventId"], accepted["eventId"]);
    assert!(!f
        .table
        .is_pending(&f.store_id, &event_ref(&f, &accepted).event_id)
        .await
        .unwrap());
    // Deactivated: later events are not tried.
    f.post(&order("o-9", "gone@example.com")).await;
    assert_eq!(p.drain().await.rejected, 0);
}

#[tokio::test]
async fn when_a_webhook_fails_transiently_should_retry_later_and_record_each_attempt() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let (receiver, created) = p.webhook_subscriber(json!(["*"])).await;
    receiver.answer(503);
    let (_, accepted) = f.post(&order("o-10", "retry@example.com")).await;
    let (event, receipts) = p.receive_batch().await.unwrap();
    let message_id = event.records[0].message_id.clone().unwrap();
    let (response, _) = p.deliver_batch(event, &receipts).await;
    assert_eq!(response.batch_item_failures[0].item_identifier, message_id);
    assert!(
        p.receive_batch().await.is_none(),
        "hidden for the first retry delay (5 s)"
    );
    assert!(f
        .table
        .is_pending(&f.store_id, &event_ref(&f, &accepted).event_id)
        .await
        .unwrap());

    receiver.answer(200);
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    assert_eq!(p.drain().await.delivered, 1);
    let id = created["id"].as_str().unwrap();
    let (_, deliveries) = p
        .api("GET", &format!("/api/v1/event-subscription/{id}/deliveries"), None)
        .await;
    assert_eq!(deliveries[0]["status"], "DELIVERED");
    let attempts = deliveries[0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{deliveries}");
    assert_eq!(attempts[0]["status"], "FAILED");
    assert_eq!(attempts[0]["error"], "HTTP 503");
    assert_eq!(receiver.take().len(), 2);
    assert!(!f
        .table
        .is_pending(&f.store_id, &event_ref(&f, &accepted).event_id)
        .await
        .unwrap());
}

#[tokio::test]
async fn when_a_full_batch_is_dispatched_should_cost_a_fixed_number_of_aws_requests_per_destination() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let queue = p.sqs_subscriber(json!({"eventNames": ["Order Placed"]})).await;
    p.sns_subscriber(json!({"eventNames": ["Order Placed"]})).await;
    let events: Vec<Value> = (0..100)
        .map(|i| order(&format!("r-{i}"), "known@example.com"))
        .collect();
    assert_eq!(f.post_bulk(&json!({ "events": events })).await.0, 202);
    // The event source mapping's batch (template.yaml: BatchSize 100).
    let (event, _) = p.receive_up_to(100).await.unwrap();
    assert_eq!(event.records.len(), 100);
    f.clients.log.take();
    let (_, counts) = p.dispatcher.handle_counted(event, "it-request").await.unwrap();
    assert_eq!(counts.delivered, 200);
    // Per batch: one query of the store's subscriptions, one batched read of the events; per destination and
    // 10 messages one send; the 300 ledger and marker updates in 4 transactions (an event's 3 updates are never
    // split, so 33 events fit in one). 26 requests for 200 deliveries: 0.13 per delivered message.
    let operations = f.clients.log.take_counts();
    let expected = [
        ("BatchGetItem", 1),
        ("PublishBatch", 10),
        ("Query", 1),
        ("SendMessageBatch", 10),
        ("TransactWriteItems", 4),
    ]
    .map(|(name, n)| (name.to_owned(), n));
    assert_eq!(operations, expected.into());
    assert_eq!(p.received(&queue).await.len(), 100);
    integration_tests::record_request_figure("dispatch_100_events_to_sqs_and_sns", &operations, 200, 0);
}

#[tokio::test]
async fn when_the_destination_needs_a_role_or_access_keys_should_deliver_with_them() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let by_role = create_queue(&f.clients, &format!("role-{}", hex_id())).await;
    let by_keys = create_queue(&f.clients, &format!("keys-{}", hex_id())).await;
    p.subscribe(
        json!({"eventNames": ["*"], "destination": {"type": "SQS", "sqs": {"queueUrl": by_role, "region": "us-east-1",
        "roleArn": "arn:aws:iam::123456789012:role/collector-delivery", "externalId": "store-7"}}}),
    )
    .await;
    p.subscribe(
        json!({"eventNames": ["*"], "destination": {"type": "SQS", "sqs": {"queueUrl": by_keys, "region": "us-east-1",
        "accessKey": "AKIAIOSFODNN7EXAMPLE", "accessSecret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}}),
    )
    .await;
    f.post(&order("o-11", "creds@example.com")).await;
    f.clients.log.take();
    assert_eq!(p.drain().await.delivered, 2);
    let operations = f.clients.log.take_operations();
    assert!(
        operations.contains(&"AssumeRole".to_owned()),
        "the role was assumed: {operations:?}"
    );
    assert!(
        operations.contains(&"Decrypt".to_owned()),
        "the keys were opened: {operations:?}"
    );
    assert_eq!(p.received(&by_role).await.len(), 1);
    assert_eq!(p.received(&by_keys).await.len(), 1);
}

#[tokio::test]
async fn when_the_last_attempt_fails_should_mark_it_exhausted_and_leave_the_message_to_the_dead_letter_queue() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let (receiver, created) = p.webhook_subscriber(json!(["*"])).await;
    receiver.answer(500);
    let (_, accepted) = f.post(&order("o-12", "dlq@example.com")).await;
    let (mut event, receipts) = p.receive_batch().await.unwrap();
    // The seventh receipt: SQS moves the message to the dead-letter queue if this attempt fails too.
    event.records[0]
        .attributes
        .insert("ApproximateReceiveCount".into(), "7".into());
    let (response, _) = p.deliver_batch(event, &receipts).await;
    assert_eq!(
        response.batch_item_failures.len(),
        1,
        "reported failed, so SQS dead-letters it"
    );
    let id = created["id"].as_str().unwrap();
    let (_, deliveries) = p
        .api("GET", &format!("/api/v1/event-subscription/{id}/deliveries"), None)
        .await;
    assert_eq!(deliveries[0]["status"], "EXHAUSTED", "{deliveries}");
    assert!(
        !f.table
            .is_pending(&f.store_id, &event_ref(&f, &accepted).event_id)
            .await
            .unwrap(),
        "settled: the sweep does not restart the schedule; a redrive from the dead-letter queue does"
    );
    let (_, subscription) = p.api("GET", &format!("/api/v1/event-subscription/{id}"), None).await;
    assert_eq!(subscription["active"], true, "a transient failure never deactivates");
}
