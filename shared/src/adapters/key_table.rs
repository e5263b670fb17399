//! API keys in the table: the record a request's key is looked up by (`APIKEY#<hash>`), and its entry in
//! the store's list of keys (`STORE#<id>` / `KEY#<keyId>`), written together so every key can be listed and
//! revoked by its id.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::dynamo::{from_item, item_of, key, DynamoTable};
use super::errors::{permanent, sdk_error};
use super::keys::{self, PK, SK, STORE_KEY_PREFIX};
use crate::domain::api_key::ApiKeyRecord;
use crate::domain::ids::StoreId;
use crate::ports::StoreError;

impl DynamoTable {
    /// Stores a key record and its store's list entry atomically; fails if either exists.
    pub async fn put_api_key(&self, record: &ApiKeyRecord) -> Result<(), StoreError> {
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
            .map_err(|e| sdk_error(OP, e))?;
        Ok(())
    }

    /// The store's keys, oldest first (records: key id, scopes, creation time, and the key's hash).
    pub async fn api_keys(&self, store: &StoreId) -> Result<Vec<ApiKeyRecord>, StoreError> {
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

    /// Revokes the store's key `key_id`: its record first (from then on it authenticates nothing), then its
    /// list entry, so a revocation cut short is finished by running it again. `false` when the store has
    /// no such key.
    pub async fn revoke_api_key(&self, store: &StoreId, key_id: &str) -> Result<bool, StoreError> {
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
