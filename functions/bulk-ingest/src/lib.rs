//! `POST /stores/{storeId}/events/bulk`: up to 100 custom events, each validated and stored on its own by
//! the same rules as the single endpoint, answered with one report.

use std::time::Instant;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::domain::api_key::Scope;
use shared::domain::bulk_envelope::{check_event_size, parse_bulk_envelope};
use shared::domain::custom_event::parse_custom_event;
use shared::domain::limits::MAX_BULK_BODY_BYTES;
use shared::http::body::segment_after;
use shared::http::edge::{authorized_json_body, request_id, IngestDeps};
use shared::http::openapi::BulkResponse;
use shared::http::{json_response, Problem};
use shared::ports::{ApiKeyStore, Clock, DispatchQueue, IdGenerator, IngestStore};
use shared::service::bulk::{event_pointer, ingest_bulk};
use shared::service::ingest::IngestConfig;

/// The endpoint over its dependencies.
pub struct Handler<S, Q>(IngestDeps<S, Q>);

impl<S, Q> From<IngestDeps<S, Q>> for Handler<S, Q> {
    fn from(deps: IngestDeps<S, Q>) -> Self {
        Self(deps)
    }
}

impl<S, Q> Handler<S, Q>
where
    S: IngestStore + ApiKeyStore + Sync,
    Q: DispatchQueue + Sync,
{
    pub fn new(store: S, queue: Q, clock: Box<dyn Clock>, ids: Box<dyn IdGenerator>, config: IngestConfig) -> Self {
        Self(IngestDeps::new(store, queue, clock, ids, config))
    }

    /// Answers one request. Never fails: every error is a problem response.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let started = Instant::now();
        let request_id = request_id(&request);
        let path = request.raw_http_path().to_owned();
        let outcome = self.accept(&request).await;
        let (outcome_label, events, accepted) = match &outcome {
            Ok(report) => (report.status.as_str(), report.results.len(), report.summary.accepted),
            Err(problem) => (problem.type_.trim_start_matches("/problems/"), 0, 0),
        };
        tracing::info!(
            request_id = request_id.as_deref().unwrap_or("-"),
            store_id = segment_after(&path, "stores").unwrap_or("-"),
            events,
            accepted,
            outcome = outcome_label,
            duration_us = started.elapsed().as_micros() as u64,
            "bulk ingest"
        );
        match outcome {
            Ok(report) => json_response(StatusCode::ACCEPTED, &report),
            Err(problem) => problem.into_response(&path, request_id.as_deref()),
        }
    }

    async fn accept(&self, request: &Request) -> Result<BulkResponse, Problem> {
        let (caller, body) = authorized_json_body(
            &self.0.store,
            &self.0.key_cache,
            request,
            Scope::EventsWrite,
            MAX_BULK_BODY_BYTES,
            "the bulk request",
        )
        .await?;
        let raw_events = parse_bulk_envelope(&body).map_err(Problem::validation)?;
        let now = self.0.clock.now();
        let events = raw_events
            .iter()
            .enumerate()
            .map(|(index, raw)| {
                let at = event_pointer(index);
                check_event_size(raw, &at).and_then(|()| parse_custom_event(raw, &at, now))
            })
            .collect();
        let ports = self.0.ports();
        let results = ingest_bulk(&ports, &caller.store_id, events, now, &self.0.config).await;
        Ok(BulkResponse::new(results))
    }
}
