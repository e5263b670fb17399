//! The single-event ingest endpoints, one pipeline with a parser per dialect:
//! `POST /stores/{storeId}/events` (Redo custom events), `POST /api/v1/event` (eSputnik) and
//! `POST /api/v1/events` with `GET /api/v1/events/{eventId}` (entity events); and erasing a customer,
//! `DELETE /stores/{storeId}/customers/{customerId}` (or `?email=`, `?phoneNumber=`); and writing a profile,
//! `PUT /stores/{storeId}/customers`. The handler is a plain async
//! function over ports, so tests drive it with real adapters against the local AWS.

use collector_core::domain::api_key::Scope;
use collector_core::domain::custom_event::parse_custom_event;
use collector_core::domain::entity_event::{client_id_of_segment, parse_entity_event, representation};
use collector_core::domain::esputnik::parse_esputnik;
use collector_core::domain::event::StoredEvent;
use collector_core::domain::ids::{EventId, StoreId};
use collector_core::domain::limits::MAX_EVENT_BODY_BYTES;
use collector_core::domain::validation::Pointer;
use collector_core::ports::{AdmissionStore, CustomerErasure, DispatchQueue, EventReads, IngestStore, StoreError};
use collector_core::service::ingest::{ingest_event, EventInput, IngestError, IngestStatus, Ingested};
use collector_http::admission::{Arrival, Caller, Tenant};
use collector_http::edge::{arrival, authorized_json_body, respond, respond_reply, IngestDeps, Reply};
use collector_http::openapi::{EsputnikResponse, IngestResponse};
use collector_http::request_scope::note_event;
use collector_http::routes::{route_path, Routes};
use collector_http::runtime::HttpHandler;
use collector_http::Problem;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

mod erasure;
mod profiles;
pub mod wiring;

/// What a request of this function asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    CustomEvent,
    Esputnik,
    CreateEntityEvent,
    FindEntityEvent,
    EraseCustomer,
    EraseCustomerById,
    PutCustomer,
}

/// The function's routes, as `template.yaml` routes them here.
pub static ROUTES: Routes<Endpoint> = Routes(&[
    ("POST", "/stores/{storeId}/events", Endpoint::CustomEvent),
    ("POST", "/api/v1/event", Endpoint::Esputnik),
    ("POST", "/api/v1/events", Endpoint::CreateEntityEvent),
    ("GET", "/api/v1/events/{eventId}", Endpoint::FindEntityEvent),
    ("DELETE", "/stores/{storeId}/customers", Endpoint::EraseCustomer),
    ("PUT", "/stores/{storeId}/customers", Endpoint::PutCustomer),
    (
        "DELETE",
        "/stores/{storeId}/customers/{customerId}",
        Endpoint::EraseCustomerById,
    ),
]);

/// The endpoint over its dependencies.
pub struct Handler<S, Q>(IngestDeps<S, Q>);

impl<S, Q> From<IngestDeps<S, Q>> for Handler<S, Q> {
    fn from(deps: IngestDeps<S, Q>) -> Self {
        Self(deps)
    }
}

impl<S, Q> HttpHandler for Handler<S, Q>
where
    S: IngestStore + EventReads + AdmissionStore + CustomerErasure + Sync,
    Q: DispatchQueue + Sync,
{
    async fn handle(&self, request: Request) -> Response<Body> {
        Handler::handle(self, request).await
    }
}

impl<S, Q> Handler<S, Q>
where
    S: IngestStore + EventReads + AdmissionStore + CustomerErasure + Sync,
    Q: DispatchQueue + Sync,
{
    /// Answers one request. Never fails: every error is a problem response.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let arrival = arrival(&request, self.0.clock.as_ref());
        let matched = match ROUTES.resolve(request.method().as_str(), route_path(&request)) {
            Ok(matched) => matched,
            Err(problem) => return respond_reply(&request, ("ingest", arrival), async { Err(problem) }).await,
        };
        let store = || matched.param("storeId");
        match matched.to {
            Endpoint::CustomEvent => {
                let accept = async {
                    let ingested = self.accept((&request, arrival), store()).await?;
                    Ok(IngestResponse::from(&ingested))
                };
                respond(&request, ("ingest", arrival), StatusCode::ACCEPTED, accept, |r| {
                    (r.status.clone(), String::new())
                })
                .await
            }
            Endpoint::Esputnik => {
                let accept = self.accept_esputnik((&request, arrival));
                respond(&request, ("esputnik", arrival), StatusCode::OK, accept, |r| {
                    (r.status.clone(), r.detail.clone().unwrap_or_default())
                })
                .await
            }
            Endpoint::CreateEntityEvent => {
                let accept = self.create_entity_event((&request, arrival));
                respond_reply(&request, ("entity-events", arrival), accept).await
            }
            Endpoint::FindEntityEvent => {
                let accept = self.read_entity_event((&request, arrival), matched.param("eventId"));
                respond_reply(&request, ("entity-events", arrival), accept).await
            }
            Endpoint::EraseCustomer => {
                let accept = self.accept_erasure((&request, arrival), store(), None);
                respond_reply(&request, ("erase-customer", arrival), accept).await
            }
            Endpoint::PutCustomer => {
                let accept = self.put_profile((&request, arrival), store());
                respond_reply(&request, ("put-customer", arrival), accept).await
            }
            Endpoint::EraseCustomerById => {
                let customer = Some(matched.param("customerId"));
                let accept = self.accept_erasure((&request, arrival), store(), customer);
                respond_reply(&request, ("erase-customer", arrival), accept).await
            }
        }
    }

    async fn accept(&self, request: (&Request, Arrival), store: &str) -> Result<Ingested, Problem> {
        let (caller, body) = self.event_body(request, Tenant::InPath(store)).await?;
        let event = parse_custom_event(&body, &Pointer::root(), caller.now).map_err(Problem::validation)?;
        self.ingest(&caller, (&event).into()).await.map_err(problem_of)
    }

    /// The caller and the event's JSON.
    async fn event_body(
        &self,
        request: (&Request, Arrival),
        tenant: Tenant<'_>,
    ) -> Result<(Caller, serde_json::Value), Problem> {
        let doors = (&self.0.store, &self.0.admission);
        let access = (tenant, Scope::EventsWrite);
        authorized_json_body(doors, request, access, MAX_EVENT_BODY_BYTES, "the event").await
    }

    /// One event through the shared pipeline, under the caller's store settings (its retention).
    async fn ingest(&self, caller: &Caller, input: EventInput<'_>) -> Result<Ingested, IngestError> {
        let ports = self.0.ports(caller);
        let config = self.0.config.for_store(&caller.settings);
        let ingested = ingest_event(&ports, &caller.store_id, input, caller.now, &config).await?;
        note_event(ingested.event_id.as_str());
        Ok(ingested)
    }

    async fn accept_esputnik(&self, request: (&Request, Arrival)) -> Result<EsputnikResponse, Problem> {
        let (caller, body) = self.event_body(request, Tenant::OfKey).await?;
        let parsed = parse_esputnik(&body).map_err(Problem::validation)?;
        let input = EventInput {
            event: &parsed.event,
            order: parsed.order.as_ref(),
            activity: &parsed.activity,
            entity: None,
        };
        match self.ingest(&caller, input).await {
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

    /// `GET /api/v1/events/{id}`.
    async fn read_entity_event(&self, (request, arrival): (&Request, Arrival), id: &str) -> Result<Reply, Problem> {
        let access = (Tenant::OfKey, Scope::EventsWrite);
        let caller = self
            .0
            .admission
            .authorize(&self.0.store, arrival, request.headers(), access)
            .await?;
        let body = self
            .find_entity_event(&caller.store_id, id)
            .await
            .map_err(Problem::logged_store_error)?
            .map(|e| {
                note_event(e.event_id.as_str());
                representation(e.extra.as_ref(), e.event_id.as_str())
            })
            .ok_or_else(|| Problem::not_found("Event"))?;
        Ok(Reply::new(StatusCode::OK, "found", Some(body)))
    }

    /// `POST /api/v1/events`: 201 stored, 200 a duplicate of a stored event.
    async fn create_entity_event(&self, request: (&Request, Arrival)) -> Result<Reply, Problem> {
        let (caller, body) = self.event_body(request, Tenant::OfKey).await?;
        let parsed = parse_entity_event(&body).map_err(Problem::validation)?;
        let input = EventInput {
            event: &parsed.event,
            order: None,
            activity: &[],
            entity: Some(&parsed.change),
        };
        let ingested = self.ingest(&caller, input).await.map_err(problem_of)?;
        let mut answer = representation(parsed.event.extra.as_ref(), ingested.event_id.as_str());
        answer["status"] = serde_json::Value::String(ingested.status.as_str().to_owned());
        let status = match ingested.status {
            IngestStatus::Accepted => StatusCode::CREATED,
            IngestStatus::Duplicate => StatusCode::OK,
        };
        Ok(Reply::new(status, ingested.status.as_str(), Some(answer)))
    }
}

impl<S: EventReads + Sync, Q> Handler<S, Q> {
    /// The entity event named by our `eventId` or, failing that, by the `id` its client sent (the latest one
    /// with that id). Only the store's own entity events are found.
    async fn find_entity_event(&self, store: &StoreId, id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let is_entity_event = |e: &StoredEvent| e.extra.as_ref().is_some_and(|x| x.contains_key("event_payload"));
        if let Ok(event_id) = EventId::parse(id) {
            if let Some(found) = self
                .0
                .store
                .stored_event(store, &event_id)
                .await?
                .filter(is_entity_event)
            {
                return Ok(Some(found));
            }
        }
        let Some(client_id) = client_id_of_segment(id) else {
            return Ok(None);
        };
        Ok(self
            .0
            .store
            .event_by_unique_id(store, &client_id)
            .await?
            .filter(is_entity_event))
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
        IngestError::Ignored(why) => Problem::validation(vec![collector_core::domain::validation::FieldError {
            pointer: String::new(),
            detail: why,
        }]),
        IngestError::Contention(_) => Problem::unavailable("the customer is being changed by concurrent requests; retry shortly"),
        IngestError::Store(error) => Problem::logged_store_error(error),
    }
}
