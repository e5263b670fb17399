//! The SendGrid client against a local receiver: the request SendGrid would get, batching, and retries.

use collector_aws::sendgrid::SendGrid;
use collector_core::domain::email_identity::Sender;
use collector_core::ports::{Email, MailError, Mailer};
use serde_json::{json, Value};

use crate::pipeline::WebhookReceiver;

const TEMPLATE: &str = "d-0123456789abcdef0123456789abcdef";

/// The store's sender a job sends as.
fn sender(api_key: &str) -> Sender {
    Sender {
        api_key: api_key.to_owned(),
        from_email: "shop@example.com".into(),
        from_name: None,
        reply_to: None,
        unsubscribe_group_id: None,
    }
}

fn emails(n: usize) -> Vec<Email> {
    (0..n)
        .map(|i| Email {
            to: format!("c{i}@example.com"),
            data: json!({"items": [{"name": "Mug", "url": "https://shop.example/mug?utm_medium=email"}]}),
        })
        .collect()
}

#[tokio::test]
async fn when_mail_is_sent_should_post_the_v3_request_in_batches_of_1000() {
    let receiver = WebhookReceiver::start().await;
    receiver.answer(202);
    let base = receiver.base();
    let client = SendGrid::new(&base).with_backoff(std::time::Duration::from_millis(10));
    let results = client.send(&sender("SG.test-key"), TEMPLATE, &emails(1_001)).await;
    assert_eq!(results, [Ok(1_000), Ok(1)]);
    let requests = receiver.take();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].header("authorization"), Some("Bearer SG.test-key"));
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    let body: Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(body["from"]["email"], "shop@example.com");
    assert_eq!(body["template_id"], TEMPLATE);
    assert_eq!(body["personalizations"].as_array().unwrap().len(), 1_000);
    assert_eq!(body["personalizations"][7]["to"][0]["email"], "c7@example.com");
    assert_eq!(
        body["personalizations"][0]["dynamic_template_data"]["items"][0]["name"],
        "Mug"
    );
}

#[tokio::test]
async fn when_sendgrid_is_busy_or_refuses_should_retry_or_give_up_at_once() {
    let receiver = WebhookReceiver::start().await;
    let base = receiver.base();
    let client = SendGrid::new(&base).with_backoff(std::time::Duration::from_millis(10));
    receiver.answer(503);
    assert_eq!(
        client.send(&sender("SG.test-key"), TEMPLATE, &emails(1)).await,
        [Err(MailError::Transient("HTTP 503".into()))]
    );
    assert_eq!(receiver.take().len(), 3, "three attempts");
    receiver.answer(400);
    assert_eq!(
        client.send(&sender("SG.test-key"), TEMPLATE, &emails(1)).await,
        [Err(MailError::Refused("HTTP 400".into()))]
    );
    assert_eq!(receiver.take().len(), 1, "a refusal is not retried");
}

#[tokio::test]
async fn when_sending_fails_in_any_way_should_never_log_or_report_the_key() {
    let logs = crate::support::captured_logs();
    let receiver = WebhookReceiver::start().await;
    let key = "SG.never-shown-key";
    let client = SendGrid::new(receiver.base()).with_backoff(std::time::Duration::from_millis(1));
    let mut reported = Vec::new();
    for status in [401, 403, 429, 500] {
        receiver.answer(status);
        reported.extend(client.send(&sender(key), TEMPLATE, &emails(1)).await);
    }
    // Nothing listens on port 9: a connection failure.
    let unreachable = SendGrid::new("http://127.0.0.1:9").with_backoff(std::time::Duration::from_millis(1));
    reported.extend(unreachable.send(&sender(key), TEMPLATE, &emails(1)).await);
    assert!(reported.iter().all(Result::is_err));
    let reported = format!("{reported:?} {client:?} {:?}", sender(key));
    assert!(
        !reported.contains(key),
        "the key in an error or the client's Debug: {reported}"
    );
    assert!(!logs.text().contains(key), "the key was logged");
}
