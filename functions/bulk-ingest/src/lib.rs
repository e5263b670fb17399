//! `POST /stores/{storeId}/events/bulk`: up to 100 custom events, each validated and stored on its own by
//! the same rules as the single endpoint, answered with one report.

use collector_core::domain::api_key::Scope;
use collector_core::domain::bulk_envelope::{check_event_size, parse_bulk_envelope};
use collector_core::domain::custom_event::parse_custom_event;
use collector_core::domain::limits::MAX_BULK_BODY_BYTES;
use collector_core::domain::rate_limit::BULK_WEIGHT;
use collector_core::ports::{AdmissionStore, DispatchQueue, IngestStore};
use collector_core::service::bulk::{event_pointer, ingest_bulk};
use collector_http::admission::{Admission, Arrival, Tenant};
use collector_http::edge::{arrival, authorized_json_body, respond, respond_reply, IngestDeps};
use collector_http::openapi::BulkResponse;
use collector_http::routes::{route_path, Routes};
use collector_http::runtime::HttpHandler;
use collector_http::Problem;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

/// What a request of this function asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Bulk,
}

/// The function's routes, as `template.yaml` routes them here.
pub static ROUTES: Routes<Endpoint> = Routes(&[("POST", "/stores/{storeId}/events/bulk", Endpoint::Bulk)]);

/// The endpoint over its dependencies.
pub struct Handler<S, Q>(IngestDeps<S, Q>);

impl<S, Q> From<IngestDeps<S, Q>> for Handler<S, Q> {
    /// A bulk request counts [`BULK_WEIGHT`] times against the store's rate limit.
    fn from(mut deps: IngestDeps<S, Q>) -> Self {
        deps.admission = Admission::weighted(BULK_WEIGHT);
        Self(deps)
    }
}

impl<S, Q> HttpHandler for Handler<S, Q>
where
    S: IngestStore + AdmissionStore + Sync,
    Q: DispatchQueue + Sync,
{
    async fn handle(&self, request: Request) -> Response<Body> {
        Handler::handle(self, request).await
    }
}

impl<S, Q> Handler<S, Q>
where
    S: IngestStore + AdmissionStore + Sync,
    Q: DispatchQueue + Sync,
{
    /// Answers one request. Never fails: every error is a problem response.
    pub async fn handle(&self, request: Request) -> Response<Body> {
        let arrival = arrival(&request, self.0.clock.as_ref());
        let endpoint = ("bulk ingest", arrival);
        let matched = match ROUTES.resolve(request.method().as_str(), route_path(&request)) {
            Ok(matched) => matched,
            Err(problem) => return respond_reply(&request, endpoint, async { Err(problem) }).await,
        };
        let describe = |report: &BulkResponse| {
            let detail = format!("{} of {} accepted", report.summary.accepted, report.results.len());
            (report.status.clone(), detail)
        };
        let accept = self.accept((&request, arrival), matched.param("storeId"));
        respond(&request, endpoint, StatusCode::ACCEPTED, accept, describe).await
    }

    async fn accept(&self, request: (&Request, Arrival), store: &str) -> Result<BulkResponse, Problem> {
        let (caller, body) = authorized_json_body(
            (&self.0.store, &self.0.admission),
            request,
            (Tenant::InPath(store), Scope::EventsWrite),
            MAX_BULK_BODY_BYTES,
            "the bulk request",
        )
        .await?;
        let raw_events = parse_bulk_envelope(&body).map_err(Problem::validation)?;
        let now = caller.now;
        let events = raw_events
            .iter()
            .enumerate()
            .map(|(index, raw)| {
                let at = event_pointer(index);
                check_event_size(raw, &at).and_then(|()| parse_custom_event(raw, &at, now))
            })
            .collect();
        let ports = self.0.ports(&caller);
        let results = ingest_bulk(
            &ports,
            &caller.store_id,
            events,
            now,
            &self.0.config.for_store(&caller.settings),
        )
        .await;
        Ok(BulkResponse::new(results))
    }
}
