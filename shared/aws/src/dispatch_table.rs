//! DynamoDB: what dispatch reads and writes (the events, the delivery ledger, the pending-dispatch marker),
//! on the single table. The sweep's reads of the pending index are `sweep_table.rs`.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use chrono::{DateTime, Duration, Utc};

use super::dynamo::{event_from_item, event_item, from_item, key, n, pk_of, s, DynamoTable, Item};
use super::errors::{cancelled_transiently, is_condition_failure, permanent, sdk_error, transaction_error};
use super::keys::{self, PENDING_SHARD, PENDING_SINCE};
use collector_core::domain::customer::Customer;
use collector_core::domain::delivery::{DeliveryStatus, DELIVERY_RETENTION_DAYS};
use collector_core::domain::event::{EventRef, StoredEvent};
use collector_core::domain::ids::{CustomerId, StoreId, SubscriptionId};
use collector_core::domain::subscription::Subscription;
use collector_core::ports::{
    DispatchRecord, DispatchState, DispatchStore, LedgerEntry, PendingMarker, StoreError, SubscriptionStore,
};

/// DynamoDB's limit of items in one transaction.
const MAX_TRANSACT_ITEMS: usize = 100;

impl DynamoTable {
    /// All items of a partition, strongly consistent, following pages.
    pub(super) async fn partition(&self, operation: &'static str, pk: String) -> Result<Vec<Item>, StoreError> {
        self.query_all(operation, |q| {
            q.key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk.clone()))
                .consistent_read(true)
        })
        .await
    }

    /// The record expires with its event; an event stored before retention existed keeps the old rule.
    fn ledger_update(
        &self,
        event: &EventRef,
        entry: &LedgerEntry,
        event_expires_at: Option<i64>,
    ) -> Result<Update, StoreError> {
        const OP: &str = "ledger update";
        let at = |v| serde_dynamo::to_attribute_value(v).map_err(|e| permanent(OP, e));
        let expires = event_expires_at
            .unwrap_or_else(|| (entry.attempt.at + Duration::days(DELIVERY_RETENTION_DAYS)).timestamp());
        let mut values = HashMap::from([
            (":store".to_owned(), s(event.store_id.as_str())),
            (":event".to_owned(), s(event.event_id.as_str())),
            (":sub".to_owned(), s(entry.subscription_id.as_str())),
            (":mid".to_owned(), s(entry.message_id.clone())),
            (":type".to_owned(), s(entry.message_type.clone())),
            (":status".to_owned(), s(entry.attempt.status.as_str())),
            (
                ":at".to_owned(),
                at(serde_json::to_value(entry.attempt.at).map_err(|e| permanent(OP, e))?)?,
            ),
            (
                ":of".to_owned(),
                s(keys::deliveries_of(
                    &event.store_id,
                    &entry.subscription_id,
                    &entry.message_id,
                )),
            ),
            (":ms".to_owned(), n(entry.attempt.at.timestamp_millis())),
            (":exp".to_owned(), n(expires)),
            (":empty".to_owned(), AttributeValue::L(Vec::new())),
            (
                ":attempt".to_owned(),
                AttributeValue::L(vec![
                    serde_dynamo::to_attribute_value(&entry.attempt).map_err(|e| permanent(OP, e))?
                ]),
            ),
            (":delivered".to_owned(), s("DELIVERED")),
        ]);
        // Only a record not delivered is in the `undelivered` index, under its status.
        let undelivered = match entry.attempt.status {
            DeliveryStatus::Delivered => " REMOVE undeliveredOf",
            _ => {
                let of = keys::undelivered_of(
                    &event.store_id,
                    &entry.subscription_id,
                    entry.attempt.status.as_str(),
                    &entry.message_id,
                );
                values.insert(":un".to_owned(), s(of));
                ", undeliveredOf = :un"
            }
        };
        // A send asked for again goes on a delivered record too; any other never overwrites one.
        let (condition, values) = match entry.again {
            true => (None, values.into_iter().filter(|(k, _)| k != ":delivered").collect()),
            false => (Some("attribute_not_exists(pk) OR #status <> :delivered"), values),
        };
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::delivery(event, &entry.subscription_id, &entry.message_id))))
            .update_expression(format!(
                "SET storeId = :store, eventId = :event, subscriptionId = :sub, messageId = :mid, \
                 messageType = :type, #status = :status, lastAttemptAt = :at, deliveriesOf = :of, \
                 lastAttemptMs = :ms, expiresAt = :exp, attempts = list_append(if_not_exists(attempts, :empty), :attempt)\
                 {undelivered}"
            ))
            .set_condition_expression(condition.map(str::to_owned))
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| permanent(OP, e))
    }

    /// The event's marker, and the delivered pairs added to its set, so the next read knows without the ledger.
    fn marker_update(
        &self,
        event: &EventRef,
        marker: PendingMarker,
        delivered: Vec<String>,
    ) -> Result<Option<Update>, StoreError> {
        let builder = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::event(&event.store_id, &event.event_id))))
            .condition_expression("attribute_exists(pk)");
        let (builder, expression) = match marker {
            PendingMarker::Keep if delivered.is_empty() => return Ok(None),
            PendingMarker::Keep => (builder, String::new()),
            PendingMarker::Clear => (builder, format!("REMOVE {PENDING_SHARD}, {PENDING_SINCE}")),
            PendingMarker::DueAt(at) => (
                builder
                    .expression_attribute_values(":shard", s(keys::pending_shard(&event.event_id, self.pending_shards)))
                    .expression_attribute_values(":due", n(at.timestamp_millis())),
                format!("SET {PENDING_SHARD} = :shard, {PENDING_SINCE} = :due"),
            ),
        };
        let (builder, expression) = if delivered.is_empty() {
            (builder, expression)
        } else {
            (
                builder.expression_attribute_values(":delivered", AttributeValue::Ss(delivered)),
                format!("{expression} ADD {DELIVERED} :delivered"),
            )
        };
        builder
            .update_expression(expression.trim_start())
            .build()
            .map(Some)
            .map_err(|e| permanent("marker update", e))
    }

    /// One record's ledger updates, then its marker update.
    fn record_updates(&self, record: &DispatchRecord<'_>) -> Result<Vec<Update>, StoreError> {
        let mut updates = record
            .entries
            .iter()
            .map(|entry| self.ledger_update(record.event, entry, record.expires_at))
            .collect::<Result<Vec<_>, _>>()?;
        let delivered = record
            .entries
            .iter()
            .filter(|e| e.attempt.status == DeliveryStatus::Delivered)
            .map(|e| delivered_token(&e.subscription_id, &e.message_id))
            .collect();
        updates.extend(self.marker_update(record.event, record.marker, delivered)?);
        Ok(updates)
    }

    /// One transaction of updates. On cancellation, the updates whose condition failed are dropped and the
    /// rest tried again: a ledger record someone else marked delivered, or an event erased meanwhile. A
    /// transaction cancelled for throttling is tried again after a backoff, up to [`THROTTLED_RETRIES`]
    /// times: the messages were sent already, and a ledger that misses them would send them again.
    async fn transact_dropping_failed(&self, mut updates: Vec<Update>) -> Result<(), StoreError> {
        const OP: &str = "record dispatch";
        let (mut conflicts, mut throttled) = (0, 0);
        while conflicts < 3 {
            if updates.is_empty() {
                return Ok(());
            }
            let items = updates
                .iter()
                .map(|u| TransactWriteItem::builder().update(u.clone()).build())
                .collect();
            let error = match self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
            {
                Ok(_) => return Ok(()),
                Err(error) => error,
            };
            let reasons = match error.as_service_error() {
                Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)) => {
                    c.cancellation_reasons().to_vec()
                }
                _ => return Err(transaction_error(OP, error)),
            };
            let failed: Vec<bool> = reasons
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect();
            if !failed.iter().any(|f| *f) {
                if cancelled_transiently(&reasons) && throttled < THROTTLED_RETRIES {
                    throttled += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(25 << (2 * throttled))).await;
                    continue;
                }
                return Err(transaction_error(OP, error));
            }
            conflicts += 1;
            updates = updates
                .into_iter()
                .zip(failed)
                .filter_map(|(update, failed)| (!failed).then_some(update))
                .collect();
        }
        Err(StoreError {
            operation: OP,
            kind: collector_core::ports::ErrorKind::Transient,
            message: "ledger kept changing concurrently".into(),
        })
    }
}

/// How many times a ledger transaction cancelled for throttling is tried again (after 100 ms, 400 ms and
/// 1.6 s) before dispatch gives the message back to the queue.
const THROTTLED_RETRIES: u32 = 3;

impl DispatchStore for DynamoTable {
    async fn subscriptions_of(&self, store: &StoreId) -> Result<Vec<Subscription>, StoreError> {
        SubscriptionStore::subscriptions(self, store).await
    }

    async fn store_news(&self, events: &[StoredEvent]) -> Result<(), StoreError> {
        for event in events {
            let stored = self
                .client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(event_item(event, self.pending_shards)?))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await;
            match stored {
                // Stored by an earlier try of the same dispatch: its id is made from what it tells.
                Err(e) if !e.as_service_error().is_some_and(is_condition_failure) => {
                    return Err(sdk_error("store news", e))
                }
                _ => {}
            }
        }
        Ok(())
    }

    async fn count_replay(
        &self,
        store: &StoreId,
        subscription: &SubscriptionId,
        replay_id: &str,
        sent_and_failed: (u64, u64),
    ) -> Result<(), StoreError> {
        self.count_replay_sends(store, subscription, replay_id, sent_and_failed)
            .await
    }

    async fn deactivate(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.deactivate_subscription(store, id, reason, now).await.map(drop)
    }

    async fn dispatch_states(&self, events: &[EventRef]) -> Result<Vec<Option<DispatchState>>, StoreError> {
        // A batched read rejects a key named twice: the same event can be in a batch twice.
        let unique: HashSet<&EventRef> = events.iter().collect();
        let batch = unique
            .into_iter()
            .map(|e| key(keys::event(&e.store_id, &e.event_id)))
            .collect();
        let mut found: HashMap<EventRef, DispatchState> = HashMap::new();
        for mut item in self.batch_get("read events", batch).await? {
            let Some((store_id, event_id)) = pk_of(&item).and_then(keys::parse_event) else {
                continue;
            };
            let pending = item.contains_key(PENDING_SHARD);
            let delivered = match item.remove(DELIVERED) {
                Some(AttributeValue::Ss(tokens)) => tokens.iter().filter_map(|t| parse_delivered(t)).collect(),
                _ => Vec::new(),
            };
            let state = DispatchState {
                event: event_from_item(item)?,
                delivered,
                pending,
            };
            found.insert(EventRef { store_id, event_id }, state);
        }
        Ok(events.iter().map(|e| found.get(e).cloned()).collect())
    }

    async fn customer_profiles(
        &self,
        customers: &[(StoreId, CustomerId)],
    ) -> Result<HashMap<(StoreId, CustomerId), Customer>, StoreError> {
        let unique: HashSet<&(StoreId, CustomerId)> = customers.iter().collect();
        let batch = unique.into_iter().map(|(s, c)| key(keys::customer(s, c))).collect();
        self.batch_get("get customers", batch)
            .await?
            .into_iter()
            .map(|item| {
                let customer: Customer = from_item("customer item", item)?;
                Ok(((customer.store_id.clone(), customer.customer_id.clone()), customer))
            })
            .collect()
    }

    async fn record_dispatches(&self, records: &[DispatchRecord<'_>]) -> Vec<Result<(), StoreError>> {
        let mut results: Vec<Result<(), StoreError>> = (0..records.len()).map(|_| Ok(())).collect();
        let mut packed: Vec<Update> = Vec::new();
        let mut members: Vec<usize> = Vec::new();
        for (i, record) in records.iter().enumerate() {
            // A transaction may touch an item once: an event's second record of the batch (a message aimed
            // at one subscription beside its own dispatch) goes in the next one.
            if members.iter().any(|&m| records[m].event == record.event) {
                let written = self.transact_dropping_failed(std::mem::take(&mut packed)).await;
                settle(&mut results, std::mem::take(&mut members), written);
            }
            let updates = match self.record_updates(record) {
                Ok(updates) => updates,
                Err(error) => {
                    results[i] = Err(error);
                    continue;
                }
            };
            if packed.len() + updates.len() > MAX_TRANSACT_ITEMS {
                let written = self.transact_dropping_failed(std::mem::take(&mut packed)).await;
                settle(&mut results, std::mem::take(&mut members), written);
            }
            if updates.len() <= MAX_TRANSACT_ITEMS {
                packed.extend(updates);
                members.push(i);
                continue;
            }
            // Too many for one write: in order, so the marker (last) is cleared only once every entry is written.
            let mut rest = updates;
            while !rest.is_empty() {
                let tail = rest.split_off(rest.len().min(MAX_TRANSACT_ITEMS));
                let chunk = std::mem::replace(&mut rest, tail);
                if let Err(error) = self.transact_dropping_failed(chunk).await {
                    results[i] = Err(error);
                    break;
                }
            }
        }
        if !packed.is_empty() {
            let written = self.transact_dropping_failed(packed).await;
            settle(&mut results, members, written);
        }
        results
    }
}

/// Gives each member of one write that write's result.
fn settle(results: &mut [Result<(), StoreError>], members: Vec<usize>, written: Result<(), StoreError>) {
    if let Err(error) = written {
        for i in members {
            results[i] = Err(error.clone());
        }
    }
}

/// The event item's set of delivered (subscription, message) pairs: `<subscriptionId>#<messageId>`.
const DELIVERED: &str = "delivered";

fn delivered_token(subscription: &SubscriptionId, message_id: &str) -> String {
    format!("{subscription}#{message_id}")
}

fn parse_delivered(token: &str) -> Option<(SubscriptionId, String)> {
    let (subscription, message_id) = token.split_once('#')?;
    Some((SubscriptionId::parse(subscription).ok()?, message_id.to_owned()))
}
