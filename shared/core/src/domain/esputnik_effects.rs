//! What an eSputnik event of a known type does besides being stored: the order command of the order
//! lifecycle events, and the activity record (a product view, a cart) of the recommendation events.

use serde_json::{Map, Number, Value};

use super::activity::ActivityWrite;
use super::esputnik::Param;
use super::order::{OrderCommand, OrderFields, ORDER_STATUSES, REQUIRED_TO_CREATE};
use super::validation::{Errors, Pointer};

/// The order command of an order lifecycle event; `None` for every other event type.
pub(super) fn order_command(
    key: &str,
    params: &[Param],
    extra: &Map<String, Value>,
    errors: &mut Errors,
) -> Option<OrderCommand> {
    let status = match key {
        "orderCreated" | "orderUpdated" => None,
        "orderDelivered" => Some("DELIVERED"),
        "orderCancelled" => Some("CANCELLED"),
        _ => return None,
    };
    let find = |name: &str| params.iter().find(|p| p.lower == name.to_ascii_lowercase());
    let text = |name: &str| {
        find(name).map(|p| {
            p.value
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| p.value.to_string())
        })
    };
    let params_at = Pointer::root().key("params");
    let Some(external_order_id) = text("externalOrderId") else {
        errors.add(&params_at, format!("{key} needs the parameter externalOrderId"));
        return None;
    };
    if let Some(status) = status {
        return Some(OrderCommand::SetStatus {
            external_order_id,
            status: status.to_owned(),
        });
    }
    if key == "orderCreated" {
        let missing: Vec<&str> = REQUIRED_TO_CREATE
            .iter()
            .copied()
            .filter(|n| find(n).is_none())
            .collect();
        if !missing.is_empty() {
            errors.add(
                &params_at,
                format!(
                    "orderCreated needs the parameters externalOrderId, {}; missing: {}",
                    REQUIRED_TO_CREATE.join(", "),
                    missing.join(", ")
                ),
            );
        }
    }
    let total_cost = find("totalCost").and_then(|p| {
        let number = match &p.value {
            Value::Number(n) => Some(n.clone()),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(Number::from_f64),
            _ => None,
        };
        if number.is_none() {
            errors.add(&p.at, "totalCost must be a number (such as \"258.0\")");
        }
        number
    });
    let order_status = find("status").and_then(|p| {
        let status = p
            .value
            .as_str()
            .map(|s| s.trim().to_ascii_uppercase())
            .unwrap_or_default();
        if ORDER_STATUSES.contains(&status.as_str()) {
            Some(status)
        } else {
            errors.add(&p.at, format!("status must be one of {}", ORDER_STATUSES.join(", ")));
            None
        }
    });
    Some(OrderCommand::Save(OrderFields {
        external_order_id,
        external_customer_id: text("externalCustomerId"),
        total_cost,
        status: order_status,
        date: text("date"),
        currency: text("currency").or_else(|| text("currencyCode")),
        items: extra
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("items"))
            .map(|(_, v)| v.clone()),
    }))
}

/// The activity record of a recommendation event; nothing for other events.
pub(super) fn activity_of(
    key: &str,
    params: &[Param],
    extra: &Map<String, Value>,
    errors: &mut Errors,
) -> Vec<ActivityWrite> {
    let param = |name: &str| params.iter().find(|p| p.lower == name.to_ascii_lowercase());
    let parsed = |name: &str| extra.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v);
    let text = |name: &str| param(name).and_then(|p| p.value.as_str()).map(str::to_owned);
    let params_at = Pointer::root().key("params");
    match key {
        "productViewed" => {
            let Some(product) = param("product") else {
                errors.add(
                    &params_at,
                    "productViewed needs the parameter product ({\"productId\": …})",
                );
                return Vec::new();
            };
            let Some(fields) = parsed("product").and_then(Value::as_object) else {
                // Malformed JSON is reported already; a JSON value that is not an object is reported here.
                if parsed("product").is_some() {
                    errors.add(&product.at, "product must be a JSON object with productId");
                }
                return Vec::new();
            };
            let product_id = match fields.get("productId") {
                Some(Value::String(id)) if !id.is_empty() => id.clone(),
                Some(Value::Number(id)) => id.to_string(),
                _ => {
                    errors.add(&product.at, "product needs a productId");
                    return Vec::new();
                }
            };
            let in_stock = match fields.get("isInStock") {
                Some(Value::Number(n)) => n.as_i64().map(|n| n != 0),
                Some(Value::Bool(b)) => Some(*b),
                Some(Value::String(s)) => Some(s != "0"),
                _ => None,
            };
            vec![ActivityWrite::ProductView {
                product_id,
                in_stock,
                price: fields.get("price").and_then(Value::as_number).cloned(),
                currency: text("currencyCode"),
            }]
        }
        "cartUpdated" => {
            let Some(recycle_state_id) = text("recycleStateId") else {
                errors.add(&params_at, "cartUpdated needs the parameter recycleStateId");
                return Vec::new();
            };
            let products = match (param("products"), parsed("products")) {
                (None, _) => Value::Array(Vec::new()),
                (Some(_), Some(list @ Value::Array(_))) => list.clone(),
                (Some(p), Some(_)) => {
                    errors.add(&p.at, "products must be a JSON array");
                    return Vec::new();
                }
                (Some(_), None) => return Vec::new(),
            };
            vec![ActivityWrite::Cart {
                products,
                recycle_state_id,
                currency: text("currencyCode"),
            }]
        }
        _ => Vec::new(),
    }
}
