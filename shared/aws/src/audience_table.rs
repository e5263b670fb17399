//! DynamoDB: what notification jobs read (projections, viewers, carts) and the frequency cap records.

use std::collections::{HashMap, HashSet};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use chrono::{DateTime, Utc};

use super::dynamo::{key, DynamoTable};
use super::errors::permanent;
use super::keys;
use collector_core::domain::activity::{Cart, ProductView};
use collector_core::domain::customer::Customer;
use collector_core::domain::email_identity::EmailIdentity;
use collector_core::domain::entity_state::EntityState;
use collector_core::domain::ids::{CustomerId, StoreId};
use collector_core::domain::job::Notification;
use collector_core::domain::subscription::EntityType;
use collector_core::ports::{AudienceStore, StoreError};

impl AudienceStore for DynamoTable {
    async fn profiles(&self, store: &StoreId, ids: &[CustomerId]) -> Result<HashMap<CustomerId, Customer>, StoreError> {
        self.customers_by_id(store, ids).await
    }

    async fn email_identity(&self, store: &StoreId) -> Result<Option<EmailIdentity>, StoreError> {
        let Some(mut item) = self.get("get email identity", keys::store(store)).await? else {
            return Ok(None);
        };
        item.remove(keys::EMAIL_IDENTITY)
            .map(|value| serde_dynamo::from_attribute_value(value).map_err(|e| permanent("email identity item", e)))
            .transpose()
    }

    async fn entities(&self, store: &StoreId, entity_type: EntityType) -> Result<Vec<EntityState>, StoreError> {
        self.entity_states(store, entity_type).await
    }

    async fn viewers(&self, store: &StoreId, product_id: &str) -> Result<Vec<ProductView>, StoreError> {
        self.product_viewers(store, product_id).await
    }

    async fn carts_before(&self, store: &StoreId, before: DateTime<Utc>) -> Result<Vec<Cart>, StoreError> {
        self.open_carts_before(store, before).await
    }

    async fn capped(
        &self,
        store: &StoreId,
        notification: Notification,
        pairs: &[(CustomerId, String)],
        now: DateTime<Utc>,
    ) -> Result<HashSet<(CustomerId, String)>, StoreError> {
        // BatchGetItem takes distinct keys only.
        let distinct: HashSet<&(CustomerId, String)> = pairs.iter().collect();
        let keys = distinct
            .into_iter()
            .map(|(c, p)| key(keys::notified(store, c, notification.name(), p)))
            .collect();
        let found = self.batch_get("capped", keys).await?;
        Ok(found
            .into_iter()
            .filter(|item| {
                let expires: i64 = item
                    .get("expiresAt")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                expires > now.timestamp()
            })
            .filter_map(|item| {
                let customer = CustomerId::parse(item.get("customerId")?.as_s().ok()?).ok()?;
                Some((customer, item.get("productId")?.as_s().ok()?.clone()))
            })
            .collect())
    }

    async fn cap(
        &self,
        store: &StoreId,
        notification: Notification,
        pairs: &[(CustomerId, String)],
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let requests = pairs
            .iter()
            .map(|(customer, product)| {
                let mut item = key(keys::notified(store, customer, notification.name(), product));
                item.insert("customerId".into(), AttributeValue::S(customer.to_string()));
                item.insert("productId".into(), AttributeValue::S(product.clone()));
                item.insert("expiresAt".into(), AttributeValue::N(until.timestamp().to_string()));
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(|e| permanent("cap", e))?;
                Ok(WriteRequest::builder().put_request(put).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.batch_write("cap", requests).await?;
        Ok(())
    }
}
