//! DynamoDB: the entity projections (`STORE#<s>#ENTITIES#<TYPE>`), written in an entity event's transaction.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};

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

    /// Every entity of a type in a store (inventory levels, prices, wishlists …): what the jobs read.
    pub async fn entity_states(
        &self,
        store: &StoreId,
        entity_type: EntityType,
    ) -> Result<Vec<EntityState>, StoreError> {
        let items = self
            .query_all("list entity states", |q| {
                q.key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", AttributeValue::S(keys::entity_states(store, entity_type)))
            })
            .await?;
        items.into_iter().map(state_from_item).collect()
    }
}
