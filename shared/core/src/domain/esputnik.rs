//! The eSputnik dialect, `POST /api/v1/event`: `{eventTypeKey, keyValue, params: [{name, value}]}` into the
//! canonical event of [`super::custom_event`], plus the order command of the order lifecycle events.
//!
//! Contact identification (parameter names matched case-insensitively, values case-sensitive except email):
//!
//! | parameters | become |
//! |---|---|
//! | `Email`, `EmailAddress`, `UserEmail`, `ContactEmail` | `customer.email` (matched case-insensitively) |
//! | `Phone`, `SMS`, `PhoneNumber` | `customer.phoneNumber`, normalised to E.164 (separators dropped, `+` added) |
//! | `ContactId`, `Contact_id`, `ContactKey`, `Contact_key`, `PushToken` | `customer.id`: the value when it is a 24-hex id, else an id derived from it, so one contact key always names one customer |
//! | `keyValue` | by its form, when no parameter of that kind was sent: with `@` an email, phone-like a phone, else a contact key |

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};
use sha2::{Digest, Sha256};

use super::activity::ActivityWrite;
use super::custom_event::{bounded_string, check_sizes, is_e164, is_email, truncate, CustomEvent, CustomerInput};
use super::ids::CustomerId;
use super::order::{OrderCommand, OrderFields, ORDER_STATUSES, REQUIRED_TO_CREATE};
use super::validation::{json_type, Errors, FieldError, Pointer};
use super::values::PropertyValue;

/// Parameters whose value is a JSON string, parsed one level deep.
pub const JSON_PARAMETERS: [&str; 5] = ["items", "product", "category", "products", "page"];
const EMAIL_PARAMETERS: [&str; 4] = ["email", "emailaddress", "useremail", "contactemail"];
const PHONE_PARAMETERS: [&str; 3] = ["phone", "sms", "phonenumber"];
/// In priority order; each kind derives ids in its own namespace.
const CONTACT_PARAMETERS: [(&str, &str); 5] = [
    ("contactid", "contact-id"),
    ("contact_id", "contact-id"),
    ("contactkey", "contact-key"),
    ("contact_key", "contact-key"),
    ("pushtoken", "push-token"),
];
/// The parameter that carries a dedupe key, as `uniqueId` does in the Redo dialect.
const UNIQUE_ID_PARAMETERS: [&str; 2] = ["uniqueid", "eventid"];
const MAX_PARAMS: usize = 400;

/// A parsed eSputnik event.
#[derive(Debug, Clone, PartialEq)]
pub struct EsputnikEvent {
    pub event: CustomEvent,
    /// For `orderCreated`, `orderUpdated`, `orderDelivered`, `orderCancelled`.
    pub order: Option<OrderCommand>,
    /// For `productViewed` and `cartUpdated`: what the notification jobs will query.
    pub activity: Vec<ActivityWrite>,
}

/// Validates an eSputnik body; every problem is reported with its pointer (`/params/3/value`).
pub fn parse_esputnik(body: &Value) -> Result<EsputnikEvent, Vec<FieldError>> {
    let root = Pointer::root();
    let mut errors = Errors::default();
    check_sizes(body, &root, 0, &mut errors);
    let Some(obj) = body.as_object() else {
        errors.add(
            &root,
            format!("the event must be a JSON object, not {}", json_type(body)),
        );
        return Err(errors.into_vec());
    };
    let required = |name: &str, errors: &mut Errors| match obj.get(name) {
        None | Some(Value::Null) => {
            errors.add(&root.key(name), format!("{name} is required"));
            None
        }
        Some(v) => bounded_string(v, &root.key(name), 1..=255, errors),
    };
    let event_type_key = required("eventTypeKey", &mut errors);
    let key_value = required("keyValue", &mut errors);
    let params = parse_params(obj.get("params"), &root.key("params"), &mut errors);

    let mut customer = CustomerInput::default();
    for (name, at, value) in params
        .iter()
        .filter_map(|p| Some((p.lower.as_str(), &p.at, p.value.as_str()?)))
    {
        if EMAIL_PARAMETERS.contains(&name) && customer.email.is_none() {
            customer.email = email(value, at, &mut errors);
        } else if PHONE_PARAMETERS.contains(&name) && customer.phone_number.is_none() {
            customer.phone_number = phone(value, at, &mut errors);
        }
    }
    customer.id = CONTACT_PARAMETERS.iter().find_map(|(name, kind)| {
        let p = params.iter().find(|p| p.lower == *name)?;
        Some(contact_id(
            kind,
            &p.value
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| p.value.to_string()),
        ))
    });
    if let Some(key) = &key_value {
        identify_by_key_value(key, &mut customer);
    }

    let mut data = BTreeMap::new();
    let mut extra = Map::new();
    let mut unique_id = None;
    let identifying = |n: &str| {
        EMAIL_PARAMETERS.contains(&n)
            || PHONE_PARAMETERS.contains(&n)
            || CONTACT_PARAMETERS.iter().any(|(c, _)| *c == n)
    };
    for p in &params {
        if UNIQUE_ID_PARAMETERS.contains(&p.lower.as_str()) {
            unique_id = p.value.as_str().map(str::to_owned);
        } else if JSON_PARAMETERS.contains(&p.lower.as_str()) {
            if let Some(parsed) = json_parameter(&p.name, &p.value, &p.at, &mut errors) {
                extra.insert(p.name.clone(), parsed);
            }
        } else if !identifying(&p.lower) {
            if let Some(value) = PropertyValue::from_scalar(&p.value) {
                data.insert(p.name.clone(), value);
            }
        }
    }

    let order = event_type_key
        .as_deref()
        .and_then(|key| order_command(key, &params, &extra, &mut errors));
    let activity = event_type_key
        .as_deref()
        .map(|key| activity_of(key, &params, &extra, &mut errors))
        .unwrap_or_default();
    match event_type_key {
        Some(event_name) if errors.is_empty() => Ok(EsputnikEvent {
            event: CustomEvent {
                event_name,
                customer: Some(customer),
                data,
                extra: (!extra.is_empty()).then_some(extra),
                event_timestamp: None,
                value: None,
                value_currency: None,
                unique_id,
            },
            order,
            activity,
        }),
        _ => Err(errors.into_vec()),
    }
}

/// One parameter: its name as sent and lower-cased, its value, where its value is.
struct Param {
    name: String,
    lower: String,
    value: Value,
    at: Pointer,
}

fn parse_params(value: Option<&Value>, at: &Pointer, errors: &mut Errors) -> Vec<Param> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            errors.add(
                at,
                format!("params must be an array of {{name, value}}, not {}", json_type(other)),
            );
            return Vec::new();
        }
    };
    if items.len() > MAX_PARAMS {
        errors.add(at, format!("at most {MAX_PARAMS} params"));
    }
    let mut params: Vec<Param> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let here = at.index(i);
        let Some(name) = item
            .get("name")
            .and_then(|n| bounded_string(n, &here.key("name"), 1..=255, errors))
        else {
            if item.get("name").is_none() {
                errors.add(&here.key("name"), "name is required");
            }
            continue;
        };
        let value = match item.get("value") {
            Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => v.clone(),
            None | Some(Value::Null) => continue,
            Some(other) => {
                errors.add(
                    &here.key("value"),
                    format!(
                        "must be a string, number or boolean (JSON goes in a string), not {}",
                        json_type(other)
                    ),
                );
                continue;
            }
        };
        let lower = name.to_ascii_lowercase();
        // A name sent twice: the later value wins, as in a form.
        params.retain(|p| p.lower != lower);
        params.push(Param {
            name,
            lower,
            value,
            at: here.key("value"),
        });
    }
    params
}

fn email(value: &str, at: &Pointer, errors: &mut Errors) -> Option<String> {
    if is_email(value) && value.len() <= 254 {
        Some(value.to_owned())
    } else {
        errors.add(at, format!("'{}' is not an email address", truncate(value)));
        None
    }
}

/// `380501234567`, `+38 (050) 123-45-67` → `+380501234567`.
fn normalise_phone(value: &str) -> String {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    format!("+{digits}")
}

fn phone(value: &str, at: &Pointer, errors: &mut Errors) -> Option<String> {
    let allowed = value.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    let normalised = normalise_phone(value);
    if allowed && is_e164(&normalised) {
        Some(normalised)
    } else {
        errors.add(
            at,
            format!(
                "'{}' is not a phone number in international format (country code and number)",
                truncate(value)
            ),
        );
        None
    }
}

/// The customer id a contact id, key or push token names: itself when it is a 24-hex id, else derived.
fn contact_id(kind: &str, value: &str) -> CustomerId {
    CustomerId::parse(value).unwrap_or_else(|_| {
        let digest = Sha256::digest(format!("esputnik:{kind}:{value}").as_bytes());
        let mut bytes = [0u8; 12];
        bytes.copy_from_slice(&digest[..12]);
        CustomerId::from_bytes(bytes)
    })
}

fn identify_by_key_value(key: &str, customer: &mut CustomerInput) {
    let looks_like_phone =
        key.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) && is_e164(&normalise_phone(key));
    if key.contains('@') {
        if customer.email.is_none() && is_email(key) {
            customer.email = Some(key.to_owned());
        }
    } else if looks_like_phone {
        if customer.phone_number.is_none() {
            customer.phone_number = Some(normalise_phone(key));
        }
    } else if customer.id.is_none() {
        customer.id = Some(contact_id("contact-key", key));
    }
}

/// A JSON parameter, parsed one level deep: containers inside the top-level value stay JSON strings. The
/// error names the parameter: its pointer is only a position in `params`.
fn json_parameter(name: &str, value: &Value, at: &Pointer, errors: &mut Errors) -> Option<Value> {
    let Value::String(text) = value else {
        errors.add(
            at,
            format!(
                "parameter '{name}' must be a string holding JSON, not {}",
                json_type(value)
            ),
        );
        return None;
    };
    match serde_json::from_str::<Value>(text) {
        Ok(parsed) => Some(one_level(parsed)),
        Err(e) => {
            errors.add(at, format!("parameter '{name}' is not valid JSON: {e}"));
            None
        }
    }
}

fn one_level(value: Value) -> Value {
    let flatten = |v: Value| match v {
        Value::Array(_) | Value::Object(_) => Value::String(v.to_string()),
        scalar => scalar,
    };
    match value {
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| match item {
                    Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, flatten(v))).collect()),
                    other => flatten(other),
                })
                .collect(),
        ),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, flatten(v))).collect()),
        scalar => scalar,
    }
}

/// The order command of an order lifecycle event; `None` for every other event type.
fn order_command(key: &str, params: &[Param], extra: &Map<String, Value>, errors: &mut Errors) -> Option<OrderCommand> {
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
fn activity_of(key: &str, params: &[Param], extra: &Map<String, Value>, errors: &mut Errors) -> Vec<ActivityWrite> {
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

#[cfg(test)]
#[path = "esputnik_tests.rs"]
mod tests;
