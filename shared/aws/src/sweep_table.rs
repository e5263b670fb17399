//! DynamoDB: the recovery sweep's view of the outbox, the sparse `pending` index over `PENDING_SHARDS`
//! shards, and moving an event's due time.

use chrono::{DateTime, Utc};
use futures::future::join_all;

use super::dynamo::{key, n, pk_of, s, DynamoTable};
use super::errors::{is_condition_failure, sdk_error};
use super::keys::{self, PENDING_SHARD, PENDING_SINCE};
use collector_core::domain::event::EventRef;
use collector_core::ports::{PendingEvents, StoreError};

/// How many pending shards the sweep reads at once: 4,096 shards in 128 rounds of parallel queries.
const SWEEP_CONCURRENCY: usize = 32;

impl DynamoTable {
    /// Up to `limit` pending events of one shard of the `pending` index due before `before`.
    async fn pending_in_shard(
        &self,
        shard: u64,
        before: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<EventRef>, StoreError> {
        let mut found = Vec::new();
        let mut start = None;
        while found.len() < limit {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(keys::PENDING_INDEX)
                .key_condition_expression("pendingShard = :shard AND pendingSince < :before")
                .expression_attribute_values(":shard", s(keys::pending_partition(shard)))
                .expression_attribute_values(":before", n(before.timestamp_millis()))
                .limit(i32::try_from(limit - found.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("query pending", e))?;
            found.extend(page.items().iter().filter_map(|item| {
                let (store_id, event_id) = keys::parse_event(pk_of(item)?)?;
                Some(EventRef { store_id, event_id })
            }));
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        found.truncate(limit);
        Ok(found)
    }
}

impl PendingEvents for DynamoTable {
    async fn pending_before(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<EventRef>, StoreError> {
        let shards = u64::from(self.pending_shards);
        // Each run starts at another shard (the minute, scattered), so under a backlog larger than one run's
        // limit no shard waits behind the others for ever.
        let minute = u64::try_from(before.timestamp() / 60).unwrap_or_default();
        let first = minute.wrapping_mul(2_654_435_761) % shards;
        let order: Vec<u64> = (0..shards).map(|i| (first + i) % shards).collect();
        let mut found = Vec::new();
        let mut failed = None;
        for wave in order.chunks(SWEEP_CONCURRENCY) {
            if found.len() >= limit {
                break;
            }
            let wanted = limit - found.len();
            let reads = wave.iter().map(|shard| self.pending_in_shard(*shard, before, wanted));
            for (shard, read) in wave.iter().zip(join_all(reads).await) {
                match read {
                    Ok(events) => found.extend(events),
                    Err(error) => {
                        tracing::warn!(shard, %error, "reading a pending shard failed; the next sweep reads it again");
                        failed = Some(error);
                    }
                }
            }
        }
        found.truncate(limit);
        match failed {
            Some(error) if found.is_empty() => Err(error),
            _ => Ok(found),
        }
    }

    async fn postpone(&self, event: &EventRef, due_at: DateTime<Utc>) -> Result<(), StoreError> {
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::event(&event.store_id, &event.event_id))))
            .update_expression(format!("SET {PENDING_SINCE} = :due"))
            .condition_expression(format!("attribute_exists({PENDING_SHARD})"))
            .expression_attribute_values(":due", n(due_at.timestamp_millis()))
            .send()
            .await;
        match updated {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => Ok(()),
            Err(e) => Err(sdk_error("postpone pending", e)),
        }
    }
}
