//! `POST /stores/{storeId}/events`: the Redo custom-event endpoint. The handler is a plain async function
//! over ports, so tests drive it with real adapters against the local AWS and no Lambda runtime.

use std::time::Instant;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::domain::api_key::Scope;
use shared::domain::custom_event::parse_custom_event;
use shared::domain::limits::MAX_EVENT_BODY_BYTES;
use shared::domain::validation::Pointer;
use shared::http::body::segment_after;
use shared::http::edge::{authorized_json_body, request_id, IngestDeps};
use shared::http::openapi::IngestResponse;
use shared::http::{json_response, Problem};
use shared::ports::{ApiKeyStore, Clock, DispatchQueue, IdGenerator, IngestStore};
use shared::service::ingest::{ingest_event, IngestConfig, IngestError, Ingested};

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
        let status = match &outcome {
            Ok(ingested) => ingested.status.as_str(),
            Err(problem) => problem.type_.trim_start_matches("/problems/"),
        };
        tracing::info!(
            request_id = request_id.as_deref().unwrap_or("-"),
            store_id = segment_after(&path, "stores").unwrap_or("-"),
            event_id = outcome.as_ref().map(|i| i.event_id.as_str()).unwrap_or("-"),
            outcome = status,
            duration_us = started.elapsed().as_micros() as u64,
            "ingest"
        );
        match outcome {
            Ok(ingested) => json_response(StatusCode::ACCEPTED, &IngestResponse::from(&ingested)),
            Err(problem) => problem.into_response(&path, request_id.as_deref()),
        }
    }

    async fn accept(&self, request: &Request) -> Result<Ingested, Problem> {
        let (caller, body) = authorized_json_body(
            &self.0.store,
            &self.0.key_cache,
            request,
            Scope::EventsWrite,
            MAX_EVENT_BODY_BYTES,
            "the event",
        )
        .await?;
        let now = self.0.clock.now();
        let event = parse_custom_event(&body, &Pointer::root(), now).map_err(Problem::validation)?;
        let ports = self.0.ports();
        ingest_event(&ports, &caller.store_id, &event, now, &self.0.config)
            .await
            .map_err(problem_of)
    }
}

fn problem_of(error: IngestError) -> Problem {
    match error {
        IngestError::UniqueIdConflict { unique_id, event_id } => Problem::conflict(
            "unique-id-conflict",
            "uniqueId already used for a different event",
            format!("uniqueId '{unique_id}' was used within the dedupe window for event {event_id}, whose content differs; send a new uniqueId for a new event"),
            "/uniqueId",
        ),
        IngestError::Contention(_) => Problem::unavailable("the customer is being changed by concurrent requests; retry shortly"),
        IngestError::Store(error) => {
            tracing::error!(%error, "store call failed");
            Problem::from_store_error(&error)
        }
    }
}
