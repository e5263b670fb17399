//! Who gets a notification, and about which products, from the projections: pure rules over what the
//! scheduler read.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Value};
use url::Url;

use super::activity::{Cart, ProductView};
use super::entity_state::EntityState;
use super::ids::CustomerId;
use super::job::{Job, Notification};

/// What a job's audience is computed from.
#[derive(Debug, Default)]
pub struct Activity {
    /// Inventory levels (back in stock) or prices (price drop), as the notification needs.
    pub products: Vec<EntityState>,
    /// Viewers of the candidate products, by product.
    pub viewers: HashMap<String, Vec<ProductView>>,
    pub wishlists: Vec<EntityState>,
    /// Carts not followed by an order within the window.
    pub open_carts: Vec<Cart>,
}

/// The products each customer is to hear about, in a stable order, at most `max_items` each (`-1`: all).
pub fn audience(notification: Notification, activity: &Activity, max_items: i64) -> BTreeMap<CustomerId, Vec<String>> {
    let mut picks: BTreeMap<CustomerId, BTreeSet<String>> = BTreeMap::new();
    let mut add = |customer: &CustomerId, product: &str| {
        picks.entry(customer.clone()).or_default().insert(product.to_owned());
    };
    let wishlisted = |product: &str| -> Vec<&CustomerId> {
        activity
            .wishlists
            .iter()
            .filter(|w| w.summary.items.iter().any(|i| i == product))
            .filter_map(|w| w.customer_id.as_ref())
            .collect()
    };
    match notification {
        Notification::BackInStock | Notification::PriceDrop => {
            for state in &activity.products {
                let Some(product) = state.summary.product_key().or(Some(state.entity_id.as_str())) else {
                    continue;
                };
                let eligible = match notification {
                    Notification::BackInStock => {
                        state.summary.in_stock == Some(true) && state.summary.back_in_stock_at.is_some()
                    }
                    _ => state.summary.price_dropped_at.is_some(),
                };
                if !eligible {
                    continue;
                }
                for view in activity.viewers.get(product).into_iter().flatten() {
                    // Back in stock: those who saw it out of stock. Price drop: anyone who looked.
                    if notification == Notification::PriceDrop || view.out_of_stock_viewed_at.is_some() {
                        add(&view.customer_id, product);
                    }
                }
                for customer in wishlisted(product) {
                    add(customer, product);
                }
            }
        }
        Notification::WishlistReminder => {
            for wishlist in &activity.wishlists {
                if let Some(customer) = &wishlist.customer_id {
                    for item in &wishlist.summary.items {
                        add(customer, item);
                    }
                }
            }
        }
        Notification::AbandonedCart => {
            for cart in &activity.open_carts {
                let products = cart.products.as_ref().and_then(Value::as_array).into_iter().flatten();
                for product in products.filter_map(|p| p.get("productId").and_then(Value::as_str)) {
                    add(&cart.customer_id, product);
                }
            }
        }
    }
    picks
        .into_iter()
        .map(|(customer, products)| {
            let mut products: Vec<String> = products.into_iter().collect();
            if max_items > 0 {
                products.truncate(max_items as usize);
            }
            (customer, products)
        })
        .filter(|(_, products)| !products.is_empty())
        .collect()
}

/// `url` with the job's campaign and UTM parameters added (those already in the link are kept).
pub fn with_campaign(url: &str, job: &Job) -> String {
    let Ok(mut parsed) = Url::parse(url) else {
        return url.to_owned();
    };
    let present: BTreeSet<String> = parsed.query_pairs().map(|(k, _)| k.into_owned()).collect();
    {
        let mut query = parsed.query_pairs_mut();
        for (key, value) in &job.job_parameters {
            if !present.contains(key) {
                query.append_pair(key, value);
            }
        }
    }
    if parsed.query() == Some("") {
        parsed.set_query(None);
    }
    parsed.into()
}

/// The template data of one recipient: the items with name, price, image and link, from the catalogue
/// (products and variants, by id) and prices.
pub fn template_data(
    job: &Job,
    products: &[String],
    catalogue: &HashMap<String, EntityState>,
    prices: &HashMap<String, EntityState>,
    first_name: Option<&str>,
) -> Value {
    let items: Vec<Value> = products
        .iter()
        .map(|id| {
            let product = catalogue.get(id).map(|p| &p.summary);
            let price = prices.get(id).map(|p| &p.summary);
            json!({
                "productId": id,
                "name": product.and_then(|p| p.name.clone()),
                "url": product.and_then(|p| p.url.as_deref()).map(|u| with_campaign(u, job)),
                "imageUrl": product.and_then(|p| p.image_url.clone()),
                "price": price.and_then(|p| p.price.clone()),
                "previousPrice": price.and_then(|p| p.previous_price.clone()),
                "currency": price.and_then(|p| p.currency.clone()),
            })
        })
        .collect();
    json!({"notification": job.notification.name(), "firstName": first_name, "items": items})
}

#[cfg(test)]
#[path = "audience_tests.rs"]
mod tests;
