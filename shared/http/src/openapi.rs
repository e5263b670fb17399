//! The OpenAPI description of every endpoint, generated from these types (`docs/openapi.json`; a test keeps
//! the checked-in file equal to what this generates). The request types describe the bodies that
//! `collector_core::domain::custom_event` accepts; keep them in step with it.

#![allow(dead_code)] // request types exist for the schema only

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::problem::ProblemDetails as Problem;
use collector_core::service::bulk::{BulkItemResult, BulkStatus, BulkSummary};
use collector_core::service::ingest::Ingested;

pub use super::openapi_dialects::EsputnikResponse;

/// 202 body: the event stored now (`accepted`) or earlier under the same `uniqueId` (`duplicate`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IngestResponse {
    /// The stored event; for a duplicate, the event stored the first time.
    #[schema(example = "6740a1b2c3d4e5f6a7b8c9d0")]
    pub event_id: String,
    /// `accepted` or `duplicate`.
    #[schema(example = "accepted")]
    pub status: String,
    /// The customer the event was attributed to.
    #[schema(example = "665f1a2b3c4d5e6f7a8b9c0d")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
}

impl From<&Ingested> for IngestResponse {
    fn from(ingested: &Ingested) -> Self {
        Self {
            event_id: ingested.event_id.to_string(),
            status: ingested.status.as_str().to_owned(),
            customer_id: ingested.customer_id.as_ref().map(ToString::to_string),
        }
    }
}

/// 202 body of a bulk request: one result per event, in input order, and a report in the manner of BSPK's
/// `file_import.finished` (`status`, counts, and an `errors` line per event not stored).
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResponse {
    /// `completed` when every event was accepted or a duplicate, else `error`.
    #[schema(example = "error")]
    pub status: String,
    pub summary: BulkSummary,
    pub results: Vec<BulkItemResult>,
    pub errors: Vec<BulkErrorLine>,
}

/// An event that was not stored: its index in `events` and why.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkErrorLine {
    pub index: usize,
    pub message: String,
}

impl BulkResponse {
    pub fn new(results: Vec<BulkItemResult>) -> Self {
        let summary = BulkSummary::of(&results);
        let errors: Vec<BulkErrorLine> = results
            .iter()
            .filter(|r| !matches!(r.status, BulkStatus::Accepted | BulkStatus::Duplicate))
            .map(|r| BulkErrorLine {
                index: r.index,
                message: r
                    .errors
                    .iter()
                    .map(|e| format!("{}: {}", e.pointer, e.detail))
                    .collect::<Vec<_>>()
                    .join("; "),
            })
            .collect();
        Self {
            status: if errors.is_empty() { "completed" } else { "error" }.to_owned(),
            summary,
            results,
            errors,
        }
    }
}

/// Request body of the bulk endpoint.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkCustomEventRequest {
    /// 1 to 100 events, each validated and stored independently.
    #[schema(min_items = 1, max_items = 100)]
    events: Vec<CustomEventRequest>,
}

/// Custom event to trigger flows with merchant-defined event names and properties. Properties not listed
/// here are accepted and ignored.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomEventRequest {
    /// The name of the custom event (1–255 characters, not blank).
    #[schema(example = "Order Placed")]
    event_name: String,
    customer: CustomerRequest,
    /// Custom properties (at most 400, `$extra` included). Top-level values are strings, numbers or
    /// booleans; `0`, `null` and `""` are treated as unset and not stored; RFC 3339 date-time strings are
    /// stored as dates. `$extra` holds any JSON, stored as sent.
    #[schema(value_type = Option<Object>)]
    data: Option<BTreeMap<String, serde_json::Value>>,
    /// RFC 3339 date-time; defaults to the time of receipt. From 2000-01-01T00:00:00Z to 24 hours ahead.
    #[schema(format = DateTime)]
    event_timestamp: Option<String>,
    /// Monetary or conversion value.
    value: Option<f64>,
    /// ISO 4217 code (upper case).
    #[schema(example = "USD", pattern = "^[A-Z]{3}$")]
    value_currency: Option<String>,
    /// Dedupe key (1–255 characters): the same key with the same content within the dedupe window is
    /// answered `duplicate`; with different content, 409.
    #[schema(min_length = 1, max_length = 255)]
    unique_id: Option<String>,
}

/// Customer identity and profile. At least one of `id`, `email`, `phoneNumber`. Profile fields are applied
/// with patch semantics: omitted fields keep their values; an empty string clears a field.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerRequest {
    /// Customer id (24 hex characters). Takes priority over email and phoneNumber; when not found, resolution
    /// falls back to them, and a customer created then adopts this id.
    #[schema(pattern = "^[0-9a-fA-F]{24}$")]
    id: Option<String>,
    /// Matched case-insensitively.
    #[schema(format = "email")]
    email: Option<String>,
    /// E.164.
    #[schema(pattern = "^\\+[1-9][0-9]{1,14}$")]
    phone_number: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    location: Option<LocationRequest>,
    /// Strings, numbers or booleans; RFC 3339 date-time strings are stored as dates.
    #[schema(value_type = Option<Object>)]
    custom_fields: Option<BTreeMap<String, serde_json::Value>>,
}

/// Customer location; every field optional, patched field by field.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocationRequest {
    street1: Option<String>,
    street2: Option<String>,
    city: Option<String>,
    state: Option<String>,
    state_code: Option<String>,
    postal_code: Option<String>,
    country: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(pattern = "^[A-Za-z]{2}$")]
    country_code: Option<String>,
    /// IANA time zone, e.g. America/New_York.
    iana_time_zone_name: Option<String>,
    #[schema(minimum = -90, maximum = 90)]
    latitude: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    longitude: Option<f64>,
}

/// Create a custom event.
///
/// Validates the event, resolves the customer (`customer.id` > `email` > `phoneNumber`, creating one when
/// none matches), drops duplicates by `uniqueId`, stores the event durably and queues it for dispatch.
#[utoipa::path(
    post,
    path = "/stores/{storeId}/events",
    operation_id = "Custom event create",
    tag = "Custom Events",
    params(("storeId" = String, Path, description = "The store (24 hex characters)")),
    request_body(content = CustomEventRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "Stored and queued (or a duplicate of a stored event)", body = IngestResponse),
        (status = 400, description = "Malformed JSON or invalid fields; `errors` has a JSON Pointer per field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the events:write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Store not found (or not the key's store)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "uniqueId already used for an event with different content", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than 204800 bytes; `limit` gives the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not application/json", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Temporarily unavailable; retry after Retry-After seconds", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = []))
)]
fn create_custom_event() {}

/// Bulk create custom events.
///
/// Up to 100 events in one request. Each event is validated, resolved, deduplicated and stored on its own:
/// one invalid, conflicting or duplicate event never affects the others. Two events with the same `uniqueId`
/// in one request count as one event and one duplicate. The 202 body reports every event.
#[utoipa::path(
    post,
    path = "/stores/{storeId}/events/bulk",
    operation_id = "Bulk create custom events",
    tag = "Custom Events",
    params(("storeId" = String, Path, description = "The store (24 hex characters)")),
    request_body(content = BulkCustomEventRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "Every event processed; per-event results in input order", body = BulkResponse),
        (status = 400, description = "Malformed JSON, or the envelope is invalid (no `events`, empty, over 100, other properties); nothing stored", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks the events:write scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Store not found (or not the key's store)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body larger than 5242880 bytes; `limit` gives the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Content-Type is not application/json", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = []))
)]
fn bulk_create_custom_events() {}

#[derive(OpenApi)]
#[openapi(
    info(title = "Commerce event collector", description = "Ingest, read, subscription and job APIs. Errors are RFC 9457 problem details."),
    paths(
        create_custom_event,
        bulk_create_custom_events,
        super::openapi_dialects::esputnik_event,
        super::openapi_dialects::create_entity_event,
        super::openapi_dialects::find_entity_event,
        super::openapi_subscriptions::create_subscription,
        super::openapi_subscriptions::replace_subscription,
        super::openapi_subscriptions::list_subscriptions,
        super::openapi_subscriptions::get_subscription,
        super::openapi_subscriptions::delete_subscription,
        super::openapi_subscriptions::deactivate_subscription,
        super::openapi_subscriptions::rotate_secret,
        super::openapi_subscriptions::list_deliveries,
        super::openapi_subscriptions::redeliver,
        super::openapi_subscriptions::replay,
        super::openapi_subscriptions::get_replay,
        super::openapi_subscriptions::test_destination,
        super::openapi_jobs::create_job,
        super::openapi_jobs::list_jobs,
        super::openapi_jobs::get_job,
        super::openapi_jobs::replace_job,
        super::openapi_jobs::replace_job_by_body,
        super::openapi_jobs::delete_job,
        super::openapi_jobs::delete_job_by_post,
        super::openapi_jobs::list_job_runs,
        super::openapi_customers::erase_customer,
        super::openapi_customers::erase_customer_by_identifier,
        super::openapi_customers::put_customer,
        super::openapi_reads::list_events,
        super::openapi_reads::get_event,
        super::openapi_reads::find_customer,
        super::openapi_reads::get_customer,
    ),
    modifiers(&BearerAuth, &RateLimited, &CommonProblems)
)]
pub struct ApiDoc;

/// Every endpoint is rate-limited per store: a 429 on each operation, and the `RateLimit-*` headers on its
/// successes.
struct RateLimited;

impl utoipa::Modify for RateLimited {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{header::Header, schema::Type, ContentBuilder, Object, Ref, ResponseBuilder};
        let integer = || Header::new(Object::with_type(Type::Integer));
        let limited = ResponseBuilder::new()
            .description("The store's requests this second reached its limit; retry after Retry-After seconds")
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .header("Retry-After", integer())
            .build();
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                for (status, response) in operation.responses.responses.iter_mut() {
                    if let (true, utoipa::openapi::RefOr::T(response)) = (status.starts_with('2'), response) {
                        for name in ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"] {
                            response.headers.insert(name.to_owned(), integer());
                        }
                    }
                }
                operation
                    .responses
                    .responses
                    .insert("429".to_owned(), limited.clone().into());
            }
        }
    }
}

/// The problems any operation may answer, where its own description does not name them: the key (401/403),
/// the header size (431), a temporary failure (503), invalid input (400), a missing resource where the path
/// names one (404), and for operations with a body its size (413) and media type (415).
struct CommonProblems;

impl utoipa::Modify for CommonProblems {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete];
            for operation in operations.into_iter().flatten() {
                let mut common = vec![
                    ("400", "Invalid request; `errors` has a JSON Pointer per problem"),
                    ("401", "Missing or unknown API key"),
                    (
                        "403",
                        "The key lacks the operation's scope, or X-TWC-Tenant names another tenant",
                    ),
                    ("431", "Request headers larger than 16 KiB"),
                    ("503", "Temporarily unavailable; retry after Retry-After seconds"),
                ];
                if path.contains('{') {
                    common.push(("404", "Not found for this tenant"));
                }
                if operation.request_body.is_some() {
                    common.push(("413", "Body larger than the operation's limit; `limit` gives it"));
                    common.push(("415", "Content-Type is not application/json"));
                }
                for (status, description) in common {
                    let responses = &mut operation.responses.responses;
                    if !responses.contains_key(status) {
                        responses.insert(status.to_owned(), problem(description).into());
                    }
                }
            }
        }
    }
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "Bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document as checked in at `docs/openapi.json`.
pub fn openapi_json() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
        + "\n"
}
