//! Authentication and the tenant wall.

use collector_core::domain::api_key::Scope;
use collector_core::ports::RandomIds;
use collector_core::service::admin::{create_store, issue_key, list_keys, revoke_key};
use integration_tests::{apigw_request, read_response};
use serde_json::json;

use crate::support::Fixture;

fn body() -> String {
    json!({"eventName": "Auth", "customer": {"email": "auth@example.com"}}).to_string()
}

async fn post(f: &Fixture, path: &str, authorization: Option<&str>) -> (u16, serde_json::Value, Option<String>) {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(value) = authorization {
        headers.push(("authorization", value));
    }
    let response = f
        .handler
        .handle(apigw_request("POST", path, &headers, Some(&body())))
        .await;
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, problem) = read_response(response);
    (status, problem, challenge)
}

#[tokio::test]
async fn when_no_key_or_an_unknown_key_is_sent_should_answer_401() {
    let f = Fixture::new().await;
    let unknown = format!("Bearer ck_{}", "A".repeat(43));
    for authorization in [
        None,
        Some("Bearer"),
        Some("Bearer not-a-key"),
        Some(unknown.as_str()),
        Some("Basic dXNlcjpwYXNz"),
    ] {
        let (status, problem, challenge) = post(&f, &f.path(), authorization).await;
        assert_eq!(status, 401, "{authorization:?}: {problem}");
        assert_eq!(challenge.as_deref(), Some("Bearer"));
    }
    assert_eq!(f.stored_counts().await, [0, 0, 0, 0]);
}

#[tokio::test]
async fn when_key_belongs_to_another_store_should_answer_404_like_a_missing_store() {
    let mine = Fixture::new().await;
    // Another tenant in the same table, as in production.
    let other = create_store(&mine.table, &RandomIds, "other store", chrono::Utc::now())
        .await
        .unwrap();
    let other_key = issue_key(
        &mine.table,
        &RandomIds,
        &other.store_id,
        Scope::ALL.to_vec(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let auth = format!("Bearer {}", other_key.plaintext);
    let (status, problem, _) = post(&mine, &mine.path(), Some(&auth)).await;
    assert_eq!(status, 404, "{problem}");
    let (missing_status, missing, _) = post(&mine, "/stores/0123456789abcdef01234567/events", Some(&auth)).await;
    assert_eq!(missing_status, 404);
    assert_eq!(problem["title"], missing["title"]);
    assert_eq!(problem["detail"], missing["detail"]);
    let (status, _, _) = post(&mine, "/stores/not-a-store/events", Some(&auth)).await;
    assert_eq!(status, 404);
    assert_eq!(mine.stored_counts().await, [0, 0, 0, 0]);
    let other_path = format!("/stores/{}/events", other.store_id);
    assert_eq!(
        post(&mine, &other_path, Some(&auth)).await.0,
        202,
        "the key works for its own store"
    );
}

#[tokio::test]
async fn when_key_lacks_the_events_scope_should_answer_403() {
    let f = Fixture::new().await;
    let key = issue_key(
        &f.table,
        &RandomIds,
        &f.store_id,
        vec![Scope::JobsRead, Scope::SubscriptionsWrite],
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let auth = format!("Bearer {}", key.plaintext);
    let (status, problem, _) = post(&f, &f.path(), Some(&auth)).await;
    assert_eq!(status, 403, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("events:write"));
    assert_eq!(f.stored_counts().await, [0, 0, 0, 0]);
}

#[tokio::test]
async fn when_problem_is_returned_should_not_echo_the_key() {
    let f = Fixture::new().await;
    let auth = f.bearer();
    let request = apigw_request(
        "POST",
        &f.path(),
        &[("authorization", &auth), ("content-type", "text/plain")],
        Some("x"),
    );
    let response = f.handler.handle(request).await;
    let text = String::from_utf8(response.body().as_ref().to_vec()).unwrap();
    assert!(!text.contains(&f.key[3..]), "{text}");
}

#[tokio::test]
async fn when_a_key_is_rotated_should_list_both_then_refuse_the_revoked_one_only() {
    let f = Fixture::new().await;
    let now = chrono::Utc::now();
    let new = issue_key(&f.table, &RandomIds, &f.store_id, vec![Scope::EventsWrite], now)
        .await
        .expect("a second key");
    let listed = list_keys(&f.table, &f.store_id).await.expect("the store's keys");
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[1].key_id, new.record.key_id);
    assert_eq!(listed[1].scopes, vec![Scope::EventsWrite]);
    let old_id = listed[0].key_id.clone();

    let (other_store, _) = f.other_tenant_key().await;
    assert!(
        revoke_key(&f.table, &other_store, &old_id).await.is_err(),
        "another store cannot name this store's key"
    );
    revoke_key(&f.table, &f.store_id, &old_id).await.expect("revoked");
    assert!(
        revoke_key(&f.table, &f.store_id, &old_id).await.is_err(),
        "already revoked"
    );

    // A fresh instance (no key cache): the revoked key is refused, the new one works.
    let fresh = f.handler_on(&f.dispatch_queue_url);
    let headers = |key: &str| {
        [
            ("authorization", format!("Bearer {key}")),
            ("content-type", "application/json".into()),
        ]
    };
    let send = |key: String| {
        let headers = headers(&key);
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        apigw_request("POST", &f.path(), &headers, Some(&body()))
    };
    assert_eq!(read_response(fresh.handle(send(f.key.clone())).await).0, 401);
    assert_eq!(read_response(fresh.handle(send(new.plaintext.clone())).await).0, 202);
    let left = list_keys(&f.table, &f.store_id).await.unwrap();
    assert_eq!(
        left.iter().map(|k| k.key_id.as_str()).collect::<Vec<_>>(),
        [new.record.key_id.as_str()]
    );
}
