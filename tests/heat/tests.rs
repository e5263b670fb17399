//! The recorder on requests written out by hand: what it derives, and what it refuses.

use super::*;
use serde_json::json;

fn schema() -> Schema {
    Schema {
        hash: "pk".into(),
        range: Some("sk".into()),
        indexes: vec![
            Index {
                name: "pending".into(),
                hash: "pendingShard".into(),
                range: Some("pendingSince".into()),
                projects_all: false,
            },
            Index {
                name: "deliveries".into(),
                hash: "deliveriesOf".into(),
                range: Some("lastAttemptMs".into()),
                projects_all: true,
            },
        ],
    }
}

fn observe(recorder: &Recorder, operation: &str, request: Value) {
    recorder.observe(operation, request.to_string().as_bytes(), true, b"{}");
}

#[test]
fn a_write_touches_its_partition_and_the_indexes_its_attributes_put_it_in() {
    let recorder = Recorder::new(schema());
    let item = json!({"pk": {"S": "STORE#s#EVENT#e"}, "sk": {"S": "EVENT"}, "pendingShard": {"S": "PENDING#3"}, "pendingSince": {"N": "1"}});
    observe(&recorder, "PutItem", json!({"Item": item}));
    let removed = json!({"Key": {"pk": {"S": "STORE#s#EVENT#e"}, "sk": {"S": "EVENT"}}, "UpdateExpression": "REMOVE #p, pendingSince",
                         "ExpressionAttributeNames": {"#p": "pendingShard"}});
    observe(&recorder, "UpdateItem", removed);
    let touches = recorder.take().unwrap();
    let seen: Vec<(&str, &str)> = touches.iter().map(|t| (t.target.as_str(), t.class)).collect();
    assert_eq!(
        seen,
        [
            ("table", "STORE#{store}#EVENT#{event}"),
            ("index/pending", "PENDING#{shard}"),
            ("table", "STORE#{store}#EVENT#{event}"),
            ("index/pending", "PENDING#{shard}"),
        ]
    );
    assert!(touches.iter().all(|t| t.access == Access::Write && t.units == 1.0));
}

#[test]
fn an_update_that_may_create_its_item_removes_nothing_from_an_item_never_seen() {
    let recorder = Recorder::new(schema());
    let created = json!({"Key": {"pk": {"S": "STORE#s#EVENT#e"}, "sk": {"S": "DELIVERY#x#m"}},
                         "UpdateExpression": "SET deliveriesOf = :d, lastAttemptMs = :t REMOVE pendingShard",
                         "ConditionExpression": "attribute_not_exists(pk) OR #status <> :delivered",
                         "ExpressionAttributeValues": {":d": {"S": "STORE#s#SUB#x#3"}, ":t": {"N": "1"}}});
    observe(&recorder, "UpdateItem", created);
    let touches = recorder.take().unwrap();
    let seen: Vec<&str> = touches.iter().map(|t| t.target.as_str()).collect();
    assert_eq!(seen, ["table", "index/deliveries"], "no pending entry to delete");
}

#[test]
fn a_request_it_cannot_interpret_is_an_error_not_a_guess() {
    let recorder = Recorder::new(schema());
    // The item was never seen written: which pending partition loses it is unknown.
    let removed = json!({"Key": {"pk": {"S": "STORE#s#EVENT#e"}, "sk": {"S": "EVENT"}}, "UpdateExpression": "REMOVE pendingShard"});
    observe(&recorder, "UpdateItem", removed);
    let computed = json!({"Key": {"pk": {"S": "STORE#s#EVENT#f"}, "sk": {"S": "EVENT"}}, "UpdateExpression": "SET pendingShard = pendingShard + :one"});
    observe(&recorder, "UpdateItem", computed);
    observe(
        &recorder,
        "GetItem",
        json!({"Key": {"pk": {"S": "STORE#s#NEWTHING#1"}, "sk": {"S": "X"}}}),
    );
    let errors = recorder.take().unwrap_err();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[2].contains("STORE#s#NEWTHING#1"), "{errors:?}");
}

#[test]
fn a_transaction_bills_twice_and_a_moved_index_key_is_a_delete_and_a_put() {
    let recorder = Recorder::new(schema());
    let key = json!({"pk": {"S": "STORE#s#EVENT#e"}, "sk": {"S": "DELIVERY#x"}});
    let set = |at: &str| {
        json!({"TransactItems": [{"Update": {"Key": key, "UpdateExpression": "SET deliveriesOf = :d, lastAttemptMs = :t",
               "ExpressionAttributeValues": {":d": {"S": "STORE#s#SUB#x#3"}, ":t": {"N": at}}}}]})
    };
    observe(&recorder, "TransactWriteItems", set("1"));
    recorder.take().unwrap();
    observe(&recorder, "TransactWriteItems", set("2"));
    let touches = recorder.take().unwrap();
    let units: Vec<(&str, f64)> = touches.iter().map(|t| (t.target.as_str(), t.units)).collect();
    assert_eq!(
        units,
        [("table", 2.0), ("index/deliveries", 1.0), ("index/deliveries", 1.0)]
    );
}
