//! The limits of one event. They are documented in the README's limits table; change both together.

/// Largest request body for one event, in bytes (200 KiB). Chosen so that the stored item stays well under
/// DynamoDB's 400 KB item limit and the outbound envelope under SNS's and SQS's 256 KB message limit.
pub const MAX_EVENT_BODY_BYTES: usize = 200 * 1024;
/// Largest string anywhere in an event, in bytes of UTF-8 (100 KiB), as the spec states.
pub const MAX_STRING_BYTES: usize = 100 * 1024;
/// Most properties in `data`, `$extra` included.
pub const MAX_DATA_PROPERTIES: usize = 400;
/// Most custom fields sent on a customer in one event.
pub const MAX_CUSTOM_FIELDS: usize = 400;
/// Longest property or custom-field name, in characters.
pub const MAX_PROPERTY_NAME_CHARS: usize = 255;
/// Longest `eventName`, in characters.
pub const MAX_EVENT_NAME_CHARS: usize = 255;
/// `uniqueId` length range, in characters.
pub const UNIQUE_ID_CHARS: std::ops::RangeInclusive<usize> = 1..=255;
/// Deepest nesting of arrays and objects in a body (guards the parser and every consumer of the stored JSON).
pub const MAX_NESTING_DEPTH: usize = 32;
/// Earliest accepted `eventTimestamp` (RFC 3339).
pub const EARLIEST_EVENT_TIMESTAMP: &str = "2000-01-01T00:00:00Z";
/// How far ahead of the receiving clock an `eventTimestamp` may be, in hours (clock skew, time zones).
pub const MAX_EVENT_TIMESTAMP_AHEAD_HOURS: i64 = 24;
/// Stored numbers must be below this magnitude: DynamoDB numbers range over 1e-130 to below 1e126.
pub const MAX_NUMBER_MAGNITUDE: f64 = 1e126;
/// Smallest non-zero magnitude of a stored number.
pub const MIN_NUMBER_MAGNITUDE: f64 = 1e-130;
/// Most bytes of request headers, names and values together (16 KiB): API Gateway allows 10 KB per header,
/// and no client of these APIs needs more than a key, a tenant and the usual few.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Most events in one bulk request.
pub const MAX_BULK_EVENTS: usize = 100;
/// Largest bulk request body, in bytes (5 MiB): under Lambda's 6 MB synchronous payload limit.
pub const MAX_BULK_BODY_BYTES: usize = 5 * 1024 * 1024;
