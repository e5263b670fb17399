//! DynamoDB: the subscriptions API's store (a store's subscriptions share one partition) and the ledger's
//! listing by subscription, on the single table.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use chrono::{DateTime, Utc};

use super::dynamo::{from_item, item_of, key, s, DynamoTable};
use super::errors::{is_condition_failure, permanent, sdk_error};
use super::keys;
use collector_core::domain::delivery::DeliveryRecord;
use collector_core::domain::delivery_listing::{DeliveryPage, DeliveryQuery};
use collector_core::domain::event::EventRef;
use collector_core::domain::ids::{StoreId, SubscriptionId};
use collector_core::domain::redelivery::event_of_message;
use collector_core::domain::subscription::Subscription;
use collector_core::ports::{StoreError, SubscriptionStore};

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

    async fn delivery(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
        message_id: &str,
    ) -> Result<Option<DeliveryRecord>, StoreError> {
        let Some(event_id) = event_of_message(message_id) else {
            return Ok(None);
        };
        let event = EventRef {
            store_id: store.clone(),
            event_id,
        };
        self.get("get delivery", keys::delivery(&event, id, message_id))
            .await?
            .map(|item| from_item("delivery item", item))
            .transpose()
    }

    async fn deliveries(
        &self,
        store: &StoreId,
        id: &SubscriptionId,
        query: &DeliveryQuery,
        limit: usize,
    ) -> Result<DeliveryPage, StoreError> {
        self.ledger_page((store, id), query, limit).await
    }
}
