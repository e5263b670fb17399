//! DynamoDB: erasing a customer, found through the `customerItems` index, its events' partitions (their
//! delivery records) and its frequency-cap partition.

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, ReturnValue, WriteRequest};
use futures::{stream, StreamExt, TryStreamExt};

use super::dynamo::{key, DynamoTable, Item};
use super::errors::{permanent, sdk_error};
use super::keys::{self, CUSTOMER_ITEMS_INDEX, EVENT_SK, OWNED_BY, PK, SK};
use collector_core::domain::erasure::{CustomerRecord, Erased, Erasure};
use collector_core::domain::identity::Identifier;
use collector_core::domain::ids::{CustomerId, StoreId};
use collector_core::ports::{CustomerErasure, StoreError};

/// Records read from the index per round: a round deletes them (and their events' delivery records) before
/// the next is read.
const ROUND: i32 = 100;
/// Event partitions read at once for their delivery records.
const PARTITIONS_IN_FLIGHT: usize = 8;

type Key = (String, String);

fn key_of(item: &Item) -> Option<Key> {
    let text = |name: &str| item.get(name)?.as_s().ok().cloned();
    Some((text(PK)?, text(SK)?))
}

impl DynamoTable {
    /// The keys of every item in a partition.
    async fn partition_keys(&self, pk: &str) -> Result<Vec<Key>, StoreError> {
        let items = self
            .query_all("read partition keys", |q| {
                q.key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
                    .projection_expression("pk, sk")
            })
            .await?;
        Ok(items.iter().filter_map(key_of).collect())
    }

    /// Deletes `keys` and counts each as the kind of customer record it is.
    async fn delete_counted(&self, keys: Vec<Key>, removed: &mut Erased) -> Result<(), StoreError> {
        let mut requests = Vec::with_capacity(keys.len());
        for at in keys {
            if let Some(kind) = keys::record_kind(&at.0, &at.1) {
                removed.count(kind);
            }
            let delete = DeleteRequest::builder()
                .set_key(Some(key(at)))
                .build()
                .map_err(|e| permanent("erase customer", e))?;
            requests.push(WriteRequest::builder().delete_request(delete).build());
        }
        self.batch_write("erase customer", requests).await
    }

    /// The delivery records of these events (everything in their partitions but the event itself).
    async fn delivery_records(&self, events: Vec<String>) -> Result<Vec<Key>, StoreError> {
        let partitions: Vec<Vec<Key>> = stream::iter(events)
            .map(|pk| async move { self.partition_keys(&pk).await })
            .buffer_unordered(PARTITIONS_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(partitions
            .into_iter()
            .flatten()
            .filter(|(_, sk)| sk != EVENT_SK)
            .collect())
    }
}

impl CustomerErasure for DynamoTable {
    async fn identifier_owner(
        &self,
        store: &StoreId,
        kind: Identifier,
        value: &str,
    ) -> Result<Option<CustomerId>, StoreError> {
        let claim = self.get("get identifier", keys::identity(store, kind, value)).await?;
        Ok(claim
            .as_ref()
            .and_then(|item| item.get("customerId")?.as_s().ok())
            .and_then(|id| CustomerId::parse(id).ok()))
    }

    async fn erase_customer(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        budget: usize,
    ) -> Result<Erasure, StoreError> {
        let mut removed = Erased::default();
        let owner = AttributeValue::S(keys::owner(store, customer));
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(CUSTOMER_ITEMS_INDEX)
                .key_condition_expression("#owner = :owner")
                .expression_attribute_names("#owner", OWNED_BY)
                .expression_attribute_values(":owner", owner.clone())
                .limit(ROUND.min(i32::try_from(budget.max(1)).unwrap_or(ROUND)))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("customer records", e))?;
            let records: Vec<Key> = page.items().iter().filter_map(key_of).collect();
            let events = records
                .iter()
                .filter(|(_, sk)| sk == EVENT_SK)
                .map(|(pk, _)| pk.clone())
                .collect();
            // Delivery records first: once its event is gone, nothing would lead to them.
            let deliveries = self.delivery_records(events).await?;
            self.delete_counted(deliveries, &mut removed).await?;
            self.delete_counted(records, &mut removed).await?;
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
            if removed.total() >= budget as u64 {
                return Ok(Erasure {
                    removed,
                    complete: false,
                });
            }
        }
        let caps = self.partition_keys(&keys::notified_partition(store, customer)).await?;
        self.delete_counted(caps, &mut removed).await?;
        let profile = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::customer(store, customer))))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| sdk_error("erase profile", e))?;
        if profile.attributes.is_some() {
            removed.count(CustomerRecord::Profile);
        }
        Ok(Erasure {
            removed,
            complete: true,
        })
    }
}
