//! The OpenAPI description of `/api/v1/event-subscription`. The request types describe the bodies that
//! `collector_core::domain::subscription_input` accepts; keep them in step with it.

#![allow(dead_code)] // request types and path functions exist for the schema only

use serde::Serialize;
use utoipa::ToSchema;

use super::problem::ProblemDetails as Problem;
use super::subscription_view::{DeliveryView, ReplayView, SubscriptionView};
use collector_core::domain::delivery::DeliveryStatus;
use collector_core::domain::subscription::EntityType;

/// A subscription as sent: what it receives and where it goes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionRequest {
    /// Required by `PUT /api/v1/event-subscription` (the subscription to replace); ignored on create.
    id: Option<String>,
    /// Default true.
    active: Option<bool>,
    entity_type: Option<EntityType>,
    subscribe_create: Option<bool>,
    subscribe_change: Option<bool>,
    subscribe_delete: Option<bool>,
    /// Custom event names (`Order Placed`), or `*` for every custom event. At most 100.
    event_names: Option<Vec<String>>,
    #[schema(max_length = 1024)]
    description: Option<String>,
    destination: DestinationRequest,
    /// On create only: also send every event received since then that the subscription matches (a
    /// backfill: the answer's `replay` shows its progress). Without it, a subscription receives what
    /// arrives after it was made.
    #[schema(format = DateTime)]
    replay_from: Option<String>,
}

/// What a replay sends.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplayRequest {
    /// Events received at or after this time (RFC 3339).
    #[schema(format = DateTime)]
    since: String,
    /// Events received before this time; default: when the replay is made.
    #[schema(format = DateTime)]
    until: Option<String>,
    /// Only the events with a message not delivered to this subscription (missed while it was inactive or
    /// failing); default false: every event of the range.
    only_undelivered: Option<bool>,
}

/// `type` names the one block that must be present.
#[derive(Debug, Serialize, ToSchema)]
pub struct DestinationRequest {
    /// `SQS`, `SNS` or `WEBHOOK`.
    #[serde(rename = "type")]
    type_: String,
    sqs: Option<AwsDestinationRequest>,
    sns: Option<AwsDestinationRequest>,
    webhook: Option<WebhookRequest>,
}

/// Where an SQS or SNS destination is, and how to reach it: nothing (the collector's role), a role to
/// assume, or access keys (sealed, never returned).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsDestinationRequest {
    /// SQS: `https://sqs.<region>.amazonaws.com/<account>/<name>`.
    queue_url: Option<String>,
    /// SNS: `arn:aws:sns:<region>:<account>:<name>`.
    topic_arn: Option<String>,
    /// Defaults to the region of the URL or ARN, and must match it.
    region: Option<String>,
    role_arn: Option<String>,
    external_id: Option<String>,
    access_key: Option<String>,
    access_secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookRequest {
    /// An https URL on a public host.
    url: String,
}

const ITEM: &str = "The subscription (24 hex characters)";

/// Create a subscription.
#[utoipa::path(post, path = "/api/v1/event-subscription", tag = "Event Subscriptions",
    params(("X-TWC-Tenant" = Option<String>, Header, description = "When sent, the key's store id")),
    request_body(content = SubscriptionRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; a webhook's signingSecret is shown here once", body = SubscriptionView),
        (status = 400, description = "Invalid fields; `errors` has a JSON Pointer per field", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or unknown API key", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The key lacks subscriptions:write, or X-TWC-Tenant names another tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn create_subscription() {}

/// Replace the subscription named by the body's `id`. Credentials left out are kept.
#[utoipa::path(put, path = "/api/v1/event-subscription", tag = "Event Subscriptions",
    request_body(content = SubscriptionRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Replaced", body = SubscriptionView),
        (status = 400, description = "Invalid fields, or no id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn replace_subscription() {}

/// Every subscription of the tenant, active or not.
#[utoipa::path(get, path = "/api/v1/event-subscription", tag = "Event Subscriptions",
    responses((status = 200, description = "The subscriptions", body = Vec<SubscriptionView>)),
    security(("Bearer" = [])))]
fn list_subscriptions() {}

/// One subscription.
#[utoipa::path(get, path = "/api/v1/event-subscription/{id}", tag = "Event Subscriptions",
    params(("id" = String, Path, description = ITEM)),
    responses(
        (status = 200, description = "The subscription", body = SubscriptionView),
        (status = 404, description = "No such subscription for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn get_subscription() {}

/// Delete a subscription.
#[utoipa::path(delete, path = "/api/v1/event-subscription/{id}", tag = "Event Subscriptions",
    params(("id" = String, Path, description = ITEM)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such subscription for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn delete_subscription() {}

/// Deactivate a subscription; it receives nothing until an update sets `active` again.
#[utoipa::path(put, path = "/api/v1/event-subscription/{id}/deactivate", tag = "Event Subscriptions",
    params(("id" = String, Path, description = ITEM)),
    responses(
        (status = 200, description = "Deactivated, with deactivatedReason", body = SubscriptionView),
        (status = 404, description = "No such subscription for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn deactivate_subscription() {}

/// A new webhook signing secret; the previous one keeps signing alongside for 24 hours.
#[utoipa::path(post, path = "/api/v1/event-subscription/{id}/rotate-secret", tag = "Event Subscriptions",
    params(("id" = String, Path, description = ITEM)),
    responses(
        (status = 200, description = "The subscription with its new signingSecret, shown once", body = SubscriptionView),
        (status = 404, description = "No such subscription for this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not a webhook subscription", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn rotate_secret() {}

/// The subscription's deliveries, latest attempt first, each with every attempt.
///
/// Records of one millisecond are listed by message id. `status` lists one status only. The body is an
/// array; when there is more, the `Link` header names the next page (`<…?limit=…&cursor=…>; rel="next"`).
/// The cursor is sealed: it works for this subscription and this listing only (a changed one is a 400), and
/// keeps the status it was made with. A page of `DELIVERED` examines at most 400 records and may hold fewer
/// than `limit` (or none) and still have a next one. A record that gets another attempt while you page
/// moves to the top of the listing.
#[utoipa::path(get, path = "/api/v1/event-subscription/{id}/deliveries", tag = "Event Subscriptions",
    params(("id" = String, Path, description = ITEM),
           ("status" = Option<DeliveryStatus>, Query, description = "Only records of this status"),
           ("limit" = Option<usize>, Query, description = "1 to 200, default 50"),
           ("cursor" = Option<String>, Query, description = "From the Link header of the page before")),
    responses(
        (status = 200, description = "Ledger records", body = Vec<DeliveryView>,
            headers(("Link" = String, description = "The next page, rel=\"next\", when there is one"))),
        (status = 400, description = "A parameter is invalid or unknown, or a cursor that is not this listing's", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn list_deliveries() {}

/// Send one message again.
///
/// Queues the message (`deliveryId` is its `messageId`, the envelope id) to be sent to this subscription
/// again now, whatever its status: the same envelope, so the subscriber can drop it if it has it; the
/// attempt is appended to its ledger record. The subscription must be active.
#[utoipa::path(post, path = "/api/v1/event-subscription/{id}/deliveries/{deliveryId}/redeliver", tag = "Event Subscriptions",
    params(("id" = String, Path, description = ITEM),
           ("deliveryId" = String, Path, description = "The delivery's messageId")),
    responses(
        (status = 202, description = "Queued: `{subscriptionId, messageId, status: queued}`"),
        (status = 404, description = "No such subscription, or no such delivery of it", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The subscription is inactive", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn redeliver() {}

/// Replay a time range to this subscription.
///
/// Every event received in the range that the subscription's filters match (however old: events from
/// before the subscription too) goes through the normal dispatch path again (retries, ledger, signing),
/// newest first, in pages of 100 at most 50 events a second. With `onlyUndelivered`, only messages not yet
/// delivered to this subscription are sent. Poll `…/replays/{replayId}` for its progress. The subscription
/// must be active; events of the last second before `until` may be missed (the timeline is eventually
/// consistent).
#[utoipa::path(post, path = "/api/v1/event-subscription/{id}/replay", tag = "Event Subscriptions",
    params(("id" = String, Path, description = ITEM)),
    request_body(content = ReplayRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "The replay, started", body = ReplayView),
        (status = 400, description = "since missing or invalid, an empty range", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription for this tenant", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The subscription is inactive", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn replay() {}

/// A replay's progress.
#[utoipa::path(get, path = "/api/v1/event-subscription/{id}/replays/{replayId}", tag = "Event Subscriptions",
    params(("id" = String, Path, description = ITEM),
           ("replayId" = String, Path, description = "The replay (24 hex characters)")),
    responses(
        (status = 200, description = "The replay", body = ReplayView),
        (status = 404, description = "No such subscription or replay", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn get_replay() {}

/// Test the destination.
///
/// Sends a `ping` now, signed and carried like any message (the envelope with `type: ping`,
/// `entityType: PING`, `data.subscriptionId`), and answers what happened: `delivered`, the `status` a
/// delivery would have had (`DELIVERED`, `FAILED` worth retrying, `REJECTED` for good), the destination's
/// `error` code (`HTTP 503` …) and `latencyMs`. Nothing is recorded and the subscription is never
/// deactivated by a test.
#[utoipa::path(post, path = "/api/v1/event-subscription/{id}/test", tag = "Event Subscriptions",
    params(("id" = String, Path, description = ITEM)),
    responses(
        (status = 200, description = "What the destination did with the ping: `{messageId, delivered, status, error?, latencyMs}`"),
        (status = 404, description = "No such subscription for this tenant", body = Problem, content_type = "application/problem+json"),
    ),
    security(("Bearer" = [])))]
fn test_destination() {}
