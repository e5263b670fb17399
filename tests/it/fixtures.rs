//! Every file of `events/` (what `make invoke` and `sam local invoke -e` send) through its function's real
//! handler, with the `{{PLACEHOLDERS}}` filled the way `scripts/render_event.py` fills them; and every AWS
//! action a fixture made its function use is one `template.yaml` grants that function.

use std::collections::BTreeMap;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sqs::SqsEvent;
use collector_core::domain::trace::TraceContext;
use integration_tests::{read_response, repo_root, FUNCTIONS};
use lambda_http::request::LambdaRequest;
use serde_json::{json, Value};

use crate::pipeline::{Pipeline, WebhookReceiver};
use crate::support::{assert_granted, Fixture};
use crate::wiring::{create_job, jobs_handler, reads_handler, scheduler};

/// Every API Gateway fixture, in the order they run (later ones use what earlier ones made), and the status
/// its handler must answer.
const HTTP_FIXTURES: &[(&str, u16)] = &[
    ("ingest/custom-event.json", 202),
    ("ingest/esputnik-event.json", 200),
    ("ingest/entity-event.json", 201),
    ("ingest/entity-event-get.json", 200),
    ("reads/list-events.json", 200),
    ("reads/event.json", 200),
    ("reads/find-customer.json", 200),
    ("reads/customer.json", 200),
    ("ingest/put-customer.json", 200),
    ("ingest/erase-customer.json", 200),
    ("ingest/erase-customer-by-email.json", 200),
    ("bulk-ingest/bulk-events.json", 202),
    ("subscriptions/create.json", 201),
    ("subscriptions/list.json", 200),
    ("subscriptions/get.json", 200),
    ("subscriptions/replace.json", 200),
    ("subscriptions/deliveries.json", 200),
    ("subscriptions/rotate-secret.json", 200),
    ("subscriptions/replay.json", 202),
    ("subscriptions/deactivate.json", 200),
    ("subscriptions/delete.json", 204),
    ("jobs/create.json", 201),
    ("jobs/list.json", 200),
    ("jobs/get.json", 200),
    ("jobs/replace.json", 200),
    ("jobs/runs.json", 200),
    ("jobs/delete.json", 204),
];
const OTHER_FIXTURES: &[&str] = &["dispatch/sqs-batch.json", "scheduler/tick.json"];

/// The fixture `name` with each `{{KEY}}` replaced; every placeholder must have a value.
fn render(name: &str, values: &BTreeMap<&str, String>) -> String {
    let path = repo_root().join("events").join(name);
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (key, value) in values {
        text = text.replace(&format!("{{{{{key}}}}}"), value);
    }
    assert!(!text.contains("{{"), "{name}: a placeholder without a value");
    text
}

/// The function resource of `template.yaml` whose fixtures are in `events/<directory>`.
fn resource_of(fixture: &str) -> &'static str {
    match fixture.split('/').next() {
        Some("ingest") => "IngestFunction",
        Some("bulk-ingest") => "BulkIngestFunction",
        Some("subscriptions") => "SubscriptionsFunction",
        Some("jobs") => "JobsFunction",
        Some("reads") => "ReadsFunction",
        Some("dispatch") => "DispatchFunction",
        Some("scheduler") => "SchedulerFunction",
        other => panic!("no function for {other:?}"),
    }
}

/// [`assert_granted`] for the function whose fixture `fixture` is.
fn assert_fixture_granted(f: &Fixture, fixture: &str) {
    assert_granted(f, resource_of(fixture), fixture);
}

fn api_gateway_request(name: &str, values: &BTreeMap<&str, String>) -> lambda_http::Request {
    let event: LambdaRequest = serde_json::from_str(&render(name, values))
        .unwrap_or_else(|e| panic!("{name} is not an API Gateway v2 request: {e}"));
    event.into()
}

/// Stores and ids the fixtures name, made through the API: a custom event's customer, a customer with the
/// fixture's email, an entity event, a webhook subscription and a job.
async fn placeholders(f: &Fixture, p: &Pipeline<'_>) -> BTreeMap<&'static str, String> {
    let (status, ingested) = f
        .post(&json!({"eventName": "Signed Up", "customer": {"email": "erase-by-id@example.com"}}))
        .await;
    assert_eq!(status, 202, "{ingested}");
    let (status, _) = f
        .post(&json!({"eventName": "Signed Up", "customer": {"email": "lovelace@example.com"}}))
        .await;
    assert_eq!(status, 202);
    let entity_event = entity_event_id(f).await;
    let subscription = p
        .subscribe(json!({"eventNames": ["Order Placed"],
                          "destination": {"type": "WEBHOOK", "webhook": {"url": "https://hooks.example.com/in"}}}))
        .await;
    let job = create_job(
        f,
        &json!({"notification": "BACK_IN_STOCK", "schedule": "rate(1 hour)", "template_id": "d-0123456789abcdef0123456789abcdef"}),
    )
    .await;
    BTreeMap::from([
        ("STORE_ID", f.store_id.to_string()),
        ("API_KEY", f.key.clone()),
        ("CUSTOMER_ID", ingested["customerId"].as_str().unwrap().to_owned()),
        ("EVENT_ID", ingested["eventId"].as_str().unwrap().to_owned()),
        ("ENTITY_EVENT_ID", entity_event),
        ("SUBSCRIPTION_ID", subscription["id"].as_str().unwrap().to_owned()),
        ("JOB_ID", job),
    ])
}

/// An entity event stored through the API; its id.
async fn entity_event_id(f: &Fixture) -> String {
    let entity = json!({"id": "fixture-setup", "entity_id": "SKU-9", "entity_name": "INVENTORY_LEVEL",
        "event_source": "APPLICATION", "event_type": "ENTITY_EVENT",
        "event_payload": {"operation": "UPDATE", "key_attributes": {"sku": "SKU-9"},
                          "base64_encoded_payload_json": "eyJza3UiOiJTS1UtOSIsInF1YW50aXR5IjoxfQ=="}});
    let (status, stored) = read_response(f.handler.handle(f.json_post("/api/v1/events", &entity)).await);
    assert_eq!(status, 201, "{stored}");
    stored["eventId"].as_str().unwrap().to_owned()
}

#[test]
fn every_function_has_fixtures_and_every_fixture_is_run() {
    let mut listed: Vec<String> = HTTP_FIXTURES.iter().map(|(name, _)| (*name).to_owned()).collect();
    listed.extend(OTHER_FIXTURES.iter().map(|name| (*name).to_owned()));
    listed.sort();
    let mut found = Vec::new();
    // One directory per function; `events/bodies/` holds request bodies, not invocation events.
    for function in FUNCTIONS {
        let dir = repo_root().join("events").join(function);
        let files: Vec<_> = std::fs::read_dir(&dir)
            .expect("a fixture directory per function")
            .collect();
        assert!(!files.is_empty(), "{function} has no fixture");
        found.extend(
            files
                .into_iter()
                .map(|e| format!("{function}/{}", e.unwrap().file_name().to_string_lossy())),
        );
    }
    found.sort();
    assert_eq!(found, listed, "a fixture no test runs, or a listed one missing");
}

#[tokio::test]
async fn when_each_api_gateway_fixture_is_invoked_should_answer_as_its_route_promises() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let jobs = jobs_handler(&f);
    let reads = reads_handler(&f);
    let values = placeholders(&f, &p).await;
    for (name, expected) in HTTP_FIXTURES {
        let request = api_gateway_request(name, &values);
        f.clients.log.take_iam_actions();
        let response = match name.split('/').next() {
            Some("ingest") => f.handler.handle(request).await,
            Some("bulk-ingest") => f.bulk.handle(request).await,
            Some("subscriptions") => p.subscriptions.handle(request).await,
            Some("jobs") => jobs.handle(request).await,
            Some("reads") => reads.handle(request).await,
            other => panic!("no handler for {other:?}"),
        };
        let (status, body) = read_response(response);
        assert_eq!(status, *expected, "{name}: {body}");
        assert_fixture_granted(&f, name);
        match *name {
            "bulk-ingest/bulk-events.json" => assert_eq!(body["summary"]["accepted"], 3, "{body}"),
            "ingest/erase-customer.json" | "ingest/erase-customer-by-email.json" => {
                assert_eq!(body["removed"]["profiles"], 1, "{name}: {body}")
            }
            "subscriptions/list.json" | "jobs/list.json" => {
                assert!(body.to_string().contains(
                    &values[if name.starts_with("jobs") {
                        "JOB_ID"
                    } else {
                        "SUBSCRIPTION_ID"
                    }]
                ))
            }
            _ => {}
        }
    }
    // The deleted subscription is gone.
    let (status, _) = read_response(
        p.subscriptions
            .handle(api_gateway_request("subscriptions/get.json", &values))
            .await,
    );
    assert_eq!(status, 404);
    // A deleted job stays readable, marked deleted (the jobs API's soft delete).
    let (status, job) = read_response(jobs.handle(api_gateway_request("jobs/get.json", &values)).await);
    assert_eq!((status, job["deleted"].as_bool()), (200, Some(true)));
}

#[tokio::test]
async fn when_the_dispatch_fixture_is_invoked_should_deliver_its_events_and_fail_the_poison_record_alone() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let queue = p.sqs_subscriber(json!({"eventNames": ["Order Placed"]})).await;
    let (status, ingested) = f
        .post(&json!({"eventName": "Order Placed", "customer": {"email": "batch@example.com"}}))
        .await;
    assert_eq!(status, 202, "{ingested}");
    let values = BTreeMap::from([
        ("STORE_ID", f.store_id.to_string()),
        ("EVENT_ID", ingested["eventId"].as_str().unwrap().to_owned()),
        ("ENTITY_EVENT_ID", entity_event_id(&f).await),
    ]);

    let batch: SqsEvent = serde_json::from_str(&render("dispatch/sqs-batch.json", &values)).expect("an SQS event");
    let poison: Vec<String> = batch
        .records
        .iter()
        .filter(|r| serde_json::from_str::<Value>(r.body.as_deref().unwrap_or_default()).is_err())
        .map(|r| r.message_id.clone().unwrap())
        .collect();
    assert_eq!(poison.len(), 1, "the fixture has one poison record");
    f.clients.log.take_iam_actions();
    let response = p
        .dispatcher
        .handle(batch, "fixture")
        .await
        .expect("the fixture's records are named");
    assert_fixture_granted(&f, "dispatch/sqs-batch.json");
    let failed: Vec<String> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, poison, "only the poison record fails");

    let got = p.received(&queue).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0["id"], ingested["eventId"]);
    let traceparent = got[0]
        .1
        .iter()
        .find(|(k, _)| k == "traceparent")
        .map(|(_, v)| v.as_str());
    let trace = traceparent
        .and_then(TraceContext::parse)
        .expect("the record's trace goes on");
    assert_eq!(trace.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
}

#[tokio::test]
async fn when_the_scheduled_event_fixture_arrives_should_run_the_jobs_that_are_due() {
    let f = Fixture::new().await;
    let tick: EventBridgeEvent<Value> =
        serde_json::from_str(&render("scheduler/tick.json", &BTreeMap::new())).expect("an EventBridge event");
    assert_eq!(tick.detail_type, "Scheduled Event");
    create_job(
        &f,
        &json!({"notification": "BACK_IN_STOCK", "schedule": "rate(1 hour)", "template_id": "d-0123456789abcdef0123456789abcdef"}),
    )
    .await;
    f.clock.advance(chrono::Duration::minutes(61));
    let sendgrid = WebhookReceiver::start().await;
    f.clients.log.take_iam_actions();
    let report = scheduler(&f, &sendgrid.base()).handle().await.expect("a tick");
    assert_fixture_granted(&f, "scheduler/tick.json");
    assert_eq!(
        (report.jobs.due, report.jobs.ran, report.jobs.failed),
        (1, 1, 0),
        "{report:?}"
    );
}
