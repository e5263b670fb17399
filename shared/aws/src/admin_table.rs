//! DynamoDB: store administration. The store's item (`STORE#<id>`, its settings on it); API keys: the record
//! a request's key is looked up by (`APIKEY#<hash>`), and its entry in the store's list of keys
//! (`STORE#<id>` / `KEY#<keyId>`), written together so every key can be listed and revoked by its id.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::dynamo::{from_item, item_of, key, n, DynamoTable};
use super::errors::{permanent, sdk_error, transaction_error};
use super::keys::{self, PK, SK, STORE_KEY_PREFIX};
use collector_core::domain::api_key::ApiKeyRecord;
use collector_core::domain::email_identity::EmailIdentity;
use collector_core::domain::ids::StoreId;
use collector_core::domain::store::{Setting, StoreRecord};
use collector_core::ports::{StoreAdministration, StoreError};

impl StoreAdministration for DynamoTable {
    async fn create_store(&self, store: &StoreRecord) -> Result<(), StoreError> {
        self.put_new(
            "create store",
            item_of("store item", keys::store(&store.store_id), store)?,
        )
        .await
    }

    async fn set_store_setting(&self, store: &StoreId, setting: Setting, value: u32) -> Result<bool, StoreError> {
        self.set_on_store("set store setting", store, setting.name(), n(value))
            .await
    }

    async fn set_email_identity(&self, store: &StoreId, identity: &EmailIdentity) -> Result<bool, StoreError> {
        const OP: &str = "set email identity";
        let value = serde_dynamo::to_attribute_value(identity).map_err(|e| permanent(OP, e))?;
        self.set_on_store(OP, store, keys::EMAIL_IDENTITY, value).await
    }

    async fn put_api_key(&self, record: &ApiKeyRecord) -> Result<(), StoreError> {
        const OP: &str = "put api key";
        let items = [
            item_of(OP, keys::api_key(&record.key_hash), record)?,
            item_of(OP, keys::store_key(&record.store_id, &record.key_id), record)?,
        ];
        let puts = items
            .into_iter()
            .map(|item| {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map_err(|e| permanent(OP, e))?;
                Ok(TransactWriteItem::builder().put(put).build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        self.client
            .transact_write_items()
            .set_transact_items(Some(puts))
            .send()
            .await
            .map_err(|e| transaction_error(OP, e))?;
        Ok(())
    }

    async fn api_keys(&self, store: &StoreId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        const OP: &str = "list api keys";
        let (pk, _) = keys::store(store);
        let items = self
            .query_all(OP, |q| {
                q.key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_names("#sk", SK)
                    .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
                    .expression_attribute_values(":prefix", AttributeValue::S(STORE_KEY_PREFIX.to_owned()))
                    .consistent_read(true)
            })
            .await?;
        let mut records = items
            .into_iter()
            .map(|item| from_item::<ApiKeyRecord>(OP, item))
            .collect::<Result<Vec<_>, _>>()?;
        records.sort_by_key(|r| r.created_at);
        Ok(records)
    }

    /// Its record first (from then on it authenticates nothing), then its list entry.
    async fn revoke_api_key(&self, store: &StoreId, key_id: &str) -> Result<bool, StoreError> {
        const OP: &str = "revoke api key";
        let listed = self.get(OP, keys::store_key(store, key_id)).await?;
        let Some(listed) = listed else {
            return Ok(false);
        };
        let record: ApiKeyRecord = from_item(OP, listed)?;
        for at in [
            key(keys::api_key(&record.key_hash)),
            key(keys::store_key(store, key_id)),
        ] {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(at))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
        }
        Ok(true)
    }
}

impl DynamoTable {
    /// Sets one attribute of an existing store's item; `false` when the store does not exist.
    async fn set_on_store(
        &self,
        operation: &'static str,
        store: &StoreId,
        attribute: &str,
        value: AttributeValue,
    ) -> Result<bool, StoreError> {
        let updated = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::store(store))))
            .update_expression("SET #attribute = :value")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#attribute", attribute)
            .expression_attribute_values(":value", value)
            .send()
            .await;
        match updated {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(sdk_error(operation, error)),
        }
    }
}
