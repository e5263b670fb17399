//! DynamoDB: the one table, its item conversions and the calls every adapter of it shares (`ingest_table.rs`,
//! `dispatch_table.rs` … implement the ports on it).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, WriteRequest};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::errors::{permanent, sdk_error};
use super::keys::{self, OWNED_BY, PENDING_SHARD, PENDING_SINCE, PK, SK};
use collector_core::config::{count, required, ConfigError, Env};
use collector_core::domain::customer::Customer;
use collector_core::domain::event::StoredEvent;
use collector_core::domain::event_listing::Position;
use collector_core::domain::ids::{CustomerId, EventId, StoreId};
use collector_core::ports::StoreError;

pub type Item = HashMap<String, AttributeValue>;

/// DynamoDB's limit of keys in one `BatchGetItem`.
const MAX_BATCH_GET: usize = 100;
/// DynamoDB's limit of items in one `BatchWriteItem`.
const MAX_BATCH_WRITE: usize = 25;
/// How many times a batch call retries what DynamoDB left unprocessed (about 2.5 s of backoff in all)
/// before it gives the rest back as throttled: a loop over `UnprocessedKeys` is bounded by this, not by the
/// Lambda timeout.
pub(super) const UNPROCESSED_ROUNDS: u32 = 8;

/// The table and the client to reach it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DynamoTable {
    pub(super) client: Client,
    pub(super) table: String,
    /// How many partitions of the `pending` index events spread over ([`TableConfig::pending_shards`]).
    pub(super) pending_shards: u16,
}

/// The table a function works on: `TABLE_NAME`, and `PENDING_SHARDS` (default
/// [`keys::DEFAULT_PENDING_SHARDS`]), which every function that stores, dispatches or sweeps events must
/// agree on: the template sets it once for all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableConfig {
    pub name: String,
    pub pending_shards: u16,
}

impl TableConfig {
    pub fn from_env(env: &impl Env) -> Result<Self, ConfigError> {
        let shards = count(env, "PENDING_SHARDS", 1..=u32::from(u16::MAX))?;
        Ok(Self {
            name: required(env, "TABLE_NAME")?,
            pending_shards: shards.map_or(keys::DEFAULT_PENDING_SHARDS, |n| n as u16),
        })
    }
}

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn key<K: Into<String>>((pk, sk): (String, K)) -> Item {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(pk)),
        (SK.to_owned(), AttributeValue::S(sk.into())),
    ])
}

pub(super) fn item_of<T: Serialize, K: Into<String>>(
    operation: &'static str,
    at: (String, K),
    value: &T,
) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(value).map_err(|e| permanent(operation, e))?;
    item.extend(key(at));
    Ok(item)
}

pub(super) fn from_item<T: DeserializeOwned>(operation: &'static str, item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| permanent(operation, e))
}

/// `$extra` is arbitrary JSON: stored as JSON text so that no value DynamoDB cannot hold (numbers beyond
/// its range, empty map keys, deep nesting) can fail a write, and so it comes back exactly as sent.
const EXTRA: &str = "extra";

pub(super) fn event_item(event: &StoredEvent, pending_shards: u16) -> Result<Item, StoreError> {
    let mut item = item_of("event item", keys::event(&event.store_id, &event.event_id), event)?;
    if let Some(extra) = &event.extra {
        item.insert(
            EXTRA.to_owned(),
            AttributeValue::S(serde_json::Value::Object(extra.clone()).to_string()),
        );
    }
    item.insert(
        PENDING_SHARD.to_owned(),
        AttributeValue::S(keys::pending_shard(&event.event_id, pending_shards)),
    );
    item.insert(
        PENDING_SINCE.to_owned(),
        AttributeValue::N(event.received_at.timestamp_millis().to_string()),
    );
    let (store, id) = (&event.store_id, &event.event_id);
    let timeline = [
        (keys::EVENTS_OF, keys::events_of(store, id)),
        (keys::NAMED_OF, keys::named_of(store, &event.event_name, id)),
        (
            keys::TIMELINE_KEY,
            keys::timeline_key(&Position::of(event.received_at, id)),
        ),
    ];
    for (name, value) in timeline {
        item.insert(name.to_owned(), AttributeValue::S(value));
    }
    Ok(item)
}

pub(super) fn event_from_item(mut item: Item) -> Result<StoredEvent, StoreError> {
    if let Some(AttributeValue::S(text)) = item.remove(EXTRA) {
        let extra: serde_json::Value = serde_json::from_str(&text).map_err(|e| permanent("event item", e))?;
        item.insert(
            EXTRA.to_owned(),
            serde_dynamo::to_attribute_value(extra).map_err(|e| permanent("event item", e))?,
        );
    }
    from_item("event item", item)
}

/// Marks a customer's record for the `customerItems` index, so erasing the customer finds it.
pub(super) fn owned_by(mut item: Item, store: &StoreId, customer: Option<&CustomerId>) -> Item {
    if let Some(customer) = customer {
        item.insert(OWNED_BY.to_owned(), AttributeValue::S(keys::owner(store, customer)));
    }
    item
}

pub(super) fn pk_of(item: &Item) -> Option<&str> {
    match item.get(PK) {
        Some(AttributeValue::S(pk)) => Some(pk),
        _ => None,
    }
}

impl DynamoTable {
    /// The table `table`, its events spread over [`keys::DEFAULT_PENDING_SHARDS`] pending shards.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            pending_shards: keys::DEFAULT_PENDING_SHARDS,
        }
    }

    /// The same table with its events spread over `shards` pending shards.
    pub fn with_pending_shards(self, shards: u16) -> Self {
        Self {
            pending_shards: shards.max(1),
            ..self
        }
    }

    /// The configured table with a client built from `sdk` (no connection is opened).
    pub fn from_sdk(sdk: &aws_config::SdkConfig, config: &TableConfig) -> Self {
        Self::new(Client::new(sdk), &config.name).with_pending_shards(config.pending_shards)
    }

    pub(super) async fn get<K: Into<String>>(
        &self,
        operation: &'static str,
        at: (String, K),
    ) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(at)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(operation, e))?;
        Ok(output.item)
    }

    pub(super) async fn put_new(&self, operation: &'static str, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| sdk_error(operation, e))?;
        Ok(())
    }

    /// Every page of a query.
    pub(super) async fn query_all(
        &self,
        operation: &'static str,
        shape: impl Fn(
            aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = shape(self.client.query().table_name(&self.table))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(operation, e))?;
            start = page.last_evaluated_key;
            items.extend(page.items.unwrap_or_default());
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// Gets items by key in as few `BatchGetItem` calls as DynamoDB allows (100 keys each), retrying
    /// `UnprocessedKeys` with backoff for at most [`UNPROCESSED_ROUNDS`] rounds; keys still unprocessed
    /// then make it a `Transient` error (the partitions are throttled: the caller answers 503 or retries
    /// later). Keys must be distinct.
    pub(super) async fn batch_get(&self, operation: &'static str, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        let mut chunks = keys.into_iter().peekable();
        let mut pending: Vec<Item> = Vec::new();
        let mut backoff_ms = 10;
        let mut rounds = 0;
        while !pending.is_empty() || chunks.peek().is_some() {
            while pending.len() < MAX_BATCH_GET {
                match chunks.next() {
                    Some(key) => pending.push(key),
                    None => break,
                }
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(pending))
                .consistent_read(true)
                .build()
                .map_err(|e| permanent(operation, e))?;
            let mut output = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| sdk_error(operation, e))?;
            if let Some(items) = output.responses.as_mut().and_then(|r| r.remove(&self.table)) {
                found.extend(items);
            }
            pending = output
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
            if !pending.is_empty() {
                rounds += 1;
                if rounds > UNPROCESSED_ROUNDS {
                    return Err(still_unprocessed(operation, pending.len() + chunks.len()));
                }
                tokio::time::sleep(std::time::Duration::from_millis(backoff_ms)).await;
                backoff_ms = (backoff_ms * 2).min(1_000);
            }
        }
        Ok(found)
    }

    /// Writes (puts or deletes) in `BatchWriteItem` calls of 25, retrying `UnprocessedItems` with backoff
    /// for at most [`UNPROCESSED_ROUNDS`] rounds a chunk; what is still unwritten then makes it a
    /// `Transient` error naming how many (the writes are idempotent: the caller tries them all again).
    pub(super) async fn batch_write(
        &self,
        operation: &'static str,
        requests: Vec<WriteRequest>,
    ) -> Result<(), StoreError> {
        let mut requests = requests.into_iter().peekable();
        while requests.peek().is_some() {
            let mut chunk: Vec<WriteRequest> = requests.by_ref().take(MAX_BATCH_WRITE).collect();
            let mut backoff_ms = 20;
            let mut rounds = 0;
            while !chunk.is_empty() {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, chunk)
                    .send()
                    .await
                    .map_err(|e| sdk_error(operation, e))?;
                chunk = output
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
                if !chunk.is_empty() {
                    rounds += 1;
                    if rounds > UNPROCESSED_ROUNDS {
                        return Err(still_unprocessed(operation, chunk.len() + requests.len()));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(backoff_ms)).await;
                    backoff_ms = (backoff_ms * 2).min(1_000);
                }
            }
        }
        Ok(())
    }

    /// An event by id, with `$extra` restored.
    pub async fn event(&self, store: &StoreId, id: &EventId) -> Result<Option<StoredEvent>, StoreError> {
        self.get("get event", keys::event(store, id))
            .await?
            .map(event_from_item)
            .transpose()
    }

    /// Customers by id, batched; ids not found are absent from the map.
    pub(crate) async fn customers_by_id(
        &self,
        store: &StoreId,
        ids: &[CustomerId],
    ) -> Result<HashMap<CustomerId, Customer>, StoreError> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let batch = ids.iter().map(|id| key(keys::customer(store, id))).collect();
        self.batch_get("get customers", batch)
            .await?
            .into_iter()
            .map(|item| from_item::<Customer>("customer item", item).map(|c| (c.customer_id.clone(), c)))
            .collect()
    }

    /// Whether the event still carries the pending-dispatch marker.
    pub async fn is_pending(&self, store: &StoreId, id: &EventId) -> Result<bool, StoreError> {
        let item = self.get("get event", keys::event(store, id)).await?;
        Ok(item.is_some_and(|i| i.contains_key(PENDING_SHARD)))
    }
}

/// A batch call's rest that DynamoDB would not process in [`UNPROCESSED_ROUNDS`]: throttled, so transient.
fn still_unprocessed(operation: &'static str, left: usize) -> StoreError {
    StoreError {
        operation,
        kind: collector_core::ports::ErrorKind::Transient,
        message: format!("{left} items still unprocessed after {UNPROCESSED_ROUNDS} retries: throttled"),
    }
}
