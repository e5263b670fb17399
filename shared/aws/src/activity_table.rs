//! DynamoDB: the activity records events write (product views, carts) and the queries the notification
//! jobs run on them.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, Update};
use chrono::{DateTime, Duration, Utc};
use futures::future::join_all;

use super::dynamo::{from_item, key, n, s, DynamoTable};
use super::errors::permanent;
use super::keys::{self, CART_UPDATED_MS, OPEN_CARTS_OF, OWNED_BY};
use collector_core::domain::activity::{ActivityWrite, Cart, ProductView};
use collector_core::domain::ids::{CustomerId, StoreId};
use collector_core::ports::StoreError;

/// Product views are kept this long after the last one.
const PRODUCT_VIEW_RETENTION_DAYS: i64 = 90;

fn value<T: serde::Serialize>(v: T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(v).map_err(|e| permanent("activity item", e))
}

/// An update expression under construction. Every attribute goes through a `#name` placeholder, so no
/// DynamoDB reserved word (`views`, `status` …) can break it.
#[derive(Default)]
struct Expression {
    set: Vec<String>,
    remove: Vec<String>,
    add: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Expression {
    fn name(&mut self, attribute: &str) -> String {
        let placeholder = format!("#{attribute}");
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    fn set(&mut self, attribute: &str, v: AttributeValue) -> &mut Self {
        let name = self.name(attribute);
        let placeholder = format!(":{attribute}");
        self.set.push(format!("{name} = {placeholder}"));
        self.values.insert(placeholder, v);
        self
    }

    fn remove(&mut self, attribute: &str) {
        let name = self.name(attribute);
        self.remove.push(name);
    }

    fn add(&mut self, attribute: &str, v: AttributeValue) {
        let name = self.name(attribute);
        let placeholder = format!(":{attribute}");
        self.add.push(format!("{name} {placeholder}"));
        self.values.insert(placeholder, v);
    }

    fn text(&self) -> String {
        let mut text = format!("SET {}", self.set.join(", "));
        if !self.add.is_empty() {
            text.push_str(&format!(" ADD {}", self.add.join(", ")));
        }
        if !self.remove.is_empty() {
            text.push_str(&format!(" REMOVE {}", self.remove.join(", ")));
        }
        text
    }
}

impl DynamoTable {
    /// The update an activity record of `customer`'s event needs. Unconditional: activity never cancels the
    /// event's transaction.
    pub(super) fn activity_update(
        &self,
        store: &StoreId,
        customer: &CustomerId,
        activity: &ActivityWrite,
        at: DateTime<Utc>,
    ) -> Result<Update, StoreError> {
        let mut e = Expression::default();
        e.set("storeId", s(store.as_str()))
            .set("customerId", s(customer.as_str()))
            .set(OWNED_BY, s(keys::owner(store, customer)));
        let item_key = match activity {
            ActivityWrite::ProductView {
                product_id,
                in_stock,
                price,
                currency,
            } => {
                e.set("productId", s(product_id.clone()))
                    .set("lastViewedAt", value(at)?)
                    .set(
                        "expiresAt",
                        n((at + Duration::days(PRODUCT_VIEW_RETENTION_DAYS)).timestamp()),
                    );
                if let Some(in_stock) = in_stock {
                    e.set("inStock", AttributeValue::Bool(*in_stock));
                    if !in_stock {
                        e.set("outOfStockViewedAt", value(at)?);
                    }
                }
                if let Some(price) = price {
                    e.set("price", value(price)?);
                }
                if let Some(currency) = currency {
                    e.set("currency", s(currency.clone()));
                }
                e.add("views", n(1));
                key(keys::product_view(store, product_id, customer))
            }
            ActivityWrite::Cart {
                products,
                recycle_state_id,
                currency,
            } => {
                e.set("cartStatus", s("OPEN"))
                    .set("products", value(products)?)
                    .set("recycleStateId", s(recycle_state_id.clone()))
                    .set("updatedAt", value(at)?)
                    .set(OPEN_CARTS_OF, s(keys::open_carts_of(store, customer)))
                    .set(CART_UPDATED_MS, n(at.timestamp_millis()));
                if let Some(currency) = currency {
                    e.set("currency", s(currency.clone()));
                }
                e.remove("orderedAt");
                key(keys::cart(store, customer))
            }
            ActivityWrite::CloseCart => {
                e.set("cartStatus", s("ORDERED")).set("orderedAt", value(at)?);
                e.remove(OPEN_CARTS_OF);
                e.remove(CART_UPDATED_MS);
                key(keys::cart(store, customer))
            }
        };
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(item_key))
            .update_expression(e.text())
            .set_expression_attribute_names(Some(e.names))
            .set_expression_attribute_values(Some(e.values))
            .build()
            .map_err(|e| permanent("activity update", e))
    }

    /// Who viewed a product: one record per customer, with whether (and when) they saw it out of stock.
    /// Reads the product's [`keys::VIEW_SHARDS`] partitions at once.
    pub async fn product_viewers(&self, store: &StoreId, product_id: &str) -> Result<Vec<ProductView>, StoreError> {
        let shards = (0..u64::from(keys::VIEW_SHARDS)).map(|shard| {
            self.query_all("product viewers", move |q| {
                q.key_condition_expression("pk = :pk")
                    .expression_attribute_values(":pk", s(keys::product_views(store, product_id, shard)))
            })
        });
        let mut viewers = Vec::new();
        for items in join_all(shards).await {
            for item in items? {
                viewers.push(from_item("product view item", item)?);
            }
        }
        Ok(viewers)
    }

    /// Open carts of a store last changed before `before`: carts not followed by an order. Reads the
    /// store's [`keys::OPEN_CART_SHARDS`] partitions of the `openCarts` index at once, oldest change first.
    pub async fn open_carts_before(&self, store: &StoreId, before: DateTime<Utc>) -> Result<Vec<Cart>, StoreError> {
        let shards = (0..u64::from(keys::OPEN_CART_SHARDS)).map(|shard| {
            self.query_all("open carts", move |q| {
                q.index_name(keys::OPEN_CARTS_INDEX)
                    .key_condition_expression("#of = :of AND #ms < :before")
                    .expression_attribute_names("#of", OPEN_CARTS_OF)
                    .expression_attribute_names("#ms", CART_UPDATED_MS)
                    .expression_attribute_values(":of", s(keys::open_carts(store, shard)))
                    .expression_attribute_values(":before", n(before.timestamp_millis()))
            })
        });
        let mut carts: Vec<Cart> = Vec::new();
        for items in join_all(shards).await {
            for item in items? {
                carts.push(from_item("cart item", item)?);
            }
        }
        carts.sort_by_key(|cart| cart.updated_at);
        Ok(carts)
    }

    /// A customer's cart, or `None`.
    pub async fn cart(&self, store: &StoreId, customer: &CustomerId) -> Result<Option<Cart>, StoreError> {
        self.get("get cart", keys::cart(store, customer))
            .await?
            .map(|item| from_item("cart item", item))
            .transpose()
    }
}
