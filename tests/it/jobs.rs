//! `/api/v1/jobs`: notification jobs, their validation, their schedule, and tenant walls.

use aws_sdk_dynamodb::types::AttributeValue;
use collector_aws::dynamo::DynamoTable;
use integration_tests::{apigw_request, read_response};
use serde_json::{json, Value};

use crate::support::Fixture;

const BASE: &str = "/api/v1/jobs";

fn handler(f: &Fixture) -> jobs::Handler<DynamoTable> {
    crate::wiring::jobs_handler(f)
}

async fn call(
    h: &jobs::Handler<DynamoTable>,
    key: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let auth = format!("Bearer {key}");
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    let body = body.map(Value::to_string);
    read_response(h.handle(apigw_request(method, path, &headers, body.as_deref())).await)
}

fn back_in_stock() -> Value {
    json!({"deleted": false, "is_active": true, "is_scheduled": true,
           "job_parameters": {"campaign_id": "spring", "utm_medium": "email"},
           "notification": "BACK_IN_STOCK", "number_of_items_in_email": 3,
           "schedule": "cron(0 9 * * ? *)", "template_id": "d-0123456789abcdef0123456789abcdef", "time_zone": "Europe/Kyiv"})
}

/// The job's entry in the scheduler's index, if it has one.
async fn due_entry(f: &Fixture, id: &str) -> Option<i64> {
    let item = f
        .clients
        .dynamodb
        .get_item()
        .table_name(&f.table_name)
        .key("pk", AttributeValue::S(format!("STORE#{}#JOBS", f.store_id)))
        .key("sk", AttributeValue::S(format!("JOB#{id}")))
        .send()
        .await
        .unwrap()
        .item?;
    item.get("nextRunMs")?.as_n().ok()?.parse().ok()
}

#[tokio::test]
async fn when_a_job_is_created_read_updated_and_deleted_should_keep_its_schedule_in_step() {
    let f = Fixture::new().await;
    let h = handler(&f);
    let (status, created) = call(&h, &f.key, "POST", BASE, Some(&back_in_stock())).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["scheduleExpression"], "cron(0 9 * * ? *)");
    let runs = created["next_runs"].as_array().unwrap();
    assert_eq!(runs.len(), 5);
    // 09:00 in Kyiv is 07:00 UTC in winter.
    assert!(
        runs.iter().all(|r| r.as_str().unwrap().contains("T07:00:00")),
        "{runs:?}"
    );
    let first_run = chrono::DateTime::parse_from_rfc3339(runs[0].as_str().unwrap()).unwrap();
    assert_eq!(
        due_entry(&f, &id).await,
        Some(first_run.timestamp_millis()),
        "indexed for the scheduler"
    );

    let item = format!("{BASE}/{id}");
    assert_eq!(call(&h, &f.key, "GET", &item, None).await.1, created);
    assert_eq!(call(&h, &f.key, "GET", BASE, None).await.1.as_array().unwrap().len(), 1);

    let mut paused = back_in_stock();
    paused["is_active"] = json!(false);
    paused["number_of_items_in_email"] = json!(-1);
    let (status, updated) = call(&h, &f.key, "PUT", &item, Some(&paused)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (
            updated["number_of_items_in_email"].as_i64(),
            updated["next_runs"].as_array().unwrap().len()
        ),
        (Some(-1), 0)
    );
    assert_eq!(due_entry(&f, &id).await, None, "an inactive job leaves the index");
    let mut moved = back_in_stock();
    moved["id"] = json!("665f1a2b3c4d5e6f7a8b9c0d");
    let (status, problem) = call(&h, &f.key, "PUT", &item, Some(&moved)).await;
    assert_eq!((status, problem["errors"][0]["pointer"].as_str()), (400, Some("/id")));

    // The spec's delete form: POST /api/v1/jobs/{jobId}. The job stays readable, marked deleted.
    assert_eq!(call(&h, &f.key, "POST", &item, None).await.0, 204);
    let (status, deleted) = call(&h, &f.key, "GET", &item, None).await;
    assert_eq!((status, deleted["deleted"].as_bool()), (200, Some(true)));
    assert_eq!(call(&h, &f.key, "GET", BASE, None).await.1, json!([]));
    assert_eq!(call(&h, &f.key, "DELETE", &item, None).await.0, 404, "already deleted");
    assert_eq!(
        call(&h, &f.key, "GET", &format!("{item}/runs"), None).await.1,
        json!([]),
        "no run yet"
    );
}

#[tokio::test]
async fn when_a_job_is_invalid_should_say_why_per_field_and_store_nothing() {
    let f = Fixture::new().await;
    let h = handler(&f);
    let mut bad = back_in_stock();
    bad["schedule"] = json!("cron(0 9 * * * *)");
    bad["notification"] = json!("NEWSLETTER");
    bad["template_id"] = json!("string");
    bad["number_of_items_in_email"] = json!(0);
    let (status, problem) = call(&h, &f.key, "POST", BASE, Some(&bad)).await;
    assert_eq!(status, 400);
    let errors: Vec<(&str, &str)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["pointer"].as_str().unwrap(), e["detail"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors.iter().map(|e| e.0).collect::<Vec<_>>(),
        [
            "/notification",
            "/schedule",
            "/template_id",
            "/number_of_items_in_email"
        ]
    );
    assert!(
        errors[1]
            .1
            .contains("exactly one of day-of-month and day-of-week must be '?'"),
        "{errors:?}"
    );
    let mut rate = back_in_stock();
    rate["schedule"] = json!("rate(1 hours)");
    let (_, problem) = call(&h, &f.key, "POST", BASE, Some(&rate)).await;
    assert!(problem["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("rate(1 hour)"));
    assert_eq!(call(&h, &f.key, "GET", BASE, None).await.1, json!([]));
}

#[tokio::test]
async fn when_another_tenant_names_a_job_should_answer_404() {
    let f = Fixture::new().await;
    let h = handler(&f);
    let id = call(&h, &f.key, "POST", BASE, Some(&back_in_stock())).await.1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, other_key) = f.other_tenant_key().await;
    let item = format!("{BASE}/{id}");
    assert_eq!(call(&h, &other_key, "GET", &item, None).await.0, 404);
    assert_eq!(call(&h, &other_key, "PUT", &item, Some(&back_in_stock())).await.0, 404);
    assert_eq!(call(&h, &other_key, "DELETE", &item, None).await.0, 404);
    assert_eq!(call(&h, &other_key, "GET", &format!("{item}/runs"), None).await.0, 404);
    assert_eq!(call(&h, &other_key, "GET", BASE, None).await.1, json!([]));
    assert_eq!(
        call(&h, &f.key, "GET", &item, None).await.1["deleted"],
        false,
        "untouched"
    );
}

#[tokio::test]
async fn when_a_job_is_updated_with_its_id_in_the_body_should_replace_it_as_the_path_form_does() {
    let f = Fixture::new().await;
    let h = handler(&f);
    let id = crate::wiring::create_job(&f, &back_in_stock()).await;
    let mut paused = back_in_stock();
    paused["id"] = json!(id);
    paused["is_active"] = json!(false);
    let (status, updated) = call(&h, &f.key, "PUT", BASE, Some(&paused)).await;
    assert_eq!(
        (status, updated["is_active"].as_bool()),
        (200, Some(false)),
        "{updated}"
    );
    assert_eq!(updated["id"], json!(id));
    assert_eq!(call(&h, &f.key, "GET", &format!("{BASE}/{id}"), None).await.1, updated);

    let (status, problem) = call(&h, &f.key, "PUT", BASE, Some(&back_in_stock())).await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].as_str()),
        (400, Some("/id")),
        "{problem}"
    );
    let (_, other_key) = f.other_tenant_key().await;
    assert_eq!(
        call(&h, &other_key, "PUT", BASE, Some(&paused)).await.0,
        404,
        "not across tenants"
    );
    let mut unknown = paused.clone();
    unknown["id"] = json!("665f1a2b3c4d5e6f7a8b9c0d");
    assert_eq!(call(&h, &f.key, "PUT", BASE, Some(&unknown)).await.0, 404);
    assert_eq!(call(&h, &f.key, "DELETE", BASE, None).await.0, 405);
}

#[tokio::test]
async fn when_a_schedule_is_malformed_or_never_runs_should_answer_400_at_once() {
    let f = Fixture::new().await;
    let h = handler(&f);
    for (schedule, says) in [
        ("cron(, 0 * * ? *)", "the minute field ',' has an empty value"),
        ("cron(0 0 30 2 ? *)", "never runs"),
        (
            "cron(0 5- * * ? *)",
            "the hour field '5-' has a range '5-' without an end",
        ),
    ] {
        let mut job = back_in_stock();
        job["schedule"] = json!(schedule);
        let (status, problem) = call(&h, &f.key, "POST", BASE, Some(&job)).await;
        assert_eq!(status, 400, "{schedule}: {problem}");
        assert_eq!(problem["errors"][0]["pointer"], "/schedule");
        let detail = problem["errors"][0]["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{schedule}: {detail}");
    }
    // The fuzz finding itself, in the zone it was found with.
    let mut kyiv = back_in_stock();
    kyiv["schedule"] = json!("cron(, 0 * * ? *)");
    kyiv["time_zone"] = json!("Europe/Kyiv");
    let started = std::time::Instant::now();
    assert_eq!(call(&h, &f.key, "POST", BASE, Some(&kyiv)).await.0, 400);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "answered in {:?}: the schedule search is bounded",
        started.elapsed()
    );
    assert_eq!(call(&h, &f.key, "GET", BASE, None).await.1, json!([]), "nothing stored");
}
