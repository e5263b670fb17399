//! What every JSON write endpoint does before it reads a field, in the order clients expect.

use std::future::Future;
use std::time::Instant;

use lambda_http::http::header::LINK;
use lambda_http::http::{HeaderMap, HeaderValue, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::Value;

use super::admission::{put_headers, Admission, Arrival, Caller, Tenant};
use super::body::{bytes_within, headers_within_limit, parse_json, require_json, segment_after};
use super::problem::{json_response, Problem};
use super::request_scope::{within, RequestScope};
use collector_core::domain::api_key::Scope;
use collector_core::domain::ids::StoreId;
use collector_core::domain::subscription_input::DestinationPolicy;
use collector_core::domain::trace::{TraceContext, TRACEPARENT};
use collector_core::ports::{AdmissionStore, Clock, DispatchQueue, IdGenerator, IngestStore, RandomIds};
use collector_core::service::ingest::{IngestConfig, IngestPorts};

/// API Gateway's request id (the one in its access logs), else the Lambda invocation's.
pub fn request_id(request: &Request) -> Option<String> {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) if context.request_id.is_some() => context.request_id.clone(),
        _ => request.lambda_context_ref().map(|c| c.request_id.clone()),
    }
}

/// The request as it arrives: its hop of the trace and the time it is answered at, read from `clock` once.
pub fn arrival(request: &Request, clock: &dyn Clock) -> Arrival {
    Arrival {
        trace: trace_of(request.headers()),
        now: clock.now(),
    }
}

/// The request's hop of the trace: a child of the `traceparent` it brought, else a new trace.
fn trace_of(headers: &HeaderMap) -> TraceContext {
    let sent = headers
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok())
        .and_then(TraceContext::parse);
    match sent {
        Some(parent) => parent.child(RandomIds.secret()),
        None => TraceContext::start(RandomIds.secret()),
    }
}

/// One request from start to end: awaits `accept`, writes one log line (request id, trace id, store, event,
/// outcome, the endpoint's `describe` of a success, duration; never the body or headers) and answers
/// `success` with the body, or the problem.
pub async fn respond<T: Serialize>(
    request: &Request,
    (endpoint, arrival): (&'static str, Arrival),
    success: StatusCode,
    accept: impl Future<Output = Result<T, Problem>>,
    describe: impl FnOnce(&T) -> (String, String),
) -> Response<Body> {
    let reply = async {
        let body = accept.await?;
        let (label, detail) = describe(&body);
        Ok(Reply {
            status: success,
            body: Some(serde_json::to_value(&body).expect("responses serialise")),
            label,
            detail,
            link_next: None,
        })
    };
    respond_reply(request, (endpoint, arrival), reply).await
}

/// A success: its status, its body (`None` for no content), and what the log line says of it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Option<Value>,
    pub label: String,
    pub detail: String,
    /// The next page of a listing whose body stays a plain array: a `Link` header, `rel="next"` (RFC 8288).
    pub link_next: Option<String>,
}

impl Reply {
    /// A success with `status` and `body` (`None`: no content); the log line says `label`.
    pub fn new(status: StatusCode, label: &str, body: Option<Value>) -> Self {
        Self {
            status,
            body,
            label: label.to_owned(),
            detail: String::new(),
            link_next: None,
        }
    }
}

/// [`respond`] for endpoints whose successes differ in status or have no body.
pub async fn respond_reply(
    request: &Request,
    (endpoint, arrival): (&'static str, Arrival),
    accept: impl Future<Output = Result<Reply, Problem>>,
) -> Response<Body> {
    let started = Instant::now();
    let request_id = request_id(request);
    let path = request.raw_http_path();
    let scope = RequestScope::default();
    // Before the key is looked at: an oversized request costs nothing but this sum.
    let (outcome, scope) = match headers_within_limit(request.headers()) {
        // Boxed: the endpoint's future is large, and unboxed it sits on the stack of every caller.
        Ok(()) => within(scope, Box::pin(accept)).await,
        Err(problem) => (Err(problem), scope),
    };
    let (label, detail) = match &outcome {
        Ok(reply) => (reply.label.as_str(), reply.detail.as_str()),
        Err(problem) => (problem.type_.trim_start_matches("/problems/"), ""),
    };
    let store_id = scope.store_id.as_ref().map(StoreId::as_str);
    tracing::info!(
        endpoint,
        request_id = request_id.as_deref().unwrap_or("-"),
        trace_id = arrival.trace.trace_id(),
        store_id = store_id.or_else(|| segment_after(path, "stores")).unwrap_or("-"),
        event_id = scope.event_id.as_deref().unwrap_or("-"),
        outcome = label,
        detail,
        duration_us = started.elapsed().as_micros() as u64,
    );
    let mut response = match outcome {
        Ok(reply) => {
            let mut response = match reply.body {
                Some(body) => json_response(reply.status, &body),
                None => {
                    let mut response = Response::new(Body::Empty);
                    *response.status_mut() = reply.status;
                    response
                }
            };
            let link = reply.link_next.map(|target| format!("<{target}>; rel=\"next\""));
            if let Some(value) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
                response.headers_mut().insert(LINK, value);
            }
            response
        }
        Err(problem) => problem.into_response(path, request_id.as_deref()),
    };
    if let Some(rate) = scope.rate {
        put_headers(response.headers_mut(), rate);
    }
    response
}

/// The key and the tenant ([`Admission::authorize`]: 401/403/404/429), then `Content-Type` (415), size (413,
/// `what` names the body in the message) and JSON syntax (400). Returns the caller and the parsed body.
pub async fn authorized_json_body<K: AdmissionStore>(
    (keys, admission): (&K, &Admission),
    (request, arrival): (&Request, Arrival),
    access: (Tenant<'_>, Scope),
    limit: usize,
    what: &str,
) -> Result<(Caller, Value), Problem> {
    let caller = admission.authorize(keys, arrival, request.headers(), access).await?;
    Ok((caller, json_body(request, limit, what)?))
}

/// `Content-Type` (415), size (413), JSON syntax (400), in that order.
pub fn json_body(request: &Request, limit: usize, what: &str) -> Result<Value, Problem> {
    require_json(request.headers())?;
    parse_json(&bytes_within(request.body(), limit, what)?)
}

/// What an ingest endpoint needs, built once per cold start and borrowed by every request.
pub struct IngestDeps<S, Q> {
    pub store: S,
    pub queue: Q,
    pub clock: Box<dyn Clock>,
    pub ids: Box<dyn IdGenerator>,
    pub admission: Admission,
    pub config: IngestConfig,
}

impl<S: IngestStore, Q: DispatchQueue> IngestDeps<S, Q> {
    pub fn new(store: S, queue: Q, clock: Box<dyn Clock>, ids: Box<dyn IdGenerator>, config: IngestConfig) -> Self {
        Self {
            store,
            queue,
            clock,
            ids,
            admission: Admission::default(),
            config,
        }
    }

    /// The ports of `caller`'s request, with its trace.
    pub fn ports(&self, caller: &Caller) -> IngestPorts<'_, S, Q> {
        IngestPorts {
            store: &self.store,
            queue: &self.queue,
            ids: self.ids.as_ref(),
            trace: Some(caller.trace),
        }
    }
}

/// What the subscriptions endpoint needs, built once per cold start.
pub struct SubscriptionDeps<S, B, Q, P> {
    pub store: S,
    pub secrets: B,
    /// The dispatch queue: redeliveries and replays go through dispatch.
    pub queue: Q,
    /// What sends a destination its test ping.
    pub publisher: P,
    pub clock: Box<dyn Clock>,
    pub ids: Box<dyn IdGenerator>,
    pub admission: Admission,
    pub policy: DestinationPolicy,
}

/// What the reads endpoint needs, built once per cold start: the table, and the seal of its cursors.
pub struct ReadDeps<S, C> {
    pub store: S,
    pub seal: C,
    pub clock: Box<dyn Clock>,
    pub admission: Admission,
}

/// What the jobs endpoint needs, built once per cold start.
pub struct JobDeps<S> {
    pub store: S,
    pub clock: Box<dyn Clock>,
    pub ids: Box<dyn IdGenerator>,
    pub admission: Admission,
}
