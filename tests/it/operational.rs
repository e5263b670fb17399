//! Operational news through the real dispatch function against moto: a subscription deactivated by a
//! permanent refusal, or a message that exhausted its attempts, is told to the store's `OPERATIONS`
//! subscribers (by type, or by the news's name), never to the subscription it is about, and never to "*".

use serde_json::{json, Value};

use crate::pipeline::Pipeline;
use crate::support::{create_queue, hex_id, Fixture};

async fn queue_subscriber(p: &Pipeline<'_>, filters: Value) -> String {
    let url = create_queue(&p.f.clients, &format!("ops-{}", hex_id())).await;
    let mut body = filters;
    body["destination"] = json!({"type": "SQS", "sqs": {"queueUrl": url, "region": "us-east-1"}});
    p.subscribe(body).await;
    url
}

async fn types_at(p: &Pipeline<'_>, queue: &str) -> Vec<(String, Value)> {
    p.received(queue)
        .await
        .into_iter()
        .map(|(m, _)| (m["type"].as_str().unwrap().to_owned(), m["data"].clone()))
        .collect()
}

#[tokio::test]
async fn when_a_subscription_is_deactivated_should_tell_the_operations_subscribers_only() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let operations = queue_subscriber(&p, json!({"entityType": "OPERATIONS", "subscribeCreate": true})).await;
    let exhausted_only = queue_subscriber(&p, json!({"eventNames": ["delivery.exhausted"]})).await;
    let everything = queue_subscriber(&p, json!({"eventNames": ["*"]})).await;
    let missing = format!(
        "{}/123456789012/gone-{}",
        integration_tests::local_aws().endpoint,
        hex_id()
    );
    let gone = p
        .subscribe(
            json!({"eventNames": ["Order Placed"], "entityType": "OPERATIONS", "subscribeCreate": true,
                          "destination": {"type": "SQS", "sqs": {"queueUrl": missing, "region": "us-east-1"}}}),
        )
        .await;
    let gone_id = gone["id"].as_str().unwrap();
    let (status, _) = f
        .post(&json!({"eventName": "Order Placed", "customer": {"email": "ops@example.com"}}))
        .await;
    assert_eq!(status, 202);
    p.drain().await;
    p.drain().await;

    let told = types_at(&p, &operations).await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].0, "subscription.deactivated");
    assert_eq!(told[0].1["subscriptionId"], gone_id);
    assert!(told[0].1["reason"].as_str().unwrap().contains("refused"), "{told:?}");
    assert!(
        types_at(&p, &exhausted_only).await.is_empty(),
        "named another kind of news"
    );
    let custom: Vec<String> = types_at(&p, &everything).await.into_iter().map(|(t, _)| t).collect();
    assert_eq!(
        custom,
        ["custom_event.created"],
        "\"*\" is every custom event, not the collector's news"
    );
}

#[tokio::test]
async fn when_a_message_exhausts_its_attempts_should_tell_everyone_but_the_subscription_it_is_about() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let operations = queue_subscriber(&p, json!({"entityType": "OPERATIONS", "subscribeCreate": true})).await;
    let exhausted_only = queue_subscriber(&p, json!({"eventNames": ["delivery.exhausted"]})).await;
    let (receiver, created) = p.webhook_subscriber(json!(["Order Placed"])).await;
    let webhook = created["id"].as_str().unwrap().to_owned();
    // The failing webhook takes operational news too: it must not hear of its own failure.
    let mut replaced = created.clone();
    replaced["entityType"] = json!("OPERATIONS");
    replaced["subscribeCreate"] = json!(true);
    replaced["destination"] = json!({"type": "WEBHOOK", "webhook": {"url": receiver.url}});
    let (status, _) = p.api("PUT", "/api/v1/event-subscription", Some(&replaced)).await;
    assert_eq!(status, 200);
    receiver.answer(500);
    let (_, accepted) = f
        .post(&json!({"eventName": "Order Placed", "customer": {"email": "tired@example.com"}}))
        .await;
    let (mut batch, receipts) = p.receive_batch().await.unwrap();
    batch.records[0]
        .attributes
        .insert("ApproximateReceiveCount".into(), "7".into());
    p.deliver_batch(batch, &receipts).await;
    receiver.take();
    receiver.answer(200);
    p.drain().await;

    for queue in [&operations, &exhausted_only] {
        let told = types_at(&p, queue).await;
        assert_eq!(told.len(), 1, "{told:?}");
        assert_eq!(told[0].0, "delivery.exhausted");
        assert_eq!(told[0].1["subscriptionId"], webhook.as_str());
        assert_eq!(told[0].1["eventId"], accepted["eventId"]);
        assert_eq!(told[0].1["messageId"], accepted["eventId"]);
    }
    assert!(receiver.take().is_empty(), "never news about itself");
}
