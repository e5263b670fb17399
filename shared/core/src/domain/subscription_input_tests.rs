use serde_json::{json, Value};

use super::*;

const AWS: DestinationPolicy = DestinationPolicy {
    allow_private_targets: false,
};
const LOCAL: DestinationPolicy = DestinationPolicy {
    allow_private_targets: true,
};

fn body(destination: Value) -> Value {
    json!({"entityType": "CUSTOMER", "subscribeCreate": true, "destination": destination})
}

fn pointers(result: Result<SubscriptionInput, Vec<FieldError>>) -> Vec<String> {
    result.unwrap_err().into_iter().map(|e| e.pointer).collect()
}

#[test]
fn when_sqs_destination_is_valid_should_take_the_region_from_the_url() {
    let input = parse_subscription(
        &body(json!({"type": "SQS", "sqs": {"queueUrl": "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"}})),
        AWS,
    )
    .unwrap();
    assert_eq!(
        input.destination,
        DestinationInput::Sqs {
            queue_url: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders".into(),
            region: "eu-west-1".into(),
            access: AccessInput::NotSent
        }
    );
    assert!(input.active, "active by default");
}

#[test]
fn when_type_and_block_disagree_should_name_the_stray_block() {
    // The original API's own example.
    let spec_example = body(
        json!({"type": "SNS", "sqs": {"queueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "region": "us-east-1"}}),
    );
    let errors = parse_subscription(&spec_example, AWS).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.pointer == "/destination/sqs" && e.detail.contains("type is SNS")),
        "{errors:?}"
    );
}

#[test]
fn when_fields_are_wrong_should_report_each_with_its_pointer() {
    let bad = json!({
        "entityType": "SHOPPER",
        "subscribeCreate": "yes",
        "eventNames": ["", 3],
        "destination": {"type": "SQS", "sqs": {"queueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "region": "eu-west-1", "accessKey": "AKIAIOSFODNN7EXAMPLE"}}
    });
    assert_eq!(
        pointers(parse_subscription(&bad, AWS)),
        vec![
            "/entityType",
            "/subscribeCreate",
            "/eventNames/0",
            "/eventNames/1",
            "/destination/sqs/region"
        ]
    );
}

#[test]
fn when_credentials_are_half_sent_or_mixed_should_be_rejected() {
    let half = body(
        json!({"type": "SNS", "sns": {"topicArn": "arn:aws:sns:us-east-1:123456789012:t", "accessKey": "AKIAIOSFODNN7EXAMPLE"}}),
    );
    assert_eq!(
        pointers(parse_subscription(&half, AWS)),
        vec!["/destination/sns/accessSecret"]
    );
    let mixed = body(
        json!({"type": "SNS", "sns": {"topicArn": "arn:aws:sns:us-east-1:123456789012:t",
        "roleArn": "arn:aws:iam::123456789012:role/r", "accessKey": "AKIAIOSFODNN7EXAMPLE", "accessSecret": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}}),
    );
    assert_eq!(
        pointers(parse_subscription(&mixed, AWS)),
        vec!["/destination/sns/accessKey"]
    );
}

#[test]
fn when_webhook_targets_a_private_network_should_be_rejected_outside_local_mode() {
    for url in [
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://localhost:8443/x",
        "https://10.0.0.8/x",
        "https://user:pw@hooks.example.com/x",
    ] {
        let input = body(json!({"type": "WEBHOOK", "webhook": {"url": url}}));
        assert_eq!(
            pointers(parse_subscription(&input, AWS)),
            vec!["/destination/webhook/url"],
            "{url}"
        );
    }
    let local = body(json!({"type": "WEBHOOK", "webhook": {"url": "http://127.0.0.1:8080/hook"}}));
    assert!(parse_subscription(&local, LOCAL).is_ok());
}

#[test]
fn when_nothing_is_subscribed_should_say_so() {
    let hook = json!({"type": "WEBHOOK", "webhook": {"url": "https://hooks.example.com/x"}});
    let none = json!({"destination": hook});
    assert_eq!(pointers(parse_subscription(&none, AWS)), vec![""]);
    let no_operation = json!({"entityType": "ORDER", "destination": hook});
    assert_eq!(
        pointers(parse_subscription(&no_operation, AWS)),
        vec!["/subscribeCreate"]
    );
    let names = json!({"eventNames": ["Order Placed", "Order Placed"], "destination": hook});
    assert_eq!(
        parse_subscription(&names, AWS).unwrap().event_names,
        vec!["Order Placed"]
    );
}

#[test]
fn when_queue_url_is_local_should_need_local_mode_and_a_region() {
    let local = json!({"type": "SQS", "sqs": {"queueUrl": "http://127.0.0.1:5000/123456789012/subscriber"}});
    assert_eq!(
        pointers(parse_subscription(&body(local.clone()), AWS)),
        vec!["/destination/sqs/queueUrl", "/destination/sqs/region"]
    );
    assert_eq!(
        pointers(parse_subscription(&body(local), LOCAL)),
        vec!["/destination/sqs/region"]
    );
}
