//! Reading a subscription's ledger (`GET /api/v1/event-subscription/{id}/deliveries`): what a listing asks,
//! where a page ends, and what its sealed cursor holds.
//!
//! Records are listed latest attempt first; among records of one millisecond, by message id. A record that
//! gets another attempt while a client pages moves to the top: it may be listed again, or not at all on the
//! later pages. Each status but `DELIVERED` is read from its own key; `DELIVERED` (most of a ledger) is a
//! filter on the whole ledger, with a bounded read per page.

use serde::{Deserialize, Serialize};

use super::delivery::{DeliveryRecord, DeliveryStatus};
use super::event_listing::{page_limit, refuse_unknown_parameters};
use super::ids::{StoreId, SubscriptionId};
use super::validation::{Errors, FieldError, Pointer};

/// Records a page holds when `limit` is not sent.
pub const DEFAULT_LIMIT: usize = 50;
/// The most a page holds.
pub const MAX_LIMIT: usize = 200;

const PARAMETERS: [&str; 3] = ["status", "limit", "cursor"];
const STATUSES: &str = "DELIVERED, FAILED, REJECTED, EXHAUSTED, SKIPPED";

/// A place in a ledger listing. The listing goes on with the records after it: an older last attempt, or
/// one of the same millisecond with a greater message id (an empty `message_id`: every record of that
/// millisecond).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryPosition {
    pub attempt_ms: i64,
    pub message_id: String,
}

impl DeliveryPosition {
    pub fn of(record: &DeliveryRecord) -> Self {
        Self {
            attempt_ms: record.last_attempt_at.timestamp_millis(),
            message_id: record.message_id.clone(),
        }
    }

    /// Every record of millisecond `attempt_ms` and older.
    pub fn from_millisecond(attempt_ms: i64) -> Self {
        Self {
            attempt_ms,
            message_id: String::new(),
        }
    }

    /// Whether the record at (`attempt_ms`, `message_id`) comes after this place.
    pub fn precedes(&self, attempt_ms: i64, message_id: &str) -> bool {
        attempt_ms < self.attempt_ms || (attempt_ms == self.attempt_ms && message_id > self.message_id.as_str())
    }
}

/// Which records a page reads: of one status or all, after a place or from the latest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliveryQuery {
    pub status: Option<DeliveryStatus>,
    pub after: Option<DeliveryPosition>,
}

/// A page of a ledger, latest attempt first.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryPage {
    pub records: Vec<DeliveryRecord>,
    /// Where the next page starts, or `None` when the ledger holds no more. A filtered page may end early
    /// (its read budget spent) and still have a next one; the next page may also turn out empty.
    pub next: Option<DeliveryPosition>,
}

/// A listing as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryListRequest {
    pub status: Option<DeliveryStatus>,
    pub limit: usize,
    /// The sealed cursor as sent.
    pub cursor: Option<String>,
}

/// What a deliveries cursor holds, sealed: the store and subscription it belongs to, the status asked,
/// and where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveryCursor {
    pub store_id: StoreId,
    pub subscription_id: SubscriptionId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DeliveryStatus>,
    pub after: DeliveryPosition,
}

/// Reads the query parameters of a deliveries listing, naming every problem at once.
pub fn parse_delivery_listing(
    names: &[String],
    parameter: impl Fn(&str) -> Option<String>,
) -> Result<DeliveryListRequest, Vec<FieldError>> {
    let mut errors = Errors::default();
    refuse_unknown_parameters(&mut errors, names, &PARAMETERS);
    let status = parameter("status").and_then(|raw| {
        let parsed = serde_json::from_value::<DeliveryStatus>(serde_json::Value::String(raw)).ok();
        if parsed.is_none() {
            errors.add(&Pointer::root().key("status"), format!("must be one of {STATUSES}"));
        }
        parsed
    });
    let limit = page_limit(&mut errors, parameter("limit"), (DEFAULT_LIMIT, MAX_LIMIT));
    let cursor = parameter("cursor");
    errors.finish(DeliveryListRequest { status, limit, cursor })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &[(&str, &str)]) -> Result<DeliveryListRequest, Vec<FieldError>> {
        let names: Vec<String> = query.iter().map(|(k, _)| k.to_string()).collect();
        parse_delivery_listing(&names, |name| {
            query.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn when_nothing_is_sent_should_list_every_status_fifty_at_a_time() {
        assert_eq!(
            parse(&[]).unwrap(),
            DeliveryListRequest {
                status: None,
                limit: DEFAULT_LIMIT,
                cursor: None
            }
        );
        let skipped = parse(&[("status", "SKIPPED"), ("limit", "200")]).unwrap();
        assert_eq!((skipped.status, skipped.limit), (Some(DeliveryStatus::Skipped), 200));
    }

    #[test]
    fn when_parameters_are_wrong_should_name_each() {
        let errors = parse(&[("status", "failed"), ("limit", "201"), ("order", "asc")]).unwrap_err();
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/order", "/status", "/limit"]);
        assert!(errors[1].detail.contains("FAILED"), "{}", errors[1].detail);
    }

    #[test]
    fn when_a_status_is_named_should_be_named_as_the_api_writes_it() {
        use DeliveryStatus::*;
        for status in [Delivered, Failed, Rejected, Exhausted, Skipped] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
            assert!(STATUSES.contains(status.as_str()));
            assert_eq!(parse(&[("status", status.as_str())]).unwrap().status, Some(status));
        }
    }

    #[test]
    fn when_records_share_a_millisecond_should_order_them_by_message_id() {
        let at = DeliveryPosition {
            attempt_ms: 10,
            message_id: "b".into(),
        };
        assert!(at.precedes(9, "a") && at.precedes(10, "c"));
        assert!(!at.precedes(10, "b") && !at.precedes(10, "a") && !at.precedes(11, "z"));
        assert!(DeliveryPosition::from_millisecond(10).precedes(10, "a"));
    }
}
