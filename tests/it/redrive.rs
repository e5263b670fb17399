//! Redriving the dead-letter queue, as `storeadmin redrive` does, against moto: the messages go back to
//! the dispatch queue marked, dispatch tries them afresh, and their ledger records show the redrive.

use collector_aws::sqs::SqsDispatchQueue;
use serde_json::json;

use crate::pipeline::Pipeline;
use crate::support::{create_queue, hex_id, Fixture};

#[tokio::test]
async fn when_dead_letters_are_redriven_should_deliver_them_and_show_the_redrive_in_the_ledger() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let (receiver, created) = p.webhook_subscriber(json!(["Order Placed"])).await;
    let id = created["id"].as_str().unwrap();
    // The dispatch queue dead-letters into its own queue, as the template's does.
    let dead_letters = create_queue(&f.clients, &format!("dlq-{}", hex_id())).await;
    let dlq_arn = f
        .clients
        .sqs
        .get_queue_attributes()
        .queue_url(&dead_letters)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn).cloned())
        .unwrap();
    let policy = json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 7}).to_string();
    f.clients
        .sqs
        .set_queue_attributes()
        .queue_url(&f.dispatch_queue_url)
        .attributes(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy, policy)
        .send()
        .await
        .unwrap();

    // Exhausted: the last attempt fails, and SQS moves the message to the dead-letter queue.
    receiver.answer(500);
    let (_, accepted) = f
        .post(&json!({"eventName": "Order Placed", "customer": {"email": "dlq@example.com"}}))
        .await;
    let (mut batch, receipts) = p.receive_batch().await.unwrap();
    batch.records[0]
        .attributes
        .insert("ApproximateReceiveCount".into(), "7".into());
    let body = batch.records[0].body.clone().unwrap();
    p.deliver_batch(batch, &receipts).await;
    for receipt in &receipts {
        // What SQS does with a message past maxReceiveCount, done by hand: moto does not count receipts
        // the test made up.
        f.clients
            .sqs
            .delete_message()
            .queue_url(&f.dispatch_queue_url)
            .receipt_handle(receipt)
            .send()
            .await
            .unwrap();
    }
    f.clients
        .sqs
        .send_message()
        .queue_url(&dead_letters)
        .message_body(body)
        .send()
        .await
        .unwrap();
    receiver.take();
    receiver.answer(200);

    let queue = SqsDispatchQueue::new(f.clients.sqs.clone(), &f.dispatch_queue_url);
    let moved = queue.redrive_dead_letters(100).await.expect("redriven");
    assert_eq!(moved, 1);
    p.drain().await;
    let got = receiver.take();
    assert_eq!(got.len(), 1, "delivered after the redrive");
    assert_eq!(got[0].header("webhook-id"), accepted["eventId"].as_str());
    let (_, deliveries) = p
        .api("GET", &format!("/api/v1/event-subscription/{id}/deliveries"), None)
        .await;
    assert_eq!(deliveries[0]["status"], "DELIVERED", "{deliveries}");
    let attempts = deliveries[0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.first().unwrap()["status"], "EXHAUSTED", "{deliveries}");
    assert_eq!(
        attempts.last().unwrap()["redrive"],
        true,
        "the ledger shows the redrive: {deliveries}"
    );
    assert_eq!(queue.redrive_dead_letters(100).await.unwrap(), 0, "nothing left");
}
