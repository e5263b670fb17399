//! DynamoDB: the single table behind [`AdmissionStore`] and [`IngestStore`].

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
    WriteRequest,
};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::errors::{permanent, sdk_error};
use super::keys::{self, OWNED_BY, PENDING_SHARD, PENDING_SINCE, PK, SK};
use collector_core::domain::custom_event::CustomerInput;
use collector_core::domain::customer::{Customer, ProfileField};
use collector_core::domain::entity_state::EntityState;
use collector_core::domain::event::{DedupeRecord, StoredEvent};
use collector_core::domain::identity::{Identifier, IdentityLookup};
use collector_core::domain::ids::{CustomerId, EventId, StoreId};
use collector_core::domain::order::Order;
use collector_core::domain::subscription::EntityType;
use collector_core::ports::{Commit, CommitOutcome, CustomerWrite, EventReads, IngestStore, Prefetched, StoreError};

pub type Item = HashMap<String, AttributeValue>;

/// DynamoDB's limit of keys in one `BatchGetItem`.
const MAX_BATCH_GET: usize = 100;
/// DynamoDB's limit of items in one `BatchWriteItem`.
const MAX_BATCH_WRITE: usize = 25;

/// The table and the client to reach it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DynamoTable {
    pub(super) client: Client,
    pub(super) table: String,
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

fn event_item(event: &StoredEvent) -> Result<Item, StoreError> {
    let mut item = item_of("event item", keys::event(&event.store_id, &event.event_id), event)?;
    if let Some(extra) = &event.extra {
        item.insert(
            EXTRA.to_owned(),
            AttributeValue::S(serde_json::Value::Object(extra.clone()).to_string()),
        );
    }
    item.insert(
        PENDING_SHARD.to_owned(),
        AttributeValue::S(keys::pending_shard(&event.event_id)),
    );
    item.insert(
        PENDING_SINCE.to_owned(),
        AttributeValue::N(event.received_at.timestamp_millis().to_string()),
    );
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

fn identity_claim(store: &StoreId, kind: Identifier, value: &str, owner: &CustomerId) -> Item {
    let mut item = key(keys::identity(store, kind, value));
    item.insert("customerId".to_owned(), AttributeValue::S(owner.to_string()));
    item
}

fn owner_of(item: &Item) -> Option<CustomerId> {
    match item.get("customerId") {
        Some(AttributeValue::S(id)) => CustomerId::parse(id).ok(),
        _ => None,
    }
}

/// The partition keys one event's prefetch reads.
struct PrefetchKeys {
    dedupe: Option<(String, &'static str)>,
    id: Option<(String, &'static str)>,
    email: Option<(String, &'static str)>,
    phone: Option<(String, &'static str)>,
}

impl PrefetchKeys {
    fn all(&self) -> impl Iterator<Item = &(String, &'static str)> {
        [&self.dedupe, &self.id, &self.email, &self.phone].into_iter().flatten()
    }
}

pub(super) fn pk_of(item: &Item) -> Option<&str> {
    match item.get(PK) {
        Some(AttributeValue::S(pk)) => Some(pk),
        _ => None,
    }
}

impl DynamoTable {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table `table` with a client built from `sdk` (no connection is opened).
    pub fn from_sdk(sdk: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(Client::new(sdk), table)
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
    /// `UnprocessedKeys` with backoff. Keys must be distinct.
    pub(super) async fn batch_get(&self, operation: &'static str, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::with_capacity(keys.len());
        let mut chunks = keys.into_iter().peekable();
        let mut pending: Vec<Item> = Vec::new();
        let mut backoff_ms = 10;
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
                tokio::time::sleep(std::time::Duration::from_millis(backoff_ms)).await;
                backoff_ms = (backoff_ms * 2).min(1_000);
            }
        }
        Ok(found)
    }

    /// Writes (puts or deletes) in `BatchWriteItem` calls of 25, retrying `UnprocessedItems` with backoff.
    pub(super) async fn batch_write(
        &self,
        operation: &'static str,
        requests: Vec<WriteRequest>,
    ) -> Result<(), StoreError> {
        let mut requests = requests.into_iter().peekable();
        while requests.peek().is_some() {
            let mut chunk: Vec<WriteRequest> = requests.by_ref().take(MAX_BATCH_WRITE).collect();
            let mut backoff_ms = 20;
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
                    tokio::time::sleep(std::time::Duration::from_millis(backoff_ms)).await;
                    backoff_ms = (backoff_ms * 2).min(1_000);
                }
            }
        }
        Ok(())
    }

    /// A field-level update of `changed`: `SET` for values, `REMOVE` for cleared fields. Map fields are set by
    /// key (`location.#k`), so concurrent patches of different keys both land.
    fn customer_update(&self, customer: &Customer, changed: &[ProfileField]) -> Result<Update, StoreError> {
        const OP: &str = "customer update";
        let mut names = HashMap::from([
            ("#version".to_owned(), "version".to_owned()),
            ("#updatedAt".to_owned(), "updatedAt".to_owned()),
        ]);
        let mut values = HashMap::from([
            (":one".to_owned(), AttributeValue::N("1".to_owned())),
            (
                ":updatedAt".to_owned(),
                serde_dynamo::to_attribute_value(customer.updated_at).map_err(|e| permanent(OP, e))?,
            ),
        ]);
        let mut set = vec!["#updatedAt = :updatedAt".to_owned()];
        let mut remove = Vec::new();
        let mut condition = "attribute_exists(pk)".to_owned();
        for (i, field) in changed.iter().enumerate() {
            let (top, key) = field.path();
            names.insert(format!("#t{i}"), top.to_owned());
            let path = match key {
                Some(key) => {
                    names.insert(format!("#k{i}"), key.to_owned());
                    format!("#t{i}.#k{i}")
                }
                None => format!("#t{i}"),
            };
            if matches!(field, ProfileField::Email | ProfileField::PhoneNumber) {
                condition.push_str(&format!(" AND attribute_not_exists({path})"));
            }
            match customer.value_of(field) {
                Some(value) => {
                    values.insert(
                        format!(":v{i}"),
                        serde_dynamo::to_attribute_value(value).map_err(|e| permanent(OP, e))?,
                    );
                    set.push(format!("{path} = :v{i}"));
                }
                None => remove.push(path),
            }
        }
        let mut expression = format!("SET {} ADD #version :one", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::customer(&customer.store_id, &customer.customer_id))))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| permanent(OP, e))
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

impl IngestStore for DynamoTable {
    async fn prefetch(
        &self,
        store: &StoreId,
        unique_id: Option<&str>,
        customer: &CustomerInput,
    ) -> Result<Prefetched, StoreError> {
        let mut one = self.prefetch_many(store, &[(unique_id, customer)]).await?;
        Ok(one.pop().unwrap_or_default())
    }

    async fn prefetch_many(
        &self,
        store: &StoreId,
        requests: &[(Option<&str>, &CustomerInput)],
    ) -> Result<Vec<Prefetched>, StoreError> {
        let wanted: Vec<PrefetchKeys> = requests
            .iter()
            .map(|(unique_id, customer)| PrefetchKeys {
                dedupe: unique_id.map(|u| keys::dedupe(store, u)),
                id: customer.id.as_ref().map(|id| keys::customer(store, id)),
                email: customer
                    .email_key()
                    .map(|e| keys::identity(store, Identifier::Email, &e)),
                phone: customer
                    .phone_number
                    .as_ref()
                    .map(|p| keys::identity(store, Identifier::PhoneNumber, p)),
            })
            .collect();
        let mut distinct: Vec<&(String, &'static str)> = wanted.iter().flat_map(PrefetchKeys::all).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let batch = distinct.into_iter().map(|at| key(at.clone())).collect();
        let items: HashMap<String, Item> = self
            .batch_get("prefetch", batch)
            .await?
            .into_iter()
            .filter_map(|item| Some((pk_of(&item)?.to_owned(), item)))
            .collect();
        let found = |at: &Option<(String, &str)>| at.as_ref().and_then(|(pk, _)| items.get(pk)).cloned();
        wanted
            .iter()
            .map(|keys| {
                Ok(Prefetched {
                    dedupe: found(&keys.dedupe)
                        .map(|item| from_item("dedupe item", item))
                        .transpose()?,
                    identity: IdentityLookup {
                        by_id: found(&keys.id)
                            .map(|item| from_item("customer item", item))
                            .transpose()?,
                        email_owner: found(&keys.email).as_ref().and_then(owner_of),
                        phone_owner: found(&keys.phone).as_ref().and_then(owner_of),
                    },
                })
            })
            .collect()
    }

    async fn customers(
        &self,
        store: &StoreId,
        ids: &[CustomerId],
    ) -> Result<HashMap<CustomerId, Customer>, StoreError> {
        self.customers_by_id(store, ids).await
    }

    async fn customer(&self, store: &StoreId, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        self.get("get customer", keys::customer(store, id))
            .await?
            .map(|item| from_item("customer item", item))
            .transpose()
    }

    async fn order(&self, store: &StoreId, external_order_id: &str) -> Result<Option<Order>, StoreError> {
        self.get("get order", keys::order(store, external_order_id))
            .await?
            .map(|item| from_item("order item", item))
            .transpose()
    }

    async fn entity_state(
        &self,
        store: &StoreId,
        entity_type: EntityType,
        entity_id: &str,
    ) -> Result<Option<EntityState>, StoreError> {
        self.read_entity_state(store, entity_type, entity_id).await
    }

    async fn commit(&self, commit: &Commit) -> Result<CommitOutcome, StoreError> {
        const OP: &str = "commit event";
        let put = |item: Item, condition: &str| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression(condition)
        };
        let store = &commit.event.store_id;
        let owner = commit.event.customer_id.as_ref();
        let mut puts = Vec::with_capacity(3 + commit.claims.len());
        if let Some(record) = &commit.dedupe {
            let item = item_of("dedupe item", keys::dedupe(&record.store_id, &record.unique_id), record)?;
            let dedupe = put(
                owned_by(item, store, owner),
                "attribute_not_exists(pk) OR dedupeUntil <= :now",
            )
            .expression_attribute_values(":now", AttributeValue::N(commit.now.timestamp().to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
            puts.push(dedupe);
        }
        puts.push(put(
            owned_by(event_item(&commit.event)?, store, owner),
            "attribute_not_exists(pk)",
        ));
        if let Some(CustomerWrite::Create(customer)) = &commit.customer {
            let at = keys::customer(&customer.store_id, &customer.customer_id);
            puts.push(put(item_of("customer item", at, customer)?, "attribute_not_exists(pk)"));
        }
        if let Some(customer_id) = owner {
            for (kind, value) in &commit.claims {
                let claim = identity_claim(store, *kind, value, customer_id);
                puts.push(put(owned_by(claim, store, owner), "attribute_not_exists(pk)"));
            }
        }
        if let Some(write) = &commit.order {
            let at = keys::order(&write.order.store_id, &write.order.external_order_id);
            let item = item_of("order item", at, &write.order)?;
            let item = owned_by(item, store, Some(&write.order.customer_id));
            puts.push(match write.expected_version {
                None => put(item, "attribute_not_exists(pk)"),
                Some(version) => put(item, "version = :version")
                    .expression_attribute_values(":version", AttributeValue::N(version.to_string())),
            });
        }
        let mut transact_items = puts
            .into_iter()
            .map(|p| p.build().map(|p| TransactWriteItem::builder().put(p).build()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| permanent(OP, e))?;
        if let Some(CustomerWrite::Update { customer, changed }) = &commit.customer {
            let update = self.customer_update(customer, changed)?;
            transact_items.push(TransactWriteItem::builder().update(update).build());
        }
        if let Some(write) = &commit.entity_state {
            transact_items.push(self.state_write_item(&commit.event.store_id, write)?);
        }
        if let Some(customer_id) = &commit.event.customer_id {
            for activity in &commit.activity {
                let update = self.activity_update(&commit.event.store_id, customer_id, activity, commit.now)?;
                transact_items.push(TransactWriteItem::builder().update(update).build());
            }
        }

        let error = match self
            .client
            .transact_write_items()
            .set_transact_items(Some(transact_items))
            .send()
            .await
        {
            Ok(_) => return Ok(CommitOutcome::Committed),
            Err(error) => error,
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = error.as_service_error() else {
            return Err(sdk_error(OP, error));
        };
        let reasons = cancelled.cancellation_reasons();
        let failed = |i: usize| reasons.get(i).and_then(|r| r.code()) == Some("ConditionalCheckFailed");
        if let Some(record) = commit.dedupe.as_ref().filter(|_| failed(0)) {
            let old = match reasons[0].item() {
                Some(item) => Some(item.clone()),
                None => {
                    self.get("get dedupe", keys::dedupe(&record.store_id, &record.unique_id))
                        .await?
                }
            };
            return match old
                .map(|item| from_item::<DedupeRecord>("dedupe item", item))
                .transpose()?
            {
                Some(old) if old.is_live(commit.now) => Ok(CommitOutcome::Duplicate(old)),
                _ => Ok(CommitOutcome::Contended),
            };
        }
        let contended = reasons
            .iter()
            .any(|r| matches!(r.code(), Some("ConditionalCheckFailed" | "TransactionConflict")));
        if contended {
            Ok(CommitOutcome::Contended)
        } else {
            Err(sdk_error(OP, error))
        }
    }
}

impl EventReads for DynamoTable {
    async fn stored_event(&self, store: &StoreId, id: &EventId) -> Result<Option<StoredEvent>, StoreError> {
        self.event(store, id).await
    }

    async fn event_by_unique_id(&self, store: &StoreId, unique_id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let Some(item) = self.get("get dedupe", keys::dedupe(store, unique_id)).await? else {
            return Ok(None);
        };
        let record: DedupeRecord = from_item("dedupe item", item)?;
        self.event(store, &record.event_id).await
    }
}
