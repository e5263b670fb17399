//! DynamoDB: the entity projections (`STORE#<s>#ENTITY#<TYPE>#<id>`, one partition each, listed by type
//! through the sharded `entities` index), written in an entity event's transaction.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use futures::future::join_all;

use super::dynamo::{from_item, item_of, key, owned_by, DynamoTable, Item};
use super::errors::permanent;
use super::keys;
use collector_core::domain::entity_state::{EntityState, StateWrite};
use collector_core::domain::ids::StoreId;
use collector_core::domain::subscription::EntityType;
use collector_core::ports::StoreError;

/// The payload may hold what DynamoDB cannot (numbers beyond its range, empty keys): stored as JSON text.
const STATE: &str = "state";

fn state_item(state: &EntityState) -> Result<Item, StoreError> {
    let mut item = item_of(
        "entity state item",
        keys::entity_state(&state.store_id, state.entity_type, &state.entity_id),
        state,
    )?;
    item.insert(STATE.to_owned(), AttributeValue::S(state.state.to_string()));
    let listed_in = keys::entities_of(&state.store_id, state.entity_type, &state.entity_id);
    item.insert(keys::ENTITIES_OF.to_owned(), AttributeValue::S(listed_in));
    item.insert(
        keys::ENTITY_UPDATED_MS.to_owned(),
        AttributeValue::N(state.updated_at.timestamp_millis().to_string()),
    );
    Ok(owned_by(item, &state.store_id, state.customer_id.as_ref()))
}

fn state_from_item(mut item: Item) -> Result<EntityState, StoreError> {
    if let Some(AttributeValue::S(text)) = item.remove(STATE) {
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| permanent("entity state item", e))?;
        item.insert(
            STATE.to_owned(),
            serde_dynamo::to_attribute_value(value).map_err(|e| permanent("entity state item", e))?,
        );
    }
    from_item("entity state item", item)
}

impl DynamoTable {
    /// The transaction item of a projection write: a put (new: `attribute_not_exists`; else the version
    /// read must still hold) or a delete (the version read must still hold).
    pub(super) fn state_write_item(
        &self,
        store: &StoreId,
        write: &StateWrite,
    ) -> Result<TransactWriteItem, StoreError> {
        const OP: &str = "entity state write";
        let version = write.expected_version.map(|v| AttributeValue::N(v.to_string()));
        match &write.state {
            Some(state) => {
                let put = Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(state_item(state)?));
                let put = match version {
                    None => put.condition_expression("attribute_not_exists(pk)"),
                    Some(v) => put
                        .condition_expression("version = :version")
                        .expression_attribute_values(":version", v),
                };
                Ok(TransactWriteItem::builder()
                    .put(put.build().map_err(|e| permanent(OP, e))?)
                    .build())
            }
            None => {
                let delete = Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(keys::entity_state(
                        store,
                        write.entity_type,
                        &write.entity_id,
                    ))))
                    .condition_expression("version = :version")
                    .set_expression_attribute_values(version.map(|v| [(":version".to_owned(), v)].into()));
                Ok(TransactWriteItem::builder()
                    .delete(delete.build().map_err(|e| permanent(OP, e))?)
                    .build())
            }
        }
    }

    pub(super) async fn read_entity_state(
        &self,
        store: &StoreId,
        entity_type: EntityType,
        entity_id: &str,
    ) -> Result<Option<EntityState>, StoreError> {
        self.get("get entity state", keys::entity_state(store, entity_type, entity_id))
            .await?
            .map(state_from_item)
            .transpose()
    }

    /// Every entity of a type in a store (inventory levels, prices, wishlists …): what the jobs read. Reads
    /// the type's [`keys::ENTITY_SHARDS`] partitions of the `entities` index at once.
    pub async fn entity_states(
        &self,
        store: &StoreId,
        entity_type: EntityType,
    ) -> Result<Vec<EntityState>, StoreError> {
        let shards = (0..u64::from(keys::ENTITY_SHARDS)).map(|shard| {
            self.query_all("list entity states", move |q| {
                q.index_name(keys::ENTITIES_INDEX)
                    .key_condition_expression("#of = :of")
                    .expression_attribute_names("#of", keys::ENTITIES_OF)
                    .expression_attribute_values(
                        ":of",
                        AttributeValue::S(keys::entities_shard(store, entity_type, shard)),
                    )
            })
        });
        let mut states = Vec::new();
        for items in join_all(shards).await {
            for item in items? {
                states.push(state_from_item(item)?);
            }
        }
        // In entity id order, as one partition's sort key gave them.
        states.sort_by(|a, b| a.entity_id.cmp(&b.entity_id));
        Ok(states)
    }
}
