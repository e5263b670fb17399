//! The projections entity events feed: the latest state of each entity of a store, with the few fields the
//! notification jobs read lifted out (stock, price, wishlist items, product name, URL and image).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use super::entity_event::EntityChange;
use super::event::EntityRecord;
use super::ids::{CustomerId, StoreId};
use super::subscription::{EntityType, Operation};

/// The latest state of one entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityState {
    pub store_id: StoreId,
    pub entity_type: EntityType,
    pub entity_id: String,
    /// The payload of the last create or change.
    pub state: Value,
    #[serde(default)]
    pub summary: Summary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    pub version: u64,
    pub updated_at: DateTime<Utc>,
}

/// What the jobs read, lifted out of the payload by the field names integrations use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<String>,
    /// Inventory levels: in stock or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_stock: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// Wishlists: the product (or variant) ids of the items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    /// Inventory levels: when it last came back in stock (and is in stock since).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back_in_stock_at: Option<DateTime<Utc>>,
    /// Prices: the price before the last drop, and when it dropped (while it stays down).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_price: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_dropped_at: Option<DateTime<Utc>>,
}

impl Summary {
    /// The product the entity is about: the variant, else the product, else nothing.
    pub fn product_key(&self) -> Option<&str> {
        self.variant_id.as_deref().or(self.product_id.as_deref())
    }

    /// Carries the history fields from the state before: a return to stock, a price drop.
    fn follow(&mut self, before: Option<&Summary>, now: DateTime<Utc>) {
        let was = |f: fn(&Summary) -> bool| before.is_some_and(f);
        if self.in_stock == Some(true) {
            self.back_in_stock_at = if was(|b| b.in_stock == Some(false)) {
                Some(now)
            } else {
                before.and_then(|b| b.back_in_stock_at)
            };
        }
        let price = |s: &Summary| s.price.as_ref().and_then(Number::as_f64);
        match (before.and_then(price), price(self)) {
            (Some(old), Some(new)) if new < old => {
                self.previous_price = before.and_then(|b| b.price.clone());
                self.price_dropped_at = Some(now);
            }
            (Some(old), Some(new)) if new == old => {
                self.previous_price = before.and_then(|b| b.previous_price.clone());
                self.price_dropped_at = before.and_then(|b| b.price_dropped_at);
            }
            _ => {}
        }
    }
}

fn text(payload: &Value, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| match payload.get(*n)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// The summary of a payload of an entity type.
pub fn summarize(entity_type: EntityType, payload: &Value) -> Summary {
    let mut summary = Summary {
        product_id: text(payload, &["productId", "product_id", "sku"]),
        variant_id: text(payload, &["variantId", "variant_id"]),
        ..Summary::default()
    };
    match entity_type {
        EntityType::InventoryLevel => {
            summary.in_stock = ["inStock", "isInStock", "available", "quantity", "availableQuantity"]
                .iter()
                .find_map(|n| match payload.get(*n)? {
                    Value::Bool(b) => Some(*b),
                    Value::Number(q) => Some(q.as_f64().is_some_and(|q| q > 0.0)),
                    _ => None,
                });
        }
        EntityType::Price => {
            summary.price = ["price", "amount", "salePrice"]
                .iter()
                .find_map(|n| match payload.get(*n)? {
                    Value::Number(p) => Some(p.clone()),
                    Value::String(s) => s.parse::<f64>().ok().and_then(Number::from_f64),
                    _ => None,
                });
            summary.currency = text(payload, &["currency", "currencyCode"]);
        }
        EntityType::Product | EntityType::VariantProduct => {
            summary.name = text(payload, &["name", "title"]);
            summary.url = text(payload, &["url", "link", "productUrl"]);
            summary.image_url = text(payload, &["imageUrl", "image", "image_url"]);
        }
        EntityType::Wishlist => {
            summary.items = payload
                .get("items")
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|item| match item {
                            Value::String(id) => Some(id.clone()),
                            other => text(other, &["variantId", "productId", "sku", "id"]),
                        })
                        .collect()
                })
                .unwrap_or_default();
        }
        EntityType::Customer | EntityType::InventoryLocation | EntityType::Order | EntityType::Operations => {}
    }
    summary
}

/// How the projection changes with an entity event.
#[derive(Debug, Clone, PartialEq)]
pub struct StateWrite {
    /// The new state; `None` deletes it.
    pub state: Option<EntityState>,
    pub entity_type: EntityType,
    pub entity_id: String,
    /// The version read (`None`: it did not exist).
    pub expected_version: Option<u64>,
}

/// What an entity event does to the projection, and what subscribers are told.
pub fn apply_change(
    change: &EntityChange,
    existing: Option<&EntityState>,
    store_id: &StoreId,
    customer_id: Option<&CustomerId>,
    now: DateTime<Utc>,
) -> (EntityRecord, Option<StateWrite>) {
    let changed_fields = match (change.operation, existing) {
        (Operation::Change, Some(before)) => changed_keys(&before.state, &change.payload),
        _ => Vec::new(),
    };
    let record = EntityRecord {
        entity_type: change.entity_type,
        operation: change.operation,
        entity_id: change.entity_id.clone(),
        changed_fields,
        state: change.payload.clone(),
    };
    let expected_version = existing.map(|e| e.version);
    let write = match change.operation {
        Operation::Delete if existing.is_none() => None,
        Operation::Delete => Some(StateWrite {
            state: None,
            entity_type: change.entity_type,
            entity_id: change.entity_id.clone(),
            expected_version,
        }),
        Operation::Create | Operation::Change => Some(StateWrite {
            state: Some(EntityState {
                store_id: store_id.clone(),
                entity_type: change.entity_type,
                entity_id: change.entity_id.clone(),
                summary: {
                    let mut summary = summarize(change.entity_type, &change.payload);
                    summary.follow(existing.map(|e| &e.summary), now);
                    summary
                },
                state: change.payload.clone(),
                customer_id: customer_id
                    .cloned()
                    .or_else(|| existing.and_then(|e| e.customer_id.clone())),
                version: expected_version.unwrap_or(0) + 1,
                updated_at: now,
            }),
            entity_type: change.entity_type,
            entity_id: change.entity_id.clone(),
            expected_version,
        }),
    };
    (record, write)
}

/// Top-level keys whose values differ (added, removed or changed), sorted.
fn changed_keys(before: &Value, after: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (b, a) = (
        before.as_object().unwrap_or(&empty),
        after.as_object().unwrap_or(&empty),
    );
    let keys: BTreeMap<&String, ()> = b.keys().chain(a.keys()).map(|k| (k, ())).collect();
    keys.into_keys().filter(|k| b.get(*k) != a.get(*k)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn when_payloads_name_stock_price_and_items_should_lift_them_out() {
        assert_eq!(
            summarize(EntityType::InventoryLevel, &json!({"sku": "S1", "quantity": 0})).in_stock,
            Some(false)
        );
        assert_eq!(
            summarize(EntityType::InventoryLevel, &json!({"isInStock": true})).in_stock,
            Some(true)
        );
        assert_eq!(
            summarize(EntityType::Price, &json!({"price": "19.90"}))
                .price
                .unwrap()
                .as_f64(),
            Some(19.9)
        );
        let wishlist = summarize(EntityType::Wishlist, &json!({"items": ["P1", {"productId": "P2"}]}));
        assert_eq!(wishlist.items, ["P1", "P2"]);
        let product = summarize(
            EntityType::Product,
            &json!({"title": "Mug", "link": "https://x/m", "image": "https://x/m.png"}),
        );
        assert_eq!(
            (product.name.as_deref(), product.image_url.as_deref()),
            (Some("Mug"), Some("https://x/m.png"))
        );
    }

    #[test]
    fn when_a_change_follows_a_create_should_name_the_changed_fields_and_expect_the_version() {
        let store = StoreId::from_bytes([1; 12]);
        let now = Utc::now();
        let change = |operation, payload| EntityChange {
            entity_type: EntityType::Price,
            operation,
            entity_id: "P1".into(),
            payload,
            fault: None,
        };
        let (_, write) = apply_change(
            &change(Operation::Create, json!({"price": 10, "currency": "USD"})),
            None,
            &store,
            None,
            now,
        );
        let created = write.unwrap().state.unwrap();
        let (record, write) = apply_change(
            &change(Operation::Change, json!({"price": 8, "currency": "USD"})),
            Some(&created),
            &store,
            None,
            now,
        );
        assert_eq!(record.changed_fields, ["price"]);
        let write = write.unwrap();
        assert_eq!(
            (write.expected_version, write.state.as_ref().unwrap().version),
            (Some(1), 2)
        );
        let dropped = write.state.unwrap();
        assert_eq!(dropped.summary.previous_price.unwrap().as_i64(), Some(10));
        assert!(dropped.summary.price_dropped_at.is_some());
        let (_, write) = apply_change(&change(Operation::Delete, json!({})), None, &store, None, now);
        assert!(write.is_none(), "deleting what is not there writes nothing");
    }
}
