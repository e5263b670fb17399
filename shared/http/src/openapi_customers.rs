//! The OpenAPI description of erasing a customer, and its answer.

#![allow(dead_code)] // the path functions exist for the schema only

use serde::Serialize;
use utoipa::ToSchema;

use super::problem::ProblemDetails as Problem;
use collector_core::domain::erasure::Erased;

/// What an erasure removed. `complete: false` (202): records remain; call again to continue.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErasureResponse {
    #[schema(example = "665f1a2b3c4d5e6f7a8b9c0d")]
    pub customer_id: String,
    pub complete: bool,
    /// Records removed by this call, by kind.
    pub removed: Erased,
}

/// Erase a customer.
///
/// Removes the customer's profile, identifiers (email and phone claims), events with their delivery
/// records and dedupe records, orders, product views, cart, wishlists and notification caps. Messages
/// already delivered to subscribers are theirs and are not recalled.
#[utoipa::path(delete, path = "/stores/{storeId}/customers/{customerId}", tag = "Customers",
    operation_id = "Erase customer",
    params(
        ("storeId" = String, Path, description = "The store (24 hex characters)"),
        ("customerId" = String, Path, description = "The customer (24 hex characters)"),
    ),
    responses(
        (status = 200, description = "Erased", body = ErasureResponse),
        (status = 202, description = "Partly erased (a very large customer): call again", body = ErasureResponse),
        (status = 404, description = "No such customer in this store (or erased already)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn erase_customer() {}

/// Erase a customer named by email or phone number.
///
/// The same as erasing by id, for the customer the identifier belongs to. Send exactly one of `email` and
/// `phoneNumber` (E.164; encode `+` as `%2B`).
#[utoipa::path(delete, path = "/stores/{storeId}/customers", tag = "Customers",
    operation_id = "Erase customer by identifier",
    params(
        ("storeId" = String, Path, description = "The store (24 hex characters)"),
        ("email" = Option<String>, Query, description = "The customer's email (any case)"),
        ("phoneNumber" = Option<String>, Query, description = "The customer's phone number, E.164"),
    ),
    responses(
        (status = 200, description = "Erased", body = ErasureResponse),
        (status = 202, description = "Partly erased (a very large customer): call again", body = ErasureResponse),
        (status = 400, description = "Neither or both of email and phoneNumber, or an invalid one", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No customer with this identifier in this store", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn erase_customer_by_identifier() {}

/// Create or update a customer's profile.
///
/// The body is a customer object with exactly the rules of an event's `customer` (errors point into the
/// body from its root): the customer is found by `id`, `email` or `phoneNumber` as for an event (an email
/// normally), and only the fields sent change (an empty string removes one); an identifier nobody owns is
/// attached, one another customer owns is not. The write is stored as a `$profile` event, so
/// `CUSTOMER` subscribers receive `customer.created` or `customer.updated` with its `changedFields`, and
/// the event lists among the customer's. Needs the `customers:write` scope.
#[utoipa::path(put, path = "/stores/{storeId}/customers", tag = "Customers",
    operation_id = "Put customer",
    params(("storeId" = String, Path, description = "The store (24 hex characters)")),
    request_body(content = super::openapi::CustomerRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Created", body = super::event_view::CustomerView),
        (status = 200, description = "Updated (or unchanged)", body = super::event_view::CustomerView),
        (status = 400, description = "The profile is invalid; nothing written", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Store not found (or not the key's store)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The customer is under heavy concurrent change, or storage is throttled: retry after Retry-After", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn put_customer() {}
