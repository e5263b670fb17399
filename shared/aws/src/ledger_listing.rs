//! DynamoDB: a subscription's ledger listed latest attempt first, from the `deliveries` index (every record)
//! or the sparse `undelivered` index (the records of one status other than `DELIVERED`), each over
//! [`keys::DELIVERY_SHARDS`] partitions merged into one list.

use std::cmp::Reverse;
use std::collections::HashMap;

use super::dynamo::{from_item, n, s, DynamoTable, Item};
use super::errors::sdk_error;
use super::keys;
use super::shard_merge::{newest_across, ShardPage};
use collector_core::domain::delivery::{DeliveryRecord, DeliveryStatus};
use collector_core::domain::delivery_listing::{DeliveryPage, DeliveryPosition, DeliveryQuery, MAX_LIMIT};
use collector_core::domain::ids::{StoreId, SubscriptionId};
use collector_core::ports::StoreError;

/// How many merged reads of [`MAX_LIMIT`] records a `DELIVERED` page (a filter on the whole ledger, delivered
/// records being most of one) makes before it answers with what it found and where it stopped.
const FILTERED_READS: usize = 2;

/// Which index partitions a listing reads: every record, or the records of one undelivered status.
#[derive(Clone, Copy)]
enum Ledger {
    All,
    Undelivered(&'static str),
}

fn attempt_ms(record: &DeliveryRecord) -> i64 {
    record.last_attempt_at.timestamp_millis()
}

impl DynamoTable {
    pub(super) async fn ledger_page(
        &self,
        (store, id): (&StoreId, &SubscriptionId),
        query: &DeliveryQuery,
        limit: usize,
    ) -> Result<DeliveryPage, StoreError> {
        let after = query.after.as_ref();
        match query.status {
            None => self.merged_ledger((store, id), Ledger::All, after, limit).await,
            Some(DeliveryStatus::Delivered) => self.delivered_page((store, id), after, limit).await,
            Some(status) => {
                let ledger = Ledger::Undelivered(status.as_str());
                self.merged_ledger((store, id), ledger, after, limit).await
            }
        }
    }

    /// The `limit` latest records of `ledger` after `after`, merged across its shards.
    async fn merged_ledger(
        &self,
        at: (&StoreId, &SubscriptionId),
        ledger: Ledger,
        after: Option<&DeliveryPosition>,
        limit: usize,
    ) -> Result<DeliveryPage, StoreError> {
        // By the index's sort key, the millisecond; among one millisecond's records, by message id.
        let order = |r: &DeliveryRecord| (attempt_ms(r), Reverse(r.message_id.clone()));
        let read = |shard, limit, start| self.ledger_shard_page(at, (ledger, shard), after, (limit, start));
        let shards = u64::from(keys::DELIVERY_SHARDS);
        let (records, more) = newest_across(shards, limit, (attempt_ms, order), read).await?;
        let next = records.last().filter(|_| more).map(DeliveryPosition::of);
        Ok(DeliveryPage { records, next })
    }

    /// Delivered records only: merged pages of the whole ledger, filtered, at most [`FILTERED_READS`] of them.
    async fn delivered_page(
        &self,
        at: (&StoreId, &SubscriptionId),
        after: Option<&DeliveryPosition>,
        limit: usize,
    ) -> Result<DeliveryPage, StoreError> {
        let mut after = after.cloned();
        let mut found = Vec::with_capacity(limit);
        for _ in 0..FILTERED_READS {
            let page = self.merged_ledger(at, Ledger::All, after.as_ref(), MAX_LIMIT).await?;
            let mut examined = page.records.into_iter();
            for record in examined.by_ref() {
                if record.status == DeliveryStatus::Delivered {
                    found.push(record);
                    if found.len() == limit {
                        break;
                    }
                }
            }
            if found.len() == limit {
                let more = examined.next().is_some() || page.next.is_some();
                let next = found.last().filter(|_| more).map(DeliveryPosition::of);
                return Ok(DeliveryPage { records: found, next });
            }
            match page.next {
                None => {
                    return Ok(DeliveryPage {
                        records: found,
                        next: None,
                    })
                }
                next => after = next,
            }
        }
        // The budget is spent: go on after the last record examined, delivered or not.
        Ok(DeliveryPage {
            records: found,
            next: after,
        })
    }

    /// One query page of one shard of `ledger`, latest first, after `after`.
    async fn ledger_shard_page(
        &self,
        (store, id): (&StoreId, &SubscriptionId),
        (ledger, shard): (Ledger, u64),
        after: Option<&DeliveryPosition>,
        (limit, start): (usize, Option<Item>),
    ) -> Result<ShardPage<DeliveryRecord>, StoreError> {
        let (index, attribute, partition) = match ledger {
            Ledger::All => (
                keys::DELIVERIES_INDEX,
                keys::DELIVERIES_OF,
                keys::deliveries_shard(store, id, shard),
            ),
            Ledger::Undelivered(status) => (
                keys::UNDELIVERED_INDEX,
                keys::UNDELIVERED_OF,
                keys::undelivered_shard(store, id, status, shard),
            ),
        };
        let mut names = HashMap::from([("#of".to_owned(), attribute.to_owned())]);
        let mut values = HashMap::from([(":of".to_owned(), s(partition))]);
        let condition = match after {
            // The millisecond of `after` itself is read again: its records after `after`'s message id follow.
            Some(after) => {
                names.insert("#ms".to_owned(), keys::DELIVERY_ATTEMPT_MS.to_owned());
                values.insert(":ms".to_owned(), n(after.attempt_ms));
                "#of = :of AND #ms <= :ms"
            }
            None => "#of = :of",
        };
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_error("list deliveries", e))?;
        let records = page
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<DeliveryRecord>("delivery item", item))
            .filter(|record| match (after, record) {
                (Some(after), Ok(r)) => after.precedes(attempt_ms(r), &r.message_id),
                _ => true,
            })
            .collect::<Result<_, _>>()?;
        Ok(ShardPage {
            items: records,
            next: page.last_evaluated_key,
        })
    }
}
