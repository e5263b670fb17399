//! `POST /api/v1/event-subscription/{id}/test`: a signed `ping` to the subscription's destination, sent at
//! once, answered with what happened, through the real subscriptions function against moto.

use serde_json::json;

use crate::pipeline::{verify_with_reference_library, Pipeline};
use crate::support::Fixture;

#[tokio::test]
async fn when_an_endpoint_is_tested_should_ping_it_signed_and_tell_what_happened() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let (receiver, created) = p.webhook_subscriber(json!(["Order Placed"])).await;
    let id = created["id"].as_str().unwrap();
    let secret = created["destination"]["webhook"]["signingSecret"]
        .as_str()
        .unwrap()
        .to_owned();

    let (status, answer) = p
        .api("POST", &format!("/api/v1/event-subscription/{id}/test"), None)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (&answer["delivered"], &answer["status"]),
        (&json!(true), &json!("DELIVERED")),
        "{answer}"
    );
    assert!(answer["latencyMs"].is_u64(), "{answer}");
    let got = receiver.take();
    assert_eq!(got.len(), 1);
    let ping: serde_json::Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(ping["type"], "ping");
    assert_eq!(ping["data"]["subscriptionId"], id);
    assert_eq!(got[0].header("webhook-id"), ping["id"].as_str());
    verify_with_reference_library(&secret, &got[0]).expect("signed like any webhook");

    // A failing endpoint: the status it answered, and the subscription left as it was.
    receiver.answer(503);
    let (status, answer) = p
        .api("POST", &format!("/api/v1/event-subscription/{id}/test"), None)
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (&answer["delivered"], &answer["status"]),
        (&json!(false), &json!("FAILED")),
        "{answer}"
    );
    assert_eq!(answer["error"], "HTTP 503", "{answer}");
    receiver.answer(410);
    let (_, answer) = p
        .api("POST", &format!("/api/v1/event-subscription/{id}/test"), None)
        .await;
    assert_eq!(
        (&answer["status"], &answer["error"]),
        (&json!("REJECTED"), &json!("HTTP 410")),
        "{answer}"
    );
    let (_, after) = p.api("GET", &format!("/api/v1/event-subscription/{id}"), None).await;
    assert_eq!(after["active"], true, "a test never deactivates");
    let (status, _) = p
        .api(
            "POST",
            &format!("/api/v1/event-subscription/{}/test", "0".repeat(24)),
            None,
        )
        .await;
    assert_eq!(status, 404);
}
