//! Customer activity the notification jobs query: who viewed which product (and whether it was out of
//! stock then), and each customer's cart, open until the customer orders.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use super::ids::{CustomerId, StoreId};

/// An activity record an event writes, with the event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum ActivityWrite {
    /// `productViewed`: the customer viewed the product.
    #[serde(rename_all = "camelCase")]
    ProductView {
        product_id: String,
        /// `isInStock` as sent (1 / 0), when sent.
        in_stock: Option<bool>,
        price: Option<Number>,
        currency: Option<String>,
    },
    /// `cartUpdated`: the customer's cart is now `products` (empty: emptied), open.
    #[serde(rename_all = "camelCase")]
    Cart {
        products: Value,
        recycle_state_id: String,
        currency: Option<String>,
    },
    /// The customer ordered: their cart, if open, is closed.
    CloseCart,
}

/// A customer's view of a product, as stored (one record per product and customer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductView {
    pub store_id: StoreId,
    pub product_id: String,
    pub customer_id: CustomerId,
    pub last_viewed_at: DateTime<Utc>,
    pub views: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_stock: Option<bool>,
    /// The last time the customer viewed it while it was out of stock: back-in-stock candidates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_of_stock_viewed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// A customer's cart, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cart {
    pub store_id: StoreId,
    pub customer_id: CustomerId,
    /// `OPEN`, or `ORDERED` once the customer ordered after the last change.
    pub cart_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recycle_state_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ordered_at: Option<DateTime<Utc>>,
}
