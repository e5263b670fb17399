//! Request bodies: media type, size, and JSON syntax, checked in that order before any field is read.

use lambda_http::http::{header, HeaderMap};
use lambda_http::{Body, Request, RequestExt};
use serde_json::Value;

use super::problem::Problem;
use collector_core::domain::limits::MAX_HEADER_BYTES;

/// `application/json` or any `application/*+json`, parameters (charset) allowed.
pub fn require_json(headers: &HeaderMap) -> Result<(), Problem> {
    let raw = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let essence = raw
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    let is_json = essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"));
    if is_json {
        Ok(())
    } else {
        Err(Problem::unsupported_media_type(raw))
    }
}

/// The headers, names and values together, refused with 431 above [`MAX_HEADER_BYTES`].
pub fn headers_within_limit(headers: &HeaderMap) -> Result<(), Problem> {
    let size: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if size > MAX_HEADER_BYTES {
        return Err(Problem::headers_too_large(size, MAX_HEADER_BYTES));
    }
    Ok(())
}

/// The body's bytes, refused with 413 above `limit`.
pub fn bytes_within(body: &Body, limit: usize, what: &str) -> Result<Vec<u8>, Problem> {
    let bytes: &[u8] = body.as_ref();
    if bytes.len() > limit {
        return Err(Problem::too_large(what, bytes.len(), limit));
    }
    Ok(bytes.to_vec())
}

/// Parses JSON, naming the line and column of a syntax error.
pub fn parse_json(bytes: &[u8]) -> Result<Value, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::malformed_json("the request body is empty"));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| Problem::malformed_json(format!("{} at line {} column {}", describe(&e), e.line(), e.column())))
}

fn describe(error: &serde_json::Error) -> String {
    // serde_json's message ends with its own "at line … column …"; keep only the cause.
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message,
    }
}

/// The path segment after `name`: `/stores/{id}/events` with `name = "stores"` gives `{id}`. Works on the raw
/// path, so it does not depend on the router filling in path parameters (Function URLs and local
/// emulators do not), and it tolerates a stage prefix.
pub fn segment_after<'a>(path: &'a str, name: &str) -> Option<&'a str> {
    let mut segments = path.split('/');
    segments.by_ref().find(|s| *s == name)?;
    segments.next().filter(|s| !s.is_empty())
}

/// The first value of a query parameter, decoded (`%2B` is `+`, `+` a space). Read from the raw query
/// string, so it does not depend on how the front end filled in `queryStringParameters`.
pub fn query_parameter(request: &Request, name: &str) -> Option<String> {
    let query = request.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The path the client asked for (stage prefix included) with the query `parameters`, encoded: where a
/// `Link` header sends the client for the next page.
pub fn path_with_query(request: &Request, parameters: &[(&str, &str)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(parameters)
        .finish();
    format!("{}?{query}", request.raw_http_path())
}

/// The names of every query parameter, in order, repeats included.
pub fn query_parameter_names(request: &Request) -> Vec<String> {
    let query = request.uri().query().unwrap_or_default();
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(key, _)| key.into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;

    #[test]
    fn when_content_type_is_json_with_charset_should_pass() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "application/problem+json",
            "Application/JSON",
        ] {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ok));
            assert!(require_json(&h).is_ok(), "{ok}");
        }
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert_eq!(require_json(&h).unwrap_err().status, 415);
        assert_eq!(require_json(&HeaderMap::new()).unwrap_err().status, 415);
    }

    #[test]
    fn when_path_has_stage_prefix_should_still_find_store() {
        assert_eq!(segment_after("/prod/stores/abc/events", "stores"), Some("abc"));
        assert_eq!(segment_after("/stores//events", "stores"), None);
        assert_eq!(segment_after("/other", "stores"), None);
    }

    #[test]
    fn when_json_is_malformed_should_name_line_and_column() {
        let p = parse_json(b"{\n  \"a\": }").unwrap_err();
        assert_eq!(p.status, 400);
        assert!(p.detail.contains("line 2 column"), "{}", p.detail);
    }
}
