//! `/api/v1/event-subscription`: CRUD and deactivate, tenant walls, and secrets that never come back out.

use serde_json::{json, Value};

use crate::pipeline::Pipeline;
use crate::support::captured_logs;
use crate::support::{pointers_of, Fixture};

const BASE: &str = "/api/v1/event-subscription";
const ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const ACCESS_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn sqs(queue: &str) -> Value {
    json!({"type": "SQS", "sqs": {"queueUrl": queue, "region": "eu-west-1"}})
}

fn customer_subscription() -> Value {
    json!({
        "active": true,
        "entityType": "CUSTOMER",
        "subscribeCreate": true,
        "subscribeChange": true,
        "subscribeDelete": false,
        "description": "CRM sync",
        "destination": sqs("https://sqs.eu-west-1.amazonaws.com/123456789012/crm")
    })
}

#[tokio::test]
async fn when_created_read_updated_deactivated_and_deleted_should_answer_as_the_api_says() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let created = p.subscribe(customer_subscription()).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["entityType"], "CUSTOMER");
    assert_eq!(created["destination"]["sqs"]["region"], "eu-west-1");
    assert_eq!(created["createdAt"], created["updatedAt"]);

    let item = format!("{BASE}/{id}");
    let (status, read) = p.api("GET", &item, None).await;
    assert_eq!((status, &read), (200, &created));
    let (status, all) = p.api("GET", BASE, None).await;
    assert_eq!((status, all.as_array().unwrap().len()), (200, 1));

    let mut update = customer_subscription();
    update["id"] = json!(id);
    update["description"] = json!("CRM sync v2");
    update["eventNames"] = json!(["Order Placed"]);
    f.clock.advance(chrono::Duration::seconds(1));
    let (status, updated) = p.api("PUT", BASE, Some(&update)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["description"], "CRM sync v2");
    assert_eq!(updated["eventNames"], json!(["Order Placed"]));
    assert_eq!(updated["createdAt"], created["createdAt"]);
    assert_ne!(updated["updatedAt"], created["updatedAt"]);

    let (status, deactivated) = p.api("PUT", &format!("{item}/deactivate"), None).await;
    assert_eq!(status, 200);
    assert_eq!(deactivated["active"], false);
    assert_eq!(deactivated["deactivatedReason"], "deactivated through the API");
    assert_eq!(p.api("GET", &item, None).await.1["active"], false);

    let (status, _) = p.api("DELETE", &item, None).await;
    assert_eq!(status, 204);
    assert_eq!(p.api("GET", &item, None).await.0, 404);
    assert_eq!(p.api("DELETE", &item, None).await.0, 404);
    let mut missing = update.clone();
    missing["id"] = json!(id);
    assert_eq!(p.api("PUT", BASE, Some(&missing)).await.0, 404);
    let mut no_id = update;
    no_id.as_object_mut().unwrap().remove("id");
    let (status, problem) = p.api("PUT", BASE, Some(&no_id)).await;
    assert_eq!((status, problem["errors"][0]["pointer"].as_str()), (400, Some("/id")));
}

#[tokio::test]
async fn when_another_tenant_names_a_subscription_should_answer_404_as_for_a_missing_one() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let id = p.subscribe(customer_subscription()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = format!("Bearer {}", f.other_tenant_key().await.1);
    let item = format!("{BASE}/{id}");
    let as_other = |method: &'static str, path: String, body: Option<Value>| {
        let other = other.clone();
        let p = &p;
        async move {
            let headers = [("authorization", other.as_str()), ("content-type", "application/json")];
            let body = body.map(|b| b.to_string());
            integration_tests::read_response(
                p.subscriptions
                    .handle(integration_tests::apigw_request(
                        method,
                        &path,
                        &headers,
                        body.as_deref(),
                    ))
                    .await,
            )
        }
    };
    assert_eq!(as_other("GET", item.clone(), None).await.0, 404);
    assert_eq!(as_other("PUT", format!("{item}/deactivate"), None).await.0, 404);
    assert_eq!(as_other("DELETE", item.clone(), None).await.0, 404);
    assert_eq!(as_other("GET", format!("{item}/deliveries"), None).await.0, 404);
    let mut update = customer_subscription();
    update["id"] = json!(id);
    assert_eq!(as_other("PUT", BASE.to_owned(), Some(update)).await.0, 404);
    assert_eq!(
        as_other("GET", BASE.to_owned(), None).await.1,
        json!([]),
        "the other tenant lists nothing"
    );
    let (status, still) = p.api("GET", &item, None).await;
    assert_eq!(
        (status, still["active"].as_bool()),
        (200, Some(true)),
        "nothing changed"
    );

    // X-TWC-Tenant, when sent, must name the key's tenant.
    let own = f.store_id.to_string();
    assert_eq!(p.api_with("GET", &item, None, &[("x-twc-tenant", &own)]).await.0, 200);
    let (status, problem) = p
        .api_with("GET", &item, None, &[("x-twc-tenant", "665f1a2b3c4d5e6f7a8b9c0d")])
        .await;
    assert_eq!(
        (status, problem["type"].as_str()),
        (403, Some("/problems/wrong-tenant"))
    );
    // As the document has it, `X-TWC-Tenant: {Tenant Name}`: the store's name, in any letter case.
    for name in ["test store", "Test Store", " TEST STORE "] {
        assert_eq!(
            p.api_with("GET", &item, None, &[("x-twc-tenant", name)]).await.0,
            200,
            "{name}"
        );
    }
    let (other, _) = f.other_tenant_key().await;
    for not_ours in ["other tenant", "test", other.as_str()] {
        assert_eq!(
            p.api_with("GET", &item, None, &[("x-twc-tenant", not_ours)]).await.0,
            403,
            "{not_ours}"
        );
    }
    assert_eq!(
        p.api_with("GET", BASE, None, &[("authorization", "Bearer nope")])
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn when_credentials_and_signing_secrets_are_set_should_never_return_log_or_store_them_in_plain_text() {
    let logs = captured_logs();
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let mut with_keys = customer_subscription();
    with_keys["destination"]["sqs"]["accessKey"] = json!(ACCESS_KEY);
    with_keys["destination"]["sqs"]["accessSecret"] = json!(ACCESS_SECRET);
    let created = p.subscribe(with_keys.clone()).await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["destination"]["sqs"]["accessSecretSet"], true);
    assert_eq!(created["destination"]["sqs"]["accessKeyHint"], "MPLE");
    let hook = p
        .subscribe(json!({"eventNames": ["*"], "destination": {"type": "WEBHOOK", "webhook": {"url": "https://hooks.example.com/in"}}}))
        .await;
    let signing_secret = hook["destination"]["webhook"]["signingSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(signing_secret.starts_with("whsec_"));

    // An update that leaves the credentials out keeps them (they cannot be read back to be sent again).
    let mut update = customer_subscription();
    update["id"] = json!(id);
    let (_, updated) = p.api("PUT", BASE, Some(&update)).await;
    assert_eq!(updated["destination"]["sqs"]["accessSecretSet"], true);

    // The create response of the webhook is the one place its signing secret appears.
    let mut responses = vec![created, updated];
    responses.push(p.api("GET", BASE, None).await.1);
    responses.push(p.api("GET", &format!("{BASE}/{id}"), None).await.1);
    let hook_id = hook["id"].as_str().unwrap();
    let read_hook = p.api("GET", &format!("{BASE}/{hook_id}"), None).await.1;
    assert_eq!(read_hook["destination"]["webhook"]["signingSecretSet"], true);
    assert!(
        read_hook["destination"]["webhook"].get("signingSecret").is_none(),
        "shown once only"
    );
    responses.push(read_hook);
    responses.push(
        p.api(
            "POST",
            BASE,
            Some(&json!({"destination": {"type": "SNS", "sqs": with_keys["destination"]["sqs"]}})),
        )
        .await
        .1,
    );

    let stored = crate::support::table_items(&f).await.join("\n");
    let logged = logs.text();
    assert!(
        logged.contains("\"endpoint\":\"subscriptions\""),
        "the handlers did log: {}",
        logged
            .lines()
            .filter(|l| l.contains("INFO"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    for secret in [
        ACCESS_KEY,
        ACCESS_SECRET,
        &signing_secret,
        signing_secret.trim_start_matches("whsec_"),
    ] {
        for response in &responses {
            assert!(
                !response.to_string().contains(secret),
                "a response carries a secret: {response}"
            );
        }
        assert!(!logged.contains(secret), "a log line carries a secret");
        assert!(!stored.contains(secret), "a secret is stored in plain text");
    }
    assert!(stored.contains("sealed"), "the sealed forms are stored");
}

#[tokio::test]
async fn when_a_body_is_invalid_should_answer_400_with_pointers_and_store_nothing() {
    let f = Fixture::new().await;
    let p = Pipeline::new(&f);
    let contradictory = json!({
        "entityType": "CUSTOMER", "subscribeCreate": true,
        "destination": {"type": "SNS", "sqs": {"queueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "region": "us-east-1"}}
    });
    let (status, problem) = p.api("POST", BASE, Some(&contradictory)).await;
    assert_eq!(status, 400);
    let pointers = pointers_of(&problem);
    assert_eq!(pointers, ["/destination/sqs", "/destination/sns"], "{problem}");
    assert!(problem["errors"][0]["detail"].as_str().unwrap().contains("type is SNS"));
    let (status, _) = p.api("POST", BASE, Some(&json!({"entityType": "SHOPPER"}))).await;
    assert_eq!(status, 400);
    assert_eq!(p.api("GET", BASE, None).await.1, json!([]));
    assert_eq!(p.api("PATCH", BASE, None).await.0, 405);
    assert_eq!(p.api("GET", &format!("{BASE}/not-an-id"), None).await.0, 404);
}
