//! Reading a store's events back (`GET /stores/{storeId}/events`): what a listing asks, the keyed timeline
//! that serves it, and where a page ends.
//!
//! Every combination of the filters is served from a key, never a scan: the store's timeline, one event
//! name's timeline, or one customer's timeline (with `eventName` as a filter on it, the customer's events
//! being few), each in `receivedAt` order, so `since` and `until` bound the key range.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::erasure::{customer_ref, CustomerRef};
use super::ids::{CustomerId, EventId};
use super::limits::MAX_EVENT_NAME_CHARS;
use super::validation::{Errors, FieldError, Pointer};
use super::values::parse_date_time;

/// Events a page holds when `limit` is not sent.
pub const DEFAULT_LIMIT: usize = 50;
/// The most a page holds.
pub const MAX_LIMIT: usize = 200;

/// The query parameters a listing understands.
const PARAMETERS: [&str; 8] = [
    "customerId",
    "email",
    "phoneNumber",
    "eventName",
    "since",
    "until",
    "limit",
    "cursor",
];

/// The filters of a listing as the client named them (a customer by identifier, not yet resolved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct EventFilters {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "optional_millis")]
    pub since: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "optional_millis")]
    pub until: Option<DateTime<Utc>>,
}

impl EventFilters {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The customer the filters name, if any, in the form identifiers are matched in.
    pub fn customer(&self) -> Option<CustomerRef> {
        match (&self.customer_id, &self.email, &self.phone_number) {
            (None, None, None) => None,
            (id, email, phone) => customer_ref(id.as_deref(), email.as_deref(), phone.as_deref())
                .ok()
                .flatten(),
        }
    }
}

/// A listing as asked: its filters, page size and the cursor of the page before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub filters: EventFilters,
    pub limit: usize,
    /// The sealed cursor as sent.
    pub cursor: Option<String>,
}

/// Reads the query parameters of a listing (`parameters` gives each, `+` already decoded), listing every
/// problem at once: unknown parameters, more than one customer identifier, malformed values, an empty range.
pub fn parse_list_request(
    names: &[String],
    parameter: impl Fn(&str) -> Option<String>,
) -> Result<ListRequest, Vec<FieldError>> {
    let mut errors = Errors::default();
    let root = Pointer::root();
    refuse_unknown_parameters(&mut errors, names, &PARAMETERS);
    let mut filters = EventFilters {
        customer_id: parameter("customerId"),
        email: parameter("email"),
        phone_number: parameter("phoneNumber"),
        event_name: parameter("eventName"),
        ..EventFilters::default()
    };
    let (id, email, phone) = (&filters.customer_id, &filters.email, &filters.phone_number);
    if id.is_some() || email.is_some() || phone.is_some() {
        match customer_ref(id.as_deref(), email.as_deref(), phone.as_deref()) {
            Err(found) => found
                .into_iter()
                .for_each(|e| errors.add(&Pointer::at(&e.pointer), e.detail)),
            Ok(None) => errors.add(
                &root.key("customerId"),
                "must be a customer id (24 hexadecimal characters)",
            ),
            Ok(Some(_)) => {}
        }
    }
    if let Some(name) = &filters.event_name {
        if name.is_empty() || name.chars().count() > MAX_EVENT_NAME_CHARS {
            errors.add(
                &root.key("eventName"),
                format!("must be 1 to {MAX_EVENT_NAME_CHARS} characters"),
            );
        }
    }
    let mut time = |name: &str| {
        let raw = parameter(name)?;
        // To the millisecond, as positions and cursors hold times.
        // An offset's `+` sent unencoded arrives as a space.
        let raw = raw.trim().replace(' ', "+");
        let parsed = parse_date_time(&raw).and_then(|at| time_of_millis(at.timestamp_millis()));
        if parsed.is_none() {
            errors.add(
                &root.key(name),
                "must be an RFC 3339 date-time, like 2026-01-31T12:00:00Z",
            );
        }
        parsed
    };
    filters.since = time("since");
    filters.until = time("until");
    if let (Some(since), Some(until)) = (filters.since, filters.until) {
        if since >= until {
            errors.add(&root.key("until"), "must be later than since");
        }
    }
    let limit = page_limit(&mut errors, parameter("limit"), (DEFAULT_LIMIT, MAX_LIMIT));
    let cursor = parameter("cursor");
    errors.finish(ListRequest { filters, limit, cursor })
}

/// Names each query parameter of `names` that a listing taking `known` does not understand.
pub fn refuse_unknown_parameters(errors: &mut Errors, names: &[String], known: &[&str]) {
    for name in names.iter().filter(|n| !known.contains(&n.as_str())) {
        errors.add(
            &Pointer::root().key(name),
            format!("is not a parameter of this listing (it takes {})", known.join(", ")),
        );
    }
}

/// A page size as sent (`default` when not sent), from 1 to `max`; anything else is an error at `/limit`.
pub fn page_limit(errors: &mut Errors, raw: Option<String>, (default, max): (usize, usize)) -> usize {
    match raw.map(|raw| raw.parse::<usize>()) {
        None => default,
        Some(Ok(n)) if (1..=max).contains(&n) => n,
        Some(_) => {
            errors.add(
                &Pointer::root().key("limit"),
                format!("must be a whole number from 1 to {max}"),
            );
            default
        }
    }
}

/// The keyed timeline a listing reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "camelCase")]
pub enum Timeline {
    /// Every event of the store.
    Store,
    /// The events of one event name.
    #[serde(rename_all = "camelCase")]
    Named { event_name: String },
    /// The events of one customer, optionally of one name only (a filter on the customer's timeline).
    #[serde(rename_all = "camelCase")]
    Customer {
        customer_id: CustomerId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        event_name: Option<String>,
    },
}

/// A listing resolved to a timeline and a `receivedAt` range (`since` inclusive, `until` exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventQuery {
    pub timeline: Timeline,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "optional_millis")]
    pub since: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "optional_millis")]
    pub until: Option<DateTime<Utc>>,
}

impl EventQuery {
    /// The query of `filters`, the customer (if they name one) resolved to `customer`.
    pub fn of(filters: &EventFilters, customer: Option<CustomerId>) -> Self {
        let timeline = match (customer, &filters.event_name) {
            (Some(customer_id), event_name) => Timeline::Customer {
                customer_id,
                event_name: event_name.clone(),
            },
            (None, Some(event_name)) => Timeline::Named {
                event_name: event_name.clone(),
            },
            (None, None) => Timeline::Store,
        };
        Self {
            timeline,
            since: filters.since,
            until: filters.until,
        }
    }
}

/// A place in a timeline: its events are ordered by `receivedAt` (milliseconds), then event id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    pub received_ms: i64,
    pub event_id: EventId,
}

impl Position {
    pub fn of(received_at: DateTime<Utc>, event_id: &EventId) -> Self {
        Self {
            received_ms: received_at.timestamp_millis(),
            event_id: event_id.clone(),
        }
    }
}

/// What a cursor holds, sealed so that a client can neither read nor change it: the store it belongs to,
/// the filters as asked (a repeated request must name the same), the resolved query, and where the next
/// page starts (strictly older events).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CursorState {
    pub store_id: super::ids::StoreId,
    pub filters: EventFilters,
    pub query: EventQuery,
    pub before: Position,
}

/// Milliseconds since the epoch as a time (for positions read back from a key).
pub fn time_of_millis(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

mod optional_millis {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => s.serialize_i64(at.timestamp_millis()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let ms: Option<i64> = Option::deserialize(d)?;
        ms.map(|ms| super::time_of_millis(ms).ok_or_else(|| serde::de::Error::custom("time out of range")))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::super::identity::Identifier;
    use super::*;

    fn parse(query: &[(&str, &str)]) -> Result<ListRequest, Vec<FieldError>> {
        let names: Vec<String> = query.iter().map(|(k, _)| k.to_string()).collect();
        parse_list_request(&names, |name| {
            query.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
        })
    }

    fn pointers(errors: Vec<FieldError>) -> Vec<String> {
        errors.into_iter().map(|e| e.pointer).collect()
    }

    #[test]
    fn when_nothing_is_sent_should_list_the_store_fifty_at_a_time() {
        let request = parse(&[]).unwrap();
        assert_eq!((request.limit, request.cursor), (DEFAULT_LIMIT, None));
        assert_eq!(EventQuery::of(&request.filters, None).timeline, Timeline::Store);
    }

    #[test]
    fn when_filters_combine_should_pick_the_timeline_that_keys_them() {
        let request = parse(&[
            ("email", "Ann@Example.com"),
            ("eventName", "Order Placed"),
            ("since", "2026-01-01T00:00:00Z"),
            ("until", "2026-02-01T00:00:00+01:00"),
        ])
        .unwrap();
        assert_eq!(
            request.filters.customer(),
            Some(CustomerRef::Identifier(Identifier::Email, "ann@example.com".into()))
        );
        let customer = CustomerId::from_bytes([7; 12]);
        let query = EventQuery::of(&request.filters, Some(customer.clone()));
        assert_eq!(
            query.timeline,
            Timeline::Customer {
                customer_id: customer,
                event_name: Some("Order Placed".into())
            }
        );
        assert_eq!(query.until.unwrap().to_rfc3339(), "2026-01-31T23:00:00+00:00");
        let named = parse(&[("eventName", "Order Placed")]).unwrap();
        assert!(matches!(
            EventQuery::of(&named.filters, None).timeline,
            Timeline::Named { .. }
        ));
    }

    #[test]
    fn when_parameters_are_wrong_should_name_each() {
        let errors = parse(&[
            ("customerId", "nope"),
            ("since", "yesterday"),
            ("limit", "500"),
            ("order", "asc"),
        ])
        .unwrap_err();
        assert_eq!(pointers(errors), ["/order", "/customerId", "/since", "/limit"]);
        let errors = parse(&[("email", "a@example.com"), ("phoneNumber", "+14155550123")]).unwrap_err();
        assert_eq!(pointers(errors), [""], "one customer identifier at a time");
        let errors = parse(&[("since", "2026-02-01T00:00:00Z"), ("until", "2026-01-01T00:00:00Z")]).unwrap_err();
        assert_eq!(pointers(errors), ["/until"]);
        assert_eq!(pointers(parse(&[("limit", "0")]).unwrap_err()), ["/limit"]);
        assert_eq!(pointers(parse(&[("eventName", "")]).unwrap_err()), ["/eventName"]);
    }

    #[test]
    fn when_a_cursor_state_round_trips_should_be_unchanged() {
        let state = CursorState {
            store_id: super::super::ids::StoreId::from_bytes([1; 12]),
            filters: parse(&[("eventName", "x"), ("since", "2026-01-01T00:00:00.123Z")])
                .unwrap()
                .filters,
            query: EventQuery {
                timeline: Timeline::Named { event_name: "x".into() },
                since: parse_date_time("2026-01-01T00:00:00.123Z"),
                until: None,
            },
            before: Position::of(Utc::now(), &EventId::from_bytes([2; 12])),
        };
        let text = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<CursorState>(&text).unwrap(), state);
    }
}
