//! RFC 9457 problem details: the one error shape of every endpoint.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use collector_core::domain::validation::FieldError;
use collector_core::ports::{ErrorKind, StoreError};
use collector_core::service::reads::ReadError;

/// A problem response. Build it with the constructors, which fix `type` and `title` per kind. Boxed: it
/// travels in the `Err` of every edge function, and the happy path should not pay for its size.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem(Box<ProblemDetails>);

impl std::ops::Deref for Problem {
    type Target = ProblemDetails;
    fn deref(&self) -> &ProblemDetails {
        &self.0
    }
}

impl std::ops::DerefMut for Problem {
    fn deref_mut(&mut self) -> &mut ProblemDetails {
        &mut self.0
    }
}

/// RFC 9457 problem details, with the field errors and limit of this API.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDetails {
    /// A URI reference naming the kind of problem; the README lists them.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request path this problem is about (set by [`Problem::into_response`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// One entry per invalid field, with a JSON Pointer into the request body.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The limit that was exceeded, for 413 responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The id to quote when asking about this response; the log line of the request carries it too.
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip)]
    #[schema(ignore)]
    pub retry_after_seconds: Option<u32>,
    /// The methods a 405 names in its `Allow` header.
    #[serde(skip)]
    #[schema(ignore)]
    pub allow: Option<String>,
}

impl Problem {
    fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Self(Box::new(ProblemDetails {
            type_: format!("/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            instance: None,
            errors: Vec::new(),
            limit: None,
            request_id: None,
            retry_after_seconds: None,
            allow: None,
        }))
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 => format!("{}: {}", pointer_label(&errors[0].pointer), errors[0].detail),
            n => format!("{n} fields are invalid; see errors"),
        };
        let mut problem = Self::new(
            StatusCode::BAD_REQUEST,
            "validation-failed",
            "Request body is invalid",
            detail,
        );
        problem.errors = errors;
        problem
    }

    pub fn malformed_json(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "malformed-json",
            "Request body is not valid JSON",
            detail,
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Missing or invalid API key",
            "send the store's API key as 'Authorization: Bearer <key>'",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "API key lacks a scope", detail)
    }

    pub fn forbidden_tenant() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "wrong-tenant",
            "X-TWC-Tenant names another tenant",
            "the X-TWC-Tenant header must be the store id the API key belongs to (or be left out)",
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            &format!("{what} not found"),
            format!("no such {}", what.to_lowercase()),
        )
    }

    pub fn conflict(slug: &str, title: &str, detail: impl Into<String>, pointer: &str) -> Self {
        let detail = detail.into();
        let mut problem = Self::new(StatusCode::CONFLICT, slug, title, detail.clone());
        problem.errors = vec![FieldError {
            pointer: pointer.to_owned(),
            detail,
        }];
        problem
    }

    pub fn too_large(what: &str, size: usize, limit: usize) -> Self {
        let mut problem = Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Request body is too large",
            format!("{what} is {size} bytes; the limit is {limit} bytes"),
        );
        problem.limit = Some(limit as u64);
        problem
    }

    /// 431: the request's headers together exceed `limit` bytes.
    pub fn headers_too_large(size: usize, limit: usize) -> Self {
        let mut problem = Self::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers-too-large",
            "Request headers are too large",
            format!("the headers are {size} bytes together; the limit is {limit} bytes"),
        );
        problem.limit = Some(limit as u64);
        problem
    }

    pub fn unsupported_media_type(got: Option<&str>) -> Self {
        let detail = match got {
            Some(got) => format!("Content-Type is '{got}'; send 'application/json'"),
            None => "Content-Type is missing; send 'application/json'".to_owned(),
        };
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }

    pub fn method_not_allowed(allowed: &str) -> Self {
        let mut problem = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            format!("allowed: {allowed}"),
        );
        problem.0.allow = Some(allowed.replace(" or ", ", "));
        problem
    }

    /// A temporary condition on our side; the client should retry after a pause.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut problem = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Service temporarily unavailable",
            detail,
        );
        problem.retry_after_seconds = Some(1);
        problem
    }

    /// 429: the store's requests in this second reached `limit`; `Retry-After` says when the next begins.
    pub fn rate_limited(limit: u32, retry_after_seconds: u32) -> Self {
        let mut problem = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate-limited",
            "Too many requests",
            format!("this store may make {limit} requests per second; retry after the time in Retry-After"),
        );
        problem.retry_after_seconds = Some(retry_after_seconds);
        problem
    }

    /// Says nothing about the cause; the log carries it under the request id.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the request failed on our side; quote the requestId when you ask about it",
        )
    }

    /// 503 with `Retry-After` for a transient backend failure, else 500. Neither names the backend or its error.
    pub fn from_store_error(error: &StoreError) -> Self {
        match error.kind {
            ErrorKind::Transient => Self::unavailable("storage is busy; retry shortly"),
            ErrorKind::Permanent => Self::internal(),
        }
    }

    /// [`Problem::from_store_error`] with the error on the request's log line first (the response says
    /// nothing internal; the log does).
    pub fn logged_store_error(error: StoreError) -> Self {
        tracing::error!(%error, "store call failed");
        Self::from_store_error(&error)
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn into_response(mut self, instance: &str, request_id: Option<&str>) -> Response<Body> {
        self.instance = Some(instance.to_owned());
        self.request_id = request_id.map(str::to_owned);
        let mut response = Response::new(Body::Text(serde_json::to_string(&*self.0).expect("problems serialise")));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.status == 401 {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after_seconds {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(allow) = self.allow.as_deref().and_then(|a| HeaderValue::from_str(a).ok()) {
            headers.insert(header::ALLOW, allow);
        }
        response
    }
}

fn pointer_label(pointer: &str) -> &str {
    if pointer.is_empty() {
        "body"
    } else {
        pointer
    }
}

/// A read refused for what the request asks (400) or failed in the store.
impl From<ReadError> for Problem {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::Invalid(errors) => Problem::validation(errors),
            ReadError::Store(error) => Problem::logged_store_error(error),
        }
    }
}

/// A JSON response with a status.
pub fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    let mut response = Response::new(Body::Text(serde_json::to_string(body).expect("responses serialise")));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
