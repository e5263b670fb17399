//! A store with a key, and the ingest handler wired to the real adapters against the local AWS.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use ingest::Handler;
use integration_tests::{apigw_request, local_aws, read_response, Clients};
use serde_json::Value;
use shared::adapters::dynamo::DynamoTable;
use shared::adapters::sqs::SqsDispatchQueue;
use shared::domain::api_key::Scope;
use shared::domain::customer::Customer;
use shared::domain::event::StoredEvent;
use shared::domain::ids::{CustomerId, EventId, StoreId};
use shared::ports::{Clock, DispatchQueue, IngestStore, RandomIds};
use shared::service::admin::{create_store, issue_key};
use shared::service::ingest::IngestConfig;

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
    pub store_id: StoreId,
    pub key: String,
    pub clock: TestClock,
    pub handler: Handler<DynamoTable, SqsDispatchQueue>,
}

impl Fixture {
    pub async fn new() -> Self {
        Self::with_config(IngestConfig::default()).await
    }

    pub async fn with_config(config: IngestConfig) -> Self {
        let clients = Clients::new().await;
        let table = DynamoTable::new(clients.dynamodb.clone(), &local_aws().table);
        let now = Utc::now();
        let store = create_store(&table, &RandomIds, "test store", now)
            .await
            .expect("store created");
        let key = issue_key(&table, &RandomIds, &store.store_id, Scope::ALL.to_vec(), now)
            .await
            .expect("key issued");
        let clock = TestClock(Arc::new(Mutex::new(now)));
        let queue = SqsDispatchQueue::new(clients.sqs.clone(), &local_aws().dispatch_queue_url);
        let handler = Handler::new(
            table.clone(),
            queue,
            Box::new(clock.clone()),
            Box::new(RandomIds),
            config,
        );
        clients.log.take();
        Self {
            clients,
            table,
            store_id: store.store_id,
            key: key.plaintext,
            clock,
            handler,
        }
    }

    /// The dispatch queue provisioned from template.yaml.
    pub fn dispatch_queue(&self) -> SqsDispatchQueue {
        dispatch_queue(&self.clients)
    }

    pub fn path(&self) -> String {
        format!("/stores/{}/events", self.store_id)
    }

    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.key)
    }

    /// POSTs `body` with this store's key.
    pub async fn post(&self, body: &Value) -> (u16, Value) {
        self.post_with(&self.handler, body).await
    }

    /// POSTs through another handler (one with a failing port, say) with this store's key.
    pub async fn post_with<S, Q>(&self, handler: &Handler<S, Q>, body: &Value) -> (u16, Value)
    where
        S: IngestStore + shared::ports::ApiKeyStore + Sync,
        Q: DispatchQueue + Sync,
    {
        let auth = self.bearer();
        let request = apigw_request(
            "POST",
            &self.path(),
            &[("authorization", &auth), ("content-type", "application/json")],
            Some(&body.to_string()),
        );
        read_response(handler.handle(request).await)
    }

    /// A handler over the same store and clock with other ports.
    pub fn handler_with<S, Q>(&self, store: S, queue: Q) -> Handler<S, Q>
    where
        S: IngestStore + shared::ports::ApiKeyStore + Sync,
        Q: DispatchQueue + Sync,
    {
        Handler::new(
            store,
            queue,
            Box::new(self.clock.clone()),
            Box::new(RandomIds),
            IngestConfig::default(),
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
                .table_name(&local_aws().table)
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

fn dispatch_queue(clients: &Clients) -> SqsDispatchQueue {
    SqsDispatchQueue::new(clients.sqs.clone(), &local_aws().dispatch_queue_url)
}
