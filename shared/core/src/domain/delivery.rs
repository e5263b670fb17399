//! The delivery ledger: one record per (event, subscription, outbound message), so a redelivered dispatch
//! message does not send again what was delivered, and users can read what happened to each attempt.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{EventId, StoreId, SubscriptionId};

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    /// The destination accepted it. Final: never sent again.
    Delivered,
    /// A transient failure; it will be tried again.
    Failed,
    /// The destination refused it for good (access denied, not found, HTTP 410); the subscription was deactivated.
    Rejected,
    /// Every attempt failed; the dispatch message went to the dead-letter queue. A redrive tries again.
    Exhausted,
    /// Not sent: the subscription was inactive when the event was dispatched. A replay with
    /// `onlyUndelivered` sends it once the subscription is active again.
    Skipped,
}

impl DeliveryStatus {
    /// The status as the API and the ledger write it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Delivered => "DELIVERED",
            DeliveryStatus::Failed => "FAILED",
            DeliveryStatus::Rejected => "REJECTED",
            DeliveryStatus::Exhausted => "EXHAUSTED",
            DeliveryStatus::Skipped => "SKIPPED",
        }
    }

    /// Whether the event needs nothing more for this delivery.
    pub fn is_settled(self) -> bool {
        !matches!(self, DeliveryStatus::Failed)
    }
}

/// One attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    pub status: DeliveryStatus,
    #[schema(value_type = String, format = DateTime)]
    pub at: DateTime<Utc>,
    /// The destination's error code (`AWS.SimpleQueueService.NonExistentQueue`, `HTTP 503`, `Timeout` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Made by a message an operator sent back from the dead-letter queue (`storeadmin redrive`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redrive: bool,
}

/// The ledger record of one outbound message to one subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRecord {
    pub store_id: StoreId,
    pub event_id: EventId,
    pub subscription_id: SubscriptionId,
    pub message_id: String,
    /// `customer.created` …
    pub message_type: String,
    pub status: DeliveryStatus,
    pub attempts: Vec<Attempt>,
    pub last_attempt_at: DateTime<Utc>,
}

/// How long ledger records are kept when their event has no expiry of its own (stored before per-store
/// retention).
pub const DELIVERY_RETENTION_DAYS: i64 = 30;
