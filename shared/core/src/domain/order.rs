//! The orders projection of a store and the eSputnik order lifecycle: `orderCreated`, `orderUpdated`,
//! `orderDelivered`, `orderCancelled`, each decided against the order as stored.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use super::ids::{CustomerId, StoreId};
use super::subscription::Operation;
use super::validation::FieldError;

/// Statuses of the eSputnik orders API.
pub const ORDER_STATUSES: [&str; 5] = [
    "INITIALIZED",
    "IN_PROGRESS",
    "DELIVERED",
    "CANCELLED",
    "ABANDONED_SHOPPING_CART",
];

/// Parameters `orderCreated` requires (and `orderUpdated` when it creates the order).
pub const REQUIRED_TO_CREATE: [&str; 4] = ["externalCustomerId", "totalCost", "status", "date"];

/// An order as stored: the latest state the lifecycle events gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub store_id: StoreId,
    pub external_order_id: String,
    pub customer_id: CustomerId,
    pub external_customer_id: String,
    pub status: String,
    pub total_cost: Number,
    pub date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The `items` parameter, parsed one level deep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Value>,
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Order fields sent with `orderCreated` / `orderUpdated`; `None` is "not sent".
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderFields {
    pub external_order_id: String,
    pub external_customer_id: Option<String>,
    pub total_cost: Option<Number>,
    pub status: Option<String>,
    pub date: Option<String>,
    pub currency: Option<String>,
    pub items: Option<Value>,
}

/// What an order event asks for.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "command")]
pub enum OrderCommand {
    /// `orderCreated` and `orderUpdated`: write the fields sent, creating the order when it is absent.
    Save(OrderFields),
    /// `orderDelivered`, `orderCancelled`: set the status of an existing order; ignored when it is absent.
    SetStatus { external_order_id: String, status: String },
}

impl OrderCommand {
    pub fn external_order_id(&self) -> &str {
        match self {
            OrderCommand::Save(fields) => &fields.external_order_id,
            OrderCommand::SetStatus { external_order_id, .. } => external_order_id,
        }
    }
}

/// The decision on an order event.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderDecision {
    /// Write `order`; `expected_version` is the version read (`None`: the order must not exist yet).
    Write {
        order: Box<Order>,
        operation: Operation,
        changed_fields: Vec<String>,
        expected_version: Option<u64>,
    },
    /// Nothing to do, and why (the response says so).
    Ignored(String),
}

/// Decides `command` against the order as stored (`existing`), for the customer the event resolved to.
pub fn decide(
    command: &OrderCommand,
    existing: Option<&Order>,
    store_id: &StoreId,
    customer_id: &CustomerId,
    now: DateTime<Utc>,
) -> Result<OrderDecision, Vec<FieldError>> {
    match (command, existing) {
        (OrderCommand::SetStatus { external_order_id, .. }, None) => Ok(OrderDecision::Ignored(format!(
            "order '{external_order_id}' does not exist; a status change of an unknown order is ignored"
        ))),
        (OrderCommand::SetStatus { status, .. }, Some(order)) => {
            let mut next = order.clone();
            next.status = status.clone();
            Ok(write_change(order, next, now))
        }
        (OrderCommand::Save(fields), None) => {
            let missing: Vec<&str> = REQUIRED_TO_CREATE
                .iter()
                .zip([
                    fields.external_customer_id.is_some(),
                    fields.total_cost.is_some(),
                    fields.status.is_some(),
                    fields.date.is_some(),
                ])
                .filter_map(|(name, sent)| (!sent).then_some(*name))
                .collect();
            if !missing.is_empty() {
                return Err(vec![FieldError {
                    pointer: "/params".to_owned(),
                    detail: format!(
                        "order '{}' does not exist yet, so creating it needs the parameters {}; missing: {}",
                        fields.external_order_id,
                        REQUIRED_TO_CREATE.join(", "),
                        missing.join(", ")
                    ),
                }]);
            }
            let order = Order {
                store_id: store_id.clone(),
                external_order_id: fields.external_order_id.clone(),
                customer_id: customer_id.clone(),
                external_customer_id: fields.external_customer_id.clone().unwrap_or_default(),
                status: fields.status.clone().unwrap_or_default(),
                total_cost: fields.total_cost.clone().unwrap_or_else(|| Number::from(0)),
                date: fields.date.clone().unwrap_or_default(),
                currency: fields.currency.clone(),
                items: fields.items.clone(),
                version: 1,
                created_at: now,
                updated_at: now,
            };
            Ok(OrderDecision::Write {
                order: Box::new(order),
                operation: Operation::Create,
                changed_fields: Vec::new(),
                expected_version: None,
            })
        }
        (OrderCommand::Save(fields), Some(order)) => {
            let mut next = order.clone();
            if let Some(v) = &fields.external_customer_id {
                next.external_customer_id = v.clone();
            }
            if let Some(v) = &fields.total_cost {
                next.total_cost = v.clone();
            }
            if let Some(v) = &fields.status {
                next.status = v.clone();
            }
            if let Some(v) = &fields.date {
                next.date = v.clone();
            }
            if fields.currency.is_some() {
                next.currency = fields.currency.clone();
            }
            if fields.items.is_some() {
                next.items = fields.items.clone();
            }
            Ok(write_change(order, next, now))
        }
    }
}

fn write_change(before: &Order, mut next: Order, now: DateTime<Utc>) -> OrderDecision {
    let mut changed = Vec::new();
    let fields: [(&str, bool); 6] = [
        (
            "externalCustomerId",
            before.external_customer_id != next.external_customer_id,
        ),
        ("totalCost", before.total_cost != next.total_cost),
        ("status", before.status != next.status),
        ("date", before.date != next.date),
        ("currency", before.currency != next.currency),
        ("items", before.items != next.items),
    ];
    changed.extend(
        fields
            .iter()
            .filter(|(_, differs)| *differs)
            .map(|(name, _)| name.to_string()),
    );
    next.version = before.version + 1;
    next.updated_at = now;
    OrderDecision::Write {
        order: Box::new(next),
        operation: Operation::Change,
        changed_fields: changed,
        expected_version: Some(before.version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (StoreId, CustomerId) {
        (StoreId::from_bytes([1; 12]), CustomerId::from_bytes([2; 12]))
    }

    fn created() -> OrderFields {
        OrderFields {
            external_order_id: "12345679".into(),
            external_customer_id: Some("AV13760".into()),
            total_cost: Some(Number::from_f64(258.0).unwrap()),
            status: Some("INITIALIZED".into()),
            date: Some("2020-05-14T10:11:00".into()),
            ..OrderFields::default()
        }
    }

    #[test]
    fn when_delivered_before_created_should_be_ignored_then_created_then_delivered() {
        let (store, customer) = ids();
        let now = Utc::now();
        let deliver = OrderCommand::SetStatus {
            external_order_id: "12345679".into(),
            status: "DELIVERED".into(),
        };
        assert!(matches!(
            decide(&deliver, None, &store, &customer, now),
            Ok(OrderDecision::Ignored(_))
        ));
        let Ok(OrderDecision::Write { order, operation, .. }) =
            decide(&OrderCommand::Save(created()), None, &store, &customer, now)
        else {
            panic!("created")
        };
        assert_eq!((operation, order.version), (Operation::Create, 1));
        let Ok(OrderDecision::Write {
            order,
            operation,
            changed_fields,
            expected_version,
        }) = decide(&deliver, Some(&order), &store, &customer, now)
        else {
            panic!("delivered")
        };
        assert_eq!((operation, order.status.as_str()), (Operation::Change, "DELIVERED"));
        assert_eq!((changed_fields, expected_version), (vec!["status".to_owned()], Some(1)));
    }

    #[test]
    fn when_an_update_creates_the_order_should_need_the_create_parameters() {
        let (store, customer) = ids();
        let partial = OrderFields {
            external_order_id: "9".into(),
            status: Some("IN_PROGRESS".into()),
            ..OrderFields::default()
        };
        let errors = decide(&OrderCommand::Save(partial), None, &store, &customer, Utc::now()).unwrap_err();
        assert!(
            errors[0]
                .detail
                .contains("missing: externalCustomerId, totalCost, date"),
            "{errors:?}"
        );
    }
}
