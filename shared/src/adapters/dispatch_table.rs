//! DynamoDB: subscriptions, the delivery ledger and the pending-dispatch marker, on the single table.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, Duration, Utc};

use super::dynamo::{event_from_item, from_item, item_of, key, pk_of, DynamoTable, Item};
use super::errors::{permanent, sdk_error};
use super::keys::{self, PENDING_SHARD, PENDING_SINCE, SK};
use crate::domain::customer::Customer;
use crate::domain::delivery::{DeliveryRecord, DELIVERY_RETENTION_DAYS};
use crate::domain::event::EventRef;
use crate::domain::ids::{CustomerId, StoreId, SubscriptionId};
use crate::domain::subscription::Subscription;
use crate::ports::{
    DispatchState, DispatchStore, LedgerEntry, PendingEvents, PendingMarker, StoreError, SubscriptionStore,
};

/// DynamoDB's limit of items in one transaction.
const MAX_TRANSACT_ITEMS: usize = 100;

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn sk_of(item: &Item) -> &str {
    match item.get(SK) {
        Some(AttributeValue::S(sk)) => sk,
        _ => "",
    }
}

fn is_condition_failure<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(error: &E) -> bool {
    error.code() == Some("ConditionalCheckFailedException")
}

impl DynamoTable {
    /// All items of a partition, strongly consistent, following pages.
    async fn partition(&self, operation: &'static str, pk: String) -> Result<Vec<Item>, StoreError> {
        self.query_all(operation, |q| {
            q.key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(pk.clone()))
                .consistent_read(true)
        })
        .await
    }

    fn ledger_update(&self, event: &EventRef, entry: &LedgerEntry) -> Result<Update, StoreError> {
        const OP: &str = "ledger update";
        let at = |v| serde_dynamo::to_attribute_value(v).map_err(|e| permanent(OP, e));
        let expires = entry.attempt.at + Duration::days(DELIVERY_RETENTION_DAYS);
        let values = HashMap::from([
            (":store".to_owned(), s(event.store_id.as_str())),
            (":event".to_owned(), s(event.event_id.as_str())),
            (":sub".to_owned(), s(entry.subscription_id.as_str())),
            (":mid".to_owned(), s(entry.message_id.clone())),
            (":type".to_owned(), s(entry.message_type.clone())),
            (
                ":status".to_owned(),
                at(serde_json::to_value(entry.attempt.status).map_err(|e| permanent(OP, e))?)?,
            ),
            (
                ":at".to_owned(),
                at(serde_json::to_value(entry.attempt.at).map_err(|e| permanent(OP, e))?)?,
            ),
            (
                ":of".to_owned(),
                s(keys::deliveries_of(&event.store_id, &entry.subscription_id)),
            ),
            (":ms".to_owned(), n(entry.attempt.at.timestamp_millis())),
            (":exp".to_owned(), n(expires.timestamp())),
            (":empty".to_owned(), AttributeValue::L(Vec::new())),
            (
                ":attempt".to_owned(),
                AttributeValue::L(vec![
                    serde_dynamo::to_attribute_value(&entry.attempt).map_err(|e| permanent(OP, e))?
                ]),
            ),
            (":delivered".to_owned(), s("DELIVERED")),
        ]);
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::delivery(event, &entry.subscription_id, &entry.message_id))))
            .update_expression(
                "SET storeId = :store, eventId = :event, subscriptionId = :sub, messageId = :mid, \
                 messageType = :type, #status = :status, lastAttemptAt = :at, deliveriesOf = :of, \
                 lastAttemptMs = :ms, expiresAt = :exp, attempts = list_append(if_not_exists(attempts, :empty), :attempt)",
            )
            .condition_expression("attribute_not_exists(pk) OR #status <> :delivered")
            .expression_attribute_names("#status", "status")
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| permanent(OP, e))
    }

    fn marker_update(&self, event: &EventRef, marker: PendingMarker) -> Result<Update, StoreError> {
        let builder = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::event(&event.store_id, &event.event_id))))
            .condition_expression("attribute_exists(pk)");
        let builder = match marker {
            PendingMarker::Clear => builder.update_expression(format!("REMOVE {PENDING_SHARD}, {PENDING_SINCE}")),
            PendingMarker::DueAt(at) => builder
                .update_expression(format!("SET {PENDING_SHARD} = :shard, {PENDING_SINCE} = :due"))
                .expression_attribute_values(":shard", s(keys::pending_shard(&event.event_id)))
                .expression_attribute_values(":due", n(at.timestamp_millis())),
        };
        builder.build().map_err(|e| permanent("marker update", e))
    }

    /// One transaction of updates. On cancellation, the updates whose condition failed are dropped and the
    /// rest tried again: a ledger record someone else marked delivered, or an event erased meanwhile.
    async fn transact_dropping_failed(&self, mut updates: Vec<Update>) -> Result<(), StoreError> {
        const OP: &str = "record dispatch";
        for _ in 0..3 {
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
                _ => return Err(sdk_error(OP, error)),
            };
            let failed: Vec<bool> = reasons
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect();
            if !failed.iter().any(|f| *f) {
                return Err(sdk_error(OP, error));
            }
            updates = updates
                .into_iter()
                .zip(failed)
                .filter_map(|(update, failed)| (!failed).then_some(update))
                .collect();
        }
        Err(StoreError {
            operation: OP,
            kind: crate::ports::ErrorKind::Transient,
            message: "ledger kept changing concurrently".into(),
        })
    }
}

impl SubscriptionStore for DynamoTable {
    async fn create_subscription(&self, subscription: &Subscription) -> Result<(), StoreError> {
        let at = keys::subscription(&subscription.store_id, &subscription.subscription_id);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of("subscription item", at, subscription)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|e| sdk_error("create subscription", e))?;
        Ok(())
    }

    async fn replace_subscription(&self, subscription: &Subscription) -> Result<bool, StoreError> {
        let at = keys::subscription(&subscription.store_id, &subscription.subscription_id);
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of("subscription item", at, subscription)?))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => Ok(false),
            Err(e) => Err(sdk_error("replace subscription", e)),
        }
    }

    async fn subscription(&self, store: &StoreId, id: &SubscriptionId) -> Result<Option<Subscription>, StoreError> {
        self.get("get subscription", keys::subscription(store, id))
            .await?
            .map(|item| from_item("subscription item", item))
            .transpose()
    }

    async fn subscriptions(&self, store: &StoreId) -> Result<Vec<Subscription>, StoreError> {
        self.partition("list subscriptions", keys::subscriptions(store))
            .await?
            .into_iter()
            .map(|item| from_item("subscription item", item))
            .collect()
    }

    async fn delete_subscription(&self, store: &StoreId, id: &SubscriptionId) -> Result<bool, StoreError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::subscription(store, id))))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => Ok(false),
            Err(e) => Err(sdk_error("delete subscription", e)),
        }
    }

    async fn deactivate_subscription(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Subscription>, StoreError> {
        const OP: &str = "deactivate subscription";
        let now = serde_dynamo::to_attribute_value(now).map_err(|e| permanent(OP, e))?;
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::subscription(store, id))))
            .update_expression(
                "SET active = :false, deactivatedReason = :reason, deactivatedAt = :now, updatedAt = :now",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .expression_attribute_values(":reason", s(reason))
            .expression_attribute_values(":now", now)
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match updated {
            Ok(output) => output
                .attributes
                .map(|item| from_item("subscription item", item))
                .transpose(),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => Ok(None),
            Err(e) => Err(sdk_error(OP, e)),
        }
    }

    async fn deliveries(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(keys::DELIVERIES_INDEX)
            .key_condition_expression("#of = :of")
            .expression_attribute_names("#of", keys::DELIVERIES_OF)
            .expression_attribute_values(":of", s(keys::deliveries_of(store, id)))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| sdk_error("list deliveries", e))?;
        page.items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item("delivery item", item))
            .collect()
    }
}

impl DispatchStore for DynamoTable {
    async fn dispatch_state(&self, event: &EventRef) -> Result<Option<DispatchState>, StoreError> {
        let items = self
            .partition("read event", keys::event_partition(&event.store_id, &event.event_id))
            .await?;
        let mut found = None;
        let mut deliveries = Vec::new();
        for item in items {
            if sk_of(&item) == keys::EVENT_SK {
                let pending = item.contains_key(PENDING_SHARD);
                found = Some((event_from_item(item)?, pending));
            } else if sk_of(&item).starts_with(keys::DELIVERY_SK_PREFIX) {
                deliveries.push(from_item("delivery item", item)?);
            }
        }
        Ok(found.map(|(event, pending)| DispatchState {
            event,
            deliveries,
            pending,
        }))
    }

    async fn customer_profile(&self, store: &StoreId, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        self.get("get customer", keys::customer(store, id))
            .await?
            .map(|item| from_item("customer item", item))
            .transpose()
    }

    async fn record_dispatch(
        &self,
        event: &EventRef,
        entries: &[LedgerEntry],
        marker: PendingMarker,
    ) -> Result<(), StoreError> {
        let mut updates = entries
            .iter()
            .map(|entry| self.ledger_update(event, entry))
            .collect::<Result<Vec<_>, _>>()?;
        updates.push(self.marker_update(event, marker)?);
        // The marker goes with the last chunk, so it is cleared only once every record is written.
        let mut chunks: Vec<Vec<Update>> = Vec::new();
        while updates.len() > MAX_TRANSACT_ITEMS {
            let rest = updates.split_off(MAX_TRANSACT_ITEMS);
            chunks.push(std::mem::replace(&mut updates, rest));
        }
        chunks.push(updates);
        for chunk in chunks {
            self.transact_dropping_failed(chunk).await?;
        }
        Ok(())
    }
}

impl PendingEvents for DynamoTable {
    async fn pending_before(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<EventRef>, StoreError> {
        let mut found = Vec::new();
        for shard in 0..keys::PENDING_SHARDS {
            let mut start = None;
            while found.len() < limit {
                let page = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(keys::PENDING_INDEX)
                    .key_condition_expression("pendingShard = :shard AND pendingSince < :before")
                    .expression_attribute_values(":shard", s(format!("PENDING#{shard}")))
                    .expression_attribute_values(":before", n(before.timestamp_millis()))
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
        }
        found.truncate(limit);
        Ok(found)
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
