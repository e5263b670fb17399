//! The OpenAPI description of the eSputnik dialect (`POST /api/v1/event`) and the Event Collector API's
//! entity events (`/api/v1/events`): their bodies and answers.

#![allow(dead_code)] // request types and path functions exist for the schema only

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::problem::ProblemDetails as Problem;

/// The answer of `POST /api/v1/event`: like the Redo endpoint's, plus `ignored` (with why) for an order
/// status change of an order that does not exist.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EsputnikResponse {
    /// `accepted`, `duplicate` or `ignored`.
    #[schema(example = "accepted")]
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// Why an event was ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// An eSputnik event.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EsputnikRequest {
    /// The event type: `orderCreated`, `orderUpdated`, `orderDelivered`, `orderCancelled`, `pageViewed`,
    /// `productViewed`, `productCategoryViewed`, `cartUpdated`, or any other name for a custom event.
    #[schema(example = "orderCreated")]
    event_type_key: String,
    /// The contact: an email, a phone number, or a contact key (see the identification parameters).
    #[schema(example = "380501234567")]
    key_value: String,
    params: Vec<EsputnikParam>,
}

/// One parameter. Names are matched case-insensitively. `items`, `product`, `category`, `products` and
/// `page` hold JSON in a string, parsed one level deep.
#[derive(Debug, Serialize, ToSchema)]
pub struct EsputnikParam {
    #[schema(example = "externalOrderId")]
    name: String,
    /// A string (or a number or boolean).
    #[schema(example = "12345679")]
    value: serde_json::Value,
}

/// Send an eSputnik event.
///
/// The eSputnik `v1/event` dialect on the same pipeline: the contact is identified from `keyValue` and the
/// identification parameters, order events keep the store's orders (`orderDelivered` and `orderCancelled`
/// of an unknown order are `ignored`), and a `uniqueId` parameter dedupes.
#[utoipa::path(
    post,
    path = "/api/v1/event",
    operation_id = "eSputnik event",
    tag = "eSputnik",
    params(("X-TWC-Tenant" = Option<String>, Header, description = "When sent, the key's store id")),
    request_body(content = EsputnikRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Stored (accepted), stored before (duplicate), or ignored with the reason", body = EsputnikResponse),
        (status = 400, description = "Invalid fields or parameters (a parameter's JSON, a missing order parameter); `errors` has a JSON Pointer per problem", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks events:write, or X-TWC-Tenant names another tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "uniqueId already used for an event with different content", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than 204800 bytes", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = []))
)]
pub(super) fn esputnik_event() {}

/// An entity event of the Event Collector API. The answer is this representation, with `eventId` (ours,
/// for `GET /api/v1/events/{eventId}`) and `status`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntityEventRequest {
    /// The client's id of the event: the dedupe key.
    id: Option<String>,
    /// The entity's id; may be given here or in `event_payload`.
    entity_id: Option<String>,
    /// An entity type: `CUSTOMER`, `INVENTORY_LEVEL`, `INVENTORY_LOCATION`, `ORDER`, `PRICE`, `PRODUCT`,
    /// `VARIANT_PRODUCT`, `WISHLIST` (also as `inventoryLevel`, `Inventory Level`).
    #[schema(example = "INVENTORY_LEVEL")]
    entity_name: String,
    event_payload: EntityEventPayload,
    #[schema(example = "APPLICATION")]
    event_source: Option<String>,
    /// `ENTITY_EVENT`.
    #[schema(example = "ENTITY_EVENT")]
    event_type: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntityEventPayload {
    /// Base64 of the entity as JSON: the projection's new state and the subscribers' `data`.
    base64_encoded_payload_json: String,
    /// Base64 of a JSON fault report, when the source had one.
    base64_encoded_fault_json: Option<String>,
    entity_id: Option<String>,
    /// Strings; `customerId`, `email` or `phoneNumber` here attribute the event to a customer (wishlists).
    key_attributes: Option<BTreeMap<String, String>>,
    /// `CREATE`, `BULK_CREATE`, `INSERT`; `UPDATE`, `BULK_UPDATE`, `UPSERT`, `PATCH`, `CHANGE`; `DELETE`,
    /// `BULK_DELETE`, `REMOVE`.
    #[schema(example = "UPDATE")]
    operation: String,
}

/// Create an entity event.
///
/// Validates and decodes the payload, dedupes by `id`, updates the entity's projection, stores the event and
/// delivers it to subscribers of the entity type and operation (`inventory_level.updated` …).
#[utoipa::path(
    post,
    path = "/api/v1/events",
    operation_id = "Create entity event",
    tag = "Entity Events",
    params(("X-TWC-Tenant" = Option<String>, Header, description = "When sent, the key's store id")),
    request_body(content = EntityEventRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Stored: the representation with eventId and status accepted", body = serde_json::Value),
        (status = 200, description = "A duplicate of a stored event (same id, same content): status duplicate", body = serde_json::Value),
        (status = 400, description = "Invalid fields, base64 or JSON; `errors` has a JSON Pointer per problem", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks events:write, or X-TWC-Tenant names another tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "id already used for an event with different content", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = []))
)]
pub(super) fn create_entity_event() {}

/// An entity event as it was sent, with its `eventId`.
#[utoipa::path(
    get,
    path = "/api/v1/events/{eventId}",
    operation_id = "Find entity event",
    tag = "Entity Events",
    params(("eventId" = String, Path, description = "The eventId the create answered (24 hex characters), or the event's own `id` as the client sent it (the latest event with that id)")),
    responses(
        (status = 200, description = "The representation", body = serde_json::Value),
        (status = 404, description = "No such entity event for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = []))
)]
pub(super) fn find_entity_event() {}
