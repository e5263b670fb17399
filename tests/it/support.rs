//! A store with a key, and the ingest handler wired to the real adapters against the local AWS.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use collector_aws::dynamo::DynamoTable;
use collector_aws::kms::KmsSecretBox;
use collector_aws::sqs::SqsDispatchQueue;
use collector_aws::SdkConfig;
use collector_core::domain::api_key::Scope;
use collector_core::domain::customer::Customer;
use collector_core::domain::email_identity::parse_identity;
use collector_core::domain::event::StoredEvent;
use collector_core::domain::ids::{CustomerId, EventId, StoreId};
use collector_core::ports::{Clock, IdGenerator, IngestStore, RandomIds};
use collector_core::service::admin::{create_store, issue_key, set_email_identity as admin_set_email_identity};
use collector_core::service::ingest::IngestConfig;
use collector_http::edge::IngestDeps;
use ingest::Handler;
use integration_tests::{apigw_request, clone_template_table, function_env, read_response, Clients};
use serde_json::Value;

/// An ingesting function (`IngestFunction`, `BulkIngestFunction`) as production builds it: from its template
/// environment, over `(table, dispatch queue)`, with `config`'s ingest settings and the test clock.
fn ingest_deps(
    sdk: &SdkConfig,
    logical: &str,
    (table, queue): (&str, &str),
    config: &IngestConfig,
    clock: &TestClock,
) -> IngestDeps<DynamoTable, SqsDispatchQueue> {
    let shards = integration_tests::TEST_PENDING_SHARDS.to_string();
    let place = [
        ("TABLE_NAME", table),
        ("DISPATCH_QUEUE_URL", queue),
        ("PENDING_SHARDS", &shards),
    ];
    let env = function_env(logical, &place);
    let mut wiring = ingest::wiring::Config::from_env(&env).expect("the template's environment");
    wiring.ingest = config.clone();
    let mut deps = ingest::wiring::build(sdk, &wiring);
    deps.clock = Box::new(clock.clone());
    deps
}

/// A clock tests can move.
#[derive(Clone)]
pub struct TestClock(Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    pub fn advance(&self, by: chrono::Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

pub struct Fixture {
    pub clients: Clients,
    pub table: DynamoTable,
    pub table_name: String,
    pub store_id: StoreId,
    pub key: String,
    pub clock: TestClock,
    /// This fixture's own dispatch queue (the template's, cloned), so tests can drain it without racing.
    pub dispatch_queue_url: String,
    pub handler: Handler<DynamoTable, SqsDispatchQueue>,
    pub bulk: bulk_ingest::Handler<DynamoTable, SqsDispatchQueue>,
}

impl Fixture {
    pub async fn new() -> Self {
        Self::with_config(IngestConfig::default()).await
    }

    pub async fn with_config(config: IngestConfig) -> Self {
        Self::build(config, Some(TEST_EMAIL_IDENTITY)).await
    }

    /// A fixture whose store has no email identity: its jobs cannot send.
    pub async fn without_email_identity() -> Self {
        Self::build(IngestConfig::default(), None).await
    }

    async fn build(config: IngestConfig, identity: Option<&str>) -> Self {
        let clients = Clients::new().await;
        let now = Utc::now();
        let table_name = format!("t-{}", hex_id());
        let table = DynamoTable::new(
            clients.dynamodb.clone(),
            clone_template_table(&clients.dynamodb, &table_name).await,
        )
        .with_pending_shards(integration_tests::TEST_PENDING_SHARDS);
        let store = create_store(&table, &RandomIds, "test store", now)
            .await
            .expect("store created");
        let key = issue_key(&table, &RandomIds, &store.store_id, Scope::ALL.to_vec(), now)
            .await
            .expect("key issued");
        let clock = TestClock(Arc::new(Mutex::new(now)));
        let dispatch_queue_url = create_queue(&clients, &format!("dispatch-{}", hex_id())).await;
        let build = |logical| {
            ingest_deps(
                &clients.config,
                logical,
                (&table_name, &dispatch_queue_url),
                &config,
                &clock,
            )
        };
        let handler = Handler::from(build("IngestFunction"));
        let bulk = bulk_ingest::Handler::from(build("BulkIngestFunction"));
        if let Some(identity) = identity {
            set_email_identity(&clients, &table, &store.store_id, identity).await;
        }
        clients.log.take();
        Self {
            clients,
            table,
            table_name,
            store_id: store.store_id,
            key: key.plaintext,
            clock,
            dispatch_queue_url,
            handler,
            bulk,
        }
    }

    /// The dependencies of the ingesting function `logical` as production builds them, over this fixture's
    /// table, queue and clock, with clients from `sdk`.
    pub fn ingest_deps(&self, sdk: &SdkConfig, logical: &str) -> IngestDeps<DynamoTable, SqsDispatchQueue> {
        let place = (self.table_name.as_str(), self.dispatch_queue_url.as_str());
        ingest_deps(sdk, logical, place, &IngestConfig::default(), &self.clock)
    }

    /// Gives the fixture's store the email identity `identity` (`storeadmin set-email-identity`'s JSON).
    pub async fn set_email_identity(&self, identity: &str) {
        set_email_identity(&self.clients, &self.table, &self.store_id, identity).await;
    }

    /// A second store in this fixture's table and a key of it: another tenant.
    pub async fn other_tenant_key(&self) -> (StoreId, String) {
        let now = Utc::now();
        let store = create_store(&self.table, &RandomIds, "other tenant", now)
            .await
            .expect("store created");
        let key = issue_key(&self.table, &RandomIds, &store.store_id, Scope::ALL.to_vec(), now)
            .await
            .expect("key issued");
        (store.store_id, key.plaintext)
    }

    /// The fixture clock's time, RFC 3339: a `since` that takes everything sent from now on.
    pub fn clock_now_text(&self) -> String {
        collector_core::ports::Clock::now(&self.clock).to_rfc3339()
    }

    pub fn path(&self) -> String {
        format!("/stores/{}/events", self.store_id)
    }

    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.key)
    }

    /// A JSON POST to `path` with this store's key.
    pub fn json_post(&self, path: &str, body: &Value) -> lambda_http::Request {
        let auth = self.bearer();
        let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
        apigw_request("POST", path, &headers, Some(&body.to_string()))
    }

    /// POSTs `body` with this store's key.
    pub async fn post(&self, body: &Value) -> (u16, Value) {
        self.post_with(&self.handler, body).await
    }

    /// POSTs through another handler (one with a failing port, say) with this store's key; fails unless the
    /// template grants ingest every AWS action the request took.
    pub async fn post_with(&self, handler: &Handler<DynamoTable, SqsDispatchQueue>, body: &Value) -> (u16, Value) {
        self.clients.log.take_iam_actions();
        let answer = read_response(handler.handle(self.json_post(&self.path(), body)).await);
        assert_granted(self, "IngestFunction", "an ingest request");
        answer
    }

    /// POSTs a bulk request with this store's key.
    pub async fn post_bulk(&self, body: &Value) -> (u16, Value) {
        self.post_bulk_with(&self.bulk, body).await
    }

    pub async fn post_bulk_with(
        &self,
        handler: &bulk_ingest::Handler<DynamoTable, SqsDispatchQueue>,
        body: &Value,
    ) -> (u16, Value) {
        self.clients.log.take_iam_actions();
        let answer = read_response(
            handler
                .handle(self.json_post(&format!("{}/bulk", self.path()), body))
                .await,
        );
        assert_granted(self, "BulkIngestFunction", "a bulk request");
        answer
    }

    /// A fresh ingest function instance over this fixture's table and clock, enqueueing to `queue_url`
    /// (one that does not exist, say), built as production builds it.
    pub fn handler_on(&self, queue_url: &str) -> Handler<DynamoTable, SqsDispatchQueue> {
        Handler::from(self.deps_on("IngestFunction", queue_url))
    }

    /// [`Fixture::handler_on`] for bulk ingest.
    pub fn bulk_handler_on(&self, queue_url: &str) -> bulk_ingest::Handler<DynamoTable, SqsDispatchQueue> {
        bulk_ingest::Handler::from(self.deps_on("BulkIngestFunction", queue_url))
    }

    fn deps_on(&self, logical: &str, queue_url: &str) -> IngestDeps<DynamoTable, SqsDispatchQueue> {
        let place = (self.table_name.as_str(), queue_url);
        ingest_deps(
            &self.clients.config,
            logical,
            place,
            &IngestConfig::default(),
            &self.clock,
        )
    }

    pub async fn event(&self, response: &Value) -> StoredEvent {
        let id = EventId::parse(response["eventId"].as_str().expect("eventId")).unwrap();
        self.table
            .event(&self.store_id, &id)
            .await
            .unwrap()
            .expect("the event is stored")
    }

    pub async fn customer(&self, id: &str) -> Customer {
        let id = CustomerId::parse(id).unwrap();
        self.table
            .customer(&self.store_id, &id)
            .await
            .unwrap()
            .expect("the customer is stored")
    }

    /// How many items of a kind (`EVENT`, `CUSTOMER`, `EMAIL` …) this store has. A scan: tests only.
    pub async fn count(&self, kind: &str) -> usize {
        let prefix = format!("STORE#{}#{kind}#", self.store_id);
        let mut count = 0;
        let mut start = None;
        loop {
            let page = self
                .clients
                .dynamodb
                .scan()
                .table_name(&self.table_name)
                .filter_expression("begins_with(pk, :prefix)")
                .expression_attribute_values(":prefix", AttributeValue::S(prefix.clone()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap();
            count += page.items().len();
            start = page.last_evaluated_key;
            if start.is_none() {
                return count;
            }
        }
    }

    /// Events, customers and identifier claims of this store: what a rejected request must leave alone.
    pub async fn stored_counts(&self) -> [usize; 4] {
        [
            self.count("EVENT").await,
            self.count("CUSTOMER").await,
            self.count("EMAIL").await,
            self.count("UNIQUE").await,
        ]
    }
}

/// A new queue in the local AWS with the dispatch queue's visibility timeout; its URL.
pub async fn create_queue(clients: &Clients, name: &str) -> String {
    clients
        .sqs
        .create_queue()
        .queue_name(name)
        .attributes(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout, "180")
        .send()
        .await
        .expect("queue created")
        .queue_url
        .expect("a queue URL")
}

/// Fails unless `template.yaml` grants the function resource `function` (`DispatchFunction`) every IAM
/// action the fixture's requests needed since the last `take_iam_actions`: a function lacking one fails in
/// AWS with AccessDenied, which moto does not check. `what` names the step in the failure.
pub fn assert_granted(f: &Fixture, function: &str, what: &str) {
    let used = f.clients.log.take_iam_actions();
    let granted = integration_tests::granted_actions(function);
    let missing: Vec<&String> = used.difference(&granted).collect();
    assert!(
        missing.is_empty(),
        "{what}: template.yaml does not grant {function} {missing:?} (grants {granted:?})"
    );
}

pub fn hex_id() -> String {
    hex::encode(RandomIds.object_id(Utc::now()))
}

/// A `tracing` writer that keeps every log line, so a test can read what the handlers logged.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

/// The `RUST_LOG` the template gives every function, at `LogLevel: TRACE`.
fn deployed_log_filter() -> String {
    let filter = &integration_tests::template()["environment"]["RUST_LOG"]["Fn::Sub"];
    let filter = filter.as_str().expect("the template sets RUST_LOG with !Sub");
    filter.replace("${LogLevel}", "trace")
}

/// Every log line of this test binary from the first call on, as a deployed function at `LogLevel: TRACE`
/// would write it (JSON, as the runtime's subscriber writes under the template's `LogFormat: JSON`, with the
/// template's caps on the SDK): a global subscriber, so what the handlers log on any thread is caught.
pub fn captured_logs() -> &'static Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let filter = tracing_subscriber::EnvFilter::builder()
            .parse(deployed_log_filter())
            .expect("the template's RUST_LOG parses");
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_target(false)
            .without_time()
            .with_writer(move || writer.clone())
            .with_env_filter(filter)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        logs
    })
}

impl Captured {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The fields of every line logged so far whose field `name` is `value`.
    pub fn lines_with(&self, name: &str, value: &str) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).expect("every log line is JSON"))
            .filter_map(|line| line.get("fields").cloned())
            .filter(|fields| fields[name] == value)
            .collect()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An attribute as text, map keys sorted, so equal items read alike.
fn canonical(value: &AttributeValue) -> String {
    match value {
        AttributeValue::M(map) => {
            let mut fields: Vec<String> = map.iter().map(|(k, v)| format!("{k}={}", canonical(v))).collect();
            fields.sort();
            format!("{{{}}}", fields.join(","))
        }
        AttributeValue::L(list) => format!("[{}]", list.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => format!("{other:?}"),
    }
}

/// Every item of the fixture's table, read through the fixture's (fault-free) client.
pub async fn table_scan(f: &Fixture) -> Vec<HashMap<String, AttributeValue>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = f
            .clients
            .dynamodb
            .scan()
            .table_name(&f.table_name)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        items.extend(page.items().iter().cloned());
        start = page.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

/// Every item of the fixture's table as text (map keys sorted), sorted.
pub async fn table_items(f: &Fixture) -> Vec<String> {
    let mut items: Vec<String> = table_scan(f)
        .await
        .into_iter()
        .map(|item| canonical(&AttributeValue::M(item)))
        .collect();
    items.sort();
    items
}

/// The JSON pointers a problem response's `errors` name, in order.
pub fn pointers_of(problem: &Value) -> Vec<&str> {
    let errors = problem["errors"].as_array().map(Vec::as_slice).unwrap_or_default();
    errors.iter().map(|e| e["pointer"].as_str().unwrap()).collect()
}

/// The email identity a fixture's store has: its SendGrid key and sender. Another tenant has none.
pub const TEST_EMAIL_IDENTITY: &str = r#"{"apiKey": "SG.test-key", "fromEmail": "shop@example.com"}"#;

/// What `storeadmin set-email-identity` does, through the same service, its key sealed by KMS.
async fn set_email_identity(clients: &Clients, table: &DynamoTable, store: &StoreId, identity: &str) {
    let input = parse_identity(&serde_json::from_str(identity).expect("identity JSON")).expect("a valid identity");
    let seal = KmsSecretBox::new(clients.kms.clone(), &integration_tests::local_aws().secrets_key_id);
    admin_set_email_identity((table, &seal), store, input, Utc::now())
        .await
        .expect("identity set");
}
