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
