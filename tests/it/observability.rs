//! What operators see: one JSON log line per request and per dispatch message, and the trace of a merchant's
//! request carried through the dispatch queue to every destination.

use collector_core::domain::trace::TraceContext;
use integration_tests::read_response;
use lambda_http::http::HeaderValue;
use serde_json::{json, Value};

use crate::pipeline::Pipeline;
use crate::support::{captured_logs, hex_id, Fixture};

fn attribute<'a>(attributes: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn trace_id_of(traceparent: Option<&str>) -> String {
    TraceContext::parse(traceparent.expect("a traceparent"))
        .expect("a valid traceparent")
        .trace_id()
}

#[tokio::test]
async fn when_a_request_carries_a_traceparent_should_follow_it_to_every_destination_and_log_each_step() {
    let logs = captured_logs();
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let queue = p.sqs_subscriber(json!({"eventNames": ["Order Placed"]})).await;
    let (receiver, _) = p.webhook_subscriber(json!(["Order Placed"])).await;

    let trace_id = hex_id() + "0123abcd";
    let sent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let event = json!({"eventName": "Order Placed", "customer": {"email": "trace@example.com"},
                       "data": {"orderId": "secret-order-77"}});
    let mut request = f.json_post(&f.path(), &event);
    request
        .headers_mut()
        .insert("traceparent", HeaderValue::from_str(&sent).unwrap());
    let (status, accepted) = read_response(f.handler.handle(request).await);
    assert_eq!(status, 202, "{accepted}");
    let event_id = accepted["eventId"].as_str().unwrap();
    assert_eq!(p.drain().await.delivered, 2);

    let got = p.received(&queue).await;
    assert_eq!(got.len(), 1);
    let outbound = attribute(&got[0].1, "traceparent");
    assert_eq!(
        trace_id_of(outbound),
        trace_id,
        "the subscriber's message continues the merchant's trace"
    );
    assert_ne!(outbound, Some(sent.as_str()), "as a new span");
    let hook = receiver.take();
    assert_eq!(
        trace_id_of(hook[0].header("traceparent")),
        trace_id,
        "so does the webhook"
    );

    let lines = logs.lines_with("trace_id", &trace_id);
    let ingest: Vec<&Value> = lines.iter().filter(|l| l["endpoint"] == "ingest").collect();
    assert_eq!(ingest.len(), 1, "one line per request: {lines:?}");
    assert_eq!(ingest[0]["store_id"], f.store_id.as_str());
    assert_eq!(ingest[0]["event_id"], event_id);
    assert_eq!(ingest[0]["outcome"], "accepted");
    assert!(ingest[0]["request_id"].as_str().is_some_and(|id| id != "-"));
    assert!(ingest[0]["duration_us"].as_u64().is_some());
    let dispatched: Vec<&Value> = lines.iter().filter(|l| l["outcome"] == "done").collect();
    assert_eq!(dispatched.len(), 1, "one line per message: {lines:?}");
    assert_eq!(dispatched[0]["event_id"], event_id);
    assert_eq!(dispatched[0]["store_id"], f.store_id.as_str());
    assert_eq!(dispatched[0]["request_id"], "it-request");
    assert!(dispatched[0]["message_id"].as_str().is_some_and(|id| id != "-"));
    assert!(dispatched[0]["duration_us"].as_u64().is_some());
    let text = lines.iter().map(Value::to_string).collect::<String>();
    for payload in ["trace@example.com", "secret-order-77", &f.key] {
        assert!(!text.contains(payload), "no payload or key in the lines: {payload}");
    }
}

#[tokio::test]
async fn when_a_bulk_request_brings_no_trace_should_start_one_and_carry_it_to_subscribers() {
    let logs = captured_logs();
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let queue = p.sqs_subscriber(json!({"eventNames": ["Bulk Traced"]})).await;
    let events: Vec<Value> = (0..3)
        .map(|i| json!({"eventName": "Bulk Traced", "customer": {"email": format!("b{i}@example.com")}}))
        .collect();
    let (status, report) = f.post_bulk(&json!({ "events": events })).await;
    assert_eq!(status, 202, "{report}");
    p.drain().await;

    let got = p.received(&queue).await;
    assert_eq!(got.len(), 3);
    let traces: Vec<String> = got
        .iter()
        .map(|(_, a)| trace_id_of(attribute(a, "traceparent")))
        .collect();
    assert!(
        traces.iter().all(|t| *t == traces[0]),
        "one request, one trace: {traces:?}"
    );
    let lines = logs.lines_with("trace_id", &traces[0]);
    let bulk: Vec<&Value> = lines.iter().filter(|l| l["endpoint"] == "bulk ingest").collect();
    assert_eq!(bulk.len(), 1, "{lines:?}");
    assert_eq!(bulk[0]["store_id"], f.store_id.as_str());
    assert_eq!(lines.iter().filter(|l| l["outcome"] == "done").count(), 3, "{lines:?}");
}
