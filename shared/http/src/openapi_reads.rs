//! The OpenAPI description of reading back events and customers (the reads function).

#![allow(dead_code)] // the path functions exist for the schema only

use super::event_view::{CustomerView, EventPage, EventView};
use super::problem::ProblemDetails as Problem;

/// List the store's events, newest first.
///
/// Every combination of the filters is served from a key: the store's timeline, one event name's, or one
/// customer's (named by `customerId`, `email` or `phoneNumber`, one of them; with `eventName` too, the
/// customer's events of that name). `since` (inclusive) and `until` (exclusive) bound `receivedAt`. Pages
/// hold at most `limit` events; pass `nextCursor` back as `cursor` for the next page, with the same filters
/// or none. A cursor is sealed: it works for this store and this listing only, and a changed one is a 400.
/// A page may hold fewer events than `limit` (or none) and still have a next one. Events stored in the
/// last second may not be listed yet.
#[utoipa::path(get, path = "/stores/{storeId}/events", tag = "Events",
    operation_id = "List events",
    params(
        ("storeId" = String, Path, description = "The store (24 hex characters)"),
        ("customerId" = Option<String>, Query, description = "Only this customer's events"),
        ("email" = Option<String>, Query, description = "Only the events of the customer with this email (any case)"),
        ("phoneNumber" = Option<String>, Query, description = "Only the events of the customer with this phone number (E.164; encode `+` as `%2B`)"),
        ("eventName" = Option<String>, Query, description = "Only events of this name"),
        ("since" = Option<String>, Query, description = "Received at or after this time (RFC 3339)"),
        ("until" = Option<String>, Query, description = "Received before this time (RFC 3339)"),
        ("limit" = Option<u32>, Query, description = "Events per page, 1 to 200 (default 50)"),
        ("cursor" = Option<String>, Query, description = "The nextCursor of the page before"),
    ),
    responses(
        (status = 200, description = "A page of events", body = EventPage),
        (status = 400, description = "A parameter is invalid or unknown, more than one customer identifier, an empty range, or a cursor that is not this store's or this listing's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Store not found (or not the key's store)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn list_events() {}

/// Read one event, with its deliveries.
///
/// The event as stored: its fields, `data` as sent (dates as RFC 3339 strings in UTC), `$extra`, how the
/// customer was resolved (`identity`: `matchedBy`, `customerCreated`, conflicts) and the profile fields it
/// changed; and per subscription and message, where the delivery stands. The id is ours (`eventId`) or the
/// one the client sent (`uniqueId`, an entity event's `id`).
#[utoipa::path(get, path = "/stores/{storeId}/events/{eventId}", tag = "Events",
    operation_id = "Get event",
    params(
        ("storeId" = String, Path, description = "The store (24 hex characters)"),
        ("eventId" = String, Path, description = "Our eventId, or the client's own id of the event"),
    ),
    responses(
        (status = 200, description = "The event", body = EventView),
        (status = 404, description = "No such event in this store", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn get_event() {}

/// Find a customer by email or phone number.
///
/// Send exactly one of `email` and `phoneNumber` (E.164; encode `+` as `%2B`).
#[utoipa::path(get, path = "/stores/{storeId}/customers", tag = "Customers",
    operation_id = "Find customer",
    params(
        ("storeId" = String, Path, description = "The store (24 hex characters)"),
        ("email" = Option<String>, Query, description = "The customer's email (any case)"),
        ("phoneNumber" = Option<String>, Query, description = "The customer's phone number, E.164"),
    ),
    responses(
        (status = 200, description = "The profile", body = CustomerView),
        (status = 400, description = "Neither or both of email and phoneNumber, or an invalid one", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No customer with this identifier in this store", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn find_customer() {}

/// Read a customer's profile.
#[utoipa::path(get, path = "/stores/{storeId}/customers/{customerId}", tag = "Customers",
    operation_id = "Get customer",
    params(
        ("storeId" = String, Path, description = "The store (24 hex characters)"),
        ("customerId" = String, Path, description = "The customer (24 hex characters)"),
    ),
    responses(
        (status = 200, description = "The profile", body = CustomerView),
        (status = 404, description = "No such customer in this store", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn get_customer() {}
