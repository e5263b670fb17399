//! Sending again what a subscription missed or asks for: dispatch messages aimed at one subscription (a
//! redelivery, a replay's events), and replays of a time range in bounded pages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::event::EventRef;
use super::ids::{EventId, StoreId, SubscriptionId};
use super::validation::{json_type, Errors, FieldError, Pointer};
use super::values::parse_date_time;

/// A dispatch message for one subscription only, whatever the others have or need.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub subscription_id: SubscriptionId,
    /// Only this outbound message (a redelivery); every message of the event that matches when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Send what was delivered already too; otherwise only what was not.
    #[serde(default)]
    pub again: bool,
    /// The replay whose progress the sends count toward.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay_id: Option<String>,
}

/// What the dispatch queue carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DispatchMessage {
    /// The next page of a replay: read it, hand its events to dispatch, queue the page after.
    ReplayPage(ReplayPage),
    /// An event for one subscription.
    Aimed {
        #[serde(flatten)]
        event: EventRef,
        target: Target,
    },
    /// A stored event, for every subscription it matches.
    Event(EventRef),
}

/// Where a replay goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplayPage {
    pub store_id: StoreId,
    pub subscription_id: SubscriptionId,
    pub replay_id: String,
}

/// The event an outbound message belongs to: a message id is its event's id, or that id with `-customer`
/// (`domain::outbound`); anything else names no message.
pub fn event_of_message(message_id: &str) -> Option<EventId> {
    let id = message_id.strip_suffix("-customer").unwrap_or(message_id);
    EventId::parse(id).ok()
}

/// The message attribute (`"true"`) of a dispatch message an operator sent back from the dead-letter queue.
pub const REDRIVE: &str = "redrive";

/// Events a replay reads per page; a page's events are then sent no faster than [`REPLAY_RATE`].
pub const REPLAY_PAGE: usize = 100;
/// Events a second a replay hands to dispatch, per subscription: a million events replay in under six
/// hours, and a subscriber that just came back is not flooded.
pub const REPLAY_RATE: usize = 50;

/// A replay as asked: `since` (inclusive) to `until` (exclusive, now when absent), every event or only
/// those not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayRequest {
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    pub only_undelivered: bool,
}

/// Reads `{"since": …, "until"?: …, "onlyUndelivered"?: bool}`, every problem at once.
pub fn parse_replay_request(body: &Value, now: DateTime<Utc>) -> Result<ReplayRequest, Vec<FieldError>> {
    let mut errors = Errors::default();
    let root = Pointer::root();
    let Some(obj) = body.as_object() else {
        errors.add(
            &root,
            format!("the replay must be a JSON object, not {}", json_type(body)),
        );
        return Err(errors.into_vec());
    };
    for key in obj
        .keys()
        .filter(|k| !["since", "until", "onlyUndelivered"].contains(&k.as_str()))
    {
        errors.add(
            &root.key(key),
            "unknown property; allowed: since, until, onlyUndelivered",
        );
    }
    let since = time(obj, "since", &mut errors);
    if obj.get("since").is_none() {
        errors.add(
            &root.key("since"),
            "since is required: the time the replay starts from (RFC 3339)",
        );
    }
    let until = time(obj, "until", &mut errors);
    if let (Some(since), Some(until)) = (since, until) {
        if since >= until {
            errors.add(&root.key("until"), "must be later than since");
        }
    }
    if since.is_some_and(|since| since > now) {
        errors.add(&root.key("since"), "is in the future: nothing was received since then");
    }
    let only_undelivered = match obj.get("onlyUndelivered") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            errors.add(
                &root.key("onlyUndelivered"),
                format!("must be a boolean, not {}", json_type(other)),
            );
            false
        }
    };
    errors.finish(())?;
    Ok(ReplayRequest {
        since: since.expect("checked above"),
        until,
        only_undelivered,
    })
}

/// A time property, RFC 3339.
fn time(obj: &Map<String, Value>, name: &str, errors: &mut Errors) -> Option<DateTime<Utc>> {
    let value = obj.get(name)?;
    let parsed = value.as_str().and_then(parse_date_time);
    if parsed.is_none() {
        errors.add(
            &Pointer::root().key(name),
            "must be an RFC 3339 date-time string, like 2026-11-30T00:00:00Z",
        );
    }
    parsed
}

/// A replay and how far it got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Replay {
    pub store_id: StoreId,
    pub subscription_id: SubscriptionId,
    pub replay_id: String,
    pub since: DateTime<Utc>,
    /// The end of the range: `until` as asked, or the time the replay was made.
    pub until: DateTime<Utc>,
    pub only_undelivered: bool,
    pub created_at: DateTime<Utc>,
    /// Events of the range the subscription's filters match, handed to dispatch so far.
    #[serde(default)]
    pub matched: u64,
    /// Messages delivered by the replay's dispatches, and attempts that failed.
    #[serde(default)]
    pub sent: u64,
    #[serde(default)]
    pub failed: u64,
    /// When its last page was handed to dispatch (its sends may still be under way, and retried).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// The timeline position the next page starts before (pages go from `until` back to `since`): the
    /// store keeps it in its own form.
    #[serde(skip)]
    pub next: Option<super::event_listing::Position>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn when_a_message_id_has_a_suffix_should_name_its_event() {
        let id = "665f1a2b3c4d5e6f7a8b9c0d";
        assert_eq!(event_of_message(id).unwrap().as_str(), id);
        assert_eq!(event_of_message(&format!("{id}-customer")).unwrap().as_str(), id);
        assert!(event_of_message("nope").is_none());
        assert!(event_of_message(&format!("{id}-other")).is_none());
    }

    #[test]
    fn when_messages_are_read_should_tell_the_three_kinds_apart() {
        let event = json!({"storeId": "665f1a2b3c4d5e6f7a8b9c0d", "eventId": "665f1a2b3c4d5e6f7a8b9c0e"});
        assert!(matches!(
            serde_json::from_value(event.clone()).unwrap(),
            DispatchMessage::Event(_)
        ));
        let mut aimed = event.clone();
        aimed["target"] = json!({"subscriptionId": "665f1a2b3c4d5e6f7a8b9c0f", "again": true});
        assert!(matches!(
            serde_json::from_value(aimed).unwrap(),
            DispatchMessage::Aimed { .. }
        ));
        let page = json!({"storeId": "665f1a2b3c4d5e6f7a8b9c0d", "subscriptionId": "665f1a2b3c4d5e6f7a8b9c0f",
                          "replayId": "665f1a2b3c4d5e6f7a8b9c10"});
        assert!(matches!(
            serde_json::from_value(page).unwrap(),
            DispatchMessage::ReplayPage(_)
        ));
    }

    #[test]
    fn when_a_replay_request_is_wrong_should_name_each_problem() {
        let now = Utc::now();
        let ok = parse_replay_request(&json!({"since": "2026-01-01T00:00:00Z"}), now).unwrap();
        assert!(!ok.only_undelivered && ok.until.is_none());
        let errors = parse_replay_request(
            &json!({"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00Z", "onlyUndelivered": 1, "x": 1}),
            now,
        )
        .unwrap_err();
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/x", "/until", "/onlyUndelivered"]);
        let errors = parse_replay_request(&json!({}), now).unwrap_err();
        assert_eq!(errors[0].pointer, "/since");
    }
}
