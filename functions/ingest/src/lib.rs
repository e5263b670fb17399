//! The single-event ingest endpoints, one pipeline with a parser per dialect:
//! `POST /stores/{storeId}/events` (Redo custom events) and `POST /api/v1/event` (eSputnik). The handler is a
//! plain async function over ports, so tests drive it with real adapters against the local AWS.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::domain::api_key::Scope;
use shared::domain::custom_event::parse_custom_event;
use shared::domain::esputnik::parse_esputnik;
use shared::domain::limits::MAX_EVENT_BODY_BYTES;
use shared::domain::validation::Pointer;
use shared::http::edge::{authorized_json_body, respond, tenant_json_body, IngestDeps};
use shared::http::openapi::{EsputnikResponse, IngestResponse};
use shared::http::Problem;
use shared::ports::{ApiKeyStore, DispatchQueue, IngestStore};
use shared::service::ingest::{ingest_event, EventInput, IngestError, Ingested};

/// The path of the eSputnik dialect.
pub const ESPUTNIK_PATH: &str = "/api/v1/event";

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
    /// Answers one request. Never fails: every error is a problem response.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        if request.raw_http_path().trim_end_matches('/').ends_with(ESPUTNIK_PATH) {
            let accept = self.accept_esputnik(&request);
            return respond(&request, "esputnik", StatusCode::OK, accept, |r| {
                (r.status.clone(), r.event_id.clone().unwrap_or_default())
            })
            .await;
        }
        let accept = async {
            self.accept(&request)
                .await
                .map(|ingested| IngestResponse::from(&ingested))
        };
        respond(&request, "ingest", StatusCode::ACCEPTED, accept, |r| {
            (r.status.clone(), r.event_id.clone())
        })
        .await
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
        ingest_event(&ports, &caller.store_id, (&event).into(), now, &self.0.config)
            .await
            .map_err(problem_of)
    }

    async fn accept_esputnik(&self, request: &Request) -> Result<EsputnikResponse, Problem> {
        let (caller, body) = tenant_json_body(
            &self.0.store,
            &self.0.key_cache,
            request,
            Scope::EventsWrite,
            MAX_EVENT_BODY_BYTES,
            "the event",
        )
        .await?;
        let parsed = parse_esputnik(&body).map_err(Problem::validation)?;
        let input = EventInput {
            event: &parsed.event,
            order: parsed.order.as_ref(),
            activity: &parsed.activity,
        };
        let ports = self.0.ports();
        match ingest_event(&ports, &caller.store_id, input, self.0.clock.now(), &self.0.config).await {
            Ok(ingested) => Ok(EsputnikResponse {
                status: ingested.status.as_str().to_owned(),
                event_id: Some(ingested.event_id.to_string()),
                customer_id: ingested.customer_id.as_ref().map(ToString::to_string),
                detail: None,
            }),
            Err(IngestError::Ignored(why)) => Ok(EsputnikResponse {
                status: "ignored".to_owned(),
                event_id: None,
                customer_id: None,
                detail: Some(why),
            }),
            Err(error) => Err(problem_of(error)),
        }
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
        IngestError::Invalid(errors) => Problem::validation(errors),
        IngestError::Ignored(why) => Problem::validation(vec![shared::domain::validation::FieldError {
            pointer: String::new(),
            detail: why,
        }]),
        IngestError::Contention(_) => Problem::unavailable("the customer is being changed by concurrent requests; retry shortly"),
        IngestError::Store(error) => {
            tracing::error!(%error, "store call failed");
            Problem::from_store_error(&error)
        }
    }
}
