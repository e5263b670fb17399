//! Subscriptions as the API shows them: the spec's fields plus ours, and never a secret. Credentials show
//! only that they are set (and the last four characters of an access key id); a webhook's signing secret
//! appears once, in the response that made it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use collector_core::domain::delivery::{Attempt, DeliveryRecord, DeliveryStatus};
use collector_core::domain::subscription::{AwsAccess, Destination, EntityType, Subscription};

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionView {
    pub id: String,
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<EntityType>,
    pub subscribe_create: bool,
    pub subscribe_change: bool,
    pub subscribe_delete: bool,
    /// Custom event names this subscription receives (`"*"`: all).
    pub event_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub destination: DestinationView,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deactivated_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub deactivated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DestinationView {
    /// `SQS`, `SNS` or `WEBHOOK`.
    #[serde(rename = "type")]
    pub type_: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqs: Option<AwsDestinationView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sns: Option<AwsDestinationView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsDestinationView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topic_arn: Option<String>,
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The last four characters of the access key id, when access keys are set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_hint: Option<String>,
    /// Whether an access key and secret are stored (they are never returned).
    pub access_secret_set: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookView {
    pub url: String,
    /// Present once: in the response that created or rotated it. Store it; it cannot be read again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    pub signing_secret_set: bool,
    /// After a rotation: until when messages are also signed with the previous secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

impl SubscriptionView {
    /// The view of `subscription`; `new_signing_secret` is shown when this response made it.
    pub fn new(subscription: &Subscription, new_signing_secret: Option<String>) -> Self {
        Self {
            id: subscription.subscription_id.to_string(),
            active: subscription.active,
            entity_type: subscription.entity_type,
            subscribe_create: subscription.subscribe_create,
            subscribe_change: subscription.subscribe_change,
            subscribe_delete: subscription.subscribe_delete,
            event_names: subscription.event_names.clone(),
            description: subscription.description.clone(),
            destination: DestinationView::new(&subscription.destination, new_signing_secret),
            created_at: subscription.created_at,
            updated_at: subscription.updated_at,
            deactivated_reason: subscription.deactivated_reason.clone(),
            deactivated_at: subscription.deactivated_at,
        }
    }
}

impl DestinationView {
    fn new(destination: &Destination, new_signing_secret: Option<String>) -> Self {
        let mut view = Self {
            type_: destination.type_name(),
            sqs: None,
            sns: None,
            webhook: None,
        };
        match destination {
            Destination::Sqs {
                queue_url,
                region,
                access,
            } => view.sqs = Some(AwsDestinationView::new(Some(queue_url), None, region, access)),
            Destination::Sns {
                topic_arn,
                region,
                access,
            } => view.sns = Some(AwsDestinationView::new(None, Some(topic_arn), region, access)),
            Destination::Webhook {
                url,
                previous_secret_expires_at,
                ..
            } => {
                view.webhook = Some(WebhookView {
                    url: url.clone(),
                    signing_secret: new_signing_secret,
                    signing_secret_set: true,
                    previous_secret_expires_at: *previous_secret_expires_at,
                })
            }
        }
        view
    }
}

impl AwsDestinationView {
    fn new(queue_url: Option<&String>, topic_arn: Option<&String>, region: &str, access: &AwsAccess) -> Self {
        let mut view = Self {
            queue_url: queue_url.cloned(),
            topic_arn: topic_arn.cloned(),
            region: region.to_owned(),
            role_arn: None,
            external_id: None,
            access_key_hint: None,
            access_secret_set: false,
        };
        match access {
            AwsAccess::CollectorRole => {}
            AwsAccess::AssumeRole { role_arn, external_id } => {
                view.role_arn = Some(role_arn.clone());
                view.external_id = external_id.clone();
            }
            AwsAccess::AccessKey { access_key_hint, .. } => {
                view.access_key_hint = Some(access_key_hint.clone());
                view.access_secret_set = true;
            }
        }
        view
    }
}

/// One ledger record as `GET /api/v1/event-subscription/{id}/deliveries` lists it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryView {
    pub event_id: String,
    /// The envelope id subscribers received.
    pub message_id: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub status: DeliveryStatus,
    /// Every attempt, oldest first.
    pub attempts: Vec<Attempt>,
    #[schema(value_type = String, format = DateTime)]
    pub last_attempt_at: DateTime<Utc>,
}

impl From<DeliveryRecord> for DeliveryView {
    fn from(record: DeliveryRecord) -> Self {
        Self {
            event_id: record.event_id.to_string(),
            message_id: record.message_id,
            type_: record.message_type,
            status: record.status,
            attempts: record.attempts,
            last_attempt_at: record.last_attempt_at,
        }
    }
}

/// A replay and its progress.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReplayView {
    pub replay_id: String,
    pub subscription_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub since: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    pub until: DateTime<Utc>,
    pub only_undelivered: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
    /// Events of the range the subscription's filters match, handed to dispatch so far.
    pub matched: u64,
    /// Messages the replay delivered, and attempts of it that failed (retried as any delivery).
    pub sent: u64,
    pub failed: u64,
    /// Every page of the range was handed to dispatch (its sends may still be under way).
    pub finished: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<&collector_core::domain::redelivery::Replay> for ReplayView {
    fn from(replay: &collector_core::domain::redelivery::Replay) -> Self {
        Self {
            replay_id: replay.replay_id.clone(),
            subscription_id: replay.subscription_id.to_string(),
            since: replay.since,
            until: replay.until,
            only_undelivered: replay.only_undelivered,
            created_at: replay.created_at,
            matched: replay.matched,
            sent: replay.sent,
            failed: replay.failed,
            finished: replay.finished_at.is_some(),
            finished_at: replay.finished_at,
        }
    }
}
