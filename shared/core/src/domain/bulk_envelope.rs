//! The bulk envelope `{"events": [...]}`: 1 to 100 events and nothing else.

use serde_json::Value;

use super::limits::{MAX_BULK_EVENTS, MAX_EVENT_BODY_BYTES};
use super::validation::{json_type, Errors, FieldError, Pointer};

/// The events of a valid envelope. Errors here reject the whole request.
pub fn parse_bulk_envelope(body: &Value) -> Result<&[Value], Vec<FieldError>> {
    let mut errors = Errors::default();
    let root = Pointer::root();
    let Some(obj) = body.as_object() else {
        errors.add(
            &root,
            format!(
                "the body must be an object with an 'events' array, not {}",
                json_type(body)
            ),
        );
        return Err(errors.into_vec());
    };
    for key in obj.keys().filter(|k| *k != "events") {
        errors.add(
            &root.key(key),
            format!("unknown property '{key}'; the body has only 'events'"),
        );
    }
    let at = root.key("events");
    let events = match obj.get("events") {
        None => {
            errors.add(&at, "events is required");
            None
        }
        Some(Value::Array(events)) if events.is_empty() => {
            errors.add(&at, "events must hold at least 1 event");
            None
        }
        Some(Value::Array(events)) if events.len() > MAX_BULK_EVENTS => {
            errors.add(
                &at,
                format!("events holds {} events; the limit is {MAX_BULK_EVENTS}", events.len()),
            );
            None
        }
        Some(Value::Array(events)) => Some(events.as_slice()),
        Some(other) => {
            errors.add(&at, format!("events must be an array, not {}", json_type(other)));
            None
        }
    };
    match events {
        Some(events) if errors.is_empty() => Ok(events),
        _ => Err(errors.into_vec()),
    }
}

/// The single-event size limit, applied to one event of a bulk request (its compact JSON).
pub fn check_event_size(event: &Value, at: &Pointer) -> Result<(), Vec<FieldError>> {
    let size = event.to_string().len();
    if size <= MAX_EVENT_BODY_BYTES {
        return Ok(());
    }
    Err(vec![FieldError {
        pointer: at.as_str().to_owned(),
        detail: format!("the event is {size} bytes; the limit is {MAX_EVENT_BODY_BYTES} bytes per event"),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointers(body: Value) -> Vec<String> {
        parse_bulk_envelope(&body)
            .unwrap_err()
            .into_iter()
            .map(|e| e.pointer)
            .collect()
    }

    #[test]
    fn when_envelope_is_wrong_should_point_at_the_problem() {
        assert_eq!(pointers(json!({})), ["/events"]);
        assert_eq!(pointers(json!({"events": []})), ["/events"]);
        assert_eq!(pointers(json!({"events": {}})), ["/events"]);
        assert_eq!(pointers(json!({"events": vec![json!({}); 101]})), ["/events"]);
        assert_eq!(pointers(json!({"events": [{}], "extra": 1})), ["/extra"]);
        assert_eq!(pointers(json!([])), [""]);
        assert_eq!(
            parse_bulk_envelope(&json!({"events": vec![json!({}); 100]}))
                .unwrap()
                .len(),
            100
        );
    }
}
